//! A sample: when, and a number or the reason there is none. Instruments
//! hand back `Value`s, the engine stamps them into `Sample`s, the store and
//! the sync protocol carry them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
pub type TimeMs = i64;

/// The wall clock in `TimeMs`: the one clock reading of the agent, the
/// drivers' simulator and the cloud (whose tests inject their own clock).
pub fn now_ms() -> TimeMs {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        // A clock set before 1970: negative, as chrono would give.
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Why a reading is not a number. Instruments report these with sentinel
/// values (see the drivers' `families::scpi::protocol::sentinel`); they are
/// stored with their kind and never drawn as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum SpecialKind {
    /// No data for this channel (e.g. `+9999.9E+99`), or the poll produced none.
    NoData,
    /// Positive over-range (e.g. `+999.99E+9`).
    OverRange,
    /// Negative over-range (e.g. `-999.99E+9`).
    UnderRange,
    /// Sensor wire break / burn-out (e.g. `±888.88E+9`).
    BurnOut,
    /// Invalid or uncalculable value (e.g. `±777.77E+9`, division by zero).
    Invalid,
}

impl SpecialKind {
    pub const ALL: [SpecialKind; 5] = [
        SpecialKind::NoData,
        SpecialKind::OverRange,
        SpecialKind::UnderRange,
        SpecialKind::BurnOut,
        SpecialKind::Invalid,
    ];

    /// Stable small code used by storage and wire formats.
    pub fn code(self) -> u8 {
        match self {
            SpecialKind::NoData => 1,
            SpecialKind::OverRange => 2,
            SpecialKind::UnderRange => 3,
            SpecialKind::BurnOut => 4,
            SpecialKind::Invalid => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<SpecialKind> {
        SpecialKind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            SpecialKind::NoData => "no-data",
            SpecialKind::OverRange => "over-range",
            SpecialKind::UnderRange => "under-range",
            SpecialKind::BurnOut => "burn-out",
            SpecialKind::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Value {
    Number(f64),
    Special(SpecialKind),
}

impl Value {
    pub fn as_number(self) -> Option<f64> {
        match self {
            Value::Number(v) => Some(v),
            Value::Special(_) => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t: TimeMs,
    pub value: Value,
}

impl Sample {
    pub fn number(t: TimeMs, v: f64) -> Sample {
        Sample { t, value: Value::Number(v) }
    }
    pub fn special(t: TimeMs, kind: SpecialKind) -> Sample {
        Sample { t, value: Value::Special(kind) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in SpecialKind::ALL {
            assert_eq!(SpecialKind::from_code(k.code()), Some(k));
        }
        assert_eq!(SpecialKind::from_code(0), None);
    }

    #[test]
    fn the_clock_is_after_2020() {
        // 2020-01-01T00:00:00Z: a clock reading in seconds or microseconds would fail.
        let t = now_ms();
        assert!(t > 1_577_836_800_000 && t < 4_102_444_800_000, "{t}");
    }
}
