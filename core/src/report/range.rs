//! Report ranges resolved in the user's time zone: the previous local day,
//! ISO week (Monday start) or calendar month before `now`, or a fixed range.
//! Local midnights that fall in a DST gap start at the first instant after
//! the gap; ambiguous ones (a repeated hour) at the earlier instant.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::template::RangeKind;
use crate::model::TimeMs;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("time zone {0:?} is not an IANA time zone name (e.g. Europe/Berlin, Asia/Tokyo)")]
    TimeZone(String),
    #[error("the fixed range must end after it starts (from {from} ms, to {to} ms)")]
    Empty { from: TimeMs, to: TimeMs },
    #[error("{0} ms is outside the dates a report can cover")]
    OutOfRange(TimeMs),
}

impl RangeError {
    /// The refusal as a translatable message (keys `err-range-*` in
    /// locales/*/core.ftl); English is the Display.
    pub fn text(&self) -> crate::model::Text {
        use crate::model::Text;
        match self {
            RangeError::TimeZone(tz) => Text::new("err-range-time-zone").arg("tz", format!("{tz:?}")),
            RangeError::Empty { from, to } => {
                Text::new("err-range-empty").arg("from", from.to_string()).arg("to", to.to_string())
            }
            RangeError::OutOfRange(t) => Text::new("err-range-out").arg("t", t.to_string()),
        }
    }
}

/// The IANA zone `name`, or an error naming it.
pub fn zone(name: &str) -> Result<Tz, RangeError> {
    name.trim().parse::<Tz>().map_err(|_| RangeError::TimeZone(name.to_string()))
}

/// `[from, to)` in ms of `kind` as seen at `now` in `tz`.
pub fn resolve(kind: &RangeKind, tz: Tz, now: TimeMs) -> Result<(TimeMs, TimeMs), RangeError> {
    let today = local_date(tz, now)?;
    let (first, end) = match kind {
        RangeKind::Fixed { from, to } => {
            return if from < to { Ok((*from, *to)) } else { Err(RangeError::Empty { from: *from, to: *to }) };
        }
        RangeKind::PreviousDay => (today - Duration::days(1), today),
        RangeKind::PreviousWeek => {
            let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            (monday - Duration::days(7), monday)
        }
        RangeKind::PreviousMonth => {
            let this = today.with_day(1).ok_or(RangeError::OutOfRange(now))?;
            let prev = this.checked_sub_months(chrono::Months::new(1)).ok_or(RangeError::OutOfRange(now))?;
            (prev, this)
        }
    };
    let at = |d: NaiveDate| instant(tz, d.and_time(NaiveTime::MIN)).ok_or(RangeError::OutOfRange(now));
    Ok((at(first)?, at(end)?))
}

/// The local calendar date of `t` in `tz`.
pub fn local_date(tz: Tz, t: TimeMs) -> Result<NaiveDate, RangeError> {
    let utc = DateTime::<Utc>::from_timestamp_millis(t).ok_or(RangeError::OutOfRange(t))?;
    Ok(utc.with_timezone(&tz).date_naive())
}

/// The instant (ms) of local time `local` in `tz`: the earlier of an
/// ambiguous pair, the first instant after the gap for one that does not
/// exist. `None` only for dates chrono cannot represent.
pub fn instant(tz: Tz, local: NaiveDateTime) -> Option<TimeMs> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.timestamp_millis());
    }
    // In a gap: the first local minute that exists is where the clocks
    // jumped to, and its instant is the transition (gaps are at most a day).
    let start = local.with_second(0)?.with_nanosecond(0)?;
    (1..=24 * 60)
        .map(|m| start + Duration::minutes(m))
        .find_map(|l| tz.from_local_datetime(&l).earliest())
        .map(|t| t.timestamp_millis())
}

use chrono::Timelike as _;

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> TimeMs {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn berlin() -> Tz {
        zone("Europe/Berlin").unwrap()
    }

    #[test]
    fn previous_day_in_berlin_across_both_2026_dst_changes() {
        // 29 March 2026 has 23 hours in Berlin, 25 October 2026 has 25.
        let r = resolve(&RangeKind::PreviousDay, berlin(), ms("2026-03-30T06:00:00+02:00")).unwrap();
        assert_eq!(r, (ms("2026-03-29T00:00:00+01:00"), ms("2026-03-30T00:00:00+02:00")));
        assert_eq!(r.1 - r.0, 23 * 3_600_000);
        let r = resolve(&RangeKind::PreviousDay, berlin(), ms("2026-10-26T00:30:00+01:00")).unwrap();
        assert_eq!(r, (ms("2026-10-25T00:00:00+02:00"), ms("2026-10-26T00:00:00+01:00")));
        assert_eq!(r.1 - r.0, 25 * 3_600_000);
    }

    #[test]
    fn previous_day_in_tokyo_is_always_24_hours() {
        let tokyo = zone("Asia/Tokyo").unwrap();
        let r = resolve(&RangeKind::PreviousDay, tokyo, ms("2026-03-29T01:30:00Z")).unwrap();
        assert_eq!(r, (ms("2026-03-28T00:00:00+09:00"), ms("2026-03-29T00:00:00+09:00")));
        // 23:30 UTC on the 28th is already the 29th in Tokyo.
        let r = resolve(&RangeKind::PreviousDay, tokyo, ms("2026-03-28T23:30:00Z")).unwrap();
        assert_eq!(r.0, ms("2026-03-28T00:00:00+09:00"));
    }

    #[test]
    fn previous_iso_week_starts_on_monday() {
        // Wednesday 1 April 2026: the week before is Mon 23 - Mon 30 March (spring forward inside).
        let r = resolve(&RangeKind::PreviousWeek, berlin(), ms("2026-04-01T12:00:00+02:00")).unwrap();
        assert_eq!(r, (ms("2026-03-23T00:00:00+01:00"), ms("2026-03-30T00:00:00+02:00")));
        assert_eq!(r.1 - r.0, (7 * 24 - 1) * 3_600_000);
        // On a Monday the previous week is the one that just ended.
        let r = resolve(&RangeKind::PreviousWeek, berlin(), ms("2026-10-26T09:00:00+01:00")).unwrap();
        assert_eq!(r, (ms("2026-10-19T00:00:00+02:00"), ms("2026-10-26T00:00:00+01:00")));
        let tokyo = zone("Asia/Tokyo").unwrap();
        let r = resolve(&RangeKind::PreviousWeek, tokyo, ms("2026-01-04T12:00:00+09:00")).unwrap();
        assert_eq!(r, (ms("2025-12-22T00:00:00+09:00"), ms("2025-12-29T00:00:00+09:00")));
    }

    #[test]
    fn previous_month_spans_the_calendar_month() {
        let r = resolve(&RangeKind::PreviousMonth, berlin(), ms("2026-04-01T00:30:00+02:00")).unwrap();
        assert_eq!(r, (ms("2026-03-01T00:00:00+01:00"), ms("2026-04-01T00:00:00+02:00")));
        let r = resolve(&RangeKind::PreviousMonth, berlin(), ms("2026-01-15T10:00:00+01:00")).unwrap();
        assert_eq!(r, (ms("2025-12-01T00:00:00+01:00"), ms("2026-01-01T00:00:00+01:00")));
        let tokyo = zone("Asia/Tokyo").unwrap();
        let r = resolve(&RangeKind::PreviousMonth, tokyo, ms("2026-03-01T00:00:00+09:00")).unwrap();
        assert_eq!(r, (ms("2026-02-01T00:00:00+09:00"), ms("2026-03-01T00:00:00+09:00")));
    }

    #[test]
    fn fixed_ranges_must_not_be_empty() {
        assert_eq!(resolve(&RangeKind::Fixed { from: 5, to: 9 }, berlin(), 0), Ok((5, 9)));
        assert_eq!(
            resolve(&RangeKind::Fixed { from: 9, to: 9 }, berlin(), 0),
            Err(RangeError::Empty { from: 9, to: 9 })
        );
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let d = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // 02:30 does not exist on 29 March: the clocks jump from 02:00 to 03:00 CEST.
        assert_eq!(instant(berlin(), d("2026-03-29 02:30")), Some(ms("2026-03-29T03:00:00+02:00")));
        // 02:30 happens twice on 25 October: the first (CEST) one.
        assert_eq!(instant(berlin(), d("2026-10-25 02:30")), Some(ms("2026-10-25T02:30:00+02:00")));
        // America/Santiago's midnight does not exist on its spring-forward day.
        let santiago = zone("America/Santiago").unwrap();
        assert_eq!(instant(santiago, d("2026-09-06 00:00")), Some(ms("2026-09-06T01:00:00-03:00")));
        assert!(zone("Mars/Olympus").is_err());
    }
}
