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
    /// Why this one channel has no value (the instrument refused its query,
    /// an unmapped register...), while the instrument's other channels keep
    /// theirs. `None` for a good value or an instrument's own special value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Reading {
    pub fn new(channel: impl Into<String>, value: Value) -> Self {
        Reading { channel: channel.into(), value, problem: None }
    }

    /// A channel that failed on its own: flagged `NoData`, with its reason.
    pub fn failed(channel: impl Into<String>, problem: impl Into<String>) -> Self {
        Reading { channel: channel.into(), value: Value::Special(SpecialKind::NoData), problem: Some(problem.into()) }
    }
}
