//! When a template's report is due: daily, weekly (a weekday) or monthly (a
//! day of the month) at a local time in the template's time zone. A local
//! time that does not exist (spring forward) is due at the first instant
//! after the gap; one that happens twice (fall back) is due once, at the
//! first. A day of the month past the month's end is its last day.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::range::{instant, local_date};
use crate::model::{Text, TimeMs};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "every", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Every day at `at` (`HH:MM`, local).
    Daily { at: String },
    /// Every week on `weekday` (`mon` .. `sun`) at `at`.
    Weekly { weekday: String, at: String },
    /// Every month on `day` (1..31; past the month's end: its last day) at `at`.
    Monthly { day: u32, at: String },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("schedule.{field}: {message}")]
pub struct ScheduleError {
    pub field: &'static str,
    /// Keys `err-schedule-*` in locales/*/core.ftl.
    pub message: Text,
}

impl ScheduleError {
    /// The refusal as a translatable message; English is the Display.
    pub fn text(&self) -> Text {
        Text::new("err-report-field")
            .arg("field", format!("schedule.{}", self.field))
            .text_arg("message", self.message.clone())
    }
}

fn err(field: &'static str, message: Text) -> ScheduleError {
    ScheduleError { field, message }
}

/// `HH:MM` (24 h).
fn parse_at(at: &str) -> Result<NaiveTime, ScheduleError> {
    let ok = at.len() == 5 && at.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(at, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| err("at", Text::new("err-schedule-at").arg("at", format!("{at:?}"))))
}

fn parse_weekday(w: &str) -> Result<Weekday, ScheduleError> {
    let days = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    let lower = w.trim().to_ascii_lowercase();
    days.iter()
        .find(|(name, _)| lower == *name || lower == days_full(name))
        .map(|(_, d)| *d)
        .ok_or_else(|| err("weekday", Text::new("err-schedule-weekday").arg("weekday", format!("{w:?}"))))
}

fn days_full(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// The last day of `d`'s month.
fn month_end(d: NaiveDate) -> u32 {
    let first_next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    first_next.map_or(28, |n| n.pred_opt().map_or(28, |p| p.day()))
}

impl Schedule {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            Schedule::Daily { at } => parse_at(at).map(|_| ()),
            Schedule::Weekly { weekday, at } => parse_weekday(weekday).and(parse_at(at)).map(|_| ()),
            Schedule::Monthly { day, at } => {
                if !(1..=31).contains(day) {
                    return Err(err("day", Text::new("err-schedule-day").arg("day", day.to_string())));
                }
                parse_at(at).map(|_| ())
            }
        }
    }

    fn at(&self) -> &str {
        match self {
            Schedule::Daily { at } | Schedule::Weekly { at, .. } | Schedule::Monthly { at, .. } => at,
        }
    }

    /// Whether a report is due on local date `d`.
    fn on(&self, d: NaiveDate) -> bool {
        match self {
            Schedule::Daily { .. } => true,
            Schedule::Weekly { weekday, .. } => parse_weekday(weekday).is_ok_and(|w| d.weekday() == w),
            Schedule::Monthly { day, .. } => d.day() == (*day).min(month_end(d)),
        }
    }

    /// The first due instant strictly after `after`, in `tz`. Errors only
    /// for a schedule that does not validate.
    pub fn next_due(&self, tz: Tz, after: TimeMs) -> Result<TimeMs, ScheduleError> {
        self.validate()?;
        let at = parse_at(self.at())?;
        let start = local_date(tz, after).map_err(|e| err("at", e.text()))?;
        // A day earlier: a gap resolution can move a due time past midnight.
        let mut d = start - Duration::days(1);
        for _ in 0..400 {
            if self.on(d)
                && let Some(t) = instant(tz, d.and_time(at))
                && t > after
            {
                return Ok(t);
            }
            d = d.succ_opt().ok_or_else(|| err("at", Text::new("err-schedule-date-range")))?;
        }
        Err(err("at", Text::new("err-schedule-no-due")))
    }

    /// The latest due instant in `(after, now]`, if any: a run missed while
    /// the agent was off is made up once, not once per missed time.
    pub fn latest_due(&self, tz: Tz, after: TimeMs, now: TimeMs) -> Result<Option<TimeMs>, ScheduleError> {
        let mut due = self.next_due(tz, after)?;
        if due > now {
            return Ok(None);
        }
        loop {
            let next = self.next_due(tz, due)?;
            if next > now {
                return Ok(Some(due));
            }
            due = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn ms(s: &str) -> TimeMs {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    fn daily(at: &str) -> Schedule {
        Schedule::Daily { at: at.into() }
    }

    /// The due times in `[from, to)`.
    fn dues(s: &Schedule, tz: Tz, from: &str, to: &str) -> Vec<TimeMs> {
        let mut out = Vec::new();
        let mut t = ms(from) - 1;
        loop {
            t = s.next_due(tz, t).unwrap();
            if t >= ms(to) {
                return out;
            }
            out.push(t);
        }
    }

    #[test]
    fn berlin_spring_forward_runs_a_missing_time_once_after_the_gap() {
        let b = tz("Europe/Berlin");
        assert_eq!(
            dues(&daily("02:30"), b, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"),
            vec![ms("2026-03-28T02:30:00+01:00"), ms("2026-03-29T03:00:00+02:00"), ms("2026-03-30T02:30:00+02:00")]
        );
        // A time outside the gap keeps its local time on both sides.
        assert_eq!(
            dues(&daily("06:00"), b, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"),
            vec![ms("2026-03-28T06:00:00+01:00"), ms("2026-03-29T06:00:00+02:00"), ms("2026-03-30T06:00:00+02:00")]
        );
    }

    #[test]
    fn berlin_fall_back_runs_a_repeated_time_once() {
        let b = tz("Europe/Berlin");
        assert_eq!(
            dues(&daily("02:30"), b, "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z"),
            vec![ms("2026-10-24T02:30:00+02:00"), ms("2026-10-25T02:30:00+02:00"), ms("2026-10-26T02:30:00+01:00")]
        );
        // Asked from inside the repeated hour (after the first 02:30), the next is the next day's.
        assert_eq!(daily("02:30").next_due(b, ms("2026-10-25T02:30:00+02:00")), Ok(ms("2026-10-26T02:30:00+01:00")));
        assert_eq!(daily("02:30").next_due(b, ms("2026-10-25T02:10:00+01:00")), Ok(ms("2026-10-26T02:30:00+01:00")));
    }

    #[test]
    fn tokyo_has_no_dst_and_crosses_utc_midnight() {
        let t = tz("Asia/Tokyo");
        assert_eq!(
            dues(&daily("02:30"), t, "2026-03-28T00:00:00+09:00", "2026-03-31T00:00:00+09:00"),
            vec![ms("2026-03-28T02:30:00+09:00"), ms("2026-03-29T02:30:00+09:00"), ms("2026-03-30T02:30:00+09:00")]
        );
        let w = Schedule::Weekly { weekday: "mon".into(), at: "08:00".into() };
        assert_eq!(w.next_due(t, ms("2026-10-25T12:00:00Z")), Ok(ms("2026-10-26T08:00:00+09:00")));
    }

    #[test]
    fn weekly_and_monthly() {
        let b = tz("Europe/Berlin");
        let w = Schedule::Weekly { weekday: "Sunday".into(), at: "02:30".into() };
        assert_eq!(w.next_due(b, ms("2026-03-23T00:00:00Z")), Ok(ms("2026-03-29T03:00:00+02:00")));
        let m = Schedule::Monthly { day: 31, at: "07:00".into() };
        assert_eq!(
            dues(&m, b, "2026-01-15T00:00:00Z", "2026-05-01T00:00:00Z"),
            vec![
                ms("2026-01-31T07:00:00+01:00"),
                ms("2026-02-28T07:00:00+01:00"),
                ms("2026-03-31T07:00:00+02:00"),
                ms("2026-04-30T07:00:00+02:00")
            ]
        );
    }

    #[test]
    fn missed_runs_are_made_up_once() {
        let b = tz("Europe/Berlin");
        let s = daily("02:30");
        let after = ms("2026-03-27T12:00:00Z");
        assert_eq!(s.latest_due(b, after, ms("2026-03-28T00:00:00Z")), Ok(None));
        assert_eq!(s.latest_due(b, after, ms("2026-03-30T12:00:00Z")), Ok(Some(ms("2026-03-30T02:30:00+02:00"))));
    }

    #[test]
    fn bad_schedules_name_the_field() {
        assert_eq!(daily("2:30").validate().unwrap_err().field, "at");
        assert_eq!(daily("24:00").validate().unwrap_err().field, "at");
        let w = Schedule::Weekly { weekday: "someday".into(), at: "01:00".into() };
        assert_eq!(w.validate().unwrap_err().field, "weekday");
        assert_eq!(Schedule::Monthly { day: 0, at: "01:00".into() }.validate().unwrap_err().field, "day");
        let e = serde_json::from_str::<Schedule>(r#"{"every":"hourly","at":"01:00"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `hourly`"), "{e}");
        let s: Schedule = serde_json::from_str(r#"{"every":"weekly","weekday":"mon","at":"08:00"}"#).unwrap();
        assert_eq!(s, Schedule::Weekly { weekday: "mon".into(), at: "08:00".into() });
    }
}
