//! Time arguments (`--from -1h`, `--to now`, RFC 3339, dates). Showing
//! times, ages and sizes is core's (`meterdeck_core::fmt`).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::now_ms;
use meterdeck_core::fmt::format_time;
use meterdeck_core::model::TimeMs;

/// Parses `now`, a relative time (`-1h`, `-30m`, `-2d 3h`, `+5m`), an RFC
/// 3339 time (`2026-11-22T12:00:00Z`, `...+09:00`), a UTC date-time without
/// offset (`2026-11-22T12:00:00`, `2026-11-22 12:00`), a date (`2026-11-22`,
/// midnight UTC) or epoch milliseconds (`1795000000000`).
pub fn parse_time(text: &str, now: TimeMs) -> Result<TimeMs, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('+'))
        && let Ok(d) = humantime::parse_duration(rest.trim())
    {
        let ms = i64::try_from(d.as_millis()).map_err(|_| format!("time {text:?} is too far away"))?;
        return Ok(if t.starts_with('-') { now.saturating_sub(ms) } else { now.saturating_add(ms) });
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("time {text:?} is out of range"));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map_or(0, |d| d.and_utc().timestamp_millis()));
    }
    Err(format!(
        "cannot read the time {text:?}: use RFC 3339 (2026-11-22T12:00:00Z), a date (2026-11-22), `now` or a relative time (-1h, -30m, -7d)"
    ))
}

/// `--from` and `--to`, read against one `now`; `from` must be before `to`.
pub fn time_range(from: &str, to: &str) -> Result<(TimeMs, TimeMs)> {
    let now = now_ms();
    let f = parse_time(from, now).map_err(|e| anyhow!("--from: {e}"))?;
    let t = parse_time(to, now).map_err(|e| anyhow!("--to: {e}"))?;
    if f >= t {
        bail!("--from ({}) must be before --to ({})", format_time(f), format_time(t));
    }
    Ok((f, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: TimeMs = 1_795_000_000_000;

    #[test]
    fn relative_and_absolute_times() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("-1h", NOW), Ok(NOW - 3_600_000));
        assert_eq!(parse_time("-2d", NOW), Ok(NOW - 2 * 86_400_000));
        assert_eq!(parse_time("+5m", NOW), Ok(NOW + 300_000));
        assert_eq!(parse_time("1970-01-01T00:00:01Z", NOW), Ok(1000));
        assert_eq!(parse_time("1970-01-01T09:00:01+09:00", NOW), Ok(1000));
        assert_eq!(parse_time("1970-01-02", NOW), Ok(86_400_000));
        assert_eq!(parse_time("1970-01-01 00:01", NOW), Ok(60_000));
        assert_eq!(parse_time("1970-01-01T00:00:00.250", NOW), Ok(250));
        assert_eq!(parse_time("12345", NOW), Ok(12345));
        let e = parse_time("yesterday-ish", NOW).unwrap_err();
        assert!(e.contains("yesterday-ish"), "{e}");
        assert!(parse_time("-1 fortnight", NOW).is_err());
    }
}
