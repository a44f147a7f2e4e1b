//! What an instrument hands back: a number, or a flagged special value.

use serde::{Deserialize, Serialize};

/// The sample vocabulary is meterdeck-wire's, shared with the engine and the cloud.
pub use meterdeck_wire::{SpecialKind, Value};

/// One channel's value from one poll. The poll time is stamped by the caller
/// (the agent's scheduler), not by the driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub channel: String,
    pub value: Value,
}
