//! Sync status: what `meterdeck-agent status`, `cloud status` and the
//! desktop window show. The running agent persists its live part (link
//! state, last ack, the month's traffic) in the store's settings every few
//! seconds (`sync.status`); the backlog is read from the outbox itself, so
//! any process with a read-only connection sees the same picture.

use serde::{Deserialize, Serialize};

use super::settings::{CloudSettings, DEFAULT_ALLOWANCE_BYTES};
use crate::model::TimeMs;
use crate::store::{Store, StoreError};

/// Settings key of the persisted part.
pub const STATUS_KEY: &str = "sync.status";
/// A live part older than this is from an agent that is not running:
/// it is shown as not connected.
pub const STALE_MS: i64 = 20_000;

/// snake_case on purpose (the CLI's `--json` and the window read it as is).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SyncStatus {
    /// A `[cloud]` section is configured.
    pub enabled: bool,
    /// The agent is connected to the broker now.
    pub connected: bool,
    pub agent: Option<String>,
    /// `host:port`.
    pub broker: Option<String>,
    /// Samples and outbox rows waiting for the cloud.
    pub backlog_samples: u64,
    pub backlog_batches: u64,
    /// Timestamp of the oldest waiting sample.
    pub oldest_ms: Option<i64>,
    /// When the cloud last acknowledged a batch as stored.
    pub last_ack_ms: Option<i64>,
    /// The UTC month `month_bytes` counts (YYYY-MM).
    pub month: String,
    /// Payload bytes published this month.
    pub month_bytes: u64,
    pub allowance_bytes: u64,
    /// The Remote plan whose allowance applies (a gateway); `None`: the
    /// `[cloud]` allowance, which only raises a notice.
    pub allowance_plan: Option<String>,
    /// Why publishing is paused (a gateway's allowance used up), if it is.
    pub paused: Option<String>,
    pub last_error: Option<String>,
}

/// What the agent keeps in `sync.status`: the live part plus what must
/// survive a restart (the month's traffic, whether its notice fired).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub enabled: bool,
    pub connected: bool,
    pub agent: Option<String>,
    pub broker: Option<String>,
    pub last_ack_ms: Option<i64>,
    pub month: String,
    pub month_bytes: u64,
    pub allowance_bytes: u64,
    pub allowance_plan: Option<String>,
    pub paused: Option<String>,
    pub last_error: Option<String>,
    /// The month whose 90 % notice was raised.
    pub notice_month: Option<String>,
    pub updated_ms: i64,
}

impl Persisted {
    /// Unreadable JSON (an older or damaged value) counts as nothing stored.
    pub fn parse(text: Option<&str>) -> Persisted {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The UTC month of a time, `YYYY-MM`.
pub fn month_of(t: TimeMs) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_else(|| "1970-01".to_string())
}

impl SyncStatus {
    /// The status as of `now` from a store (read-only is enough).
    /// `configured`, when the configuration is known, is its `[cloud]`
    /// table (`Some(None)`: configured without one); it decides `enabled`,
    /// agent and broker (the agent may not have run since the config changed).
    pub fn read(
        store: &Store,
        configured: Option<Option<&CloudSettings>>,
        now: TimeMs,
    ) -> Result<SyncStatus, StoreError> {
        let p = Persisted::parse(store.setting(STATUS_KEY)?.as_deref());
        let stats = store.outbox_stats()?;
        let month = month_of(now);
        let fresh = now - p.updated_ms <= STALE_MS;
        let mut s = SyncStatus {
            enabled: p.enabled,
            connected: p.connected && fresh,
            agent: p.agent,
            broker: p.broker,
            backlog_samples: stats.samples,
            backlog_batches: stats.batches,
            oldest_ms: stats.oldest,
            last_ack_ms: p.last_ack_ms,
            month_bytes: if p.month == month { p.month_bytes } else { 0 },
            month,
            allowance_bytes: if p.allowance_bytes > 0 { p.allowance_bytes } else { DEFAULT_ALLOWANCE_BYTES },
            paused: if fresh { p.paused } else { None },
            allowance_plan: p.allowance_plan,
            last_error: p.last_error,
        };
        if let Some(cloud) = configured {
            match cloud {
                Some(c) => {
                    s.enabled = true;
                    s.agent = Some(c.agent.clone());
                    s.broker = Some(c.broker());
                    // A licence's allowance (a gateway's) outranks the config's.
                    if s.allowance_plan.is_none() {
                        s.allowance_bytes = c.allowance_bytes;
                    }
                }
                None => {
                    s.enabled = false;
                    s.connected = false;
                }
            }
        }
        Ok(s)
    }

    /// Share of the allowance used, 0..
    pub fn used_fraction(&self) -> f64 {
        if self.allowance_bytes == 0 { 0.0 } else { self.month_bytes as f64 / self.allowance_bytes as f64 }
    }

    /// Lines for `meterdeck-agent status` / `cloud status`.
    pub fn render(&self, now: TimeMs) -> String {
        use crate::fmt::{format_age, format_bytes, format_time};
        let mut out = String::new();
        if !self.enabled {
            out.push_str("cloud   sync off (no [cloud] section; see `meterdeck-agent cloud login`)\n");
            if self.last_ack_ms.is_none() && self.month_bytes == 0 {
                return out;
            }
        } else {
            out.push_str(&format!(
                "cloud   {} as {}: {}\n",
                self.broker.as_deref().unwrap_or("?"),
                self.agent.as_deref().unwrap_or("?"),
                if self.connected { "connected" } else { "not connected" }
            ));
        }
        out.push_str(&format!(
            "        backlog {} samples in {} batches{}\n",
            self.backlog_samples,
            self.backlog_batches,
            self.oldest_ms.map_or(String::new(), |t| format!(", oldest {} old", format_age(now - t)))
        ));
        out.push_str(&format!(
            "        last ack {}\n",
            self.last_ack_ms.map_or("never".to_string(), |t| format!(
                "{} ({} ago)",
                format_time(t),
                format_age(now - t)
            ))
        ));
        out.push_str(&format!(
            "        traffic {} {} of {}{} ({:.1} %)\n",
            self.month,
            format_bytes(self.month_bytes),
            format_bytes(self.allowance_bytes),
            self.allowance_plan.as_deref().map(|p| format!(" ({p})")).unwrap_or_default(),
            self.used_fraction() * 100.0
        ));
        if let Some(p) = &self.paused {
            out.push_str(&format!("        {p}\n"));
        }
        if let Some(e) = &self.last_error {
            out.push_str(&format!("        last error: {e}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc() {
        // 2026-11-30T23:30:00Z
        assert_eq!(month_of(1_796_081_400_000), "2026-11");
        assert_eq!(month_of(1_796_081_400_000 + 3_600_000), "2026-12");
    }

    #[test]
    fn json_is_snake_case() {
        let v = serde_json::to_value(SyncStatus::default()).unwrap();
        for k in [
            "backlog_samples",
            "backlog_batches",
            "oldest_ms",
            "last_ack_ms",
            "month_bytes",
            "allowance_bytes",
            "last_error",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
    }

    #[test]
    fn unreadable_persisted_state_is_empty() {
        assert_eq!(Persisted::parse(Some("{nope")), Persisted::default());
        assert_eq!(Persisted::parse(None), Persisted::default());
        let p = Persisted { month: "2026-11".into(), month_bytes: 5, ..Default::default() };
        assert_eq!(Persisted::parse(Some(&p.to_json())), p);
    }
}
