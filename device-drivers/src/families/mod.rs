//! One folder per instrument family: `protocol.rs` (pure) + `driver.rs`, and
//! in its `mod.rs` the family's [`crate::registry::FamilyDescriptor`].
//! `compat` holds the per-model firmware table.
//!
//! Adding a family: a new folder declaring its `DESCRIPTOR` and `FAMILY`,
//! one line in the `families!` list below, and the translations of its name
//! and field labels in `ui/src/i18n.ts`; then `scripts/gen-bindings` rewrites
//! the browser mock's generated copy of the registry.

pub mod compat;

use crate::registry::Family;

/// Declares each family's module and lists it in [`FAMILIES`], so that
/// registering a family is one line of diff.
macro_rules! families {
    ($($family:ident),+ $(,)?) => {
        $(pub mod $family;)+

        /// Every family the program knows, in the order the window lists them.
        pub static FAMILIES: &[Family] = &[$($family::FAMILY),+];
    };
}

families! {
    hioki_logger,
    hioki_power,
    scpi,
    modbus,
    sdm630,
    ble_ess,
}
