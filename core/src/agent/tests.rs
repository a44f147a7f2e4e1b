//! Runtime tests with scripted in-process drivers (the simulator-backed
//! tests are in `sim_tests`). No timing assertions: tests wait for
//! conditions with a generous deadline.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use meterdeck_drivers::families::hioki_logger;
use meterdeck_drivers::{
    ChannelConfig, ChannelInfo, Driver, DriverError, Family, Identity, InstrumentConfig, Reading, TransportConfig,
};

use super::*;
use crate::config::{AgentConfig, AgentSettings, STORE_FILE};
use crate::model::{ConnState, EventKind, SpecialKind, Value};
use crate::store::Store;

/// What a scripted instrument does next.
#[derive(Default)]
pub(crate) struct Script {
    /// Connect attempts fail while set (a closed port).
    pub dead: AtomicBool,
    /// Connect attempts hang while set (a black-holed host).
    pub hang: AtomicBool,
    /// The next N reads fail with a link error.
    pub drop_reads: AtomicU32,
    /// The next N reads fail with a bad reply.
    pub bad_reads: AtomicU32,
    pub connects: AtomicU32,
    pub reads: AtomicU64,
    pub raw: Mutex<Vec<String>>,
}

struct Scripted {
    id: String,
    script: Arc<Script>,
}

/// The value a scripted instrument serves for channel `i` at poll `n`.
fn served(i: usize, n: u64) -> f64 {
    i as f64 * 100.0 + n as f64 * 0.5
}

#[async_trait]
impl Driver for Scripted {
    fn family(&self) -> Family {
        hioki_logger::FAMILY
    }
    async fn identify(&mut self) -> Result<Identity, DriverError> {
        Ok(Identity { maker: "TEST".into(), model: "FAKE-1".into(), serial: self.id.clone(), firmware: "1.0".into() })
    }
    fn channels(&self) -> Vec<ChannelInfo> {
        vec![]
    }
    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>, DriverError> {
        if take_one(&self.script.drop_reads) {
            return Err(DriverError::Closed { target: self.id.clone() });
        }
        if take_one(&self.script.bad_reads) {
            return Err(DriverError::BadReply {
                command: ":MEM:GETR".into(),
                reply: "#@!".into(),
                reason: "garbage".into(),
            });
        }
        let n = self.script.reads.fetch_add(1, Ordering::SeqCst);
        Ok(channels.iter().enumerate().map(|(i, c)| Reading::new(c.clone(), Value::Number(served(i, n)))).collect())
    }
    async fn raw(&mut self, command: &str) -> Result<Option<String>, DriverError> {
        self.script.raw.lock().unwrap().push(command.to_string());
        Ok(command.ends_with('?').then(|| "RUN".to_string()))
    }
}

fn take_one(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1)).is_ok()
}

pub(crate) fn scripted_connector(scripts: HashMap<String, Arc<Script>>) -> Connector {
    let scripts = Arc::new(scripts);
    Arc::new(move |cfg: InstrumentConfig| {
        let scripts = scripts.clone();
        Box::pin(async move {
            let Some(script) = scripts.get(&cfg.id).cloned() else {
                return Err(DriverError::Config(format!("no script for {}", cfg.id)));
            };
            script.connects.fetch_add(1, Ordering::SeqCst);
            if script.hang.load(Ordering::SeqCst) {
                futures::future::pending::<()>().await;
            }
            if script.dead.load(Ordering::SeqCst) {
                return Err(DriverError::Connect {
                    target: cfg.target(),
                    source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
                });
            }
            Ok(Box::new(Scripted { id: cfg.id.clone(), script }) as Box<dyn Driver>)
        }) as ConnectFuture
    })
}

fn instrument(id: &str, channels: usize) -> InstrumentConfig {
    InstrumentConfig {
        id: id.into(),
        name: None,
        family: hioki_logger::FAMILY,
        transport: TransportConfig::Tcp {
            host: "192.0.2.1".into(),
            port: Some(8802),
            timeout: Duration::from_millis(300),
        },
        terminator: "\n".into(),
        unit_id: 1,
        error_query: None,
        error_format: None,
        select: None,
        select_reply: None,
        sentinels: vec![],
        poll_interval: Some(Duration::from_secs(1)),
        enabled: true,
        set_clock_on_connect: false,
        start_on_connect: false,
        settings: Vec::new(),
        channels: (1..=channels)
            .map(|c| ChannelConfig { unit: Some("V".into()), ..ChannelConfig::new(format!("CH1_{c}")) })
            .collect(),
    }
}

pub(crate) fn fast_options(connector: Connector) -> AgentOptions {
    AgentOptions {
        backoff: BackoffPolicy { base: Duration::from_millis(50), cap: Duration::from_millis(200), jitter: 0.1 },
        settings_every: Duration::from_millis(100),
        state_flush_every: Duration::from_millis(100),
        connector,
        ..AgentOptions::default()
    }
}

/// Polls `cond` until it holds; panics with `what` after 20 s.
pub(crate) async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn reader(dir: &Path) -> Store {
    Store::open_readonly(&dir.join(STORE_FILE)).unwrap()
}

fn samples_of(store: &Store, path: &str) -> Vec<crate::model::Sample> {
    match store.find_channel(path).unwrap() {
        Some(ch) => store.range(ch.id, 0, i64::MAX).unwrap(),
        None => vec![],
    }
}

fn events(store: &Store, id: &str, kind: EventKind) -> usize {
    store.events(None, Some(id), 10_000).unwrap().iter().filter(|e| e.kind == kind).count()
}

fn start(dir: &Path, insts: Vec<InstrumentConfig>, scripts: &[(&str, Arc<Script>)]) -> AgentHandle {
    let scripts = scripts.iter().map(|(id, s)| (id.to_string(), s.clone())).collect();
    let cfg = AgentConfig::new(AgentSettings::default(), insts).unwrap();
    Agent::start(cfg, dir, fast_options(scripted_connector(scripts))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_are_stored_on_aligned_ticks_with_served_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(Script::default());
    let agent = start(dir.path(), vec![instrument("a", 3)], &[("a", script.clone())]);
    let mut live = agent.subscribe();
    let store = reader(dir.path());
    wait_for("3 polls", || samples_of(&store, "a/CH1_3").len() >= 3).await;
    agent.flush().await.unwrap();
    for c in 1..=3 {
        let samples = samples_of(&store, &format!("a/CH1_{c}"));
        for (n, s) in samples.iter().enumerate() {
            assert_eq!(s.t % 1000, 0, "tick-stamped");
            assert_eq!(s.value, Value::Number(served(c - 1, n as u64)));
            if n > 0 {
                assert!(s.t > samples[n - 1].t);
            }
        }
    }
    let ch = store.find_channel("a/CH1_1").unwrap().unwrap();
    assert_eq!(ch.unit.as_deref(), Some("V"));
    // Live updates carry the same readings.
    let update = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(LiveUpdate::Readings { instrument, values, .. }) = live.recv().await {
                break (instrument, values);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(update.0, "a");
    assert_eq!(update.1.len(), 3);
    assert_eq!(events(&store, "a", EventKind::Connected), 1);
    agent.shutdown().await.unwrap();
    let store = reader(dir.path());
    let stopped = store.events(None, None, 100).unwrap();
    assert!(stopped.iter().any(|e| e.kind == EventKind::AgentStopped));
    let states = store.instrument_states().unwrap();
    assert_eq!(states[0].state, ConnState::Stopped);
    assert!(states[0].last_poll.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_link_is_recorded_and_polling_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(Script::default());
    let agent = start(dir.path(), vec![instrument("a", 2)], &[("a", script.clone())]);
    let store = reader(dir.path());
    wait_for("first poll", || script.reads.load(Ordering::SeqCst) >= 1).await;
    script.drop_reads.store(1, Ordering::SeqCst);
    wait_for("disconnect and reconnect", || {
        events(&store, "a", EventKind::Disconnected) == 1 && events(&store, "a", EventKind::Connected) == 2
    })
    .await;
    let before = samples_of(&store, "a/CH1_1").len();
    wait_for("polls after the reconnect", || samples_of(&store, "a/CH1_1").len() >= before + 2).await;
    let ev = store.events(None, Some("a"), 100).unwrap();
    let disc = ev.iter().find(|e| e.kind == EventKind::Disconnected).unwrap();
    assert!(disc.message.contains("connection closed"), "{}", disc.message);
    let conn = ev.iter().find(|e| e.kind == EventKind::Connected).unwrap();
    assert!(conn.message.contains("after: "), "{}", conn.message);
    assert_eq!(script.connects.load(Ordering::SeqCst), 2);
    agent.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instrument_does_not_delay_a_healthy_one() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = Arc::new(Script::default());
    let refused = Arc::new(Script { dead: AtomicBool::new(true), ..Script::default() });
    let hung = Arc::new(Script { hang: AtomicBool::new(true), ..Script::default() });
    let agent = start(
        dir.path(),
        vec![instrument("ok", 2), instrument("refused", 2), instrument("hung", 2)],
        &[("ok", healthy.clone()), ("refused", refused.clone()), ("hung", hung.clone())],
    );
    let store = reader(dir.path());
    wait_for("4 polls of the healthy instrument", || samples_of(&store, "ok/CH1_1").len() >= 4).await;
    wait_for("the dead ones to be retried", || {
        refused.connects.load(Ordering::SeqCst) >= 2 && hung.connects.load(Ordering::SeqCst) >= 2
    })
    .await;
    // Consecutive ticks: no poll of the healthy one was skipped.
    let t: Vec<i64> = samples_of(&store, "ok/CH1_1").iter().map(|s| s.t).collect();
    assert!(t.windows(2).all(|w| w[1] - w[0] == 1000), "{t:?}");
    assert!(samples_of(&store, "refused/CH1_1").is_empty());
    let states: HashMap<String, ConnState> =
        store.instrument_states().unwrap().into_iter().map(|s| (s.id.clone(), s.state)).collect();
    assert_eq!(states["ok"], ConnState::Connected);
    assert_eq!(states["refused"], ConnState::Reconnecting);
    // One Disconnected event per outage, not one per attempt.
    assert_eq!(events(&store, "refused", EventKind::Disconnected), 1);
    let reason = store.instrument_states().unwrap().into_iter().find(|s| s.id == "hung").unwrap().reason;
    assert!(reason.unwrap_or_default().contains("no answer within"));
    agent.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reply_stores_no_data_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(Script::default());
    let agent = start(dir.path(), vec![instrument("a", 2)], &[("a", script.clone())]);
    let store = reader(dir.path());
    wait_for("first poll", || script.reads.load(Ordering::SeqCst) >= 1).await;
    script.bad_reads.store(1, Ordering::SeqCst);
    wait_for("a NoData sample", || {
        samples_of(&store, "a/CH1_2").iter().any(|s| s.value == Value::Special(SpecialKind::NoData))
    })
    .await;
    let n = script.reads.load(Ordering::SeqCst);
    wait_for("polls after the bad reply", || script.reads.load(Ordering::SeqCst) > n).await;
    assert_eq!(script.connects.load(Ordering::SeqCst), 1, "the link was kept");
    assert_eq!(events(&store, "a", EventKind::Error), 1);
    assert_eq!(events(&store, "a", EventKind::Disconnected), 0);
    agent.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_commands_and_fast_monitor_requests_reach_the_instrument() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(Script::default());
    let mut slow = instrument("a", 1);
    slow.poll_interval = Some(Duration::from_secs(60));
    let agent = start(dir.path(), vec![slow], &[("a", script.clone())]);
    let mut live = agent.subscribe();
    let store = reader(dir.path());
    wait_for("connected", || events(&store, "a", EventKind::Connected) == 1).await;
    assert_eq!(agent.raw("a", ":STATus?").await.unwrap(), Some("RUN".to_string()));
    assert_eq!(agent.raw("a", ":STARt").await.unwrap(), None);
    assert!(matches!(agent.raw("nope", "*IDN?").await, Err(AgentError::UnknownInstrument(_))));
    assert_eq!(script.raw.lock().unwrap().len(), 2);

    // From the CLI: a request written to the settings by another connection.
    let mut cli = Store::open(&dir.path().join(STORE_FILE), crate::store::StoreOptions::default()).unwrap();
    let request = fast_monitor::add_request(None, "a", FastRequest { on: true, at: now_ms() });
    cli.set_setting(FAST_REQUESTS_KEY, &request).unwrap();
    let until = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(LiveUpdate::FastMonitor { until, .. }) = live.recv().await {
                break until;
            }
        }
    })
    .await
    .unwrap();
    assert!(until.is_some());
    agent.set_fast_monitor("a", false).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(LiveUpdate::FastMonitor { until: None, .. }) = live.recv().await {
                break;
            }
        }
    })
    .await
    .unwrap();
    agent.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_instruments_are_listed_but_not_polled() {
    let dir = tempfile::tempdir().unwrap();
    let script = Arc::new(Script::default());
    let mut off = instrument("off", 1);
    off.enabled = false;
    let agent = start(dir.path(), vec![instrument("a", 1), off], &[("a", script.clone()), ("off", script.clone())]);
    assert_eq!(agent.instruments(), vec!["a".to_string()]);
    let store = reader(dir.path());
    let off_state = store.instrument_states().unwrap().into_iter().find(|s| s.id == "off").unwrap();
    assert_eq!(off_state.state, ConnState::Stopped);
    agent.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_agent_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), vec![], &[]);
    let cfg = AgentConfig::new(AgentSettings::default(), vec![]).unwrap();
    let second = Agent::start(cfg, dir.path(), AgentOptions::default());
    assert!(matches!(second, Err(AgentError::AlreadyRunning { .. })));
    first.shutdown().await.unwrap();
    let cfg = AgentConfig::new(AgentSettings::default(), vec![]).unwrap();
    Agent::start(cfg, dir.path(), AgentOptions::default()).unwrap().shutdown().await.unwrap();
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = AgentConfig::new(AgentSettings::default(), vec![]).unwrap();
    assert!(matches!(Agent::start(cfg, dir.path(), AgentOptions::default()), Err(AgentError::NoRuntime)));
}
