//! The alarm stage, right after the store: rules evaluated on every stored
//! sample, connection change and clock tick, transitions journalled and
//! their notifications put in the notification centre and handed to the
//! dispatcher (which never blocks). Operator actions, from the agent's
//! handle or the command line (`requests`), are carried out here too.
//!
//! It lives in the writer thread because it needs the store's connection
//! for the journal and states, and runs right after a commit: an alarm is
//! raised only on samples the store has acknowledged.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot};
use tracing::{debug, error, info, warn};

use super::requests::{ALARM_REQUESTS_KEY, RequestError, parse_alarm_requests};
use super::{Action, AlarmEngine, AlarmError, AlarmRule, AlarmView, Notify, Transition, journal};
use crate::fmt::format_value;
use crate::model::{ChannelId, ConnState, Sample, TimeMs, Value, now_ms};
use crate::notify::{
    DeliveryOutcome, DeliveryResult, DispatcherHandle, LinkAsk, Locale, Message, MessageKind, Note, centre,
};
use crate::store::{Store, StoreError};

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

/// Why an operator action was refused.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Alarm(#[from] AlarmError),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("no notification with id `{0}`")]
    NoNotification(String),
    /// The notification centre's table could not be updated.
    #[error(transparent)]
    Centre(#[from] rusqlite::Error),
}

/// What the writer hands the alarm stage besides stored samples.
pub enum AlarmMsg {
    /// An operator action, answered when carried out.
    Command { cmd: AlarmCommand, reply: oneshot::Sender<Result<AlarmReply, CommandError>> },
    /// A notification delivery attempt's result, for the journal.
    Delivery(DeliveryOutcome),
    /// The FTP collector fetched a new file (new-file rules, SPEC 5.2).
    NewFile { instrument: String, remote_path: String, size: u64 },
}

/// What the alarm stage tells live subscribers.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmUpdate {
    /// An alarm changed state.
    Alarm(Box<AlarmView>),
    /// A new entry in the notification centre.
    Notification(Box<Note>),
}

/// The stage; `L` is the live subscribers' message type.
pub struct AlarmStage<L> {
    engine: AlarmEngine,
    dispatcher: Option<DispatcherHandle>,
    live: broadcast::Sender<L>,
    data_dir: PathBuf,
    units: HashMap<String, String>,
    /// Requests from the command line up to this time are applied (or stale).
    requests_seen: TimeMs,
    next_tick: Instant,
    next_storage: Instant,
}

/// The system's IANA zone (alarm windows without `tz` use it), else UTC.
pub fn system_tz() -> chrono_tz::Tz {
    iana_time_zone::get_timezone().ok().and_then(|n| n.parse().ok()).unwrap_or(chrono_tz::UTC)
}

impl<L: From<AlarmUpdate> + Clone + Send + 'static> AlarmStage<L> {
    /// Restores the alarm states the journal kept; `data_dir` is watched
    /// for free space (storage rules).
    pub fn new(
        store: &Store,
        rules: Vec<AlarmRule>,
        dispatcher: Option<DispatcherHandle>,
        live: broadcast::Sender<L>,
        data_dir: PathBuf,
    ) -> Result<AlarmStage<L>, StoreError> {
        let restored = journal::load_states(store.conn())?;
        let engine = AlarmEngine::new(rules, system_tz(), restored);
        let units = store.channels()?.into_iter().filter_map(|c| c.unit.clone().map(|u| (c.path(), u))).collect();
        let now = Instant::now();
        Ok(AlarmStage {
            engine,
            dispatcher,
            live,
            data_dir,
            units,
            requests_seen: now_ms(),
            next_tick: now,
            next_storage: now,
        })
    }

    /// A channel the writer registered (instruments add theirs after the
    /// agent starts): its unit formats alarm values.
    pub fn note_channel(&mut self, path: String, unit: Option<&str>) {
        match unit {
            Some(u) => self.units.insert(path, u.to_string()),
            None => self.units.remove(&path),
        };
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
        let tr = self.engine.on_connection(instrument, connected, reason, now_ms());
        self.apply(store, tr);
    }

    /// A file the collector fetched for the first time.
    pub fn on_new_file(&mut self, store: &Store, instrument: &str, remote_path: &str, size: u64) {
        let tr = self.engine.on_new_file(instrument, remote_path, size, now_ms());
        self.apply(store, tr);
    }

    /// Clock work, called by the writer between batches.
    pub fn periodic(&mut self, store: &Store) {
        let now = Instant::now();
        if now >= self.next_tick {
            self.next_tick = now + TICK_EVERY;
            let tr = self.engine.tick(now_ms());
            self.apply(store, tr);
        }
        if now >= self.next_storage {
            self.next_storage = now + STORAGE_EVERY;
            match rustix::fs::statvfs(&self.data_dir) {
                Ok(st) => {
                    let free = st.f_bavail.saturating_mul(st.f_frsize);
                    let tr = self.engine.on_storage(free, now_ms());
                    self.apply(store, tr);
                }
                Err(e) => debug!("cannot read free space of {}: {e}", self.data_dir.display()),
            }
        }
    }

    pub fn command(&mut self, store: &Store, cmd: AlarmCommand) -> Result<AlarmReply, CommandError> {
        let now = now_ms();
        let tr = match cmd {
            AlarmCommand::Views => return Ok(AlarmReply::Views(self.views())),
            AlarmCommand::MarkRead { id } => {
                if !centre::mark_read(store.conn(), &id)? {
                    return Err(CommandError::NoNotification(id));
                }
                return Ok(AlarmReply::Count(1));
            }
            AlarmCommand::MarkAllRead => {
                return Ok(AlarmReply::Count(centre::mark_all_read(store.conn())?));
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
        }?;
        self.apply(store, tr);
        Ok(AlarmReply::Done)
    }

    /// Carries out the requests the command line left in the settings
    /// since the last look; returns the refusals (for the event log).
    pub fn apply_requests(&mut self, store: &Store) -> Vec<meterdeck_wire::i18n::Text> {
        let text = match store.setting(ALARM_REQUESTS_KEY) {
            Ok(t) => t,
            Err(e) => {
                debug!("cannot read {ALARM_REQUESTS_KEY}: {e}");
                return Vec::new();
            }
        };
        let mut refused = Vec::new();
        for req in parse_alarm_requests(text.as_deref()) {
            if req.at <= self.requests_seen {
                continue;
            }
            self.requests_seen = req.at;
            info!("alarm {} {} by {} (requested from the command line)", req.alarm_id, req.action, req.user);
            let done = req.command().map_err(CommandError::from).and_then(|cmd| self.command(store, cmd));
            if let Err(e) = done {
                refused.push(
                    meterdeck_wire::i18n::Text::new("evt.cliAlarmRefused")
                        .arg("alarm", &req.alarm_id)
                        .arg("action", req.action.to_string())
                        .arg("error", e.to_string()),
                );
            }
        }
        refused
    }

    /// A delivery attempt's result goes into the journal of each alarm it
    /// carried (a summary carries several).
    pub fn on_delivery(&mut self, store: &Store, o: DeliveryOutcome) {
        let (action, detail) = match &o.result {
            DeliveryResult::Ok => (Action::NotifyOk, format!("attempt {}", o.attempt)),
            DeliveryResult::Retrying { next_in, error } => (
                Action::NotifyRetry,
                format!("attempt {}: {error}; next in {}", o.attempt, humantime::format_duration(*next_in)),
            ),
            DeliveryResult::Failed { error } => (Action::NotifyFailed, format!("attempt {}: {error}", o.attempt)),
        };
        let ids = if o.covers.is_empty() { std::slice::from_ref(&o.message_id) } else { &o.covers[..] };
        for id in ids {
            let Some(alarm_id) = alarm_of_message(id) else { continue };
            if let Err(e) = journal::append_delivery(store.conn(), alarm_id, action, &o.destination, &detail, now_ms())
            {
                warn!("cannot journal the delivery to {}: {e}", o.destination);
            }
        }
        if let DeliveryResult::Failed { error } = &o.result {
            let locale = Locale::of_store(store);
            let msg = Message {
                id: format!("delivery-failed:{}:{}", o.destination, o.message_id),
                t: now_ms(),
                kind: MessageKind::System,
                severity: None,
                title: locale.tr("notify-delivery-failed", &[("destination", &o.destination)]),
                body: error.clone(),
                alarm_id: None,
                locale,
                link: None,
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
        // The window's language and zone, read once for the batch.
        let locale = Locale::of_store(store);
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
                let mut msg = message_of(t, kind, &locale);
                let channels = self.engine.channels(&t.alarm_id);
                if !channels.is_empty() {
                    msg.link =
                        Some(LinkAsk { alarm_id: t.alarm_id.clone(), alarm_name: t.name.clone(), at: t.t, channels });
                }
                self.note(store, &msg);
                if let Some(d) = &self.dispatcher {
                    d.send(msg, t.destinations.iter().cloned());
                }
            }
            if let Some(view) = self.engine.view(&t.alarm_id, |p, v| fmt_with_unit(&self.units, p, v)) {
                let _ = self.live.send(AlarmUpdate::Alarm(Box::new(view)).into());
            }
        }
    }

    /// Adds a notification-centre entry (once per id) and tells the live subscribers.
    pub(crate) fn note(&self, store: &Store, msg: &Message) {
        match centre::add(store.conn(), msg) {
            Ok(true) => {
                if let Ok(Some(note)) = centre::get(store.conn(), &msg.id) {
                    let _ = self.live.send(AlarmUpdate::Notification(Box::new(note)).into());
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

/// The notification of a transition, in the window's language.
fn message_of(t: &Transition, kind: Notify, locale: &Locale) -> Message {
    let (what, key) = match kind {
        Notify::Raise => ("raise", "notify-alarm-raise"),
        Notify::Return => ("return", "notify-alarm-return"),
        Notify::Reminder => ("reminder", "notify-alarm-reminder"),
    };
    let title = locale.tr(key, &[("name", &t.name)]);
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
        let severity = locale.severity(t.severity.as_str());
        body = locale.tr("notify-alarm-body", &[("name", &t.name), ("severity", &severity)]);
    }
    Message {
        id: format!("{}@{}:{what}", t.alarm_id, t.t),
        t: t.t,
        kind: MessageKind::Alarm,
        severity: Some(t.severity.as_str().to_string()),
        title,
        body,
        alarm_id: Some(t.alarm_id.clone()),
        locale: locale.clone(),
        link: None,
    }
}
