//! Demo mode: the in-process simulator (a Hioki logger, a power meter, a
//! SCPI DMM and a Modbus device) polled every second, as `meterdeck-agent
//! demo` does.

use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimHandle, SimInstrument};

use super::error::{DeskError, DeskResult};

pub const DEMO_POLL: Duration = Duration::from_secs(1);

/// Starts the simulator and returns it with configurations for its instruments.
pub async fn start_simulator() -> DeskResult<(SimHandle, Vec<InstrumentConfig>)> {
    let kinds = [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus];
    let instruments = kinds
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let mut s = SimInstrument::new(format!("{}-1", p.name()), p);
            s.seed = k as u64 + 1;
            s.channels = Some(match p {
                Personality::HiokiLogger | Personality::PowerMeter => 6,
                Personality::Scpi => p.default_channels(),
                Personality::Modbus => 4,
            });
            s
        })
        .collect();
    let handle = sim::start(SimConfig { instruments }).await.map_err(|e| DeskError::Simulator(format!("{e:#}")))?;
    let configs = handle
        .instruments
        .iter()
        .map(|r| {
            let mut c = r.instrument_config();
            c.poll_interval = Some(DEMO_POLL);
            c
        })
        .collect();
    Ok((handle, configs))
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
