//! The settings each simulated personality keeps (what settings profiles
//! read and push): SCPI setting commands with their queries, and for the
//! Modbus device a bank of writable holding registers. A value outside
//! what the setting allows is refused (`-224`), as instruments do.

use super::config::Personality;
use super::matcher::{Entry, entry};
use super::session::{Cmd, ILLEGAL_PARAMETER, MISSING_PARAMETER, ScpiError};

/// What a setting accepts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Allowed {
    /// One of these words (case-insensitive; kept as written here).
    Words(&'static [&'static str]),
    /// A number in this range (kept in its shortest form).
    Range(f64, f64),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct SimSetting {
    pub path: &'static [&'static str],
    /// Long-form header for `:HEADer ON` replies.
    pub header: &'static str,
    pub default: &'static str,
    pub allowed: Allowed,
}

const fn setting(
    path: &'static [&'static str],
    header: &'static str,
    default: &'static str,
    allowed: Allowed,
) -> SimSetting {
    SimSetting { path, header, default, allowed }
}

const LOGGER: &[SimSetting] = &[
    setting(&["SAMPle", "RATE"], ":SAMPLE:RATE", "1", Allowed::Range(0.01, 3600.0)),
    setting(&["TRIGger", "MODE"], ":TRIGGER:MODE", "SINGLE", Allowed::Words(&["SINGLE", "REPEAT"])),
    setting(&["SYSTem", "BEEPer"], ":SYSTEM:BEEPER", "ON", Allowed::Words(&["ON", "OFF"])),
];

const POWER: &[SimSetting] = &[
    setting(&["VOLTage", "RANGe"], ":VOLTAGE:RANGE", "300", Allowed::Range(15.0, 1000.0)),
    setting(&["CURRent", "RANGe"], ":CURRENT:RANGE", "5", Allowed::Range(0.1, 50.0)),
    setting(&["AVERage", "COUNt"], ":AVERAGE:COUNT", "1", Allowed::Range(1.0, 64.0)),
];

const DMM: &[SimSetting] = &[
    setting(&["SENSe", "VOLTage", "DC", "RANGe"], ":SENSE:VOLTAGE:DC:RANGE", "10", Allowed::Range(0.1, 1000.0)),
    setting(&["SENSe", "VOLTage", "DC", "NPLCycles"], ":SENSE:VOLTAGE:DC:NPLCYCLES", "1", Allowed::Range(0.02, 100.0)),
    setting(&["TRIGger", "SOURce"], ":TRIGGER:SOURCE", "IMM", Allowed::Words(&["IMM", "BUS", "EXT"])),
];

/// The settings of a personality, in a fixed order (their indices are the
/// `Cmd::Setting` numbers).
pub(crate) fn table(personality: Personality) -> &'static [SimSetting] {
    match personality {
        Personality::HiokiLogger => LOGGER,
        Personality::PowerMeter => POWER,
        Personality::Scpi => DMM,
        Personality::Modbus => &[],
    }
}

/// The command and query entries of a personality's settings.
pub(crate) fn entries(personality: Personality) -> impl Iterator<Item = Entry<Cmd>> {
    table(personality).iter().enumerate().flat_map(|(i, s)| {
        [entry(s.path, false, s.header, Cmd::Setting(i)), entry(s.path, true, s.header, Cmd::SettingQ(i))]
    })
}

/// The value as the instrument keeps it, or why it is refused.
pub(crate) fn accept(setting: &SimSetting, arg: &str) -> Result<String, ScpiError> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Err(MISSING_PARAMETER);
    }
    match setting.allowed {
        Allowed::Words(words) => {
            words.iter().find(|w| w.eq_ignore_ascii_case(arg)).map(|w| (*w).to_string()).ok_or(ILLEGAL_PARAMETER)
        }
        Allowed::Range(lo, hi) => match arg.parse::<f64>() {
            Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(format!("{v}")),
            _ => Err(ILLEGAL_PARAMETER),
        },
    }
}

/// The Modbus device's settings: holding registers `MODBUS_BASE..` that
/// keep what is written to them (beside the channel values it serves).
pub(crate) const MODBUS_BASE: u16 = 1000;
pub(crate) const MODBUS_DEFAULTS: [u16; 4] = [10, 1, 0, 600];
/// The largest value the bank accepts; above it the device answers
/// exception 0x03 (illegal data value), as a device with limits does.
pub(crate) const MODBUS_MAX: u16 = 9999;

/// The bank index of a register address, if it is a settings register.
pub(crate) fn modbus_index(addr: u16) -> Option<usize> {
    addr.checked_sub(MODBUS_BASE).map(usize::from).filter(|i| *i < MODBUS_DEFAULTS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_canonical_or_refused() {
        let rate = &LOGGER[0];
        assert_eq!(accept(rate, "10.0").unwrap(), "10");
        assert_eq!(accept(rate, "+1.0E-1").unwrap(), "0.1");
        assert_eq!(accept(rate, "0"), Err(ILLEGAL_PARAMETER));
        assert_eq!(accept(&LOGGER[1], "repeat").unwrap(), "REPEAT");
        assert_eq!(accept(&LOGGER[1], "sometimes"), Err(ILLEGAL_PARAMETER));
        assert_eq!(accept(&LOGGER[2], ""), Err(MISSING_PARAMETER));
    }

    #[test]
    fn modbus_bank_addresses() {
        assert_eq!(modbus_index(1000), Some(0));
        assert_eq!(modbus_index(1003), Some(3));
        assert_eq!(modbus_index(1004), None);
        assert_eq!(modbus_index(999), None);
    }
}
