//! The engine's plain data: samples, channels, events.

pub use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};

/// Samples and special values are meterdeck-wire's (the cloud shares them).
/// The engine's clock is the wire's one `now_ms` (milliseconds since the Unix epoch, UTC).
pub use meterdeck_wire::{Sample, SpecialKind, TimeMs, Value, now_ms};

/// Store-assigned numeric id of a channel (instrument + channel id).
pub type ChannelId = i64;

/// A channel as the store knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChannelRecord {
    pub id: ChannelId,
    pub instrument: String,
    pub channel: String,
    pub unit: Option<String>,
}

impl ChannelRecord {
    /// `instrument/channel`, the name used on the command line and in exports.
    pub fn path(&self) -> String {
        format!("{}/{}", self.instrument, self.channel)
    }
}

/// Connection state of an instrument, as the agent last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ConnState {
    Connecting,
    Connected,
    Reconnecting,
    Error,
    Stopped,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Reconnecting => "reconnecting",
            ConnState::Error => "error",
            ConnState::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<ConnState> {
        [ConnState::Connecting, ConnState::Connected, ConnState::Reconnecting, ConnState::Error, ConnState::Stopped]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Connected,
    Disconnected,
    Error,
    AgentStarted,
    AgentStopped,
    Retention,
    /// Polls started or stopped taking longer than the poll interval.
    Overrun,
    /// A measurement file fetched, left for a request, uploaded or deleted.
    File,
    /// A control command carried out (or refused): start, stop, clock, profile.
    Control,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Connected => "connected",
            EventKind::Disconnected => "disconnected",
            EventKind::Error => "error",
            EventKind::AgentStarted => "agent-started",
            EventKind::AgentStopped => "agent-stopped",
            EventKind::Retention => "retention",
            EventKind::Overrun => "overrun",
            EventKind::File => "file",
            EventKind::Control => "control",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Connected,
            EventKind::Disconnected,
            EventKind::Error,
            EventKind::AgentStarted,
            EventKind::AgentStopped,
            EventKind::Retention,
            EventKind::Overrun,
            EventKind::File,
            EventKind::Control,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Something that happened: a connect, a disconnect with its reason, an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "EventRecord")] // not the DOM's `Event`
pub struct Event {
    pub t: TimeMs,
    /// Instrument id, or `None` for agent-wide events.
    pub instrument: Option<String>,
    pub kind: EventKind,
    pub message: String,
    // How many times in a row it happened (a failure repeating on every poll
    // is one event); `t` is the last time, `first_t` the first. (Plain
    // comments: the TypeScript binding carries no text for these fields.)
    #[serde(default = "once")]
    #[ts(as = "Option<_>", optional)]
    pub count: u32,
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub first_t: TimeMs,
    /// The message as a key and its arguments, so the window shows it in its
    /// own language; `message` is its English (logs, the CLI, older readers).
    /// `None` for events stored before events were kept this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub text: Option<Text>,
}

fn once() -> u32 {
    1
}

impl Event {
    /// One event that happened once, at `t`.
    pub fn new(t: TimeMs, instrument: Option<String>, kind: EventKind, message: String) -> Event {
        Event { t, instrument, kind, message, count: 1, first_t: t, text: None }
    }

    /// One event that happened once, said as a translatable `text`.
    pub fn said(t: TimeMs, instrument: Option<String>, kind: EventKind, text: Text) -> Event {
        Event { message: text.render("en"), text: Some(text), ..Event::new(t, instrument, kind, String::new()) }
    }

    /// When the first of a repeated event happened (`t` for a single one).
    pub fn first(&self) -> TimeMs {
        if self.count > 1 && self.first_t != 0 { self.first_t.min(self.t) } else { self.t }
    }
}
