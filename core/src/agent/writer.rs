//! The writer thread: the only owner of the agent's `Store`, and where the
//! stages that need it run. It takes what the pollers send through one
//! bounded channel, coalesces everything queued into one transaction (calc
//! outputs included: the calc stage runs just before `append`), and only
//! then acknowledges (the `ACK` lines the crash test reads) and hands the
//! samples to the alarm stage. Instrument states, events, retention, the
//! outbox reads of the sync drain and the requests the CLI leaves in the
//! settings go through here too, so SQLite sees a single writer connection.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::live::LiveUpdate;
use crate::alarm::{AlarmMsg, AlarmStage};
use crate::calc::CalcStage;
use crate::control::ControlOutcome;
use crate::control::requests::{self as control_requests, CONTROL_REQUESTS_KEY, CONTROL_RESULTS_KEY, ControlResult};
use crate::fmt::format_value;
use crate::model::{ChannelId, ConnState, Event, EventKind, Sample, Text, TimeMs, now_ms};
use crate::notify::{Message, MessageKind};
use crate::outbox::Outbox;
use crate::poll::fast_monitor::{FAST_REQUESTS_KEY, RequestTracker, parse_requests};
use crate::poll::{ActionReply, Control, PollMsg, RegisterError, identity_key};
use crate::store::{RetentionPolicy, Store};
use crate::sync::SyncMsg;
use crate::sync::status::STATUS_KEY;

/// Most messages folded into one transaction.
const MAX_COALESCE: usize = 4096;

/// Everything the writer is sent, grouped by who sends it.
pub(crate) enum WriterMsg {
    /// From the pollers: samples, states, events, channel registration.
    Poll(PollMsg),
    /// From the agent's handle and the dispatcher: operator actions and
    /// delivery results for the alarm stage.
    Alarm(AlarmMsg),
    /// From the sync drain: outbox reads and acks, notices, its status.
    Sync(SyncMsg),
    /// From the agent's handle.
    Handle(HandleMsg),
    /// Periodic wake-up for retention, state flushes and CLI requests.
    Tick,
}

/// What the agent's handle asks of the writer itself.
pub(crate) enum HandleMsg {
    /// Answered once everything sent before it is stored.
    Flush(oneshot::Sender<()>),
    /// Marks every instrument stopped, records AgentStopped and exits.
    Stop { message: Text, done: oneshot::Sender<()> },
}

impl From<PollMsg> for WriterMsg {
    fn from(m: PollMsg) -> WriterMsg {
        WriterMsg::Poll(m)
    }
}

impl From<crate::remote::StoreJob> for WriterMsg {
    fn from(j: crate::remote::StoreJob) -> Self {
        WriterMsg::Sync(SyncMsg::WithStore(j.0))
    }
}

impl From<SyncMsg> for WriterMsg {
    fn from(m: SyncMsg) -> WriterMsg {
        WriterMsg::Sync(m)
    }
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
    reason: Option<Text>,
    last_poll: Option<TimeMs>,
    dirty: bool,
}

struct Writer {
    store: Store,
    calc: CalcStage,
    alarms: AlarmStage<LiveUpdate>,
    outbox: Outbox,
    cfg: WriterConfig,
    paths: HashMap<ChannelId, String>,
    rows: HashMap<String, InstrumentRow>,
    tracker: RequestTracker,
    /// Control requests from the command line made before the agent started
    /// are stale; those handed on are remembered by id.
    control_since: TimeMs,
    control_seen: std::collections::HashSet<String>,
    next_retention: Instant,
    next_settings: Instant,
    next_state_flush: Instant,
}

pub(crate) fn spawn(
    store: Store,
    calc: CalcStage,
    alarms: AlarmStage<LiveUpdate>,
    rx: mpsc::Receiver<WriterMsg>,
    cfg: WriterConfig,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let now = Instant::now();
    let writer = Writer {
        store,
        calc,
        alarms,
        outbox: Outbox::with_records(),
        cfg,
        paths: HashMap::new(),
        rows: HashMap::new(),
        tracker: RequestTracker::default(),
        control_since: now_ms(),
        control_seen: std::collections::HashSet::new(),
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
                    WriterMsg::Poll(PollMsg::Samples { instrument, t, values }) => {
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
                    WriterMsg::Handle(HandleMsg::Stop { message, done }) => stop = Some((message, done)),
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
        let urgent = |m: &WriterMsg| matches!(m, WriterMsg::Handle(_));
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
        let calcs = self.calc.on_batch(&self.paths, samples);
        let samples = if calcs.is_empty() {
            samples
        } else {
            for (ch, _) in &calcs {
                if !self.paths.contains_key(ch)
                    && let Some(path) = self.calc.output_path(*ch)
                {
                    self.paths.insert(*ch, path);
                }
            }
            with_calcs = samples.to_vec();
            with_calcs.extend(calcs);
            &with_calcs[..]
        };
        if let Err(e) = self.store.append(samples) {
            // Not acknowledged: no ACK lines. The pollers go on; the next
            // batch may succeed (e.g. after retention freed space).
            error!("cannot store {} samples: {e}", samples.len());
            let text = Text::new("evt.storeFailed").arg("n", samples.len().to_string()).arg("error", e.to_string());
            self.event(None, EventKind::Error, text);
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
        self.alarms.after_store(&self.store, &self.paths, samples);
    }

    fn handle(&mut self, msg: WriterMsg) {
        match msg {
            WriterMsg::Poll(m) => self.on_poll(m),
            WriterMsg::Alarm(AlarmMsg::Command { cmd, reply }) => {
                let _ = reply.send(self.alarms.command(&self.store, cmd));
            }
            WriterMsg::Alarm(AlarmMsg::Delivery(outcome)) => self.alarms.on_delivery(&self.store, outcome),
            WriterMsg::Alarm(AlarmMsg::NewFile { instrument, remote_path, size }) => {
                self.alarms.on_new_file(&self.store, &instrument, &remote_path, size)
            }
            WriterMsg::Sync(m) => self.on_sync(m),
            WriterMsg::Handle(HandleMsg::Flush(done)) => {
                self.flush_states();
                let _ = done.send(());
            }
            WriterMsg::Tick | WriterMsg::Handle(HandleMsg::Stop { .. }) => {}
        }
    }

    fn on_poll(&mut self, msg: PollMsg) {
        match msg {
            PollMsg::RegisterChannels { instrument, channels, reply } => {
                let mut ids = Vec::with_capacity(channels.len());
                for (ch, unit) in channels {
                    let path = format!("{instrument}/{ch}");
                    match self.store.ensure_channel(&instrument, &ch, unit.as_deref()) {
                        Ok(id) => {
                            self.alarms.note_channel(path.clone(), unit.as_deref());
                            self.paths.insert(id, path.clone());
                            // The unit may have changed: sync sends the current one.
                            self.outbox.note_channel(id, path, unit);
                            ids.push(id);
                        }
                        Err(source) => {
                            let _ = reply.send(Err(RegisterError { path, source }));
                            return;
                        }
                    }
                }
                let _ = reply.send(Ok(ids));
            }
            PollMsg::Event(ev) => {
                if let Err(e) = self.store.record_event(&ev) {
                    error!("cannot record event {:?}: {e}", ev.message);
                }
            }
            PollMsg::State { instrument, state, reason } => {
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
                let english = reason.as_ref().map(|r| r.render("en"));
                self.alarms.on_state(&self.store, &instrument, state, english.as_deref());
            }
            PollMsg::Identity { instrument, json } => self.set_setting(&identity_key(&instrument), &json),
            PollMsg::ControlDone { request, result } => self.record_control_result(request, result),
            // Gathered into one transaction by `run`.
            PollMsg::Samples { .. } => {}
        }
    }

    /// An acknowledgement made in the cloud: applied once per id, journaled
    /// as `<user>@cloud`; a refusal (acknowledged here already, unknown
    /// alarm) goes to the event log.
    fn cloud_ack(&mut self, ack: meterdeck_wire::alarms::CloudAck) {
        use crate::alarm::cloud_acks::{SEEN_KEY, add_seen, is_seen};
        let seen = self.store.setting(SEEN_KEY).ok().flatten();
        if is_seen(seen.as_deref(), &ack.id) {
            return;
        }
        let user = ack.agent_user();
        let cmd = crate::alarm::AlarmCommand::Ack {
            alarm_id: ack.alarm_id.clone(),
            user: user.clone(),
            comment: ack.comment.clone(),
        };
        match self.alarms.command(&self.store, cmd) {
            Ok(_) => tracing::info!("alarm {} acknowledged by {user} (from the cloud)", ack.alarm_id),
            Err(e) => self.event(
                None,
                EventKind::Error,
                Text::new("evt.cloudAckRefused")
                    .arg("alarm", &ack.alarm_id)
                    .arg("user", &user)
                    .arg("error", e.to_string()),
            ),
        }
        self.set_setting(SEEN_KEY, &add_seen(seen.as_deref(), &ack.id));
    }

    fn on_sync(&mut self, msg: SyncMsg) {
        match msg {
            SyncMsg::OutboxNext { limit, reply } => {
                let _ = reply.send(self.outbox.next(&mut self.store, limit));
            }
            SyncMsg::OutboxAck(ids) => self.outbox.ack(&mut self.store, ids),
            SyncMsg::Status(json) => self.set_setting(STATUS_KEY, &json),
            SyncMsg::CloudAck(ack) => self.cloud_ack(ack),
            SyncMsg::WithStore(job) => job(&mut self.store),
            SyncMsg::Notice { message, note_id } => {
                self.event(None, EventKind::Error, Text::plain(message.clone()));
                if let Some(id) = note_id {
                    let locale = crate::notify::Locale::of_store(&self.store);
                    let msg = Message {
                        id,
                        t: now_ms(),
                        kind: MessageKind::System,
                        severity: None,
                        title: locale.tr("notify-sync-traffic-title", &[]),
                        body: message,
                        alarm_id: None,
                        locale,
                        link: None,
                    };
                    self.alarms.note(&self.store, &msg);
                }
            }
        }
    }

    fn set_setting(&mut self, key: &str, value: &str) {
        if let Err(e) = self.store.set_setting(key, value) {
            warn!("cannot store setting {key}: {e}");
        }
    }

    fn flush_state(&mut self, id: &str) {
        let Some(row) = self.rows.get_mut(id) else { return };
        if !row.dirty {
            return;
        }
        row.dirty = false;
        if let Err(e) = self.store.set_instrument_state(id, row.state, row.reason.as_ref(), row.last_poll) {
            warn!("cannot store the state of {id}: {e}");
        }
    }

    fn flush_states(&mut self) {
        let ids: Vec<String> = self.rows.keys().cloned().collect();
        for id in ids {
            self.flush_state(&id);
        }
    }

    fn event(&mut self, instrument: Option<&str>, kind: EventKind, text: Text) {
        let ev = Event::said(now_ms(), instrument.map(str::to_string), kind, text);
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
            self.check_control_requests();
        }
        self.alarms.periodic(&self.store);
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

    /// Hands the command line's control requests to their instruments'
    /// tasks; the results come back as `PollMsg::ControlDone`.
    fn check_control_requests(&mut self) {
        let text = match self.store.setting(CONTROL_REQUESTS_KEY) {
            Ok(t) => t,
            Err(e) => {
                debug!("cannot read {CONTROL_REQUESTS_KEY}: {e}");
                return;
            }
        };
        // The window's console holders (it publishes them): their
        // instruments are not controlled from the command line.
        let holds = self.store.setting(control_requests::CONSOLE_HOLDS_KEY).ok().flatten();
        for req in control_requests::parse_requests(text.as_deref()) {
            if req.at < self.control_since || !self.control_seen.insert(req.id.clone()) {
                continue;
            }
            let hold = control_requests::console_hold(
                holds.as_deref(),
                &req.instrument,
                now_ms(),
                control_requests::CONSOLE_IDLE_MS,
            );
            let refused = match self.cfg.controls.get(&req.instrument) {
                _ if hold.is_some() => hold.map(|h| control_requests::held_refusal(&h, req.action.label())),
                Some(tx) => {
                    info!("{}: {} (requested from the command line)", req.instrument, req.action.label());
                    let c = Control::Action { action: req.action, reply: ActionReply::Writer(req.id.clone()) };
                    tx.try_send(c).err().map(|_| format!("instrument `{}` is busy; try again", req.instrument))
                }
                None => Some(format!("unknown or disabled instrument `{}`", req.instrument)),
            };
            if let Some(reason) = refused {
                self.record_control_result(req.id, Err(reason));
            }
        }
    }

    fn record_control_result(&mut self, request: String, result: Result<ControlOutcome, String>) {
        let existing = match self.store.setting(CONTROL_RESULTS_KEY) {
            Ok(t) => t,
            Err(e) => {
                error!("cannot read {CONTROL_RESULTS_KEY}: {e}");
                return;
            }
        };
        let value =
            control_requests::add_result(existing.as_deref(), ControlResult { id: request, at: now_ms(), result });
        self.set_setting(CONTROL_RESULTS_KEY, &value);
    }

    fn check_alarm_requests(&mut self) {
        for msg in self.alarms.apply_requests(&self.store) {
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
                    self.event(None, EventKind::Retention, report.text());
                }
            }
            Err(e) => {
                error!("retention failed: {e}");
                self.event(None, EventKind::Error, Text::new("evt.retentionFailed").arg("error", e.to_string()));
            }
        }
    }

    fn stop(&mut self, message: Text) {
        for row in self.rows.values_mut() {
            if row.state != ConnState::Stopped {
                row.state = ConnState::Stopped;
                row.reason = Some(Text::new("evt.stopped"));
                row.dirty = true;
            }
        }
        self.flush_states();
        self.event(None, EventKind::AgentStopped, message);
    }
}
