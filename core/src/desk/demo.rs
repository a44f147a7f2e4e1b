//! Demo mode: the in-process simulator of `crate::demo` (four instruments
//! polled every second, a week of history in a fresh cache), as
//! `meterdeck-agent demo` runs it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{RunningSim, SimHandle};

use crate::agent::STORE_PARTS;
use crate::config::{AgentConfig, STORE_FILE};
use crate::demo::Backfill;
use crate::model::{Text, now_ms};
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
    std::fs::create_dir_all(data_dir).map_err(|e| {
        DeskError::Invalid(
            Text::new("err-desk-create").arg("path", data_dir.display().to_string()).arg("reason", e.to_string()),
        )
    })?;
    let path = data_dir.join(STORE_FILE);
    let opts = StoreOptions { durability: cfg.agent.durability, block_samples: cfg.agent.block_samples };
    let (written, backfill, sims) = tokio::task::spawn_blocking(move || {
        let (w, b) =
            crate::demo::write_recent(&path, opts, STORE_PARTS, &sims, &configs, now_ms(), span, crate::demo::RECENT)?;
        Ok::<_, StoreError>((w, b, sims))
    })
    .await
    .map_err(|e| DeskError::Invalid(Text::new("err-desk-demo-history").arg("reason", e.to_string())))??;
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
/// web view's start-up comes first. Reports and exports made meanwhile
/// wait for it (`wait_blocking`): they would miss part of their range.
pub struct HistoryJob {
    stop: Arc<AtomicBool>,
    state: Arc<(Mutex<Outcome>, Condvar)>,
}

/// `None` while writing, then how it ended.
type Outcome = Option<Result<(), String>>;

/// Records the writer's end, a panic included, and wakes the waiters.
struct Finish(Arc<(Mutex<Outcome>, Condvar)>, Outcome);

impl Drop for Finish {
    fn drop(&mut self) {
        let outcome = self.1.take().unwrap_or_else(|| Err("the history writer panicked".into()));
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        self.0.1.notify_all();
    }
}

impl HistoryJob {
    fn done() -> HistoryJob {
        HistoryJob { stop: Arc::default(), state: Arc::new((Mutex::new(Some(Ok(()))), Condvar::new())) }
    }

    pub fn start(backfill: Option<(Backfill, Vec<RunningSim>)>) -> HistoryJob {
        let Some((backfill, sims)) = backfill.filter(|b| !b.0.is_empty()) else { return HistoryJob::done() };
        let job = HistoryJob { stop: Arc::default(), state: Arc::new((Mutex::new(None), Condvar::new())) };
        let (stop, state) = (job.stop.clone(), job.state.clone());
        let spawned = std::thread::Builder::new().name("demo-history".into()).spawn(move || {
            let mut finish = Finish(state, None);
            // Linux: the nice value is per thread, inherited by the threads
            // this one starts (waveform workers, block encoders).
            let _ = rustix::process::setpriority_process(None, 19);
            finish.1 = Some(match backfill.run(&sims, &stop) {
                Ok(w) => {
                    tracing::info!(
                        channels = w.channels,
                        samples = w.samples,
                        ms = w.took.as_millis() as u64,
                        "demo: the rest of the simulated history written"
                    );
                    Ok(())
                }
                Err(e) => {
                    tracing::warn!("demo: writing the older history failed: {e}");
                    Err(e.to_string())
                }
            });
        });
        match spawned {
            Ok(_) => job,
            Err(e) => {
                tracing::warn!("demo: cannot start the history writer: {e}");
                HistoryJob::done()
            }
        }
    }

    /// Asks the writer to stop after the chunk it is writing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Blocks until the writer has finished (at once when there is none);
    /// its error, if it failed (already logged: readers go on with what
    /// was written).
    pub fn wait_blocking(&self) -> DeskResult<()> {
        let (lock, cv) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while state.is_none() {
            state = cv.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
            .clone()
            .unwrap_or(Ok(()))
            .map_err(|e| DeskError::Invalid(Text::new("err-desk-demo-history").arg("reason", e.to_string())))
    }

    /// [`HistoryJob::wait_blocking`] off the async threads.
    pub async fn wait(&self) -> DeskResult<()> {
        let job = HistoryJob { stop: self.stop.clone(), state: self.state.clone() };
        tokio::task::spawn_blocking(move || job.wait_blocking())
            .await
            .map_err(|e| DeskError::Invalid(Text::new("err-desk-demo-history").arg("reason", e.to_string())))?
    }
}
