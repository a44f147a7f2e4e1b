//! Small text helpers every part of core and its front ends share: sizes as
//! people write them (`2 GiB`, `500 MB`), values as the store, exports and
//! alarms show them, and times, ages and byte counts as the sync status, the
//! traffic notices, the desk's console and the `meterdeck-agent` CLI print
//! them. A leaf module: it imports nothing of core but `model`, so any stage
//! may use it without an import cycle.

use chrono::{DateTime, Utc};

use crate::model::{SpecialKind, TimeMs, Value};

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;

/// A size that [`parse_size`] cannot read; the message says what to write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("cannot read the size {0:?} (expected e.g. \"2 GiB\" or \"500 MB\")")]
    Unreadable(String),
    #[error("unknown size unit {unit:?} in {text:?} (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)")]
    UnknownUnit { unit: String, text: String },
    #[error("size {0:?} is out of range")]
    OutOfRange(String),
}

impl SizeError {
    /// The message in any language (locales/*/forms.ftl); English is the Display.
    pub fn text(&self) -> meterdeck_wire::i18n::Text {
        use meterdeck_wire::i18n::Text;
        match self {
            SizeError::Unreadable(t) => Text::new("form-size-unreadable").arg("text", format!("{t:?}")),
            SizeError::UnknownUnit { unit, text } => {
                Text::new("form-size-unknown-unit").arg("unit", format!("{unit:?}")).arg("text", format!("{text:?}"))
            }
            SizeError::OutOfRange(t) => Text::new("form-size-out-of-range").arg("text", format!("{t:?}")),
        }
    }
}

/// Parses sizes like `2 GiB`, `500MB`, `1.5 GB`, `1048576` (bytes).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().map_err(|_| SizeError::Unreadable(text.to_string()))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" => 1000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => KIB,
        "mib" => MIB,
        "gib" => GIB,
        "tib" => 1024 * GIB,
        other => return Err(SizeError::UnknownUnit { unit: other.to_string(), text: text.to_string() }),
    };
    let bytes = num * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(SizeError::OutOfRange(text.to_string()));
    }
    Ok(bytes as u64)
}

/// A value as text: the special value's label, or the number in its
/// shortest form that parses back to the same `f64`.
pub fn format_value(v: Value) -> String {
    match v {
        Value::Number(x) => format_number(x),
        Value::Special(k) => k.label().to_string(),
    }
}

/// Shortest round-trip representation; exponent form for very large or
/// small magnitudes so it stays short (`1e-300`, not 300 zeros).
pub fn format_number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-6..1e16).contains(&a) { format!("{x}") } else { format!("{x:e}") }
}

/// Parses what [`format_value`] writes (used by tests and importers).
pub fn parse_value(text: &str) -> Option<Value> {
    if let Some(k) = SpecialKind::ALL.into_iter().find(|k| k.label() == text) {
        return Some(Value::Special(k));
    }
    text.parse::<f64>().ok().map(Value::Number)
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

    #[test]
    fn size_errors_say_what_to_write() {
        assert_eq!(parse_size(" 1 TiB ").unwrap(), 1024 * GIB);
        let e = parse_size("lots").unwrap_err().to_string();
        assert!(e.contains("\"lots\"") && e.contains("2 GiB"), "{e}");
        let e = parse_size("3 XB").unwrap_err().to_string();
        assert!(e.contains("\"xb\"") && e.contains("MiB"), "{e}");
        let e = parse_size("99999999999999999999999 TiB").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
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
