//! The agent against the real drivers and the in-process simulator.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument, expected_value};

use super::tests::{fast_options, wait_for};
use super::*;
use crate::config::{AgentConfig, AgentSettings, STORE_FILE};
use crate::model::{ConnState, EventKind, Sample, Value};
use crate::store::Store;

fn logger(name: &str, seed: u64, channels: usize) -> SimInstrument {
    let mut s = SimInstrument::new(name, Personality::HiokiLogger);
    s.seed = seed;
    s.channels = Some(channels);
    s
}

fn polled_every_second(mut c: InstrumentConfig) -> InstrumentConfig {
    c.poll_interval = Some(Duration::from_secs(1));
    c
}

fn start_agent(dir: &Path, insts: Vec<InstrumentConfig>) -> AgentHandle {
    let cfg = AgentConfig::new(AgentSettings::default(), insts).unwrap();
    Agent::start(cfg, dir, fast_options(default_connector())).unwrap()
}

fn samples(store: &Store, path: &str) -> Vec<Sample> {
    match store.find_channel(path).unwrap() {
        Some(ch) => store.range(ch.id, 0, i64::MAX).unwrap(),
        None => vec![],
    }
}

fn count(store: &Store, id: &str, kind: EventKind) -> usize {
    store.events(None, Some(id), 10_000).unwrap().iter().filter(|e| e.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_values_are_the_simulated_waveforms() {
    let sim = sim::start(SimConfig { instruments: vec![logger("log", 7, 4)] }).await.unwrap();
    let running = &sim.instruments[0];
    let dir = tempfile::tempdir().unwrap();
    let agent = start_agent(dir.path(), vec![polled_every_second(running.instrument_config())]);
    let store = Store::open_readonly(&dir.path().join(STORE_FILE)).unwrap();
    wait_for("3 polls of every channel", || {
        running.channel_ids().iter().all(|c| samples(&store, &format!("log/{c}")).len() >= 3)
    })
    .await;
    for (k, ch) in running.channel_ids().iter().enumerate() {
        for s in samples(&store, &format!("log/{ch}")) {
            let want = expected_value(running.seed(), Personality::HiokiLogger, k, s.t);
            match s.value {
                Value::Number(v) => {
                    assert!((v - want).abs() <= 1e-9 * want.abs().max(1.0), "{ch} at {}: {v} != {want}", s.t)
                }
                other => panic!("{ch} at {}: {other:?}", s.t),
            }
        }
    }
    let connected = store.events(None, Some("log"), 10).unwrap();
    let msg = &connected.iter().find(|e| e.kind == EventKind::Connected).unwrap().message;
    assert!(msg.contains("HIOKI") && msg.contains("LR8450"), "{msg}");
    agent.shutdown().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_recorded_and_polling_resumes() {
    let sim = sim::start(SimConfig { instruments: vec![logger("log", 3, 2)] }).await.unwrap();
    let running = &sim.instruments[0];
    let dir = tempfile::tempdir().unwrap();
    let agent = start_agent(dir.path(), vec![polled_every_second(running.instrument_config())]);
    let store = Store::open_readonly(&dir.path().join(STORE_FILE)).unwrap();
    wait_for("first poll", || !samples(&store, "log/CH1_1").is_empty()).await;
    running.drop_connections();
    wait_for("Disconnected and a second Connected", || {
        count(&store, "log", EventKind::Disconnected) >= 1 && count(&store, "log", EventKind::Connected) >= 2
    })
    .await;
    let n = samples(&store, "log/CH1_1").len();
    wait_for("polls after the reconnect", || samples(&store, "log/CH1_1").len() >= n + 2).await;
    let states = store.instrument_states().unwrap();
    assert_eq!(states[0].state, ConnState::Connected);
    agent.shutdown().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_does_not_delay_a_healthy_instrument() {
    let sim = sim::start(SimConfig { instruments: vec![logger("ok", 1, 2)] }).await.unwrap();
    // A port nobody listens on: bind, note it, close it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut dead = sim.instruments[0].instrument_config();
    dead.id = "dead".into();
    dead.name = None;
    dead.transport = meterdeck_drivers::TransportConfig::Tcp {
        host: "127.0.0.1".into(),
        port: Some(closed),
        timeout: Duration::from_millis(500),
    };
    let dir = tempfile::tempdir().unwrap();
    let agent = start_agent(
        dir.path(),
        vec![polled_every_second(sim.instruments[0].instrument_config()), polled_every_second(dead)],
    );
    let store = Store::open_readonly(&dir.path().join(STORE_FILE)).unwrap();
    wait_for("5 polls of the healthy instrument", || samples(&store, "ok/CH1_1").len() >= 5).await;
    let t: Vec<i64> = samples(&store, "ok/CH1_1").iter().map(|s| s.t).collect();
    assert!(t.windows(2).all(|w| w[1] - w[0] == 1000), "ticks skipped: {t:?}");
    wait_for("the dead one's state", || {
        let states: HashMap<String, ConnState> =
            store.instrument_states().unwrap().into_iter().map(|s| (s.id, s.state)).collect();
        states.get("dead") == Some(&ConnState::Reconnecting)
    })
    .await;
    let ev = store.events(None, Some("dead"), 10).unwrap();
    let disc = ev.iter().find(|e| e.kind == EventKind::Disconnected).unwrap();
    assert!(disc.message.contains(&closed.to_string()), "{}", disc.message);
    agent.shutdown().await.unwrap();
    sim.shutdown().await;
}
