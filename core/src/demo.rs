//! The built-in demo, shared by the window (`meterdeck --demo`) and the
//! headless agent (`meterdeck-agent demo`): the simulator's instruments (a
//! Hioki logger, a power meter, a SCPI DMM and a Modbus device, repeated)
//! polled every second, and a week of their history written into a fresh
//! cache before the agent starts, so the Viewer, dashboards and reports show
//! real-looking data at once and a cloud the demo syncs to receives it.

use std::path::Path;
use std::time::{Duration, Instant};

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{self, Personality, RunningSim, SimConfig, SimHandle, SimInstrument};

use crate::model::{ChannelId, Sample, TimeMs};
use crate::store::{SchemaPart, Store, StoreError, StoreOptions};

/// How often the demo polls each instrument.
pub const DEMO_POLL: Duration = Duration::from_secs(1);
/// How much history a fresh demo cache starts with.
pub const HISTORY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Samples per channel written in one transaction (a day at 1 s): bounded
/// memory, and the block writer sees whole blocks.
const CHUNK: i64 = 86_400;

/// The simulator's instruments of a demo with `count` of them.
pub fn sim_instruments(count: usize) -> Vec<SimInstrument> {
    let kinds = [Personality::HiokiLogger, Personality::PowerMeter, Personality::Scpi, Personality::Modbus];
    (0..count)
        .map(|k| {
            let p = kinds[k % kinds.len()];
            let mut s = SimInstrument::new(format!("{}-{}", p.name(), k / kinds.len() + 1), p);
            s.seed = k as u64 + 1;
            // A screenful: a few channels of each.
            s.channels = Some(match p {
                Personality::HiokiLogger | Personality::PowerMeter => 6,
                Personality::Scpi => p.default_channels(),
                Personality::Modbus => 4,
            });
            s
        })
        .collect()
}

/// Starts the simulator with `count` instruments; returns it with the
/// agent's configuration of each (polled every [`DEMO_POLL`]), in the same
/// order. The error is the simulator's, as text.
pub async fn start_simulator(count: usize) -> Result<(SimHandle, Vec<InstrumentConfig>), String> {
    let handle = sim::start(SimConfig { instruments: sim_instruments(count) }).await.map_err(|e| format!("{e:#}"))?;
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

/// What [`write_history`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryWritten {
    /// Channels that got a history (those with no samples yet).
    pub channels: usize,
    pub samples: u64,
    pub took: Duration,
}

/// Writes `span` of history at [`DEMO_POLL`] up to `now` for every channel
/// of the simulated instruments (`sims[i]` is configured by `configs[i]`)
/// that has no samples yet, through the store's block writer (and so into
/// the sync outbox). A channel with samples is left alone: a demo started
/// again continues its own cache.
pub fn write_history(
    store_path: &Path,
    opts: StoreOptions,
    parts: &[SchemaPart],
    sims: &[RunningSim],
    configs: &[InstrumentConfig],
    now: TimeMs,
    span: Duration,
) -> Result<HistoryWritten, StoreError> {
    let started = Instant::now();
    let step = DEMO_POLL.as_millis() as i64;
    let end = now.div_euclid(step) * step; // the live polls continue after it
    let first = end - span.as_millis() as i64;
    let mut store = Store::open_with(store_path, opts, parts)?;
    let mut todo = Vec::new();
    for (sim, cfg) in sims.iter().zip(configs) {
        store.upsert_instrument(&cfg.id, cfg.display_name(), cfg.family.name(), &cfg.target())?;
        for (index, ch) in cfg.channels.iter().enumerate() {
            let id = store.ensure_channel(&cfg.id, &ch.id, ch.unit.as_deref())?;
            if store.extent(id)?.is_none() {
                todo.push((sim, index, id));
            }
        }
    }
    let mut done = HistoryWritten { channels: todo.len(), samples: 0, took: Duration::ZERO };
    // The waveform is computed on the other cores while the store writes the
    // chunks they hand over: the week costs about the slower of the two.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(ChannelId, Sample)>>(2 * workers);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        for w in 0..workers {
            let (tx, todo) = (tx.clone(), &todo);
            scope.spawn(move || {
                for &(sim, index, id) in todo.iter().skip(w).step_by(workers) {
                    let mut wave = sim.waveform_history(index);
                    let mut t = first;
                    while t < end {
                        let stop = (t + CHUNK * step).min(end);
                        let chunk =
                            (t..stop).step_by(step as usize).map(|t| (id, Sample::number(t, wave.value(t)))).collect();
                        if tx.send(chunk).is_err() {
                            return; // the writer failed; its error is returned
                        }
                        t = stop;
                    }
                }
            });
        }
        drop(tx);
        for chunk in rx {
            store.append(&chunk)?;
            done.samples += chunk.len() as u64;
        }
        Ok(())
    })?;
    done.took = started.elapsed();
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The block store alone: the history needs no other schema part.
    const STORE_PARTS: &[SchemaPart] = &[];

    #[tokio::test]
    async fn a_fresh_cache_gets_a_week_that_the_live_values_continue() {
        let (sim, configs) = start_simulator(4).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meterdeck.db");
        let now = 1_790_000_000_500;
        let span = Duration::from_secs(3 * 3600);
        let w =
            write_history(&path, StoreOptions::default(), STORE_PARTS, &sim.instruments, &configs, now, span).unwrap();
        let channels: usize = configs.iter().map(|c| c.channels.len()).sum();
        assert_eq!(w.channels, channels);
        assert_eq!(w.samples, (channels * 3 * 3600) as u64);

        let store = Store::open_readonly(&path).unwrap();
        for (k, (s, cfg)) in sim.instruments.iter().zip(&configs).enumerate() {
            for (index, ch) in cfg.channels.iter().enumerate() {
                let rec = store.find_channel(&format!("{}/{}", cfg.id, ch.id)).unwrap().unwrap();
                let got = store.range(rec.id, 0, i64::MAX).unwrap();
                assert_eq!(got.len(), 3 * 3600, "{}/{}", cfg.id, ch.id);
                assert_eq!((got[0].t, got.last().unwrap().t), (now - 500 - 3 * 3600 * 1000, now - 500 - 1000));
                // The values are the simulator's own waveform (instrument {k}).
                for s_ in got.iter().step_by(997) {
                    assert_eq!(s_.value.as_number(), Some(s.waveform_value(index, s_.t)), "instrument {k} {}", ch.id);
                }
            }
        }
        drop(store);

        // Started again, the demo keeps its cache as it is.
        let again =
            write_history(&path, StoreOptions::default(), STORE_PARTS, &sim.instruments, &configs, now + 60_000, span)
                .unwrap();
        assert_eq!((again.channels, again.samples), (0, 0));
        sim.shutdown().await;
    }
}
