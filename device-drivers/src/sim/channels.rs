//! The channels each personality serves: names, units and resolutions.

use super::config::Personality;

/// Which physical quantity a power-meter item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PowerQty {
    Voltage,
    Current,
    Active,
    Apparent,
    Reactive,
    PowerFactor,
    Frequency,
    ActiveSum,
    Efficiency,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct PowerItem {
    pub name: &'static str,
    pub qty: PowerQty,
    /// 1-based wiring channel (1..4) or frequency input (1..3).
    pub phase: u8,
    pub unit: Option<&'static str>,
    pub decimals: u8,
}

const fn item(name: &'static str, qty: PowerQty, phase: u8, unit: Option<&'static str>, decimals: u8) -> PowerItem {
    PowerItem { name, qty, phase, unit, decimals }
}

use PowerQty::*;

/// Power-meter items in channel-index order.
pub(crate) const POWER_ITEMS: [PowerItem; 29] = [
    item("U1", Voltage, 1, Some("V"), 2),
    item("U2", Voltage, 2, Some("V"), 2),
    item("U3", Voltage, 3, Some("V"), 2),
    item("U4", Voltage, 4, Some("V"), 2),
    item("I1", Current, 1, Some("A"), 4),
    item("I2", Current, 2, Some("A"), 4),
    item("I3", Current, 3, Some("A"), 4),
    item("I4", Current, 4, Some("A"), 4),
    item("P1", Active, 1, Some("W"), 2),
    item("P2", Active, 2, Some("W"), 2),
    item("P3", Active, 3, Some("W"), 2),
    item("P4", Active, 4, Some("W"), 2),
    item("S1", Apparent, 1, Some("VA"), 2),
    item("S2", Apparent, 2, Some("VA"), 2),
    item("S3", Apparent, 3, Some("VA"), 2),
    item("S4", Apparent, 4, Some("VA"), 2),
    item("Q1", Reactive, 1, Some("var"), 2),
    item("Q2", Reactive, 2, Some("var"), 2),
    item("Q3", Reactive, 3, Some("var"), 2),
    item("Q4", Reactive, 4, Some("var"), 2),
    item("PF1", PowerFactor, 1, None, 4),
    item("PF2", PowerFactor, 2, None, 4),
    item("PF3", PowerFactor, 3, None, 4),
    item("PF4", PowerFactor, 4, None, 4),
    item("FREQ1", Frequency, 1, Some("Hz"), 3),
    item("FREQ2", Frequency, 2, Some("Hz"), 3),
    item("FREQ3", Frequency, 3, Some("Hz"), 3),
    item("PSUM", ActiveSum, 0, Some("W"), 2),
    item("EFF1", Efficiency, 1, Some("%"), 2),
];

/// One quantity of the generic SCPI multimeter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DmmChannel {
    pub id: &'static str,
    /// The query a driver sends (short form).
    pub query: &'static str,
    /// The command-table path (long/short form pattern).
    pub path: &'static [&'static str],
    /// The long-form header used when `:HEADer ON`.
    pub header: &'static str,
    pub unit: &'static str,
    pub decimals: u8,
    pub base: f64,
    pub amplitude: f64,
}

pub(crate) const DMM_CHANNELS: [DmmChannel; 6] = [
    DmmChannel {
        id: "VDC",
        query: "MEAS:VOLT:DC?",
        path: &["MEASure", "VOLTage", "DC"],
        header: ":MEASURE:VOLTAGE:DC",
        unit: "V",
        decimals: 5,
        base: 5.0,
        amplitude: 0.1,
    },
    DmmChannel {
        id: "VAC",
        query: "MEAS:VOLT:AC?",
        path: &["MEASure", "VOLTage", "AC"],
        header: ":MEASURE:VOLTAGE:AC",
        unit: "V",
        decimals: 4,
        base: 230.0,
        amplitude: 3.0,
    },
    DmmChannel {
        id: "IDC",
        query: "MEAS:CURR:DC?",
        path: &["MEASure", "CURRent", "DC"],
        header: ":MEASURE:CURRENT:DC",
        unit: "A",
        decimals: 6,
        base: 0.01,
        amplitude: 0.002,
    },
    DmmChannel {
        id: "RES",
        query: "MEAS:RES?",
        path: &["MEASure", "RESistance"],
        header: ":MEASURE:RESISTANCE",
        unit: "Ohm",
        decimals: 3,
        base: 1000.0,
        amplitude: 5.0,
    },
    DmmChannel {
        id: "TEMP",
        query: "MEAS:TEMP?",
        path: &["MEASure", "TEMPerature"],
        header: ":MEASURE:TEMPERATURE",
        unit: "degC",
        decimals: 2,
        base: 25.0,
        amplitude: 2.0,
    },
    DmmChannel {
        id: "FREQ",
        query: "MEAS:FREQ?",
        path: &["MEASure", "FREQuency"],
        header: ":MEASURE:FREQUENCY",
        unit: "Hz",
        decimals: 3,
        base: 50.0,
        amplitude: 0.05,
    },
];

/// Logger and Modbus channels alternate temperature / voltage.
pub(crate) fn generic_is_temperature(index: usize) -> bool {
    index.is_multiple_of(2)
}

/// What a served channel is called and how it is quantised.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChannelSpec {
    pub id: String,
    pub unit: Option<&'static str>,
    /// Resolution is 10^-decimals.
    pub decimals: u8,
}

/// Logger channel id for a 0-based index: 15 channels per unit.
pub(crate) fn logger_id(index: usize) -> String {
    format!("CH{}_{}", index / 15 + 1, index % 15 + 1)
}

/// Inverse of [`logger_id`], case-insensitive; `None` for anything else.
pub(crate) fn logger_index(id: &str) -> Option<usize> {
    let rest = id.get(..2).filter(|p| p.eq_ignore_ascii_case("CH")).and(id.get(2..))?;
    let (unit, ch) = rest.split_once('_')?;
    let unit: usize = unit.parse().ok()?;
    let ch: usize = ch.parse().ok()?;
    if !(1..=9).contains(&unit) || !(1..=15).contains(&ch) {
        return None;
    }
    Some((unit - 1) * 15 + ch - 1)
}

pub(crate) fn modbus_id(index: usize) -> String {
    format!("ch{index}")
}

/// All channels of an instrument (count already validated).
pub(crate) fn specs(personality: Personality, count: usize) -> Vec<ChannelSpec> {
    (0..count)
        .map(|i| match personality {
            Personality::HiokiLogger | Personality::Modbus => {
                let (unit, decimals) = if generic_is_temperature(i) { ("degC", 1) } else { ("V", 3) };
                let id = if personality == Personality::Modbus { modbus_id(i) } else { logger_id(i) };
                ChannelSpec { id, unit: Some(unit), decimals }
            }
            Personality::PowerMeter => {
                let it = POWER_ITEMS[i % POWER_ITEMS.len()];
                ChannelSpec { id: it.name.to_string(), unit: it.unit, decimals: it.decimals }
            }
            Personality::Scpi => {
                let d = DMM_CHANNELS[i % DMM_CHANNELS.len()];
                ChannelSpec { id: d.id.to_string(), unit: Some(d.unit), decimals: d.decimals }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logger_ids_round_trip() {
        for i in 0..135 {
            assert_eq!(logger_index(&logger_id(i)), Some(i));
        }
        assert_eq!(logger_id(0), "CH1_1");
        assert_eq!(logger_id(15), "CH2_1");
        assert_eq!(logger_index("ch2_15"), Some(29));
        for bad in ["", "CH", "CH0_1", "CH1_16", "CH10_1", "CHx_1", "XY1_1", "CH1-1", "CH1_"] {
            assert_eq!(logger_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn specs_have_units_and_resolutions() {
        let s = specs(Personality::HiokiLogger, 30);
        assert_eq!(s.len(), 30);
        assert_eq!(s[0].unit, Some("degC"));
        assert_eq!(s[1].unit, Some("V"));
        let p = specs(Personality::PowerMeter, 29);
        assert_eq!(p[27].id, "PSUM");
        assert_eq!(specs(Personality::Modbus, 3)[2].id, "ch2");
    }
}
