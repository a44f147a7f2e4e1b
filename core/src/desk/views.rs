//! What the desktop window receives: plain serializable views, camelCase
//! for the front end (instrument configs keep their TOML field names).

use meterdeck_drivers::{Identity, InstrumentConfig};
use serde::{Deserialize, Serialize};

use crate::agent::LiveUpdate;
use crate::alarm::AlarmView;
use crate::model::{ChannelId, ConnState, Event, Text, TimeMs, Value};
use crate::notify::Note;

/// Language, time zone and theme of the window, kept in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct UiSettings {
    pub language: String,
    pub timezone: String,
    pub theme: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AppState {
    pub version: String,
    pub data_dir: String,
    pub config_path: String,
    pub demo: bool,
    pub settings: UiSettings,
}

/// The window's start: its state, the instruments, whether a board exists
/// (a returning user opens on it) and the latest values (the Monitor).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StartView {
    pub state: AppState,
    pub instruments: Vec<InstrumentView>,
    pub has_boards: bool,
    pub latest: Vec<LatestView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentView {
    pub config: InstrumentConfig,
    pub state: ConnState,
    /// Why, in English; `reason_text` for the window's language.
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason_text: Option<Text>,
    pub last_poll: Option<TimeMs>,
    pub identity: Option<Identity>,
    pub compat_warning: Option<String>,
    pub fast_until: Option<TimeMs>,
    pub poll_interval_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct IdentifyView {
    pub identity: Identity,
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LatestView {
    pub channel_id: ChannelId,
    pub path: String,
    pub instrument: String,
    pub channel: String,
    pub unit: Option<String>,
    pub t: TimeMs,
    pub value: Option<f64>,
    pub special: Option<String>,
}

/// One channel of the viewer: raw points (`min == max`) or one M4 bucket
/// per pixel column (`t` = bucket start; `None` where the bucket is empty).
/// A time span `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TimeRange {
    pub from: TimeMs,
    pub to: TimeMs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SeriesView {
    pub channel_id: ChannelId,
    pub raw: bool,
    pub t: Vec<TimeMs>,
    pub min: Vec<Option<f64>>,
    pub max: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TableView {
    /// `instrument/channel` of each value column.
    pub columns: Vec<String>,
    pub rows: Vec<(TimeMs, Vec<Option<String>>)>,
    /// More rows exist in the range than were returned.
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportView {
    pub path: String,
    pub channels: usize,
    pub samples: u64,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    pub done: u64,
    pub total: u64,
}

/// A channel value in a live update: a number, or the special's code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LiveReading {
    pub channel: String,
    pub unit: Option<String>,
    pub value: Option<f64>,
    pub special: Option<String>,
}

/// `agent::LiveUpdate` as the window's `live` event carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum LiveEvent {
    Readings {
        instrument: String,
        t: TimeMs,
        values: Vec<LiveReading>,
    },
    State {
        instrument: String,
        state: ConnState,
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason_text: Option<Text>,
    },
    Event {
        event: Event,
    },
    FastMonitor {
        instrument: String,
        until: Option<TimeMs>,
    },
    Alarm {
        alarm: Box<AlarmView>,
    },
    Notification {
        note: Box<Note>,
    },
    /// The instrument configuration changed outside the window (a remote
    /// setting from the cloud): list the instruments again.
    Instruments,
}

/// Payload of the `instrument-state` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentStateEvent {
    pub instrument: String,
    pub state: ConnState,
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason_text: Option<Text>,
}

pub(crate) fn split_value(v: Value) -> (Option<f64>, Option<String>) {
    match v {
        Value::Number(x) if x.is_finite() => (Some(x), None),
        Value::Number(_) => (None, Some("invalid".to_string())),
        Value::Special(k) => (None, Some(special_name(k))),
    }
}

fn special_name(k: crate::model::SpecialKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| format!("{k:?}"))
}

impl From<&LiveUpdate> for LiveEvent {
    fn from(u: &LiveUpdate) -> Self {
        match u {
            LiveUpdate::Readings { instrument, t, values } => LiveEvent::Readings {
                instrument: instrument.clone(),
                t: *t,
                values: values
                    .iter()
                    .map(|v| {
                        let (value, special) = split_value(v.value);
                        LiveReading { channel: v.channel.clone(), unit: v.unit.clone(), value, special }
                    })
                    .collect(),
            },
            LiveUpdate::State { instrument, state, reason } => LiveEvent::State {
                instrument: instrument.clone(),
                state: *state,
                reason: reason.as_ref().map(|r| r.render("en")),
                reason_text: reason.clone(),
            },
            LiveUpdate::Event(e) => LiveEvent::Event { event: e.clone() },
            LiveUpdate::FastMonitor { instrument, until } => {
                LiveEvent::FastMonitor { instrument: instrument.clone(), until: *until }
            }
            LiveUpdate::Alarm(a) => LiveEvent::Alarm { alarm: a.clone() },
            LiveUpdate::Notification(n) => LiveEvent::Notification { note: n.clone() },
        }
    }
}

impl LiveEvent {
    /// The `instrument-state` payload when this is a state change.
    pub fn as_state(&self) -> Option<InstrumentStateEvent> {
        match self {
            LiveEvent::State { instrument, state, reason, reason_text } => Some(InstrumentStateEvent {
                instrument: instrument.clone(),
                state: *state,
                reason: reason.clone(),
                reason_text: reason_text.clone(),
            }),
            _ => None,
        }
    }
}

/// One line for the tray icon's tooltip: how many instruments are in
/// which state, e.g. `Meterdeck: 3 connected, 1 reconnecting`.
pub fn tray_summary(instruments: &[InstrumentView]) -> String {
    tray_summary_in(instruments, "en")
}

/// [`tray_summary`] in `lang` (the state words are the window's).
pub fn tray_summary_in(instruments: &[InstrumentView], lang: &str) -> String {
    use meterdeck_wire::i18n::tr;
    if instruments.is_empty() {
        return format!("Meterdeck: {}", tr(lang, "tray-none", &[]));
    }
    let order =
        [ConnState::Connected, ConnState::Connecting, ConnState::Reconnecting, ConnState::Error, ConnState::Stopped];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|s| {
            let n = instruments.iter().filter(|i| i.state == *s).count();
            (n > 0).then(|| format!("{n} {}", tr(lang, &format!("state.{}", s.as_str()), &[])))
        })
        .collect();
    let mut text = format!("Meterdeck: {}", parts.join(", "));
    for i in instruments.iter().filter(|i| i.state == ConnState::Error) {
        let reason = i.reason_text.as_ref().map(|r| r.render(lang)).or_else(|| i.reason.clone());
        if let Some(r) = reason {
            text.push_str(&format!("\n{}: {}", i.config.id, r));
        }
    }
    text
}
