//! Time arguments (`--from -1h`, `--to now`, RFC 3339) and short ages.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::model::TimeMs;

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

/// `2026-11-22T12:34:56.789Z`
pub fn format_time(t: TimeMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(t)
        .map_or_else(|| format!("{t} ms"), |d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// A short age: `0.4s`, `12s`, `3m05s`, `2h10m`, `3d4h`; `in 2s` if in the future.
pub fn format_age(age_ms: i64) -> String {
    if age_ms < 0 {
        return format!("in {}", format_age(-age_ms));
    }
    let s = age_ms / 1000;
    match s {
        0..=9 => format!("{:.1}s", age_ms as f64 / 1000.0),
        10..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `1.5 KiB`, `12.3 MiB`.
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", UNITS[u]) }
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

    #[test]
    fn ages_and_sizes_are_short() {
        assert_eq!(format_age(400), "0.4s");
        assert_eq!(format_age(12_000), "12s");
        assert_eq!(format_age(185_000), "3m05s");
        assert_eq!(format_age(2 * 3_600_000 + 600_000), "2h10m");
        assert_eq!(format_age(-2000), "in 2.0s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_time(1000), "1970-01-01T00:00:01.000Z");
    }
}
