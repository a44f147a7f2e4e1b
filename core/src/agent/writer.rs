//! The writer thread: the only owner of the agent's `Store`. It takes what
//! the pollers send through one bounded channel, coalesces everything queued
//! into one `append` transaction, and only then acknowledges (the `ACK`
//! lines the crash test reads). Instrument states, events, retention and the
//! fast-monitor requests from the CLI go through here too, so SQLite sees a
//! single writer connection.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::alarm_requests::{ALARM_REQUESTS_KEY, parse_alarm_requests};
use super::alarms::{AlarmCommand, AlarmHub, AlarmReplyTx};
use super::fast_monitor::{FAST_REQUESTS_KEY, RequestTracker, parse_requests};
use super::poller::Control;
use crate::export::format_value;
use crate::model::{ChannelId, ConnState, Event, EventKind, Sample, TimeMs, Value, now_ms};
use crate::notify::DeliveryOutcome;
use crate::store::{RetentionPolicy, Store};
use crate::sync::client::{FetchReply, Fetched};
use crate::sync::outflow::OutRow;

/// Most messages folded into one transaction.
const MAX_COALESCE: usize = 4096;

pub(crate) enum WriterMsg {
    /// Ids for `(channel, unit)` of an instrument, in the order given.
    RegisterChannels {
        instrument: String,
        channels: Vec<(String, Option<String>)>,
        reply: oneshot::Sender<Result<Vec<ChannelId>, String>>,
    },
    /// One poll's values, all stamped with the tick time `t`.
    Samples {
        instrument: String,
        t: TimeMs,
        values: Vec<(ChannelId, Value)>,
    },
    Event(Event),
    State {
        instrument: String,
        state: ConnState,
        reason: Option<String>,
    },
    Setting {
        key: String,
        value: String,
    },
    /// Periodic wake-up for retention, state flushes and CLI requests.
    Tick,
    /// An operator action on alarms or notifications.
    Alarm {
        cmd: AlarmCommand,
        reply: AlarmReplyTx,
    },
    /// A notification delivery attempt's result, for the alarm journal.
    Delivery(DeliveryOutcome),
    /// Answered once everything sent before it is stored.
    Flush(oneshot::Sender<()>),
    /// Cloud sync: the oldest `limit` outbox rows, sealed, with their
    /// samples (only the writer may seal: `Store::outbox_next`).
    OutboxNext {
        limit: usize,
        reply: FetchReply,
    },
    /// Cloud sync: the cloud stored these outbox rows; delete them.
    OutboxAck(Vec<i64>),
    /// Cloud sync: an event (a refused batch, the traffic notice) and,
    /// with `note_id`, a notification-centre entry (once per id).
    SyncNotice {
        message: String,
        note_id: Option<String>,
    },
    /// Marks every instrument stopped, records AgentStopped and exits.
    Stop {
        message: String,
        done: oneshot::Sender<()>,
    },
}

pub(crate) struct WriterConfig {
    pub print_acks: bool,
    pub retention: RetentionPolicy,
    pub retention_every: Duration,
    pub settings_every: Duration,
    pub state_flush_every: Duration,
    /// Group commit: wait this long for more messages after the last one...
    pub linger_idle: Duration,
    /// ...but no longer than this after the first one.
    pub linger_max: Duration,
    /// Where fast-monitor requests found in the settings are sent.
    pub controls: HashMap<String, mpsc::Sender<Control>>,
}

struct InstrumentRow {
    state: ConnState,
    reason: Option<String>,
    last_poll: Option<TimeMs>,
    dirty: bool,
}

struct Writer {
    store: Store,
    alarms: Option<AlarmHub>,
    /// Alarm requests from the CLI up to this time are applied (or stale).
    alarm_requests_seen: TimeMs,
    cfg: WriterConfig,
    paths: HashMap<ChannelId, String>,
    /// Path and unit of every channel in the store, for outbox rows of
    /// channels no instrument registered in this run.
    channel_info: HashMap<ChannelId, (String, Option<String>)>,
    rows: HashMap<String, InstrumentRow>,
    tracker: RequestTracker,
    next_retention: Instant,
    next_settings: Instant,
    next_state_flush: Instant,
}

pub(crate) fn spawn(
    store: Store,
    alarms: Option<AlarmHub>,
    rx: mpsc::Receiver<WriterMsg>,
    cfg: WriterConfig,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let now = Instant::now();
    let writer = Writer {
        store,
        alarms,
        alarm_requests_seen: now_ms(),
        cfg,
        paths: HashMap::new(),
        channel_info: HashMap::new(),
        rows: HashMap::new(),
        tracker: RequestTracker::default(),
        next_retention: now,
        next_settings: now,
        next_state_flush: now,
    };
    std::thread::Builder::new().name("meterdeck-writer".into()).spawn(move || writer.run(rx))
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<WriterMsg>) {
        let mut out = std::io::stdout();
        // Only for waiting on the channel with a timeout (group commit).
        let rt = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(rt) => rt,
            Err(e) => {
                error!("the writer cannot start its timer: {e}; nothing will be stored");
                return;
            }
        };
        self.periodic();
        while let Some(first) = rx.blocking_recv() {
            let batch = rt.block_on(self.gather(first, &mut rx));
            // Samples first (one transaction), then the rest in order: a
            // Flush or Stop queued after samples is answered after they commit.
            let mut samples: Vec<(ChannelId, Sample)> = Vec::new();
            let mut rest = Vec::new();
            for m in batch {
                match m {
                    WriterMsg::Samples { instrument, t, values } => {
                        if let Some(row) = self.rows.get_mut(&instrument) {
                            row.last_poll = Some(row.last_poll.map_or(t, |p| p.max(t)));
                            row.dirty = true;
                        }
                        samples.extend(values.into_iter().map(|(id, value)| (id, Sample { t, value })));
                    }
                    other => rest.push(other),
                }
            }
            if !samples.is_empty() {
                let started = Instant::now();
                self.append(&samples, &mut out);
                debug!("stored {} samples in {:?}", samples.len(), started.elapsed());
            }
            let mut stop = None;
            for m in rest {
                match m {
                    WriterMsg::Stop { message, done } => stop = Some((message, done)),
                    other => self.handle(other),
                }
            }
            if let Some((message, done)) = stop {
                self.stop(message);
                let _ = done.send(());
                return;
            }
            self.periodic();
        }
        // Every sender is gone without a Stop (handle dropped): flush states.
        self.flush_states();
    }

    /// Group commit: polls on the same tick arrive within milliseconds of
    /// each other, so keep taking messages until the channel has been quiet
    /// for `linger_idle` (or `linger_max` passed) and store them in one
    /// transaction instead of one per instrument. Flush and Stop end the
    /// wait at once.
    async fn gather(&self, first: WriterMsg, rx: &mut mpsc::Receiver<WriterMsg>) -> Vec<WriterMsg> {
        let urgent = |m: &WriterMsg| matches!(m, WriterMsg::Flush(_) | WriterMsg::Stop { .. });
        let deadline = tokio::time::Instant::now() + self.cfg.linger_max;
        let mut done = urgent(&first);
        let mut batch = vec![first];
        while batch.len() < MAX_COALESCE {
            let m = match rx.try_recv() {
                Ok(m) => m,
                Err(_) if done => break,
                Err(_) => {
                    let wait =
                        self.cfg.linger_idle.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
                    match tokio::time::timeout(wait, rx.recv()).await {
                        Ok(Some(m)) => m,
                        Ok(None) | Err(_) => break,
                    }
                }
            };
            done |= urgent(&m);
            batch.push(m);
        }
        batch
    }

    fn append(&mut self, samples: &[(ChannelId, Sample)], out: &mut std::io::Stdout) {
        let mut with_calcs;
        let samples = match self.alarms.as_mut().map(|a| a.calc_samples(&self.paths, samples)) {
            Some(calcs) if !calcs.is_empty() => {
                for (ch, _) in &calcs {
                    if !self.paths.contains_key(ch)
                        && let Some(path) = self.alarms.as_ref().and_then(|a| a.calc_path(*ch))
                    {
                        self.paths.insert(*ch, path);
                    }
                }
                with_calcs = samples.to_vec();
                with_calcs.extend(calcs);
                &with_calcs[..]
            }
            _ => samples,
        };
        if let Err(e) = self.store.append(samples) {
            // Not acknowledged: no ACK lines. The pollers go on; the next
            // batch may succeed (e.g. after retention freed space).
            error!("cannot store {} samples: {e}", samples.len());
            self.event(None, EventKind::Error, format!("cannot store {} samples: {e}", samples.len()));
            return;
        }
        if self.cfg.print_acks {
            let mut lock = out.lock();
            let mut text = String::with_capacity(samples.len() * 40);
            for (id, s) in samples {
                let path = self.paths.get(id).map_or("?", String::as_str);
                text.push_str(&format!("ACK {path} {} {}\n", s.t, format_value(s.value)));
            }
            // A closed stdout must not stop the agent.
            let _ = lock.write_all(text.as_bytes()).and_then(|_| lock.flush());
        }
        if let Some(a) = self.alarms.as_mut() {
            a.after_store(&self.store, &self.paths, samples);
        }
    }

    fn handle(&mut self, msg: WriterMsg) {
        match msg {
            WriterMsg::RegisterChannels { instrument, channels, reply } => {
                let mut ids = Vec::with_capacity(channels.len());
                for (ch, unit) in &channels {
                    match self.store.ensure_channel(&instrument, ch, unit.as_deref()) {
                        Ok(id) => {
                            if let Some(a) = self.alarms.as_mut() {
                                a.note_channel(format!("{instrument}/{ch}"), unit.as_deref());
                            }
                            self.paths.insert(id, format!("{instrument}/{ch}"));
                            // The unit may have changed: sync sends the current one.
                            self.channel_info.insert(id, (format!("{instrument}/{ch}"), unit.clone()));
                            ids.push(id);
                        }
                        Err(e) => {
                            let _ = reply.send(Err(format!("cannot register channel {instrument}/{ch}: {e}")));
                            return;
                        }
                    }
                }
                let _ = reply.send(Ok(ids));
            }
            WriterMsg::Event(ev) => {
                if let Err(e) = self.store.record_event(&ev) {
                    error!("cannot record event {:?}: {e}", ev.message);
                }
            }
            WriterMsg::State { instrument, state, reason } => {
                let row = self.rows.entry(instrument.clone()).or_insert(InstrumentRow {
                    state,
                    reason: None,
                    last_poll: None,
                    dirty: true,
                });
                row.state = state;
                row.reason = reason.clone();
                row.dirty = true;
                self.flush_state(&instrument);
                if let Some(a) = self.alarms.as_mut() {
                    a.on_state(&self.store, &instrument, state, reason.as_deref());
                }
            }
            WriterMsg::Setting { key, value } => {
                if let Err(e) = self.store.set_setting(&key, &value) {
                    warn!("cannot store setting {key}: {e}");
                }
            }
            WriterMsg::Flush(done) => {
                self.flush_states();
                let _ = done.send(());
            }
            WriterMsg::Tick => {}
            WriterMsg::Alarm { cmd, reply } => {
                let result = match self.alarms.as_mut() {
                    Some(a) => a.command(&self.store, cmd),
                    None => Err("alarms are not running in this agent".to_string()),
                };
                let _ = reply.send(result);
            }
            WriterMsg::Delivery(outcome) => {
                if let Some(a) = self.alarms.as_mut() {
                    a.on_delivery(&self.store, outcome);
                }
            }
            WriterMsg::OutboxNext { limit, reply } => {
                let _ = reply.send(self.outbox_next(limit));
            }
            WriterMsg::OutboxAck(ids) => {
                for id in ids {
                    if let Err(e) = self.store.outbox_ack(id) {
                        // Kept: the row is sent again, which is harmless.
                        warn!("cannot delete acknowledged outbox row {id}: {e}");
                    }
                }
            }
            WriterMsg::SyncNotice { message, note_id } => {
                self.event(None, EventKind::Error, message.clone());
                if let Some(id) = note_id {
                    let msg = crate::notify::Message {
                        id,
                        t: now_ms(),
                        kind: crate::notify::MessageKind::System,
                        severity: None,
                        title: "Cloud sync traffic".to_string(),
                        body: message,
                        alarm_id: None,
                    };
                    match self.alarms.as_ref() {
                        Some(a) => a.note(&self.store, &msg),
                        None => {
                            if let Err(e) = crate::notify::centre::add(self.store.conn(), &msg) {
                                warn!("cannot store notification {:?}: {e}", msg.title);
                            }
                        }
                    }
                }
            }
            WriterMsg::Samples { .. } | WriterMsg::Stop { .. } => {}
        }
    }

    fn outbox_next(&mut self, limit: usize) -> Result<Fetched, String> {
        let batches = self.store.outbox_next(limit).map_err(|e| e.to_string())?;
        if batches.iter().any(|b| !self.channel_info.contains_key(&b.channel)) {
            for ch in self.store.channels().map_err(|e| e.to_string())? {
                self.channel_info.insert(ch.id, (ch.path(), ch.unit.clone()));
            }
        }
        let mut rows = Vec::with_capacity(batches.len());
        for b in batches {
            let (path, unit) = self.channel_info.get(&b.channel).cloned().ok_or_else(|| {
                format!("outbox row {} names channel {} which the store does not have", b.id, b.channel)
            })?;
            rows.push(OutRow { id: b.id, path, unit, seq_from: b.seq_from, seq_to: b.seq_to, samples: b.samples });
        }
        let backlog = self.store.outbox_stats().map_err(|e| e.to_string())?.samples;
        Ok(Fetched { rows, backlog })
    }

    fn flush_state(&mut self, id: &str) {
        let Some(row) = self.rows.get_mut(id) else { return };
        if !row.dirty {
            return;
        }
        row.dirty = false;
        if let Err(e) = self.store.set_instrument_state(id, row.state, row.reason.as_deref(), row.last_poll) {
            warn!("cannot store the state of {id}: {e}");
        }
    }

    fn flush_states(&mut self) {
        let ids: Vec<String> = self.rows.keys().cloned().collect();
        for id in ids {
            self.flush_state(&id);
        }
    }

    fn event(&mut self, instrument: Option<&str>, kind: EventKind, message: String) {
        let ev = Event { t: now_ms(), instrument: instrument.map(str::to_string), kind, message };
        if let Err(e) = self.store.record_event(&ev) {
            error!("cannot record event {:?}: {e}", ev.message);
        }
    }

    /// Work that is due by the clock rather than by a message.
    fn periodic(&mut self) {
        let now = Instant::now();
        if now >= self.next_state_flush {
            self.next_state_flush = now + self.cfg.state_flush_every;
            self.flush_states();
        }
        if now >= self.next_settings {
            self.next_settings = now + self.cfg.settings_every;
            self.check_fast_requests();
            self.check_alarm_requests();
        }
        if let Some(a) = self.alarms.as_mut() {
            a.periodic(&self.store);
        }
        if now >= self.next_retention {
            self.next_retention = now + self.cfg.retention_every;
            self.retention();
        }
    }

    fn check_fast_requests(&mut self) {
        let text = match self.store.setting(FAST_REQUESTS_KEY) {
            Ok(t) => t,
            Err(e) => {
                debug!("cannot read {FAST_REQUESTS_KEY}: {e}");
                return;
            }
        };
        let requests = parse_requests(text.as_deref());
        for (id, req) in self.tracker.fresh(&requests, now_ms()) {
            match self.cfg.controls.get(&id) {
                Some(tx) => {
                    info!(
                        "fast monitor {} for {id} (requested from the command line)",
                        if req.on { "on" } else { "off" }
                    );
                    let _ = tx.try_send(Control::Fast { on: req.on, at: req.at });
                }
                None => warn!("fast monitor request for unknown or disabled instrument `{id}` ignored"),
            }
        }
    }

    fn check_alarm_requests(&mut self) {
        let Some(hub) = self.alarms.as_mut() else { return };
        let text = match self.store.setting(ALARM_REQUESTS_KEY) {
            Ok(t) => t,
            Err(e) => {
                debug!("cannot read {ALARM_REQUESTS_KEY}: {e}");
                return;
            }
        };
        let mut refused = Vec::new();
        for req in parse_alarm_requests(text.as_deref()) {
            if req.at <= self.alarm_requests_seen {
                continue;
            }
            self.alarm_requests_seen = req.at;
            info!("alarm {} {} by {} (requested from the command line)", req.alarm_id, req.action, req.user);
            if let Err(e) = req.command().and_then(|cmd| hub.command(&self.store, cmd)) {
                refused.push(format!("alarm {} {} from the command line refused: {e}", req.alarm_id, req.action));
            }
        }
        for msg in refused {
            warn!("{msg}");
            self.event(None, EventKind::Error, msg);
        }
    }

    fn retention(&mut self) {
        match self.store.enforce_retention(&self.cfg.retention, now_ms()) {
            Ok(report) => {
                let deleted = report.deleted_blocks
                    + report.deleted_synced_samples
                    + report.lost_unsynced()
                    + report.deleted_events;
                if deleted > 0 || report.over_quota {
                    info!("{}", report.summary());
                    self.event(None, EventKind::Retention, report.summary());
                }
            }
            Err(e) => {
                error!("retention failed: {e}");
                self.event(None, EventKind::Error, format!("retention failed: {e}"));
            }
        }
    }

    fn stop(&mut self, message: String) {
        for row in self.rows.values_mut() {
            if row.state != ConnState::Stopped {
                row.state = ConnState::Stopped;
                row.reason = Some("agent stopped".to_string());
                row.dirty = true;
            }
        }
        self.flush_states();
        self.event(None, EventKind::AgentStopped, message);
    }
}
