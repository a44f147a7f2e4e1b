//! Report figures (`cargo bench -p meterdeck-core --bench report [-- --quick]`):
//! `report_month_32ch_ms`, a month of 1 s data of 32 channels (83M samples)
//! into a PDF with 8 graphs and the statistics (target <= 2000 ms), and in
//! the same run its baseline `report_month_raw_read_ms`, reading the same
//! samples raw. `--quick`: two days. Prints each figure, then one JSON line.

use std::time::Instant;

use meterdeck_core::model::{ChannelId, Sample};
use meterdeck_core::report::{GraphGroup, ReportRequest, ReportTemplate, Thresholds, generate};
use meterdeck_core::store::{Durability, Store, StoreOptions};

const CHANNELS: usize = 32;
/// 2026-11-01T00:00:00Z
const T0: i64 = 1_793_491_200_000;
const HOUR: i64 = 3_600_000;
/// The generation figure is the median of this many reports.
const RUNS: usize = 3;

/// A logger-like value: a slow sine per channel, a daily swing and a
/// little noise, at 0.01 resolution.
fn value(ch: usize, i: i64, rng: &mut u64) -> f64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let s = i as f64;
    let v = 20.0
        + ch as f64
        + 5.0 * (std::f64::consts::TAU * s / (3_000.0 + 137.0 * ch as f64)).sin()
        + 2.0 * (std::f64::consts::TAU * s / 86_400.0).sin()
        + (*rng % 21) as f64 * 0.01
        - 0.1;
    (v * 100.0).round() / 100.0
}

/// Fills the store hour by hour (all channels in one append: blocks
/// straight from the bulk path) and returns the channel paths.
fn fill(store: &mut Store, hours: i64) -> Vec<(ChannelId, String)> {
    store.upsert_instrument("lr", "Logger", "hioki-logger", "127.0.0.1:8802").expect("instrument");
    let ids: Vec<(ChannelId, String)> = (0..CHANNELS)
        .map(|c| {
            let name = format!("CH{}_{}", c / 16 + 1, c % 16 + 1);
            (store.ensure_channel("lr", &name, Some("V")).expect("channel"), format!("lr/{name}"))
        })
        .collect();
    let mut rngs: Vec<u64> =
        (0..CHANNELS).map(|c| 0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)).collect();
    let per_hour = HOUR / 1000;
    let mut batch = Vec::with_capacity(CHANNELS * per_hour as usize);
    for h in 0..hours {
        batch.clear();
        for (c, (id, _)) in ids.iter().enumerate() {
            for k in 0..per_hour {
                let i = h * per_hour + k;
                batch.push((*id, Sample::number(T0 + i * 1000, value(c, i, &mut rngs[c]))));
            }
        }
        store.append(&batch).expect("append");
    }
    store.checkpoint().expect("checkpoint");
    ids
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let days: i64 = if quick { 2 } else { 30 };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cache.db");
    let mut store =
        Store::open(&path, StoreOptions { durability: Durability::Normal, block_samples: 1024 }).expect("open store");
    let t = Instant::now();
    let ids = fill(&mut store, days * 24);
    let samples = days * 86_400 * CHANNELS as i64;
    eprintln!("wrote {samples} samples in {:.1} s", t.elapsed().as_secs_f64());
    drop(store);
    let store = Store::open_readonly(&path).expect("reopen");

    let paths: Vec<String> = ids.iter().map(|(_, p)| p.clone()).collect();
    let template = ReportTemplate {
        name: "month".into(),
        title: "Line 1 monthly report".into(),
        channels: paths.clone(),
        groups: paths
            .chunks(4)
            .enumerate()
            .map(|(i, c)| GraphGroup { title: format!("Group {}", i + 1), channels: c.to_vec() })
            .collect(),
        stats: meterdeck_core::report::StatsOptions {
            thresholds: paths
                .iter()
                .enumerate()
                .map(|(c, p)| (p.clone(), Thresholds { above: Some(24.0 + c as f64), below: Some(16.0 + c as f64) }))
                .collect(),
        },
        include_alarms: true,
        logo: None,
        language: Default::default(),
        paper: Default::default(),
        range: Default::default(),
        time_zone: "Europe/Berlin".into(),
    };
    let (from, to) = (T0, T0 + days * 24 * HOUR);
    let req = ReportRequest { template: &template, from, to };
    let out = dir.path().join("month.pdf");
    let mut times = Vec::new();
    let mut pdf_bytes = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = generate(&store, &req, &out, &mut |_| {}).expect("generate");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.summary.channels.iter().map(|c| c.samples as i64).sum::<i64>(), samples);
        pdf_bytes = std::fs::metadata(&r.pdf).map_or(0, |m| m.len());
    }
    times.sort_by(f64::total_cmp);
    let report_ms = times[RUNS / 2];

    // Baseline: every sample of the range read raw (decoded), summed so
    // the reads are not optimised away.
    let t = Instant::now();
    let mut n = 0u64;
    let mut sum = 0.0;
    for (id, _) in &ids {
        store
            .for_each_in_range(*id, from, to, |s| {
                n += 1;
                if let meterdeck_core::model::Value::Number(v) = s.value {
                    sum += v;
                }
            })
            .expect("raw read");
    }
    let raw_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(n as i64, samples, "raw read count (sum {sum})");

    let (report_key, raw_key) = if quick {
        ("report_2days_32ch_ms", "report_2days_raw_read_ms")
    } else {
        ("report_month_32ch_ms", "report_month_raw_read_ms")
    };
    let figures = [(report_key, report_ms), (raw_key, raw_ms), ("report_pdf_kib", pdf_bytes as f64 / 1024.0)];
    for (k, v) in &figures {
        println!("{k:>36}  {v:.1}");
    }
    let json: Vec<String> = figures.iter().map(|(k, v)| format!("\"{k}\": {v:.1}")).collect();
    println!("{{{}}}", json.join(", "));
}
