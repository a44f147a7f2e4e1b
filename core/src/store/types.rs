//! Plain data the store's API takes and returns.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{ChannelId, ConnState, Sample, TimeMs};

/// How hard a commit waits for the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a committed append survives the
    /// process being killed (kill -9), not necessarily a power loss.
    #[default]
    Normal,
    /// `synchronous=FULL`: a committed append also survives a power loss.
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    pub durability: Durability,
    /// Samples per compressed block; a channel's newer samples wait in the
    /// durable tail until it holds this many.
    pub block_samples: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { durability: Durability::Normal, block_samples: 1024 }
    }
}

/// One bucket of an M4 downsample: the numeric samples in
/// `[t_start, t_end)` reduced to count, first, last, min and max. Special
/// values are only counted (`specials`), never part of min/max.
///
/// Ties: `first` is the earliest timestamp (the earlier stored sample when
/// equal), `last` the latest (the later stored one when equal), `min`/`max`
/// the first stored sample holding the extreme value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct M4Bucket {
    pub t_start: TimeMs,
    pub t_end: TimeMs,
    /// Numeric and special samples in the bucket.
    pub count: u64,
    pub specials: u64,
    pub first: Option<(TimeMs, f64)>,
    pub last: Option<(TimeMs, f64)>,
    pub min: Option<(TimeMs, f64)>,
    pub max: Option<(TimeMs, f64)>,
}

/// Numeric extremes of one bucket of `Store::minmax` (what a plot draws).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMaxBucket {
    pub t_start: TimeMs,
    pub t_end: TimeMs,
    pub min: Option<(TimeMs, f64)>,
    pub max: Option<(TimeMs, f64)>,
}

/// What the retention pass may delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Bytes the database may hold (pages in use).
    pub quota_bytes: u64,
    /// Unsynced data younger than this is only deleted when the quota
    /// cannot be met otherwise. Values below 14 days are raised to 14 days.
    #[serde(with = "humantime_serde")]
    pub keep_unsynced: Duration,
    /// Synced data (and events) older than this is deleted regardless of
    /// the quota; unsynced data only when also older than `keep_unsynced`.
    #[serde(default, with = "humantime_serde")]
    pub keep_max: Option<Duration>,
}

/// The shortest `keep_unsynced` the store honours (SPEC 2.4: unsynced data
/// is kept at least the latest two weeks); the config's checks use it too.
pub const MIN_KEEP_UNSYNCED: Duration = Duration::from_secs(14 * 24 * 3600);

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { quota_bytes: 2 << 30, keep_unsynced: MIN_KEEP_UNSYNCED, keep_max: None }
    }
}

/// What a retention pass did. When `deleted_recent_unsynced_samples` is not
/// zero, data that never reached the cloud was dropped inside the
/// `keep_unsynced` window to meet the quota: the caller records an Event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    pub deleted_blocks: u64,
    pub deleted_synced_samples: u64,
    /// Unsynced samples older than `keep_unsynced` (quota or `keep_max`).
    pub deleted_unsynced_samples: u64,
    /// Unsynced samples younger than `keep_unsynced`, dropped for the quota.
    pub deleted_recent_unsynced_samples: u64,
    pub deleted_events: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Still above the quota after deleting everything allowed.
    pub over_quota: bool,
}

impl RetentionReport {
    /// Unsynced samples this pass deleted (they never reached the cloud).
    pub fn lost_unsynced(&self) -> u64 {
        self.deleted_unsynced_samples + self.deleted_recent_unsynced_samples
    }

    /// One line for the log (English).
    pub fn summary(&self) -> String {
        self.text().to_string()
    }

    /// The event's message (`evt.retention*` in locales/*/ui.ftl), shown in
    /// each reader's language.
    pub fn text(&self) -> meterdeck_wire::i18n::Text {
        let n = |v: u64| v.to_string();
        let line = meterdeck_wire::i18n::Text::new("evt.retention")
            .arg("blocks", n(self.deleted_blocks))
            .arg("synced", n(self.deleted_synced_samples))
            .arg("unsynced", n(self.deleted_unsynced_samples))
            .arg("recent", n(self.deleted_recent_unsynced_samples))
            .arg("events", n(self.deleted_events))
            .arg("before", n(self.bytes_before))
            .arg("after", n(self.bytes_after));
        if self.over_quota {
            meterdeck_wire::i18n::Text::new("evt.retentionOverQuota").text_arg("summary", line)
        } else {
            line
        }
    }
}

/// Samples waiting for the cloud, oldest first. Acknowledge with
/// `Store::outbox_ack(id)` once the cloud stored them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxBatch {
    pub id: i64,
    pub channel: ChannelId,
    /// The channel's store sequence numbers `[seq_from, seq_to)` this batch
    /// covers; fixed once handed out, so they key the cloud's idempotent write.
    pub seq_from: i64,
    pub seq_to: i64,
    /// The samples of that range that still exist (retention may have taken some).
    pub samples: Vec<Sample>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStats {
    pub batches: u64,
    pub samples: u64,
    /// Timestamp of the oldest unsynced sample.
    pub oldest: Option<TimeMs>,
}

/// An instrument as configured plus what the agent last saw of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentState {
    pub id: String,
    pub name: String,
    pub family: String,
    pub target: String,
    pub state: ConnState,
    /// Why, in English.
    pub reason: Option<String>,
    pub last_poll: Option<TimeMs>,
    /// Wall-clock time of the last change to this row.
    pub updated: TimeMs,
    /// Why, as a translatable text (rows from before schema 6: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_text: Option<crate::model::Text>,
}
