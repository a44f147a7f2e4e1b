//! Short human-readable renderings of times, ages and sizes, shared by the
//! sync status, the traffic notices, the desk's console and the front ends
//! (the `meterdeck-agent` CLI).

use chrono::{DateTime, Utc};

use crate::model::TimeMs;

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
