//! What an instrument hands back: a number, or a flagged special value.

use serde::{Deserialize, Serialize};

/// Why a reading is not a number. Instruments report these with sentinel
/// values (see `families::scpi::protocol::sentinel`); they are stored with
/// their kind and never drawn as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
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

/// One channel's value from one poll. The poll time is stamped by the caller
/// (the agent's scheduler), not by the driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub channel: String,
    pub value: Value,
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
}
