//! The cloud's own alarms (issue 16): agent offline, traffic at 90 % and
//! 100 %, storage over the plan. One row per episode (unique per account,
//! agent, kind and episode), so raising twice stores nothing; sending,
//! reminding and acknowledging are compare-and-set updates, so however many
//! cloud processes run the monitor, exactly one sends each message. Also
//! the account's alarm settings (destinations, reminder interval), kept
//! sealed (`crate::alarms::seal`), and the expiry of cloud acknowledgements
//! of agent alarms. Schema version 8 in both backends.

use async_trait::async_trait;
use meterdeck_wire::alarms::AckMark;
use serde::Serialize;

use super::{Result, TimeMs};

/// The kinds of cloud alarm.
pub const AGENT_OFFLINE: &str = "agent_offline";
pub const TRAFFIC_90: &str = "traffic_90";
pub const TRAFFIC_100: &str = "traffic_100";
pub const STORAGE_OVER: &str = "storage_over";
pub const KINDS: [&str; 4] = [AGENT_OFFLINE, TRAFFIC_90, TRAFFIC_100, STORAGE_OVER];

/// One episode of a cloud alarm.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CloudAlarm {
    pub id: String,
    pub account: String,
    /// The agent it is about (null: the account's, e.g. storage).
    pub agent: Option<String>,
    /// agent_offline | traffic_90 | traffic_100 | storage_over
    pub kind: String,
    /// What makes this episode one (the silence's start, the month, ...).
    pub episode: String,
    pub raised_ms: TimeMs,
    /// The condition cleared (the agent is back, a new month, storage reduced).
    pub cleared_ms: Option<TimeMs>,
    /// Messages sent so far (the first, then reminders).
    pub sends: u32,
    pub last_sent_ms: Option<TimeMs>,
    /// Who acknowledged it, when, with what comment.
    pub ack: Option<AckMark>,
    /// What the messages are written from (names, figures, times).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

impl CloudAlarm {
    /// Waiting for an acknowledgement: raised, not cleared, not acknowledged.
    pub fn open(&self) -> bool {
        self.cleared_ms.is_none() && self.ack.is_none()
    }
}

/// A cloud acknowledgement of an agent alarm that expired unapplied.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpiredAck {
    pub agent: String,
    pub id: String,
    pub alarm_id: String,
}

#[async_trait]
pub trait AlarmStore: Send + Sync {
    /// Stores a new episode; false when this episode exists already
    /// (raised by another payload or process).
    async fn raise(&self, a: &CloudAlarm) -> Result<bool>;
    /// Clears the open episodes of (account, agent, kind), except the one
    /// named `keep`; returns how many it cleared.
    async fn clear(
        &self,
        account: &str,
        agent: Option<&str>,
        kind: &str,
        keep: Option<&str>,
        now: TimeMs,
    ) -> Result<u64>;
    /// Every open episode (not cleared, not acknowledged), oldest first.
    async fn open_alarms(&self) -> Result<Vec<CloudAlarm>>;
    /// Claims the next message of an episode: true for exactly one caller
    /// that saw `last_sent` (the episode still open).
    async fn claim_send(&self, id: &str, last_sent: Option<TimeMs>, now: TimeMs) -> Result<bool>;
    /// A claimed message could not go anywhere: give the claim back.
    async fn unclaim_send(&self, id: &str, last_sent: Option<TimeMs>, claimed_at: TimeMs) -> Result<()>;
    /// Acknowledges an episode of `account`; false when it was acknowledged
    /// already. `NotFound` when the account has no such alarm.
    async fn ack(&self, account: &str, id: &str, user: &str, comment: Option<&str>, now: TimeMs) -> Result<bool>;
    async fn alarm(&self, account: &str, id: &str) -> Result<Option<CloudAlarm>>;
    /// The account's episodes (of one agent when named), standing first,
    /// then newest first; at most `limit`.
    async fn alarms(&self, account: &str, agent: Option<&str>, limit: usize) -> Result<Vec<CloudAlarm>>;

    /// The account's sealed alarm settings.
    async fn alarm_settings(&self, account: &str) -> Result<Option<String>>;
    async fn set_alarm_settings(&self, account: &str, sealed: &str, now: TimeMs) -> Result<()>;

    /// Marks open cloud acknowledgements created before `before` expired
    /// (no more publishing); returns them.
    async fn expire_cloud_acks(&self, before: TimeMs, now: TimeMs) -> Result<Vec<ExpiredAck>>;
    /// The agent's expired acknowledgements: (alarm id, user, created, expired).
    async fn expired_cloud_acks(&self, agent: &str) -> Result<Vec<(String, String, TimeMs, TimeMs)>>;
}

/// Rows store "no agent" as an empty text (the unique key needs a value).
pub(crate) fn agent_col(agent: Option<&str>) -> String {
    agent.unwrap_or_default().to_owned()
}

pub(crate) fn agent_of(col: String) -> Option<String> {
    (!col.is_empty()).then_some(col)
}

pub(crate) fn ack_of(user: Option<String>, t: Option<TimeMs>, comment: Option<String>) -> Option<AckMark> {
    t.map(|t| AckMark { user, t, comment })
}
