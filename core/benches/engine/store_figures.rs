//! Store figures: durable ingest vs a one-row-per-sample baseline, bytes per
//! sample, raw reads and M4 against the in-memory ceiling. All measured in
//! one run on temp directories, on simulator-like logger waveforms
//! generated here (quantised sine / ramp / step / noise at 0.1 and 0.001).

use std::path::Path;
use std::time::{Duration, Instant};

use meterdeck_core::model::{ChannelId, Sample};
use meterdeck_core::store::{Durability, Store, StoreOptions};
use rusqlite::{Connection, params};

/// Channels written together in each append (a logger download).
const CHANNELS: usize = 64;
/// Samples per channel per append: 102,400 samples per append, not a
/// multiple of the block size, so the durable tail is exercised.
const PER_CHANNEL: usize = 1600;
const T0: i64 = 1_780_000_000_000;
/// Ingest figures are the median over this many passes.
const PASSES: usize = 4;
const STEP_MS: i64 = 1000;

/// A deterministic logger-like waveform for one channel.
struct Wave {
    decimals: i32,
    offset: f64,
    amp: f64,
    period_s: f64,
    phase: f64,
    ramp_per_s: f64,
    step_every_s: i64,
    step: f64,
    noise_quanta: u64,
    rng: u64,
}

impl Wave {
    fn new(ch: usize) -> Wave {
        let thermo = ch % 2 == 1; // odd channels: thermocouples at 0.1 degC
        Wave {
            decimals: if thermo { 1 } else { 3 },
            offset: if thermo { 22.0 + ch as f64 * 0.3 } else { 1.0 + ch as f64 * 0.01 },
            amp: if thermo { 4.0 } else { 2.5 },
            period_s: 600.0 + 97.0 * ch as f64,
            phase: ch as f64 * 0.7,
            ramp_per_s: if thermo { 0.0 } else { 1e-5 },
            step_every_s: 1800 + 60 * ch as i64,
            step: if thermo { 1.5 } else { 0.25 },
            noise_quanta: if thermo { 1 } else { 3 },
            rng: 0x9E37_79B9_7F4A_7C15 ^ (ch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
        }
    }

    /// Value at sample index `i`, as an instrument would report it: an
    /// exact decimal at the channel's resolution.
    fn at(&mut self, i: i64) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let s = i as f64 * (STEP_MS as f64 / 1000.0);
        let q = 10f64.powi(-self.decimals);
        let noise = ((self.rng % (2 * self.noise_quanta + 1)) as f64 - self.noise_quanta as f64) * q;
        let v = self.offset
            + self.amp * (std::f64::consts::TAU * s / self.period_s + self.phase).sin()
            + self.ramp_per_s * s
            + if (i / self.step_every_s) % 2 == 1 { self.step } else { 0.0 }
            + noise;
        let p = 10f64.powi(self.decimals);
        (v * p).round() / p
    }
}

/// One append's worth: every channel's next `per_channel` samples.
fn batch(waves: &mut [Wave], ids: &[ChannelId], start: i64, per_channel: usize, out: &mut Vec<(ChannelId, Sample)>) {
    out.clear();
    for (w, &id) in waves.iter_mut().zip(ids) {
        for i in start..start + per_channel as i64 {
            out.push((id, Sample::number(T0 + i * STEP_MS, w.at(i))));
        }
    }
}

fn open_store(path: &Path) -> Store {
    Store::open(path, StoreOptions { durability: Durability::Normal, block_samples: 1024 }).expect("open bench store")
}

fn channels(store: &mut Store, n: usize) -> Vec<ChannelId> {
    store.upsert_instrument("lr", "Logger", "hioki-logger", "127.0.0.1:8802").expect("instrument");
    (0..n)
        .map(|c| store.ensure_channel("lr", &format!("CH{}_{}", c / 15 + 1, c % 15 + 1), Some("V")).expect("channel"))
        .collect()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Durable batched ingest into the block store; returns (samples/s, bytes/sample).
fn ingest(dir: &Path, batches: usize) -> (f64, f64) {
    let path = dir.join("blocks.db");
    let mut store = open_store(&path);
    let ids = channels(&mut store, CHANNELS);
    let mut waves: Vec<Wave> = (0..CHANNELS).map(Wave::new).collect();
    let mut buf = Vec::with_capacity(CHANNELS * PER_CHANNEL);
    let mut spent = Vec::with_capacity(batches);
    for b in 0..batches {
        batch(&mut waves, &ids, (b * PER_CHANNEL) as i64, PER_CHANNEL, &mut buf);
        let t = Instant::now();
        store.append(&buf).expect("append");
        spent.push(t.elapsed());
    }
    let samples = (batches * CHANNELS * PER_CHANNEL) as f64;
    store.checkpoint().expect("checkpoint");
    drop(store);
    (throughput(&spent), file_size(&path) as f64 / samples)
}

/// Samples per second of batches of `CHANNELS * PER_CHANNEL`: the median
/// over `PASSES` consecutive runs of batches, so that a burst of other work
/// on the machine (builds on 2 cores) does not decide the figure. Both
/// ingest figures are computed this way.
fn throughput(per_batch: &[Duration]) -> f64 {
    let per_pass = per_batch.len().div_ceil(PASSES).max(1);
    let mut rates: Vec<f64> = per_batch
        .chunks(per_pass)
        .map(|pass| (pass.len() * CHANNELS * PER_CHANNEL) as f64 / pass.iter().sum::<Duration>().as_secs_f64())
        .collect();
    if std::env::var_os("STORE_FIGURES_DEBUG").is_some() {
        eprintln!("passes: {rates:.0?}");
    }
    rates.sort_by(f64::total_cmp);
    let mid = rates.len() / 2;
    if rates.len().is_multiple_of(2) { (rates[mid - 1] + rates[mid]) / 2.0 } else { rates[mid] }
}

/// The same batches, one row per sample in a WITHOUT ROWID table.
fn baseline(dir: &Path, batches: usize) -> f64 {
    let conn = Connection::open(dir.join("rows.db")).expect("open baseline");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    // The store's settings (see store/schema.rs).
    conn.pragma_update(None, "synchronous", "NORMAL").expect("sync");
    conn.pragma_update(None, "wal_autocheckpoint", 4000).expect("autocheckpoint");
    conn.pragma_update(None, "cache_size", -32_000).expect("cache");
    conn.execute_batch(
        "CREATE TABLE sample (channel INTEGER NOT NULL, t INTEGER NOT NULL, value REAL,
           PRIMARY KEY (channel, t)) WITHOUT ROWID",
    )
    .expect("baseline schema");
    let ids: Vec<ChannelId> = (1..=CHANNELS as i64).collect();
    let mut waves: Vec<Wave> = (0..CHANNELS).map(Wave::new).collect();
    let mut buf = Vec::with_capacity(CHANNELS * PER_CHANNEL);
    let mut spent = Vec::with_capacity(batches);
    for b in 0..batches {
        batch(&mut waves, &ids, (b * PER_CHANNEL) as i64, PER_CHANNEL, &mut buf);
        let t = Instant::now();
        let tx = conn.unchecked_transaction().expect("tx");
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO sample (channel, t, value) VALUES (?1, ?2, ?3)").expect("prepare");
            for (ch, s) in &buf {
                stmt.execute(params![ch, s.t, s.value.as_number()]).expect("insert");
            }
        }
        tx.commit().expect("commit");
        spent.push(t.elapsed());
    }
    throughput(&spent)
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Min/max (and first/last) per bucket over sorted samples in RAM.
fn ram_m4(data: &[(i64, f64)], from: i64, to: i64, buckets: usize) -> Vec<(usize, f64, f64, f64, f64)> {
    let w = (to - from) as i128;
    let mut out = Vec::with_capacity(buckets);
    let mut start = 0;
    for b in 0..buckets {
        let edge = from + (((b as i128 + 1) * w + buckets as i128 - 1) / buckets as i128) as i64;
        let end = start + data[start..].partition_point(|&(t, _)| t < edge);
        let slice = &data[start..end];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(_, v) in slice {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let first = slice.first().map_or(f64::NAN, |x| x.1);
        let last = slice.last().map_or(f64::NAN, |x| x.1);
        out.push((slice.len(), first, last, lo, hi));
        start = end;
    }
    out
}

/// One channel of `n` samples: raw read of 1M, M4 of all into 2000 buckets,
/// and the same reduction over a Vec in memory.
fn reads(dir: &Path, n: usize, runs: usize) -> (f64, f64, f64) {
    let path = dir.join("one.db");
    let mut store = open_store(&path);
    let id = channels(&mut store, 1)[0];
    let mut wave = Wave::new(0);
    let mut buf = Vec::new();
    let mut ram: Vec<(i64, f64)> = Vec::with_capacity(n);
    for start in (0..n).step_by(100_000) {
        let len = 100_000.min(n - start);
        batch(std::slice::from_mut(&mut wave), &[id], start as i64, len, &mut buf);
        ram.extend(buf.iter().map(|(_, s)| (s.t, s.value.as_number().unwrap_or(f64::NAN))));
        store.append(&buf).expect("append");
    }
    store.checkpoint().expect("checkpoint");

    let read_n = 1_000_000.min(n);
    let from = T0 + ((n - read_n) / 2) as i64 * STEP_MS;
    let to = from + read_n as i64 * STEP_MS;
    let read_ms = median_ms(runs, || {
        let got = store.range(id, from, to).expect("range");
        assert_eq!(got.len(), read_n);
    });

    let (all_from, all_to) = (T0, T0 + n as i64 * STEP_MS);
    let m4_ms = median_ms(runs, || {
        let b = store.m4(id, all_from, all_to, 2000).expect("m4");
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), n as u64);
    });
    let ram_ms = median_ms(runs, || {
        let b = ram_m4(std::hint::black_box(&ram), all_from, all_to, 2000);
        assert_eq!(b.iter().map(|b| b.0).sum::<usize>(), n);
    });
    // Both views must agree.
    let db = store.m4(id, all_from, all_to, 2000).expect("m4");
    let mem = ram_m4(&ram, all_from, all_to, 2000);
    for (d, m) in db.iter().zip(&mem) {
        assert_eq!((d.min.map(|x| x.1), d.max.map(|x| x.1)), (Some(m.3), Some(m.4)));
    }
    (read_ms, m4_ms, ram_ms)
}

pub fn run(quick: bool) -> Vec<(&'static str, f64)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (batches, base_batches, one_channel, runs) =
        if quick { (12, 4, 1_000_000, 3) } else { (400, 24, 10_000_000, 5) };
    let (ingest, bytes) = ingest(dir.path(), batches);
    let base = baseline(dir.path(), base_batches);
    let (read_ms, m4_ms, ram_ms) = reads(dir.path(), one_channel, runs);
    vec![
        ("ingest_samples_per_s", ingest.round()),
        ("baseline_row_ingest_samples_per_s", base.round()),
        ("ingest_vs_baseline", (ingest / base * 10.0).round() / 10.0),
        ("bytes_per_sample", (bytes * 1000.0).round() / 1000.0),
        ("read_1m_ms", (read_ms * 100.0).round() / 100.0),
        ("m4_10m_to_2000_ms", (m4_ms * 100.0).round() / 100.0),
        ("ram_minmax_10m_ms", (ram_ms * 100.0).round() / 100.0),
        ("m4_vs_ram", (m4_ms / ram_ms * 100.0).round() / 100.0),
    ]
}
