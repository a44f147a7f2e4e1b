//! Eastron SDM630-style 3-phase energy meters over Modbus (RTU on RS-485, or
//! TCP through a gateway): a fixed register map of input registers holding
//! IEEE 754 floats, so a channel is named by its quantity (`U1`, `I2`,
//! `PSUM`, `EP_IMP`, ...) and never by an address. `protocol` is the map,
//! `driver` connects the Modbus driver with it.

pub mod driver;
pub mod protocol;

use futures::future::BoxFuture;

use crate::config::InstrumentConfig;
use crate::driver::Driver;
use crate::error::Result;
use crate::families::modbus::UNIT_ID;
use crate::registry::fields::{OFFSET, SCALE, UNIT};
use crate::registry::{
    Discovery, Family, FamilyDescriptor, FieldError, FieldKind, FieldSpec, Identification, TransportKind,
};

pub static DESCRIPTOR: FamilyDescriptor = FamilyDescriptor {
    id: "sdm630",
    name_key: "inst.family.sdm630",
    transports: &[TransportKind::Tcp, TransportKind::Serial],
    // Modbus TCP, through an RS-485 gateway.
    default_port: Some(502),
    identification: Identification::None,
    // A gateway on 502 looks like any Modbus device: the generic family
    // claims that port in a sweep.
    discovery: Discovery { ports: &[], identities: &[] },
    // The meter's factory address is 1.
    instrument_fields: &[UNIT_ID],
    channel_fields: &[
        FieldSpec::required("id", "inst.field.sdm630.item", FieldKind::Choice { values: &protocol::ITEM_IDS }),
        UNIT,
        SCALE,
        OFFSET,
    ],
    error_query: None,
    check: Some(check),
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

/// The register map is the family's: a channel names an item, nothing more.
fn check(cfg: &InstrumentConfig) -> std::result::Result<(), FieldError> {
    for c in &cfg.channels {
        let fixed = if c.modbus.is_some() { Some("modbus") } else { c.query.as_ref().map(|_| "query") };
        if let Some(key) = fixed {
            return Err(FieldError::Family(
                meterdeck_wire::i18n::Text::new("err-field-fixed-registers").arg("channel", &c.id).arg("key", key),
            ));
        }
    }
    Ok(())
}

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(driver::connect(cfg).await?) as Box<dyn Driver>) })
}
