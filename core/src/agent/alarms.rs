//! The writer's alarm side: calculation channels computed from each stored
//! poll, alarm rules evaluated on every stored sample, connection change and
//! clock tick, transitions journalled and their notifications put in the
//! notification centre and handed to the dispatcher (which never blocks).
//!
//! It lives in the writer thread because it needs the store's connection
//! for the journal and states, and runs right after a commit: an alarm is
//! raised only on samples the store has acknowledged.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot};
use tracing::{debug, error, warn};

use super::runtime::LiveUpdate;
use crate::alarm::{AlarmEngine, AlarmView, Notify, Transition, journal};
use crate::calc::{self, CalcEngine};
use crate::config::AgentConfig;
use crate::export::format_value;
use crate::model::{ChannelId, ConnState, Sample, TimeMs, Value};
use crate::notify::{DeliveryOutcome, DeliveryResult, DispatcherHandle, Message, MessageKind, centre};
use crate::store::Store;

/// How often free space of the data directory is checked.
const STORAGE_EVERY: Duration = Duration::from_secs(60);
/// How often the engine's clock work runs (filters, shelve expiry, reminders).
const TICK_EVERY: Duration = Duration::from_millis(500);

/// Operator actions on alarms and the notification centre, sent by the
/// window (or tests) through the agent handle.
#[derive(Debug)]
pub enum AlarmCommand {
    Views,
    Ack { alarm_id: String, user: String, comment: Option<String> },
    Shelve { alarm_id: String, until: TimeMs, user: String, comment: Option<String> },
    Unshelve { alarm_id: String, user: String },
    OutOfService { alarm_id: String, on: bool, user: String, comment: Option<String> },
    MarkRead { id: String },
    MarkAllRead,
}

#[derive(Debug)]
pub enum AlarmReply {
    Views(Vec<AlarmView>),
    Done,
    Count(usize),
}

pub(crate) type AlarmReplyTx = oneshot::Sender<Result<AlarmReply, String>>;

pub(crate) struct AlarmHub {
    calc: CalcEngine,
    /// Store ids of the `calc/<id>` output channels.
    calc_channels: HashMap<String, ChannelId>,
    engine: AlarmEngine,
    dispatcher: Option<DispatcherHandle>,
    live: broadcast::Sender<LiveUpdate>,
    data_dir: PathBuf,
    units: HashMap<String, String>,
    next_tick: Instant,
    next_storage: Instant,
}

/// The system's IANA zone (alarm windows without `tz` use it), else UTC.
pub fn system_tz() -> chrono_tz::Tz {
    iana_time_zone::get_timezone().ok().and_then(|n| n.parse().ok()).unwrap_or(chrono_tz::UTC)
}

impl AlarmHub {
    pub fn new(
        store: &mut Store,
        cfg: &AgentConfig,
        dispatcher: Option<DispatcherHandle>,
        live: broadcast::Sender<LiveUpdate>,
        data_dir: PathBuf,
    ) -> crate::store::Result<AlarmHub> {
        // The config was validated when loaded; a failure here is a bug.
        let compiled = calc::validate_all(&cfg.calcs).unwrap_or_else(|e| {
            error!("calculation channels disabled: {e}");
            Vec::new()
        });
        let calc = CalcEngine::new(compiled);
        let mut calc_channels = HashMap::new();
        if !cfg.calcs.is_empty() {
            store.upsert_instrument(calc::OUTPUT_INSTRUMENT, "Calculation channels", "calc", "-")?;
            store.set_instrument_state(calc::OUTPUT_INSTRUMENT, ConnState::Connected, None, None)?;
        }
        for (id, unit) in calc.outputs() {
            let ch = store.ensure_channel(calc::OUTPUT_INSTRUMENT, &id, unit.as_deref())?;
            calc_channels.insert(id, ch);
        }
        let restored = journal::load_states(store.conn())?;
        let engine = AlarmEngine::new(cfg.alarms.clone(), system_tz(), restored);
        let units = store.channels()?.into_iter().filter_map(|c| c.unit.clone().map(|u| (c.path(), u))).collect();
        let now = Instant::now();
        Ok(AlarmHub {
            calc,
            calc_channels,
            engine,
            dispatcher,
            live,
            data_dir,
            units,
            next_tick: now,
            next_storage: now,
        })
    }

    /// Calculation outputs of a batch about to be stored (same transaction).
    pub fn calc_samples(
        &mut self,
        paths: &HashMap<ChannelId, String>,
        samples: &[(ChannelId, Sample)],
    ) -> Vec<(ChannelId, Sample)> {
        if self.calc_channels.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (id, s) in samples {
            let Some(path) = paths.get(id) else { continue };
            for (calc_id, sample) in self.calc.on_sample(path, s.t, s.value) {
                if let Some(&ch) = self.calc_channels.get(&calc_id) {
                    out.push((ch, sample));
                }
            }
        }
        out
    }

    /// A channel the writer registered (instruments add theirs after the
    /// agent starts): its unit formats alarm values.
    pub fn note_channel(&mut self, path: String, unit: Option<&str>) {
        match unit {
            Some(u) => self.units.insert(path, u.to_string()),
            None => self.units.remove(&path),
        };
    }

    pub fn calc_path(&self, ch: ChannelId) -> Option<String> {
        self.calc_channels.iter().find(|(_, c)| **c == ch).map(|(id, _)| calc::output_path(id))
    }

    /// Every stored sample goes through the rules.
    pub fn after_store(&mut self, store: &Store, paths: &HashMap<ChannelId, String>, samples: &[(ChannelId, Sample)]) {
        let mut all = Vec::new();
        for (id, s) in samples {
            let Some(path) = paths.get(id) else { continue };
            all.extend(self.engine.on_sample(path, s.t, s.value));
        }
        self.apply(store, all);
    }

    pub fn on_state(&mut self, store: &Store, instrument: &str, state: ConnState, reason: Option<&str>) {
        let connected = match state {
            ConnState::Connected => true,
            ConnState::Reconnecting | ConnState::Error => false,
            // Connecting and stopped are not a lost link.
            ConnState::Connecting | ConnState::Stopped => return,
        };
        let tr = self.engine.on_connection(instrument, connected, reason, crate::model::now_ms());
        self.apply(store, tr);
    }

    /// Clock work, called by the writer between batches.
    pub fn periodic(&mut self, store: &Store) {
        let now = Instant::now();
        if now >= self.next_tick {
            self.next_tick = now + TICK_EVERY;
            let tr = self.engine.tick(crate::model::now_ms());
            self.apply(store, tr);
        }
        if now >= self.next_storage {
            self.next_storage = now + STORAGE_EVERY;
            match rustix::fs::statvfs(&self.data_dir) {
                Ok(st) => {
                    let free = st.f_bavail.saturating_mul(st.f_frsize);
                    let tr = self.engine.on_storage(free, crate::model::now_ms());
                    self.apply(store, tr);
                }
                Err(e) => debug!("cannot read free space of {}: {e}", self.data_dir.display()),
            }
        }
    }

    pub fn command(&mut self, store: &Store, cmd: AlarmCommand) -> Result<AlarmReply, String> {
        let now = crate::model::now_ms();
        let tr = match cmd {
            AlarmCommand::Views => return Ok(AlarmReply::Views(self.views())),
            AlarmCommand::MarkRead { id } => {
                let found = centre::mark_read(store.conn(), &id).map_err(|e| e.to_string())?;
                if !found {
                    return Err(format!("no notification with id `{id}`"));
                }
                return Ok(AlarmReply::Count(1));
            }
            AlarmCommand::MarkAllRead => {
                return centre::mark_all_read(store.conn()).map(AlarmReply::Count).map_err(|e| e.to_string());
            }
            AlarmCommand::Ack { alarm_id, user, comment } => {
                self.engine.ack(&alarm_id, &user, comment.as_deref().unwrap_or(""), now)
            }
            AlarmCommand::Shelve { alarm_id, until, user, comment } => {
                self.engine.shelve(&alarm_id, until, &user, comment.as_deref().unwrap_or(""), now)
            }
            AlarmCommand::Unshelve { alarm_id, user } => self.engine.unshelve(&alarm_id, &user, "", now),
            AlarmCommand::OutOfService { alarm_id, on, user, comment } => {
                self.engine.set_out_of_service(&alarm_id, on, &user, comment.as_deref().unwrap_or(""), now)
            }
        }
        .map_err(|e| e.to_string())?;
        self.apply(store, tr);
        Ok(AlarmReply::Done)
    }

    /// A delivery attempt's result goes into the journal of each alarm it
    /// carried (a summary carries several).
    pub fn on_delivery(&mut self, store: &Store, o: DeliveryOutcome) {
        let (action, detail) = match &o.result {
            DeliveryResult::Ok => (crate::alarm::Action::NotifyOk, format!("attempt {}", o.attempt)),
            DeliveryResult::Retrying { next_in, error } => (
                crate::alarm::Action::NotifyRetry,
                format!("attempt {}: {error}; next in {}", o.attempt, humantime::format_duration(*next_in)),
            ),
            DeliveryResult::Failed { error } => {
                (crate::alarm::Action::NotifyFailed, format!("attempt {}: {error}", o.attempt))
            }
        };
        let ids = if o.covers.is_empty() { std::slice::from_ref(&o.message_id) } else { &o.covers[..] };
        for id in ids {
            let Some(alarm_id) = alarm_of_message(id) else { continue };
            if let Err(e) = journal::append_delivery(
                store.conn(),
                alarm_id,
                action,
                &o.destination,
                &detail,
                crate::model::now_ms(),
            ) {
                warn!("cannot journal the delivery to {}: {e}", o.destination);
            }
        }
        if let DeliveryResult::Failed { error } = &o.result {
            let msg = Message {
                id: format!("delivery-failed:{}:{}", o.destination, o.message_id),
                t: crate::model::now_ms(),
                kind: MessageKind::System,
                severity: None,
                title: format!("Notification to `{}` failed", o.destination),
                body: error.clone(),
                alarm_id: None,
            };
            self.note(store, &msg);
        }
    }

    fn views(&self) -> Vec<AlarmView> {
        self.engine.views(|path, v| fmt_with_unit(&self.units, path, v))
    }

    fn apply(&mut self, store: &Store, transitions: Vec<Transition>) {
        if transitions.is_empty() {
            return;
        }
        let conn = store.conn();
        for t in &transitions {
            if let Err(e) = journal::append(conn, t) {
                error!("cannot journal alarm {} {}: {e}", t.alarm_id, t.action.as_str());
            }
            match self.engine.state(&t.alarm_id) {
                Some(st) => {
                    if let Err(e) = journal::save_state(conn, st) {
                        error!("cannot save the state of alarm {}: {e}", t.alarm_id);
                    }
                }
                None => {
                    let _ = journal::delete_state(conn, &t.alarm_id);
                }
            }
            if let Some(kind) = t.notify {
                let msg = message_of(t, kind);
                self.note(store, &msg);
                if let Some(d) = &self.dispatcher {
                    d.send(msg, t.destinations.iter().cloned());
                }
            }
            if let Some(view) = self.engine.view(&t.alarm_id, |p, v| fmt_with_unit(&self.units, p, v)) {
                let _ = self.live.send(LiveUpdate::Alarm(Box::new(view)));
            }
        }
    }

    /// Adds a notification-centre entry (once per id) and tells the live subscribers.
    pub(crate) fn note(&self, store: &Store, msg: &Message) {
        match centre::add(store.conn(), msg) {
            Ok(true) => {
                if let Ok(Some(note)) = centre::get(store.conn(), &msg.id) {
                    let _ = self.live.send(LiveUpdate::Notification(Box::new(note)));
                }
            }
            Ok(false) => {}
            Err(e) => error!("cannot store notification {:?}: {e}", msg.title),
        }
    }
}

fn fmt_with_unit(units: &HashMap<String, String>, path: &str, v: Value) -> String {
    match (v, units.get(path)) {
        (Value::Number(_), Some(u)) => format!("{} {u}", format_value(v)),
        _ => format_value(v),
    }
}

/// Message ids are `<alarm id>@<t>:<what>`: the journal finds the alarm of
/// a delivery outcome from it.
fn alarm_of_message(id: &str) -> Option<&str> {
    id.rsplit_once('@').map(|(a, _)| a)
}

fn message_of(t: &Transition, kind: Notify) -> Message {
    let (what, title) = match kind {
        Notify::Raise => ("raise", format!("Alarm: {}", t.name)),
        Notify::Return => ("return", format!("Returned to normal: {}", t.name)),
        Notify::Reminder => ("reminder", format!("Reminder, not acknowledged: {}", t.name)),
    };
    let mut body = String::new();
    if let Some(v) = &t.values {
        body.push_str(v);
    }
    if let Some(m) = &t.message {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(m);
    }
    if body.is_empty() {
        body = format!("{} ({})", t.name, t.severity.as_str());
    }
    Message {
        id: format!("{}@{}:{what}", t.alarm_id, t.t),
        t: t.t,
        kind: MessageKind::Alarm,
        severity: Some(t.severity.as_str().to_string()),
        title,
        body,
        alarm_id: Some(t.alarm_id.clone()),
    }
}
