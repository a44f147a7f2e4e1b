//! Hioki-style power meters (PW3390, PW3336/37): `:MEASure? U1,I1,P1,...`
//! returns the selected measurement items in one line.

pub mod driver;
pub mod protocol;

pub use driver::HiokiPowerDriver;

use futures::future::BoxFuture;

use crate::config::ErrorFormat;
use crate::config::InstrumentConfig;
use crate::driver::Driver;
use crate::error::Result;
use crate::families::scpi::protocol::HIOKI_ERROR_QUERY;
use crate::registry::bus_fields::{SELECT, SELECT_REPLY};
use crate::registry::error_fields::{ERROR_FORMAT, ERROR_QUERY};
use crate::registry::fields::{CHANNEL_ID, OFFSET, SCALE, UNIT};
use crate::registry::{
    Discovery, ErrorQuery, Family, FamilyDescriptor, Identification, IdentityPattern, TransportKind,
};

pub static DESCRIPTOR: FamilyDescriptor = FamilyDescriptor {
    id: "hioki-power",
    name_key: "inst.family.hioki-power",
    transports: &[TransportKind::Tcp, TransportKind::Serial, TransportKind::BleUart],
    // PW3390's command port; PW3336/37 listen on 3300.
    default_port: Some(3390),
    identification: Identification::Idn,
    discovery: Discovery {
        ports: &[3390, 3300],
        identities: &[IdentityPattern { maker: "HIOKI", model_prefix: "PW3" }],
    },
    instrument_fields: &[ERROR_QUERY, ERROR_FORMAT, SELECT, SELECT_REPLY],
    // Channel ids are `:MEASure?` items (U1, I1, P1, FREQ1, ...).
    channel_fields: &[CHANNEL_ID, UNIT, SCALE, OFFSET],
    error_query: Some(ErrorQuery { query: HIOKI_ERROR_QUERY, format: ErrorFormat::Nr1 }),
    check: None,
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(HiokiPowerDriver::connect(cfg).await?) as Box<dyn Driver>) })
}
