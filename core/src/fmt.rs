//! Small text helpers every part of core shares: sizes as people write them
//! (`2 GiB`, `500 MB`) and values as the store, exports and alarms show
//! them. A leaf module: it imports nothing of core but `model`, so any stage
//! may use it without an import cycle.

use crate::model::{SpecialKind, Value};

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
}
