//! Generic SCPI instruments, and the SCPI conversation the Hioki families
//! share: `protocol` (pure text), `session` (error queue, clock, raw),
//! `driver` (each channel is a user-given query).

pub mod channel_backoff;
pub mod driver;
pub mod protocol;
pub mod session;

pub use driver::ScpiDriver;
pub use session::ScpiSession;

use futures::future::BoxFuture;

use crate::config::ErrorFormat;
use crate::config::InstrumentConfig;
use crate::driver::Driver;
use crate::error::Result;
use crate::registry::bus_fields::{SELECT, SELECT_REPLY};
use crate::registry::error_fields::{ERROR_FORMAT, ERROR_QUERY};
use crate::registry::fields::{CHANNEL_ID, OFFSET, SCALE, UNIT};
use crate::registry::{
    Discovery, ErrorQuery, Family, FamilyDescriptor, FieldKind, FieldSpec, Identification, IdentityPattern,
    TransportKind,
};

/// Any instrument answering `*IDN?` that no more specific family claims.
pub static DESCRIPTOR: FamilyDescriptor = FamilyDescriptor {
    id: "scpi",
    name_key: "inst.family.scpi",
    transports: &[TransportKind::Tcp, TransportKind::Serial, TransportKind::BleUart],
    // The LXI / SCPI raw socket port.
    default_port: Some(5025),
    identification: Identification::Idn,
    discovery: Discovery { ports: &[5025], identities: &[IdentityPattern::ANY] },
    instrument_fields: &[ERROR_QUERY, ERROR_FORMAT, SELECT, SELECT_REPLY],
    channel_fields: &[
        CHANNEL_ID,
        UNIT,
        FieldSpec::required("query", "inst.field.query", FieldKind::Text),
        // How long this channel's reply may take (`"5s"`); the transport's timeout otherwise.
        FieldSpec::optional("timeout", "inst.field.timeout", FieldKind::Text),
        SCALE,
        OFFSET,
    ],
    error_query: Some(ErrorQuery { query: protocol::ERROR_QUERY, format: ErrorFormat::Either }),
    check: None,
    open,
};

pub const FAMILY: Family = Family::of(&DESCRIPTOR);

fn open(cfg: &InstrumentConfig) -> BoxFuture<'_, Result<Box<dyn Driver>>> {
    Box::pin(async move { Ok(Box::new(ScpiDriver::connect(cfg).await?) as Box<dyn Driver>) })
}
