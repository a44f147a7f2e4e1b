//! meterdeck-drivers: everything between an instrument's wire and a `Reading`.
//!
//! Layout (sigrok-style): `transport` moves bytes (TCP, serial), each folder in
//! `families` holds a `protocol.rs` (pure parsing/formatting, no I/O) and a
//! `driver.rs` (the family's implementation of [`Driver`]). `discovery` finds
//! instruments; `sim` is the instrument simulator behind `meterdeck-sim`.
//! `registry` is what the rest of the program knows about each family: the
//! folders register themselves in `families::FAMILIES`.
//! This crate knows nothing of storage or UI.

pub mod config;
pub mod control;
pub mod discovery;
pub mod driver;
pub mod error;
pub mod families;
pub mod files;
pub mod reading;
pub mod registry;
pub mod sim;
pub mod text;
pub mod transport;

pub use config::{ChannelConfig, Family, InstrumentConfig, TransportConfig};
pub use control::{Setting, SettingDiff};
pub use driver::{ChannelInfo, Driver, Identity, open};
pub use error::DriverError;
pub use reading::{Reading, SpecialKind, Value};
pub use registry::{FamilyDescriptor, FamilyInfo};
