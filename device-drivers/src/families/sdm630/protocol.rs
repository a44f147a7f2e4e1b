//! The SDM630's measurement registers (Eastron's Modbus protocol document:
//! input registers, function code 04, each value an IEEE 754 float in two
//! registers, high word first). Pure data and the mapping of configured
//! channels onto it.

use crate::config::{ChannelConfig, DataType, ModbusRegister, RegisterKind, WordOrder};

/// One measured quantity: the channel id it is configured as, the address
/// of its first input register, its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: &'static str,
    pub address: u16,
    pub unit: Option<&'static str>,
}

const fn item(id: &'static str, address: u16, unit: Option<&'static str>) -> Item {
    Item { id, address, unit }
}

/// Phase voltages (line to neutral), currents, active, apparent and reactive
/// power, power factors, the system's total power and frequency, and the
/// energy counters.
pub const ITEMS: [Item; 23] = [
    item("U1", 0x0000, Some("V")),
    item("U2", 0x0002, Some("V")),
    item("U3", 0x0004, Some("V")),
    item("I1", 0x0006, Some("A")),
    item("I2", 0x0008, Some("A")),
    item("I3", 0x000A, Some("A")),
    item("P1", 0x000C, Some("W")),
    item("P2", 0x000E, Some("W")),
    item("P3", 0x0010, Some("W")),
    item("S1", 0x0012, Some("VA")),
    item("S2", 0x0014, Some("VA")),
    item("S3", 0x0016, Some("VA")),
    item("Q1", 0x0018, Some("var")),
    item("Q2", 0x001A, Some("var")),
    item("Q3", 0x001C, Some("var")),
    item("PF1", 0x001E, None),
    item("PF2", 0x0020, None),
    item("PF3", 0x0022, None),
    item("PSUM", 0x0034, Some("W")),
    item("FREQ", 0x0046, Some("Hz")),
    item("EP_IMP", 0x0048, Some("kWh")),
    item("EP_EXP", 0x004A, Some("kWh")),
    item("EP_TOT", 0x0156, Some("kWh")),
];

/// The ids a channel may have (the registry's allowed values).
pub const ITEM_IDS: [&str; ITEMS.len()] = {
    let mut ids = [""; ITEMS.len()];
    let mut k = 0;
    while k < ITEMS.len() {
        ids[k] = ITEMS[k].id;
        k += 1;
    }
    ids
};

pub fn find(id: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.id == id)
}

/// Where an item's value lives.
pub fn register(item: &Item) -> ModbusRegister {
    ModbusRegister::new(item.address, RegisterKind::Input, DataType::F32, WordOrder::Big)
}

/// The Modbus channels to read: the configured ones (checked to be items)
/// with their registers and, where none is given, the item's unit; every
/// item when none are configured. Unknown ids are left out.
pub fn map_channels(configured: &[ChannelConfig]) -> Vec<ChannelConfig> {
    let with = |item: &Item, base: ChannelConfig| ChannelConfig {
        unit: base.unit.or_else(|| item.unit.map(str::to_string)),
        modbus: Some(register(item)),
        ..base
    };
    if configured.is_empty() {
        return ITEMS.iter().map(|i| with(i, ChannelConfig::new(i.id))).collect();
    }
    configured.iter().filter_map(|c| find(&c.id).map(|i| with(i, c.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses as Eastron's document numbers them (30001 = address 0).
    #[test]
    fn addresses_follow_the_meters_document() {
        let doc = |id: &str| find(id).map(|i| 30001 + u32::from(i.address));
        assert_eq!(doc("U1"), Some(30001));
        assert_eq!(doc("I1"), Some(30007));
        assert_eq!(doc("P1"), Some(30013));
        assert_eq!(doc("PF1"), Some(30031));
        assert_eq!(doc("PSUM"), Some(30053));
        assert_eq!(doc("FREQ"), Some(30071));
        assert_eq!(doc("EP_IMP"), Some(30073));
        assert_eq!(doc("EP_TOT"), Some(30343));
        assert_eq!(find("X"), None);
    }

    #[test]
    fn items_are_distinct_and_do_not_overlap() {
        for (k, a) in ITEMS.iter().enumerate() {
            assert_eq!(ITEM_IDS[k], a.id);
            for b in &ITEMS[..k] {
                assert_ne!(a.id, b.id);
                assert!(a.address.abs_diff(b.address) >= 2, "{} and {} overlap", a.id, b.id);
            }
        }
    }

    #[test]
    fn channels_map_onto_items() {
        let all = map_channels(&[]);
        assert_eq!(all.len(), ITEMS.len());
        assert_eq!((all[19].id.as_str(), all[19].unit.as_deref()), ("FREQ", Some("Hz")));
        assert_eq!(all[19].modbus, Some(register(&ITEMS[19])));
        let mut volts = ChannelConfig::new("U2");
        volts.unit = Some("kV".into());
        volts.scale = 0.001;
        let mapped = map_channels(&[volts, ChannelConfig::new("PF1")]);
        assert_eq!(mapped[0].unit.as_deref(), Some("kV"));
        assert_eq!(mapped[0].scale, 0.001);
        assert_eq!(mapped[0].modbus.as_ref().map(|r| (r.address, r.kind)), Some((2, RegisterKind::Input)));
        assert_eq!(mapped[1].unit, None);
    }
}
