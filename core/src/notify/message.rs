//! What the dispatcher delivers and the notification centre lists.

use super::locale::Locale;
use crate::model::TimeMs;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Alarm,
    System,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Alarm => "alarm",
            MessageKind::System => "system",
        }
    }
}

/// One notification. `severity` is the alarm severity (critical | high |
/// medium | low) or `None` for system messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub t: TimeMs,
    pub kind: MessageKind,
    pub severity: Option<String>,
    pub title: String,
    pub body: String,
    pub alarm_id: Option<String>,
    /// The language and zone the title and body were written in; mail and
    /// webhook facts and times follow it. Not part of the JSON payload.
    #[serde(skip)]
    pub locale: Locale,
    /// What a view-only link would show (an alarm's channels around its
    /// time): the dispatcher asks the cloud for one before delivering.
    /// Not part of the JSON payload.
    #[serde(skip)]
    pub link: Option<LinkAsk>,
}

/// The alarm a view-only link is asked for (`POST /api/v1/agents/{id}/links`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkAsk {
    pub alarm_id: String,
    pub alarm_name: String,
    /// When the alarm happened.
    pub at: TimeMs,
    /// `instrument/channel` paths.
    pub channels: Vec<String>,
}

impl Message {
    /// Severity rank for ordering (critical highest); unknown or absent ranks lowest.
    pub(crate) fn severity_rank(&self) -> u8 {
        match self.severity.as_deref() {
            Some("critical") => 4,
            Some("high") => 3,
            Some("medium") => 2,
            Some("low") => 1,
            _ => 0,
        }
    }

    /// The message time in the recipient's zone with its offset, for bodies
    /// and facts read by people.
    pub(crate) fn time_text(&self) -> String {
        self.locale.time(self.t)
    }
}
