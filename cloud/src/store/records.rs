//! Site records (issue 16): the alarm journal entries and instrument events
//! agents sync (protocol v2, `meterdeck_wire::records`), the cloud's own
//! alarms about agents (offline, back online), the agents' presence, the
//! account's offline setting and the acknowledgements made in the cloud on
//! their way to the agent (v6). Schema version 5 and 6 in both backends; each keeps
//! its implementation in its own `records.rs`.
//!
//! Records are keyed by (agent, store, seq): a resend stores nothing. They
//! are listed in the order they happened on the site: time, then the
//! agent's seq, then arrival.

use async_trait::async_trait;
use meterdeck_wire::alarms::PendingAck;
use meterdeck_wire::records::Record;
use serde::{Deserialize, Serialize};

use super::{Result, StoreError, TimeMs};

/// `kind` of the cloud's own alarms about an agent.
pub const CLOUD_ALARM: &str = "cloud_alarm";
/// Their `store`: not an agent's cache file.
pub const CLOUD_STORE: &str = "cloud";
/// `kind` of the journal of remote commands (issue 16), allowed or refused.
pub const REMOTE_COMMAND: &str = "remote_command";
/// Their `store`.
pub const REMOTE_STORE: &str = "remote";
/// Silence after which an agent is offline unless the account says otherwise.
pub const DEFAULT_OFFLINE_AFTER_S: u64 = 300;
/// The shortest and longest setting (the monitor checks every few seconds).
pub const MIN_OFFLINE_AFTER_S: u64 = 5;
pub const MAX_OFFLINE_AFTER_S: u64 = 7 * 86_400;
/// Records per page at most.
pub const MAX_RECORDS_PAGE: usize = 1000;

/// One stored record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteRecord {
    /// The cloud's id of the record.
    pub id: i64,
    pub agent: String,
    /// The agent's cache file it came from (`cloud` for the cloud's own alarms).
    pub store: String,
    /// The agent's record number within that store.
    pub seq: i64,
    /// journal | event | cloud_alarm
    pub kind: String,
    /// When it happened (ms since 1970, UTC).
    pub t: TimeMs,
    /// The record's fields: a journal entry (alarm_id, rule_id, name,
    /// severity, action, from_state, to_state, user, comment, values,
    /// destination), an event (instrument, event, message) or a cloud alarm
    /// (alarm: agent_offline | agent_online, silent_since, message).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    pub received_ms: TimeMs,
}

/// Where a page ends: the next page starts after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordCursor {
    pub t: TimeMs,
    pub seq: i64,
    pub id: i64,
}

impl RecordCursor {
    pub fn of(r: &SiteRecord) -> RecordCursor {
        RecordCursor { t: r.t, seq: r.seq, id: r.id }
    }
    /// `t.seq.id`, as the API hands it out.
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.t, self.seq, self.id)
    }
    pub fn parse(s: &str) -> Option<RecordCursor> {
        let mut it = s.trim().split('.');
        let t = it.next()?.parse().ok()?;
        let seq = it.next()?.parse().ok()?;
        let id = it.next()?.parse().ok()?;
        it.next().is_none().then_some(RecordCursor { t, seq, id })
    }
}

/// Which records of one agent: `from <= t < to`, of these kinds (empty:
/// all), after the cursor, at most `limit`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordQuery {
    pub from: Option<TimeMs>,
    pub to: Option<TimeMs>,
    pub kinds: Vec<String>,
    pub after: Option<RecordCursor>,
    pub limit: usize,
}

/// What the offline monitor knows of one agent.
#[derive(Clone, Debug, PartialEq)]
pub struct PresenceRow {
    pub agent: String,
    pub account: String,
    pub name: String,
    pub last_batch_ms: Option<TimeMs>,
    /// The agent's last presence message (`None`: none yet).
    pub online: Option<bool>,
    pub status_ms: Option<TimeMs>,
    /// The offline alarm stands.
    pub offline_alarm: bool,
    pub alarm_ms: Option<TimeMs>,
    /// The account's setting, when it made one.
    pub offline_after_s: Option<u64>,
}

#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Stores the checked records of `agent` from cache file `store` in one
    /// transaction; those stored before (same agent, store, seq) are
    /// skipped. Returns how many were new. `NotFound` for an unknown agent.
    async fn store_records(&self, agent: &str, store: &str, records: &[Record], now: TimeMs) -> Result<u64>;
    /// One agent's records in site order (time, seq, arrival).
    async fn records(&self, agent: &str, q: &RecordQuery) -> Result<Vec<SiteRecord>>;
    /// The latest journal entry of each alarm of the agent that changed its
    /// state (not the notification attempts): the alarm's state in the
    /// cloud is its `to_state`. Ordered by alarm id.
    async fn alarm_states(&self, agent: &str) -> Result<Vec<SiteRecord>>;
    /// Each alarm's latest `raise` and latest `ack` journal entry (when it
    /// was raised; who acknowledged it, when, with what comment).
    async fn alarm_marks(&self, agent: &str) -> Result<Vec<SiteRecord>>;

    /// Keeps an acknowledgement made in the cloud until the agent journals
    /// it (schema v6). `NotFound` for an unknown agent.
    async fn add_cloud_ack(&self, agent: &str, ack: &PendingAck) -> Result<()>;
    /// The open cloud acknowledgements: of one agent, or of every agent.
    async fn open_cloud_acks(&self, agent: Option<&str>) -> Result<Vec<(String, PendingAck)>>;
    /// It was published once more.
    async fn cloud_ack_sent(&self, id: &str, now: TimeMs) -> Result<()>;
    /// The agent's journal shows it applied (or the alarm needs none now).
    async fn close_cloud_ack(&self, id: &str, now: TimeMs) -> Result<()>;

    /// The agent's presence message arrived (`online` false: its last will
    /// or its goodbye). Unknown agents are ignored.
    async fn set_presence(&self, agent: &str, online: bool, now: TimeMs) -> Result<()>;
    /// Every agent with its presence and its account's setting.
    async fn presences(&self) -> Result<Vec<PresenceRow>>;
    /// Raises (`offline` true) or clears the agent's offline alarm if it is
    /// not so already, storing `body` as a cloud alarm record of the agent
    /// in the same transaction. True when this call changed it: exactly one
    /// caller (of any process) sees true per transition, and mails.
    async fn set_offline_alarm(
        &self,
        agent: &str,
        offline: bool,
        now: TimeMs,
        body: &serde_json::Value,
    ) -> Result<bool>;

    /// Journals a remote command to `agent` (allowed or refused): a record
    /// of kind [`REMOTE_COMMAND`] in store [`REMOTE_STORE`] with the next seq.
    /// `NotFound` for an unknown agent.
    async fn add_remote_record(&self, agent: &str, now: TimeMs, body: &serde_json::Value) -> Result<()>;

    /// The account's silence before an agent counts as offline, seconds;
    /// `None` when it never set one (the default applies).
    async fn offline_after(&self, account: &str) -> Result<Option<u64>>;
    async fn set_offline_after(&self, account: &str, secs: u64) -> Result<()>;
}

/// The body a stored record keeps: the wire record's fields without the
/// `seq`, `t` and `kind` the row has in columns.
pub fn body_json(r: &Record) -> Result<String> {
    let mut v = serde_json::to_value(&r.body).map_err(|e| StoreError::Db(format!("record {}: {e}", r.seq)))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("kind");
    }
    Ok(v.to_string())
}

pub(crate) fn parse_body(s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("site record body: {e}")))
}

/// SQL filter on `kind` for up to this many kinds (the API takes fewer).
pub(crate) const MAX_KINDS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = RecordCursor { t: -5, seq: 7, id: 9 };
        assert_eq!(RecordCursor::parse(&c.encode()), Some(c));
        for bad in ["", "1.2", "1.2.3.4", "a.b.c", "1..3"] {
            assert_eq!(RecordCursor::parse(bad), None, "{bad}");
        }
    }
}
