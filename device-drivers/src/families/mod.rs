//! One folder per instrument family: `protocol.rs` (pure) + `driver.rs`, and
//! in its `mod.rs` the family's [`crate::registry::FamilyDescriptor`].
//! `compat` holds the per-model firmware table.
//!
//! Adding a family: a new folder declaring its `DESCRIPTOR` and `FAMILY`,
//! one line in [`FAMILIES`], and the translations of its name and field
//! labels in `ui/src/i18n.ts`.

pub mod compat;
pub mod hioki_logger;
pub mod hioki_power;
pub mod modbus;
pub mod scpi;
pub mod sdm630;

use crate::registry::Family;

/// Every family the program knows, in the order the window lists them.
/// One line per family (kept so by hand: a registration is one line of diff).
#[rustfmt::skip]
pub static FAMILIES: &[Family] = &[
    hioki_logger::FAMILY,
    hioki_power::FAMILY,
    scpi::FAMILY,
    modbus::FAMILY,
    sdm630::FAMILY,
];
