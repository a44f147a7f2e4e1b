//! Hioki-style data loggers (LR8450 family) over LAN: latch a snapshot with
//! `:MEMory:GETReal`, then read it with `:MEMory:VREAL? CHu_c`.

pub mod driver;
pub mod protocol;

pub use driver::HiokiLoggerDriver;

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
    id: "hioki-logger",
    name_key: "inst.family.hioki-logger",
    transports: &[TransportKind::Tcp, TransportKind::Serial, TransportKind::BleUart],
    // The LR8450's LAN command port.
    default_port: Some(8802),
    identification: Identification::Idn,
    discovery: Discovery { ports: &[8802], identities: &[IdentityPattern { maker: "HIOKI", model_prefix: "LR8" }] },
    instrument_fields: &[ERROR_QUERY, ERROR_FORMAT, SELECT, SELECT_REPLY],
    // Channel ids are the logger's `CH<unit>_<channel>` (e.g. CH1_1).
    channel_fields: &[CHANNEL_ID, UNIT, SCALE, OFFSET],
    error_query: Some(ErrorQuery { query: HIOKI_ERROR_QUERY, format: ErrorFormat::Nr1 }),
    check: None,
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(HiokiLoggerDriver::connect(cfg).await?) as Box<dyn Driver>) })
}
