//! Instrument control (SPEC 1.6): start, stop and restart a measurement,
//! set the instrument's clock, and settings profiles (read back from an
//! instrument, kept in the store, diffed, pushed and verified).
//!
//! The window calls the agent's handle; the headless CLI leaves a request
//! in the store's settings (`requests`) which the running agent carries out
//! between two polls of that instrument and answers in the same way. The
//! families' code is in `meterdeck_drivers` (`Driver`'s control methods and
//! `meterdeck_drivers::control`).

pub mod action;
pub mod profile;
pub mod requests;

pub use action::{ControlAction, ControlOutcome, run_action};
pub use profile::{
    Profile, ProfileError, delete_profile, load_profile, parse_profile_file, profiles, save_profile, to_file_text,
};
pub use requests::{
    CONSOLE_HOLDS_KEY, CONTROL_REQUESTS_KEY, CONTROL_RESULTS_KEY, ConsoleHold, ControlRequest, ControlResult,
};
