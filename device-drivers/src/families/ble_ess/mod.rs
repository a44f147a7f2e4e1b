//! Bluetooth LE environmental sensors: the standard Environmental Sensing
//! Service (0x181A: temperature, humidity, pressure) with the Battery
//! Service (0x180F) as one more channel. `protocol` decodes the values,
//! `driver` reads them over GATT (notified where the sensor notifies).

pub mod driver;
pub mod protocol;

use futures::future::BoxFuture;

use crate::config::InstrumentConfig;
use crate::driver::Driver;
use crate::error::Result;
use crate::registry::fields::{OFFSET, SCALE, UNIT};
use crate::registry::{
    Discovery, Family, FamilyDescriptor, FieldError, FieldKind, FieldSpec, Identification, TransportKind,
};

/// Channel ids: one per quantity.
const CHANNELS: [&str; 4] = ["temperature", "humidity", "pressure", "battery"];

pub static DESCRIPTOR: FamilyDescriptor = FamilyDescriptor {
    id: "ble-ess",
    name_key: "inst.family.ble-ess",
    transports: &[TransportKind::Ble],
    default_port: None,
    // No identity query: the Device Information Service when there is one.
    identification: Identification::None,
    // Found by a BLE scan (its advertised services), never by a LAN sweep.
    discovery: Discovery { ports: &[], identities: &[] },
    instrument_fields: &[],
    channel_fields: &[
        FieldSpec::required("id", "inst.field.ble-ess.quantity", FieldKind::Choice { values: &CHANNELS }),
        UNIT,
        SCALE,
        OFFSET,
    ],
    error_query: None,
    check: Some(check),
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

/// The services a BLE scan recognises this family by.
pub const ADVERTISED: [uuid::Uuid; 1] = [protocol::ESS_SERVICE];

/// The characteristics are the family's: a channel names a quantity.
fn check(cfg: &InstrumentConfig) -> std::result::Result<(), FieldError> {
    for c in &cfg.channels {
        let fixed = if c.modbus.is_some() { Some("modbus") } else { c.query.as_ref().map(|_| "query") };
        if let Some(key) = fixed {
            return Err(FieldError::Family(
                meterdeck_wire::i18n::Text::new("err-field-fixed-characteristics").arg("channel", &c.id).arg("key", key),
            ));
        }
    }
    Ok(())
}

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(driver::BleEssDriver::connect(cfg).await?) as Box<dyn Driver>) })
}

#[cfg(test)]
mod tests {
    use crate::config::InstrumentConfig;

    fn check(text: &str) -> Result<(), String> {
        toml::from_str::<InstrumentConfig>(&format!("id = \"env\"\nfamily = \"ble-ess\"\n{text}"))
            .map_err(|e| e.to_string())?
            .validate()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_sensor_is_configured_by_name_or_address() {
        assert_eq!(check("transport = { kind = \"ble\", device = \"ENV-1\" }"), Ok(()));
        assert_eq!(
            check(
                "transport = { kind = \"ble\", device = \"C0:FF:EE:00:00:01\", timeout = \"5s\" }\n[[channel]]\nid = \"battery\""
            ),
            Ok(())
        );
    }

    #[test]
    fn wrong_transports_and_channels_are_named() {
        let err = check("transport = { kind = \"tcp\", host = \"h\", port = 1 }").unwrap_err();
        assert!(err.contains("family ble-ess does not work over `transport.kind` tcp; use ble"), "{err}");
        let err = check("transport = { kind = \"ble\", device = \"E\" }\n[[channel]]\nid = \"co2\"").unwrap_err();
        assert!(err.contains("channel `co2`") && err.contains("temperature, humidity, pressure, battery"), "{err}");
        let err =
            check("transport = { kind = \"ble\", device = \"E\" }\n[[channel]]\nid = \"humidity\"\nquery = \"H?\"")
                .unwrap_err();
        assert!(err.contains("`query` is not used by family ble-ess"), "{err}");
        let err = check("transport = { kind = \"ble\" }").unwrap_err();
        assert!(err.contains("missing field `device`"), "{err}");
    }
}
