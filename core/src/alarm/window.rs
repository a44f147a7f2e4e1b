//! Valid time windows: weekdays and a daily `[from, to)` in local wall-clock
//! time of a zone. `from > to` spans midnight and belongs to the day it
//! starts on (fri 22:00-06:00 covers Friday night into Saturday morning).
//! Local time comes from chrono-tz, so DST days are right: on a spring-forward
//! day a window starting inside the skipped hour starts when the clock
//! resumes; on a fall-back day the repeated hour is inside twice.

use chrono::{DateTime, Datelike, Offset, Timelike};
use chrono_tz::Tz;

use super::rule::WindowParts;
use crate::model::TimeMs;

const DAY_MS: u32 = 24 * 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub parts: WindowParts,
    pub tz: Tz,
}

/// Local weekday (0 = Monday) and ms of the day, or `None` out of chrono's range.
pub fn local_day_ms(t: TimeMs, tz: Tz) -> Option<(u8, u32, bool)> {
    let dt = DateTime::from_timestamp_millis(t)?.with_timezone(&tz);
    let ms = dt.num_seconds_from_midnight() * 1000 + dt.timestamp_subsec_millis().min(999);
    let whole_minute = dt.offset().fix().local_minus_utc() % 60 == 0;
    Some((dt.weekday().num_days_from_monday() as u8, ms, whole_minute))
}

/// The rule on a local day and time; pure, no zone.
pub fn contains_local(p: &WindowParts, day: u8, ms: u32) -> bool {
    let on = |d: u8| p.days & (1 << d) != 0;
    if p.from_ms < p.to_ms {
        on(day) && p.from_ms <= ms && ms < p.to_ms.min(DAY_MS)
    } else {
        (on(day) && ms >= p.from_ms) || (on((day + 6) % 7) && ms < p.to_ms)
    }
}

impl Window {
    pub fn contains(&self, t: TimeMs) -> bool {
        local_day_ms(t, self.tz).is_some_and(|(d, ms, _)| contains_local(&self.parts, d, ms))
    }

    /// `contains` with a one-minute memo: bounds are whole local minutes, so
    /// with a whole-minute UTC offset the answer is constant in a UTC minute.
    #[inline]
    pub fn contains_cached(&self, t: TimeMs, cache: &mut WindowCache) -> bool {
        let minute = t.div_euclid(60_000);
        if cache.minute == minute {
            return cache.inside;
        }
        let Some((d, ms, whole)) = local_day_ms(t, self.tz) else { return false };
        let inside = contains_local(&self.parts, d, ms);
        if whole {
            *cache = WindowCache { minute, inside };
        }
        inside
    }
}

#[derive(Clone, Copy, Debug)]
pub struct WindowCache {
    minute: i64,
    inside: bool,
}

impl Default for WindowCache {
    fn default() -> Self {
        WindowCache { minute: i64::MIN, inside: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const H: u32 = 3_600_000;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> TimeMs {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
    }

    fn w(days: u8, from_h: u32, to_h: u32, tz: Tz) -> Window {
        Window { parts: WindowParts { days, from_ms: from_h * H, to_ms: to_h * H }, tz }
    }

    #[test]
    fn weekdays_office_hours_in_berlin() {
        let win = w(0b1_1111, 8, 18, chrono_tz::Europe::Berlin);
        // Wed 2024-01-10, CET = UTC+1.
        assert!(!win.contains(utc(2024, 1, 10, 7, 0) - 1));
        assert!(win.contains(utc(2024, 1, 10, 7, 0)));
        assert!(win.contains(utc(2024, 1, 10, 17, 0) - 1));
        assert!(!win.contains(utc(2024, 1, 10, 17, 0)));
        // Saturday.
        assert!(!win.contains(utc(2024, 1, 13, 10, 0)));
    }

    #[test]
    fn spanning_midnight_belongs_to_the_start_day() {
        let win = w(1 << 4, 22, 6, chrono_tz::UTC); // Friday night
        assert!(win.contains(utc(2024, 1, 12, 22, 0))); // Fri 22:00
        assert!(win.contains(utc(2024, 1, 13, 5, 59))); // Sat 05:59
        assert!(!win.contains(utc(2024, 1, 13, 6, 0)));
        assert!(!win.contains(utc(2024, 1, 13, 22, 0))); // Sat night is not listed
        assert!(!win.contains(utc(2024, 1, 12, 5, 0))); // Fri morning belongs to Thursday
    }

    #[test]
    fn dst_days() {
        let berlin = chrono_tz::Europe::Berlin;
        // 2024-03-31: 02:00 CET -> 03:00 CEST at 01:00 UTC.
        let win = Window { parts: WindowParts { days: 0x7f, from_ms: 150 * 60_000, to_ms: 210 * 60_000 }, tz: berlin };
        assert!(!win.contains(utc(2024, 3, 31, 1, 0) - 1)); // 01:59:59.999 CET
        assert!(win.contains(utc(2024, 3, 31, 1, 0))); // 03:00 CEST
        assert!(!win.contains(utc(2024, 3, 31, 1, 30))); // 03:30 CEST
        // 2024-10-27: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30-03:30 local twice.
        assert!(win.contains(utc(2024, 10, 27, 0, 30))); // 02:30 CEST
        assert!(!win.contains(utc(2024, 10, 27, 1, 0))); // 02:00 CET, before 02:30
        assert!(win.contains(utc(2024, 10, 27, 1, 30))); // 02:30 CET, the second time
        assert!(!win.contains(utc(2024, 10, 27, 2, 30))); // 03:30 CET
    }

    #[test]
    fn cache_agrees() {
        let win = w(0b101_0101, 21, 3, chrono_tz::Asia::Kolkata);
        let mut cache = WindowCache::default();
        let t0 = utc(2024, 3, 1, 0, 0);
        for i in 0..20_000 {
            let t = t0 + i * 37_017;
            assert_eq!(win.contains_cached(t, &mut cache), win.contains(t), "{t}");
        }
    }
}
