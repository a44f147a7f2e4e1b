//! Demo mode: the in-process simulator of `crate::demo` (four instruments
//! polled every second, a week of history in a fresh cache), as
//! `meterdeck-agent demo` runs it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{RunningSim, SimHandle};

use crate::agent::STORE_PARTS;
use crate::config::{AgentConfig, STORE_FILE};
use crate::demo::Backfill;
use crate::model::now_ms;
use crate::store::{StoreError, StoreOptions};

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

/// Writes the last hour of a fresh demo cache's history (see `crate::demo`)
/// before the agent opens the store; returns the rest of it, for
/// [`HistoryJob::start`] once the agent runs.
pub async fn write_recent_history(
    data_dir: &Path,
    cfg: &AgentConfig,
    sims: Vec<RunningSim>,
    configs: Vec<InstrumentConfig>,
    span: Duration,
) -> DeskResult<(Backfill, Vec<RunningSim>)> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| DeskError::Invalid(format!("cannot create {}: {e}", data_dir.display())))?;
    let path = data_dir.join(STORE_FILE);
    let opts = StoreOptions { durability: cfg.agent.durability, block_samples: cfg.agent.block_samples };
    let (written, backfill, sims) = tokio::task::spawn_blocking(move || {
        let (w, b) =
            crate::demo::write_recent(&path, opts, STORE_PARTS, &sims, &configs, now_ms(), span, crate::demo::RECENT)?;
        Ok::<_, StoreError>((w, b, sims))
    })
    .await
    .map_err(|e| DeskError::Invalid(format!("writing the demo history: {e}")))??;
    if written.samples > 0 {
        tracing::info!(
            channels = written.channels,
            samples = written.samples,
            ms = written.took.as_millis() as u64,
            "demo: the last hour of simulated history written"
        );
    }
    Ok((backfill, sims))
}

/// The demo's older history, written on a thread of its own at the lowest
/// CPU priority behind the started agent and window: on a small machine the
/// web view's start-up comes first.
#[derive(Default)]
pub struct HistoryJob {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<Result<(), String>>>>,
}

impl HistoryJob {
    pub fn start(backfill: Option<(Backfill, Vec<RunningSim>)>) -> HistoryJob {
        let job = HistoryJob::default();
        let Some((backfill, sims)) = backfill.filter(|b| !b.0.is_empty()) else { return job };
        let stop = job.stop.clone();
        let spawned = std::thread::Builder::new().name("demo-history".into()).spawn(move || {
            // Linux: the nice value is per thread, inherited by the threads
            // this one starts (waveform workers, block encoders).
            let _ = rustix::process::setpriority_process(None, 19);
            match backfill.run(&sims, &stop) {
                Ok(w) => {
                    tracing::info!(
                        channels = w.channels,
                        samples = w.samples,
                        ms = w.took.as_millis() as u64,
                        "demo: the rest of the week of simulated history written"
                    );
                    Ok(())
                }
                Err(e) => {
                    tracing::warn!("demo: writing the older history failed: {e}");
                    Err(e.to_string())
                }
            }
        });
        match spawned {
            Ok(t) => *job.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(t),
            Err(e) => tracing::warn!("demo: cannot start the history writer: {e}"),
        }
        job
    }

    /// Asks the writer to stop after the chunk it is writing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for the writer to finish (at once when there is none).
    pub async fn wait(&self) -> DeskResult<()> {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(thread) = thread else { return Ok(()) };
        let r = tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|e| DeskError::Invalid(format!("writing the demo history: {e}")))?;
        match r {
            Ok(r) => r.map_err(|e| DeskError::Invalid(format!("writing the demo history: {e}"))),
            Err(_) => Err(DeskError::Invalid("writing the demo history: the writer panicked".into())),
        }
    }
}
