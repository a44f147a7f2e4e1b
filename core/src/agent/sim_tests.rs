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

/// Control commands from the window (the handle) and from the command line
/// (a request in the store) reach the simulator while polling goes on; the
/// simulator's state is checked after each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_commands_reach_the_instrument_while_it_is_polled() {
    use crate::control::requests::{add_request, find_result};
    use crate::control::{CONTROL_REQUESTS_KEY, CONTROL_RESULTS_KEY, ControlAction, ControlRequest};

    let sim = sim::start(SimConfig { instruments: vec![logger("log", 5, 2)] }).await.unwrap();
    let running = &sim.instruments[0];
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = running.instrument_config();
    cfg.poll_interval = Some(Duration::from_millis(200));
    let agent = start_agent(dir.path(), vec![cfg]);
    let store = Store::open_readonly(&dir.path().join(STORE_FILE)).unwrap();
    wait_for("first poll", || !samples(&store, "log/CH1_1").is_empty()).await;

    agent.control_instrument("log", ControlAction::Stop).await.unwrap();
    assert!(!running.control_state().running);
    let polls = samples(&store, "log/CH1_1").len();
    let out = agent.control_instrument("log", ControlAction::Restart).await.unwrap();
    assert_eq!(out.message, "measurement restarted");
    let s = running.control_state();
    assert!(s.running && s.starts == 1, "{s:?}");
    agent.control_instrument("log", ControlAction::SetClock).await.unwrap();
    assert!((running.control_state().clock - chrono::Utc::now()).num_seconds().abs() <= 2);

    let read = agent.control_instrument("log", ControlAction::ReadSettings).await.unwrap();
    assert_eq!(read.settings.len(), 3);
    let mut profile = read.settings.clone();
    profile[0].value = "0.5".into();
    let pushed = agent.control_instrument("log", ControlAction::PushProfile { settings: profile }).await.unwrap();
    assert_eq!(pushed.changed.len(), 1, "{pushed:?}");
    assert_eq!(running.control_state().settings[0], "0.5");
    let err = agent.control_instrument("nope", ControlAction::Start).await.unwrap_err();
    assert!(err.to_string().contains("unknown or disabled instrument `nope`"), "{err}");

    // From the command line: a request in the store, the result under its id.
    let mut rw = Store::open(&dir.path().join(STORE_FILE), crate::store::StoreOptions::default()).unwrap();
    let req = ControlRequest { id: "r1".into(), instrument: "log".into(), action: ControlAction::Stop, at: now_ms() };
    rw.set_setting(CONTROL_REQUESTS_KEY, &add_request(None, req)).unwrap();
    wait_for("the request's result", || {
        find_result(store.setting(CONTROL_RESULTS_KEY).unwrap().as_deref(), "r1").is_some()
    })
    .await;
    let res = find_result(store.setting(CONTROL_RESULTS_KEY).unwrap().as_deref(), "r1").unwrap();
    assert_eq!(res.result.unwrap().message, "measurement stopped");
    assert!(!running.control_state().running);

    wait_for("polling went on", || samples(&store, "log/CH1_1").len() >= polls + 3).await;
    assert!(count(&store, "log", EventKind::Control) >= 4);
    agent.shutdown().await.unwrap();
    sim.shutdown().await;
}
