//! The built-in demo, shared by the window (`meterdeck --demo`) and the
//! headless agent (`meterdeck-agent demo`): the simulator's instruments (a
//! Hioki logger, a power meter, a SCPI DMM and a Modbus device, repeated)
//! polled every second, and a week of their history written into a fresh
//! cache, so the Viewer, dashboards and reports show real-looking data at
//! once and a cloud the demo syncs to receives it.
//!
//! The window's first data must not wait for the whole week (issue 17,
//! first paint): [`write_recent`] writes the last hour before the agent
//! starts, numbered after the rest (`Store::start_channel_at`), and
//! [`Backfill`] writes the rest below it behind the running agent, newest
//! day first (`Store::backfill`), so reads come out in time order and the
//! sync outbox holds each sample once. The headless agent's
//! [`write_history`] does both before it starts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{self, Personality, RunningSim, SimConfig, SimHandle, SimInstrument};
use serde::{Deserialize, Serialize};

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

/// How much of the history [`write_recent`] writes before the agent starts
/// (the Viewer opens on the last hour); the rest follows behind it.
pub const RECENT: Duration = Duration::from_secs(3600);
/// Settings key of the history still to write: `{"step_ms": .., "channels":
/// [{"id": channel id, "first": time of seq 0}, ..]}`; empty once all is
/// written. A demo stopped before its history was in continues it when
/// started again.
const PENDING_KEY: &str = "demo.history_pending";

/// Writes `span` of history at [`DEMO_POLL`] up to `now` for every channel
/// of the simulated instruments (`sims[i]` is configured by `configs[i]`)
/// that has no samples yet, through the store's block writer (and so into
/// the sync outbox). A channel with samples is left alone: a demo started
/// again continues its own cache. All of it before returning; see
/// [`write_recent`] for the recent part first.
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
    let (recent, rest) = write_recent(store_path, opts, parts, sims, configs, now, span, RECENT)?;
    let older = rest.run(sims, &AtomicBool::new(false))?;
    Ok(HistoryWritten { channels: recent.channels, samples: recent.samples + older.samples, took: started.elapsed() })
}

/// One channel's history: sample seq `s` is at `first + s * step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Planned {
    id: ChannelId,
    first: TimeMs,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Pending {
    step_ms: i64,
    channels: Vec<Planned>,
}

fn read_pending(store: &Store) -> Result<Pending, StoreError> {
    let text = store.setting(PENDING_KEY)?.unwrap_or_default();
    // Unreadable (or empty: all written) means nothing to continue.
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// The history [`write_recent`] left to write: per channel, every sample
/// below the channel's lowest seq, newest first. Run it behind the agent.
pub struct Backfill {
    path: PathBuf,
    opts: StoreOptions,
    step: i64,
    /// (sim index, channel index, plan)
    todo: Vec<(usize, usize, Planned)>,
}

/// Writes the last `recent` of `span` of history (see [`write_history`])
/// for channels with no samples, numbered after the older part, which the
/// returned [`Backfill`] writes below it. A channel whose earlier demo
/// stopped before its history was complete gets the rest in the backfill.
#[allow(clippy::too_many_arguments)]
pub fn write_recent(
    store_path: &Path,
    opts: StoreOptions,
    parts: &[SchemaPart],
    sims: &[RunningSim],
    configs: &[InstrumentConfig],
    now: TimeMs,
    span: Duration,
    recent: Duration,
) -> Result<(HistoryWritten, Backfill), StoreError> {
    let started = Instant::now();
    let step = DEMO_POLL.as_millis() as i64;
    let end = now.div_euclid(step) * step; // the live polls continue after it
    let total = span.as_millis() as i64 / step;
    let first = end - total * step;
    let recent_n = (recent.as_millis() as i64 / step).min(total);
    let mut store = Store::open_with(store_path, opts.clone(), parts)?;
    let earlier = read_pending(&store)?;
    let mut todo = Vec::new();
    let mut fresh = Vec::new();
    for (k, (sim, cfg)) in sims.iter().zip(configs).enumerate() {
        store.upsert_instrument(&cfg.id, cfg.display_name(), cfg.family.name(), &cfg.target())?;
        for (index, ch) in cfg.channels.iter().enumerate() {
            let id = store.ensure_channel(&cfg.id, &ch.id, ch.unit.as_deref())?;
            if store.extent(id)?.is_none() {
                // The older samples get seqs 0..total - recent_n.
                match store.start_channel_at(id, total - recent_n) {
                    Ok(()) => {
                        fresh.push((sim, index, id));
                        if total > recent_n {
                            todo.push((k, index, Planned { id, first }));
                        }
                    }
                    // Emptied by retention after it had samples: its seqs
                    // cannot go back, so it starts without a history.
                    Err(e) => tracing::warn!("demo history of {}/{}: {e}", cfg.id, ch.id),
                }
            } else if let Some(p) = earlier.channels.iter().find(|p| p.id == id && earlier.step_ms == step) {
                todo.push((k, index, *p));
            }
        }
    }
    let pending = Pending { step_ms: step, channels: todo.iter().map(|t| t.2).collect() };
    store.set_setting(PENDING_KEY, &serde_json::to_string(&pending).unwrap_or_default())?;
    let mut done = HistoryWritten { channels: fresh.len(), samples: 0, took: Duration::ZERO };
    let from = end - recent_n * step;
    for (sim, index, id) in fresh {
        let mut wave = sim.waveform_history(index);
        let chunk: Vec<_> =
            (from..end).step_by(step as usize).map(|t| (id, Sample::number(t, wave.value(t)))).collect();
        store.append(&chunk)?;
        done.samples += chunk.len() as u64;
    }
    done.took = started.elapsed();
    let path = store_path.to_path_buf();
    Ok((done, Backfill { path, opts, step, todo }))
}

impl Backfill {
    /// Whether nothing is left to write.
    pub fn is_empty(&self) -> bool {
        self.todo.is_empty()
    }

    /// Writes the older history on its own store connection, newest day
    /// first (what the Viewer shows first), until done or `stop` is set.
    /// `sims` are those given to [`write_recent`].
    pub fn run(self, sims: &[RunningSim], stop: &AtomicBool) -> Result<HistoryWritten, StoreError> {
        let started = Instant::now();
        let mut done = HistoryWritten { channels: self.todo.len(), samples: 0, took: Duration::ZERO };
        if self.todo.is_empty() {
            return Ok(done);
        }
        let step = self.step;
        let mut store = Store::open(&self.path, self.opts.clone())?;
        // Per channel, the chunks below its lowest seq, newest first.
        let mut chunks = Vec::with_capacity(self.todo.len());
        for &(k, index, plan) in &self.todo {
            let floor = store.seq_floor(plan.id)?;
            let Some(sim) = sims.get(k) else { continue };
            chunks.push((sim, index, plan, floor));
        }
        // The waveform is computed on the other cores while the store writes
        // the chunks they hand over. Each channel stays with one worker, so
        // its chunks arrive newest first.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(ChannelId, i64, Vec<Sample>)>(2 * workers);
        std::thread::scope(|scope| -> Result<(), StoreError> {
            for w in 0..workers {
                let (tx, mine) = (tx.clone(), chunks.iter().skip(w).step_by(workers).collect::<Vec<_>>());
                scope.spawn(move || {
                    let mut waves: Vec<_> = mine.iter().map(|c| (c, c.0.waveform_history(c.1), c.3)).collect();
                    // Round by round: the newest day of every channel first.
                    while waves.iter().any(|w| w.2 > 0) {
                        for ((_, _, plan, _), wave, floor) in waves.iter_mut().filter(|w| w.2 > 0) {
                            let seq0 = (*floor - CHUNK).max(0);
                            let chunk = (seq0..*floor)
                                .map(|s| {
                                    let t = plan.first + s * step;
                                    Sample::number(t, wave.value(t))
                                })
                                .collect();
                            if tx.send((plan.id, seq0, chunk)).is_err() {
                                return; // the writer stopped or failed
                            }
                            *floor = seq0;
                        }
                    }
                });
            }
            drop(tx);
            for (id, seq0, chunk) in rx {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                store.backfill(id, seq0, &chunk)?;
                done.samples += chunk.len() as u64;
            }
            Ok(())
        })?;
        if !stop.load(Ordering::Relaxed) {
            store.set_setting(PENDING_KEY, "")?;
        }
        done.took = started.elapsed();
        Ok(done)
    }
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

    /// The last hour first, the rest behind it; a demo stopped before the
    /// rest was in writes what is missing when started again, and the
    /// whole span then reads complete and in time order.
    #[tokio::test]
    async fn the_older_history_follows_the_recent_and_resumes_after_a_stop() {
        let (sim, configs) = start_simulator(2).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meterdeck.db");
        let now = 1_790_000_000_500;
        let span = Duration::from_secs(2 * 86_400 + 5 * 3600);
        let (n, recent_n) = (span.as_secs() as usize, 3600);
        let opts = StoreOptions::default();
        let (w, rest) =
            write_recent(&path, opts.clone(), STORE_PARTS, &sim.instruments, &configs, now, span, RECENT).unwrap();
        let channels: usize = configs.iter().map(|c| c.channels.len()).sum();
        assert_eq!((w.channels, w.samples), (channels, (channels * recent_n) as u64));
        let paths: Vec<String> =
            configs.iter().flat_map(|c| c.channels.iter().map(move |ch| format!("{}/{}", c.id, ch.id))).collect();
        let read = |path: &str| {
            let store = Store::open_readonly(&dir.path().join("meterdeck.db")).unwrap();
            let id = store.find_channel(path).unwrap().unwrap().id;
            store.range(id, 0, i64::MAX).unwrap()
        };
        assert_eq!(read(&paths[0]).len(), recent_n);

        // Stopped at once: nothing older written.
        let stopped = rest.run(&sim.instruments, &AtomicBool::new(true)).unwrap();
        assert_eq!(stopped.samples, 0);
        // One channel got its newest older day before the stop.
        {
            let mut store = Store::open(&path, opts.clone()).unwrap();
            let id = store.find_channel(&paths[1]).unwrap().unwrap().id;
            let floor = store.seq_floor(id).unwrap();
            let first = now - 500 - n as i64 * 1000;
            let mut wave = sim.instruments[0].waveform_history(1);
            let day: Vec<Sample> = (floor - CHUNK..floor)
                .map(|s| Sample::number(first + s * 1000, wave.value(first + s * 1000)))
                .collect();
            store.backfill(id, floor - CHUNK, &day).unwrap();
        }

        // Started again an hour later: no new recent part, the rest resumed.
        let later = now + 3_600_000;
        let (w, rest) =
            write_recent(&path, opts.clone(), STORE_PARTS, &sim.instruments, &configs, later, span, RECENT).unwrap();
        assert_eq!((w.channels, w.samples), (0, 0));
        assert!(!rest.is_empty());
        let done = rest.run(&sim.instruments, &AtomicBool::new(false)).unwrap();
        assert_eq!(done.samples, (channels * (n - recent_n) - CHUNK as usize) as u64);
        for (k, p) in paths.iter().enumerate() {
            let got = read(p);
            assert_eq!(got.len(), n, "{p}");
            assert!(got.windows(2).all(|w| w[1].t - w[0].t == 1000), "{p}: one sample a second, in order");
            assert_eq!(got.last().unwrap().t, now - 500 - 1000);
            let (i, index) = if k < configs[0].channels.len() { (0, k) } else { (1, k - configs[0].channels.len()) };
            for s_ in got.iter().step_by(1009) {
                assert_eq!(s_.value.as_number(), Some(sim.instruments[i].waveform_value(index, s_.t)), "{p}");
            }
        }
        // Complete: a third start has nothing left to write.
        let (_, rest) =
            write_recent(&path, opts, STORE_PARTS, &sim.instruments, &configs, later, span, RECENT).unwrap();
        assert!(rest.is_empty());
        sim.shutdown().await;
    }
}
