//! Payload bytes published per UTC month, and the notice at 90 % of the
//! monthly allowance (once per month, also across restarts: the state is
//! persisted with the sync status).

use super::status::month_of;
use crate::model::TimeMs;

/// Share of the allowance at which the notice fires.
pub const NOTICE_AT: f64 = 0.9;

#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    pub month: String,
    pub bytes: u64,
    pub allowance: u64,
    /// The month whose notice has fired.
    pub notice_month: Option<String>,
}

impl Traffic {
    pub fn new(month: String, bytes: u64, allowance: u64, notice_month: Option<String>) -> Traffic {
        Traffic { month, bytes, allowance, notice_month }
    }

    /// Starts a new month when `now` is in one.
    pub fn roll(&mut self, now: TimeMs) {
        let month = month_of(now);
        if month != self.month {
            self.month = month;
            self.bytes = 0;
        }
    }

    /// Counts `n` published bytes; returns the notice text when this
    /// crossed 90 % of the allowance for the first time this month.
    pub fn add(&mut self, n: u64, now: TimeMs) -> Option<String> {
        self.roll(now);
        self.bytes = self.bytes.saturating_add(n);
        let over = self.allowance > 0 && self.bytes as f64 >= NOTICE_AT * self.allowance as f64;
        if over && self.notice_month.as_deref() != Some(self.month.as_str()) {
            self.notice_month = Some(self.month.clone());
            return Some(format!(
                "cloud sync has used {} of its {} monthly traffic allowance in {} ({:.0} %)",
                crate::fmt::format_bytes(self.bytes),
                crate::fmt::format_bytes(self.allowance),
                self.month,
                self.bytes as f64 * 100.0 / self.allowance as f64
            ));
        }
        None
    }
}

/// Start of the UTC month after the one `now` is in.
pub fn next_month_start(now: TimeMs) -> TimeMs {
    use chrono::{DateTime, Datelike, NaiveDate, Utc};
    let d = DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default();
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.and_hms_opt(0, 0, 0))
        .map_or(now, |n| n.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV: TimeMs = 1_794_000_000_000; // 2026-11-06
    const DEC: TimeMs = 1_796_300_000_000; // 2026-12-03

    #[test]
    fn the_next_month_starts_at_midnight_utc() {
        assert_eq!(crate::fmt::format_time(next_month_start(NOV)), "2026-12-01T00:00:00.000Z");
        assert_eq!(crate::fmt::format_time(next_month_start(DEC)), "2027-01-01T00:00:00.000Z");
    }

    #[test]
    fn the_notice_fires_once_per_month_at_90_percent() {
        assert_eq!(month_of(NOV), "2026-11");
        assert_eq!(month_of(DEC), "2026-12");
        let mut t = Traffic::new(month_of(NOV), 0, 1000, None);
        assert!(t.add(899, NOV).is_none());
        let notice = t.add(1, NOV).expect("90 % reached");
        assert!(notice.contains("2026-11"), "{notice}");
        assert!(t.add(500, NOV).is_none(), "only once a month");
        assert_eq!(t.bytes, 1400);
        // A new month starts from zero and may notify again.
        assert!(t.add(10, DEC).is_none());
        assert_eq!((t.month.as_str(), t.bytes), ("2026-12", 10));
        assert!(t.add(890, DEC).is_some());
    }

    #[test]
    fn a_restarted_agent_does_not_notify_twice() {
        let mut t = Traffic::new(month_of(NOV), 950, 1000, Some(month_of(NOV)));
        assert!(t.add(10, NOV).is_none());
    }
}
