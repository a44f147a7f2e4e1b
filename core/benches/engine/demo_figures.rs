//! The demo's first start (issue 17: a week of simulated history "written
//! through the block writer in well under a second"): `demo::write_history`
//! for the four demo instruments (22 channels at 1 s) into a fresh store,
//! beside the waveform alone (the same values computed, nothing stored; and
//! computed per sample as a live poll does, the history's former way) as
//! baselines measured in the same run. A week in quick mode too: it
//! takes about a second.

use std::time::Instant;

use meterdeck_core::agent::STORE_PARTS;
use meterdeck_core::demo::{HISTORY, start_simulator, write_history};
use meterdeck_core::store::StoreOptions;

pub fn run() -> Vec<(&'static str, Option<f64>)> {
    let span = HISTORY;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (sim, configs) = rt.block_on(start_simulator(4)).expect("simulator");
    let now = meterdeck_core::model::now_ms();

    // The values alone, as the history computes them (period tables) and
    // per sample as a live poll does (the baseline), on one thread.
    let first = now / 1000 * 1000 - span.as_millis() as i64;
    let values = |per_sample: bool| {
        let t = Instant::now();
        let mut sink = 0.0;
        for (s, c) in sim.instruments.iter().zip(&configs) {
            for index in 0..c.channels.len() {
                let mut wave = s.waveform_history(index);
                let mut t_ms = first;
                while t_ms < now / 1000 * 1000 {
                    sink += if per_sample { s.waveform_value(index, t_ms) } else { wave.value(t_ms) };
                    t_ms += 1000;
                }
            }
        }
        std::hint::black_box(sink);
        t.elapsed().as_secs_f64() * 1e3
    };
    let waveform_ms = values(false);
    let per_sample_ms = values(true);

    let dir = tempfile::tempdir().expect("temp dir");
    let written = write_history(
        &dir.path().join("meterdeck.db"),
        StoreOptions::default(),
        STORE_PARTS,
        &sim.instruments,
        &configs,
        now,
        span,
    )
    .expect("history");
    rt.block_on(sim.shutdown());
    let ms = written.took.as_secs_f64() * 1e3;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    vec![
        ("demo_history_week_ms", Some(round(ms))),
        ("demo_history_samples", Some(written.samples as f64)),
        ("demo_history_waveform_only_ms", Some(round(waveform_ms))),
        ("demo_history_waveform_per_sample_ms", Some(round(per_sample_ms))),
    ]
}
