//! The Environmental Sensing Service (0x181A) and Battery Service (0x180F):
//! which characteristic is which channel, and how its bytes decode (GATT
//! Specification Supplement: little-endian, fixed scale). Pure, no I/O.

use uuid::Uuid;

use crate::reading::{SpecialKind, Value};
use crate::transport::ble::sig_uuid;

pub const ESS_SERVICE: Uuid = sig_uuid(0x181A);
pub const BATTERY_SERVICE: Uuid = sig_uuid(0x180F);

/// One quantity a sensor of this family reports, and its channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// 0x2A6E: sint16, 0.01 °C; 0x8000 is "value is not known".
    Temperature,
    /// 0x2A6F: uint16, 0.01 %; 0xFFFF is "value is not known".
    Humidity,
    /// 0x2A6D: uint32, 0.1 Pa.
    Pressure,
    /// 0x2A19 (Battery Service): uint8, 0..100 %.
    Battery,
}

impl Quantity {
    pub const ALL: [Quantity; 4] = [Quantity::Temperature, Quantity::Humidity, Quantity::Pressure, Quantity::Battery];

    /// The channel id in the config and the store.
    pub fn channel(self) -> &'static str {
        match self {
            Quantity::Temperature => "temperature",
            Quantity::Humidity => "humidity",
            Quantity::Pressure => "pressure",
            Quantity::Battery => "battery",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Temperature => "°C",
            Quantity::Humidity | Quantity::Battery => "%",
            Quantity::Pressure => "Pa",
        }
    }

    pub fn service(self) -> Uuid {
        match self {
            Quantity::Battery => BATTERY_SERVICE,
            _ => ESS_SERVICE,
        }
    }

    pub fn short_uuid(self) -> u16 {
        match self {
            Quantity::Temperature => 0x2A6E,
            Quantity::Humidity => 0x2A6F,
            Quantity::Pressure => 0x2A6D,
            Quantity::Battery => 0x2A19,
        }
    }

    pub fn characteristic(self) -> Uuid {
        sig_uuid(self.short_uuid())
    }

    pub fn by_channel(id: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.channel() == id)
    }

    pub fn by_characteristic(uuid: Uuid) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.characteristic() == uuid)
    }

    /// Decodes a characteristic value. A value of the wrong length or out of
    /// its range is an error naming the characteristic and quoting the bytes.
    pub fn decode(self, bytes: &[u8]) -> Result<Value, String> {
        let want = match self {
            Quantity::Temperature | Quantity::Humidity => 2,
            Quantity::Pressure => 4,
            Quantity::Battery => 1,
        };
        if bytes.len() != want {
            return Err(format!(
                "{} (0x{:04X}) must be {want} byte{}, got {}: [{}]",
                self.channel(),
                self.short_uuid(),
                if want == 1 { "" } else { "s" },
                bytes.len(),
                hex(bytes)
            ));
        }
        let value = match self {
            Quantity::Temperature => {
                let raw = i16::from_le_bytes([bytes[0], bytes[1]]);
                if raw == i16::MIN {
                    return Ok(Value::Special(SpecialKind::NoData));
                }
                f64::from(raw) * 0.01
            }
            Quantity::Humidity => {
                let raw = u16::from_le_bytes([bytes[0], bytes[1]]);
                if raw == u16::MAX {
                    return Ok(Value::Special(SpecialKind::NoData));
                }
                if raw > 10_000 {
                    return Err(format!(
                        "humidity (0x2A6F) {:.2} % is beyond 100 %: [{}]",
                        f64::from(raw) * 0.01,
                        hex(bytes)
                    ));
                }
                f64::from(raw) * 0.01
            }
            Quantity::Pressure => f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])) * 0.1,
            Quantity::Battery => {
                if bytes[0] > 100 {
                    return Err(format!("battery level (0x2A19) {} % is beyond 100 %", bytes[0]));
                }
                f64::from(bytes[0])
            }
        };
        // Two decimals at most: 0.01 steps, without binary noise (21.5 not 21.500000000000004).
        Ok(Value::Number((value * 100.0).round() / 100.0))
    }
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02X}")).collect();
    let more = if bytes.len() > 16 { " ..." } else { "" };
    format!("{}{more}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(q: Quantity, b: &[u8]) -> f64 {
        q.decode(b).unwrap().as_number().unwrap()
    }

    #[test]
    fn values_decode_little_endian_with_their_scale() {
        assert_eq!(num(Quantity::Temperature, &2150i16.to_le_bytes()), 21.5);
        assert_eq!(num(Quantity::Temperature, &(-1234i16).to_le_bytes()), -12.34);
        assert_eq!(num(Quantity::Humidity, &4567u16.to_le_bytes()), 45.67);
        assert_eq!(num(Quantity::Pressure, &1_013_250u32.to_le_bytes()), 101_325.0);
        assert_eq!(num(Quantity::Battery, &[87]), 87.0);
    }

    #[test]
    fn unknown_markers_are_no_data() {
        assert_eq!(Quantity::Temperature.decode(&[0x00, 0x80]), Ok(Value::Special(SpecialKind::NoData)));
        assert_eq!(Quantity::Humidity.decode(&[0xFF, 0xFF]), Ok(Value::Special(SpecialKind::NoData)));
    }

    #[test]
    fn short_long_and_out_of_range_values_are_clear_errors() {
        assert_eq!(
            Quantity::Temperature.decode(&[0x01]).unwrap_err(),
            "temperature (0x2A6E) must be 2 bytes, got 1: [01]"
        );
        assert_eq!(Quantity::Pressure.decode(&[]).unwrap_err(), "pressure (0x2A6D) must be 4 bytes, got 0: []");
        assert_eq!(Quantity::Battery.decode(&[1, 2]).unwrap_err(), "battery (0x2A19) must be 1 byte, got 2: [01 02]");
        assert!(Quantity::Battery.decode(&[101]).unwrap_err().contains("101 % is beyond 100 %"));
        assert!(Quantity::Humidity.decode(&10_001u16.to_le_bytes()).unwrap_err().contains("100.01 %"));
        let long = Quantity::Humidity.decode(&[0xAB; 40]).unwrap_err();
        assert!(long.ends_with("AB AB ...]"), "{long}");
    }

    #[test]
    fn channels_and_characteristics_map_both_ways() {
        for q in Quantity::ALL {
            assert_eq!(Quantity::by_channel(q.channel()), Some(q));
            assert_eq!(Quantity::by_characteristic(q.characteristic()), Some(q));
        }
        assert_eq!(Quantity::Battery.service(), BATTERY_SERVICE);
        assert_eq!(Quantity::by_channel("co2"), None);
    }
}
