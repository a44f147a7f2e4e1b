//! Modbus TCP and RTU: `protocol` (register decoding and request planning,
//! pure) and `driver` (tokio-modbus client).

mod control;
pub mod driver;
mod health;
pub mod protocol;

pub use driver::ModbusDriver;

use futures::future::BoxFuture;

use crate::config::InstrumentConfig;
use crate::driver::Driver;
use crate::error::Result;
use crate::registry::fields::{CHANNEL_ID, OFFSET, SCALE, UNIT};
use crate::registry::{
    Discovery, Family, FamilyDescriptor, FieldError, FieldKind, FieldSpec, FieldValue, Identification, TransportKind,
};

/// The unit (slave) id, shared by every Modbus-based family.
pub const UNIT_ID: FieldSpec =
    FieldSpec::optional("unit_id", "inst.field.unit_id", FieldKind::Integer { min: 0, max: 255 })
        .with_default(FieldValue::Integer(1));

/// The generic Modbus family: each channel is a register map entry.
pub static DESCRIPTOR: FamilyDescriptor = FamilyDescriptor {
    id: "modbus",
    name_key: "inst.family.modbus",
    transports: &[TransportKind::Tcp, TransportKind::Serial],
    default_port: Some(502),
    identification: Identification::None,
    discovery: Discovery { ports: &[502], identities: &[] },
    instrument_fields: &[UNIT_ID],
    channel_fields: &[
        CHANNEL_ID,
        UNIT,
        FieldSpec::required("modbus.address", "inst.field.modbus.address", FieldKind::Integer { min: 0, max: 65535 }),
        FieldSpec::optional(
            "modbus.kind",
            "inst.field.modbus.kind",
            FieldKind::Choice { values: &["holding", "input", "coil", "discrete"] },
        )
        .with_default(FieldValue::Text("holding")),
        FieldSpec::optional(
            "modbus.data_type",
            "inst.field.modbus.data_type",
            FieldKind::Choice {
                values: &["u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "string", "bit", "bcd16", "bcd32"],
            },
        )
        .with_default(FieldValue::Text("u16")),
        FieldSpec::optional(
            "modbus.word_order",
            "inst.field.modbus.word_order",
            FieldKind::Choice { values: &["abcd", "badc", "cdab", "dcba"] },
        )
        .with_default(FieldValue::Text("abcd")),
        SCALE,
        OFFSET,
        // Last, so that channel lines written before they existed keep
        // their columns (scale and offset stay 7th and 8th).
        FieldSpec::optional("modbus.count", "inst.field.modbus.count", FieldKind::Integer { min: 1, max: 125 }),
        FieldSpec::optional("modbus.bit", "inst.field.modbus.bit", FieldKind::Integer { min: 0, max: 15 }),
    ],
    error_query: None,
    check: Some(check),
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

/// Each channel's register map holds together (`bit` for `bit`, `count` for
/// `string`, inside the address space); the field checks cover the rest.
pub fn check(cfg: &InstrumentConfig) -> std::result::Result<(), FieldError> {
    for c in &cfg.channels {
        if let Some(reg) = &c.modbus {
            protocol::check_register(reg).map_err(|e| FieldError::Channel {
                channel: c.id.clone(),
                problem: Box::new(FieldError::Family(meterdeck_wire::i18n::Text::plain(e.to_string()))),
            })?;
        }
    }
    Ok(())
}

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(ModbusDriver::connect(cfg).await?) as Box<dyn Driver>) })
}

#[cfg(test)]
mod tests {
    use crate::config::{DataType, ModbusRegister, RegisterKind, WordOrder};
    use crate::registry::FieldKind;

    /// The choices the window offers are exactly the config's words.
    #[test]
    fn choices_are_the_configs_words() {
        let words = |key: &str| match super::DESCRIPTOR.channel_fields.iter().find(|f| f.key == key).map(|f| f.kind) {
            Some(FieldKind::Choice { values }) => values.to_vec(),
            other => panic!("{key}: {other:?}"),
        };
        let name = |v: serde_json::Value| v.as_str().unwrap().to_string();
        let kinds = [RegisterKind::Holding, RegisterKind::Input, RegisterKind::Coil, RegisterKind::Discrete];
        use DataType as D;
        let types =
            [D::U16, D::I16, D::U32, D::I32, D::U64, D::I64, D::F32, D::F64, D::String, D::Bit, D::Bcd16, D::Bcd32];
        let orders = [WordOrder::Big, WordOrder::Little, WordOrder::ByteSwapped, WordOrder::LittleByteSwapped];
        let reg = |kind, data_type, word_order| ModbusRegister::new(0, kind, data_type, word_order);
        let mut all: Vec<serde_json::Value> = Vec::new();
        for k in kinds {
            for t in types {
                for o in orders {
                    all.push(serde_json::to_value(reg(k, t, o)).unwrap());
                }
            }
        }
        for (key, field) in
            [("modbus.kind", "kind"), ("modbus.data_type", "data_type"), ("modbus.word_order", "word_order")]
        {
            let mut served: Vec<String> = all.iter().map(|r| name(r[field].clone())).collect();
            served.sort();
            served.dedup();
            let mut offered: Vec<String> = words(key).iter().map(|s| s.to_string()).collect();
            offered.sort();
            assert_eq!(offered, served, "{key}");
        }
    }
}
