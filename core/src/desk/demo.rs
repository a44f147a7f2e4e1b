//! Demo mode: the in-process simulator of `crate::demo` (four instruments
//! polled every second, a week of history in a fresh cache), as
//! `meterdeck-agent demo` runs it.

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::SimHandle;

use super::error::{DeskError, DeskResult};

pub use crate::demo::DEMO_POLL;

/// Starts the simulator and returns it with configurations for its instruments.
pub async fn start_simulator() -> DeskResult<(SimHandle, Vec<InstrumentConfig>)> {
    crate::demo::start_simulator(4).await.map_err(DeskError::Simulator)
}

/// The simulator's instruments followed by those the user added earlier
/// (kept from the previous demo file); stale simulator entries are replaced.
pub fn merge(sim: Vec<InstrumentConfig>, previous: &[InstrumentConfig]) -> Vec<InstrumentConfig> {
    let mut out = sim;
    for p in previous {
        if !out.iter().any(|s| s.id == p.id) {
            out.push(p.clone());
        }
    }
    out
}
