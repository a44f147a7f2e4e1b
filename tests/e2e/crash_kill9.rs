//! kill -9 at any moment loses no acknowledged sample and never corrupts the
//! file: the agent is killed with SIGKILL 20 times during ingest (small
//! blocks, so tail flushes into blocks happen all the time), restarted on the
//! same data directory, and every sample it printed as `ACK` is in the store
//! with the same value; `PRAGMA integrity_check` is ok.

use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::*;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::time::Duration;

const KILLS: usize = 20;

#[test]
fn kill9_during_ingest_loses_no_acknowledged_sample() {
    let rt = runtime();
    let cfg = SimConfig {
        instruments: (0..6)
            .map(|i| SimInstrument {
                channels: Some(60),
                seed: 100 + i as u64,
                ..SimInstrument::new(format!("log{i}"), Personality::HiokiLogger)
            })
            .collect(),
    };
    let sims = rt.block_on(sim::start(cfg)).expect("simulator starts");
    let instruments: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let dir = tempfile::tempdir().unwrap();
    let config =
        write_agent_config(dir.path(), "name = \"crash\"\npoll_interval = \"1s\"\nblock_samples = 16", &instruments);
    let data = dir.path().join("data");
    // Six instruments of 60 channels: more than the Free plan allows.
    meterdeck_e2e::licence::grant_pro(&data);
    let args = ["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--print-acks"];

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d65_7465);
    let mut acked: Vec<Ack> = Vec::new();
    for round in 0..KILLS {
        let mut agent = Proc::spawn("meterdeck-agent", &mut agent(&args));
        // Let it store at least one poll, then kill it at a random moment
        // (polls land on whole seconds, so the kill falls anywhere in a cycle).
        agent.wait_line("ACK ", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1500)));
        let lines = agent.kill9();
        let got = parse_acks(&lines);
        assert!(!got.is_empty() || round > 0, "round {round}: no ACK lines");
        acked.extend(got);
    }
    // Restart once more and stop it cleanly: recovery must not need anything else.
    let mut agent = Proc::spawn("meterdeck-agent", &mut agent(&args));
    agent.wait_line("ACK ", Duration::from_secs(30));
    acked.extend(parse_acks(&agent.drain()));
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0));
    acked.extend(parse_acks(&agent.drain()));
    drop(sims);

    let store = Store::open_readonly(&data.join("meterdeck.db")).expect("store opens after 20 kills");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let channels: HashMap<String, i64> = store.channels().unwrap().into_iter().map(|c| (c.path(), c.id)).collect();
    let mut stored: HashMap<i64, HashMap<i64, String>> = HashMap::new();
    let mut lost = Vec::new();
    for a in &acked {
        let id =
            *channels.get(&a.channel).unwrap_or_else(|| panic!("acked channel {} unknown to the store", a.channel));
        let samples = stored.entry(id).or_insert_with(|| {
            store
                .range(id, i64::MIN / 2, i64::MAX / 2)
                .unwrap()
                .into_iter()
                .map(|s| (s.t, value_label(&s.value)))
                .collect()
        });
        match samples.get(&a.t) {
            Some(v) if *v == a.value => {}
            other => lost.push(format!("{} @{}: acked {}, stored {:?}", a.channel, a.t, a.value, other)),
        }
    }
    assert!(acked.len() > 1000, "too few acknowledged samples to prove anything: {}", acked.len());
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged samples lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    eprintln!("crash test: {KILLS} kills, {} acknowledged samples, all present", acked.len());
}
