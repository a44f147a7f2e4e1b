//! Cloud sync against a real Mosquitto (started by each test on its own
//! port) and a small fake cloud in the test: a rumqttc subscriber that
//! decodes batches with `wire::decode_batch`, keeps every part by (store,
//! path, seq_from) and answers with acknowledgements. The agent runs
//! in-process on the simulator, with a backlog written before it starts.
//!
//! The real cloud replaces the fake one in the end-to-end tests.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meterdeck_core::agent::{Agent, AgentHandle, AgentOptions, BackoffPolicy};
use meterdeck_core::config::{AgentConfig, AgentSettings, CloudSettings, STORE_FILE};
use meterdeck_core::licence::{self, Gateway, LicenceDoc, Plan, RemotePlan, Trust};
use meterdeck_core::model::{EventKind, Sample};
use meterdeck_core::notify::{MemorySecrets, SecretStore};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_core::sync::Clock;
use meterdeck_core::sync::wire::{self, Ack};
use meterdeck_core::sync::{SyncOptions, SyncStatus, secret_entry};
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimHandle, SimInstrument};
use meterdeck_wire::licence::{public_key_text, sign, signing_key};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

const AGENT: &str = "test-agent_1";
const CLOUD_PASSWORD: &str = "cloud-pw";
const AGENT_SECRET: &str = "s3cret-for-tests";

// ------------------------------------------------------------------ broker

/// A Mosquitto of this test: its own config and port; killed on drop.
struct Broker {
    port: u16,
    /// With TLS: the port of the TLS listener (the plain `port` stays for the fake cloud).
    tls_port: Option<u16>,
    conf: std::path::PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// With `users`, only they may log in (a mosquitto password file).
    fn start_with(users: &[(&str, &str)]) -> Broker {
        Broker::start_full(users, None)
    }

    /// A plain listener for the fake cloud and a TLS one with `pki`'s server certificate.
    fn start_tls(pki: &Pki) -> Broker {
        Broker::start_any(&[], None, Some((pki, false)))
    }

    /// As `start_tls`, and the TLS listener requires a client certificate from `pki`'s CA.
    fn start_mtls(pki: &Pki) -> Broker {
        Broker::start_any(&[], None, Some((pki, true)))
    }

    /// `acl`: a mosquitto ACL file's text.
    fn start_full(users: &[(&str, &str)], acl: Option<&str>) -> Broker {
        Broker::start_any(users, acl, None)
    }

    /// `tls`: the TLS listener's certificates and whether it requires client certificates.
    fn start_any(users: &[(&str, &str)], acl: Option<&str>, tls: Option<(&Pki, bool)>) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let free = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let port = free();
        let conf = dir.path().join("mosquitto.conf");
        let mut text = format!("listener {port} 127.0.0.1\n");
        if tls.is_some() && rustix::process::geteuid().is_root() {
            // Else Mosquitto drops to its own user and cannot read the key in our 0700 tempdir.
            text.insert_str(0, "user root\n");
        }
        let tls_port = tls.map(|(pki, mutual)| {
            let p = free();
            text.push_str(&format!(
                "listener {p} 127.0.0.1\ncertfile {}\nkeyfile {}\n",
                pki.cert.display(),
                pki.key.display()
            ));
            if mutual {
                text.push_str(&format!("require_certificate true\ncafile {}\n", pki.ca.display()));
            }
            p
        });
        text.push_str("persistence false\nlog_dest none\n");
        if users.is_empty() {
            text.push_str("allow_anonymous true\n");
        } else {
            let pw = dir.path().join("passwords");
            for (i, (user, pass)) in users.iter().enumerate() {
                let mut cmd = Command::new("/usr/bin/mosquitto_passwd");
                cmd.arg("-b");
                if i == 0 {
                    cmd.arg("-c");
                }
                let st = cmd.arg(&pw).arg(user).arg(pass).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
                assert!(st.success(), "mosquitto_passwd failed");
            }
            text.push_str(&format!("allow_anonymous false\npassword_file {}\n", pw.display()));
        }
        if let Some(acl) = acl {
            let path = dir.path().join("acl");
            std::fs::write(&path, acl).unwrap();
            text.push_str(&format!("acl_file {}\n", path.display()));
        }
        std::fs::write(&conf, text).unwrap();
        let mut b = Broker { port, tls_port, conf, child: None, _dir: dir };
        b.restart();
        b
    }

    fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let child = Command::new("/usr/sbin/mosquitto")
                .arg("-c")
                .arg(&self.conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto at /usr/sbin/mosquitto");
            self.child = Some(child);
            // Listening yet? (It may also fail to bind a port just freed: retry.)
            let up = Instant::now() + Duration::from_secs(2);
            while Instant::now() < up {
                let listening = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
                if listening(self.port) && self.tls_port.is_none_or(listening) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            self.kill();
            assert!(Instant::now() < deadline, "mosquitto did not start on port {}", self.port);
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

// ------------------------------------------------------------------ TLS

/// A throwaway CA, a broker certificate it signed for 127.0.0.1 and
/// localhost and a client certificate (mutual TLS), as PEM files.
struct Pki {
    ca: std::path::PathBuf,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    client_cert: std::path::PathBuf,
    client_key: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Pki {
    fn new(name: &str) -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
            KeyUsagePurpose,
        };
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        server.distinguished_name.push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = server.signed_by(&key, &issuer).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client.distinguished_name.push(DnType::CommonName, AGENT);
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).unwrap();
        let write = |file: &str, text: String| {
            let p = dir.path().join(file);
            std::fs::write(&p, text).unwrap();
            p
        };
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", cert.pem()),
            key: write("server.key", key.serialize_pem()),
            client_cert: write("client.pem", client_cert.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
            _dir: dir,
        }
    }
}

// ------------------------------------------------------------------ proxy

/// A TCP proxy in front of the broker that can black-hole its connections:
/// they stay open but nothing passes (a dead link no RST reports).
struct Proxy {
    port: u16,
    blackhole: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(to: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let blackhole = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hole = blackhole.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let hole = hole.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    // Once black-holed, a connection stays dead: it reads and drops.
                    let h1 = hole.clone();
                    let up = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        let mut dead = false;
                        loop {
                            use tokio::io::{AsyncReadExt, AsyncWriteExt};
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            dead |= h1.load(Ordering::SeqCst);
                            if !dead && sw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    let h2 = hole.clone();
                    let down = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        let mut dead = false;
                        loop {
                            use tokio::io::{AsyncReadExt, AsyncWriteExt};
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            dead |= h2.load(Ordering::SeqCst);
                            if !dead && cw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! { _ = up => {}, _ = down => {} }
                });
            }
        });
        Proxy { port, blackhole, task }
    }

    fn set_blackhole(&self, on: bool) {
        self.blackhole.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ------------------------------------------------------------------ fake cloud

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ack,
    /// Store but never answer (a lost ack).
    Withhold,
    /// Refuse the next batch, then acknowledge again.
    RefuseNext,
    /// Store, and answer as if for another store of the same agent id
    /// (a second process run with this agent's credentials).
    ForeignStore,
}

type Key = (String, String, i64);

#[derive(Default)]
struct Seen {
    /// (store, path, seq_from) -> (seq_to, samples): what the cloud stored.
    parts: BTreeMap<Key, (i64, Vec<Sample>)>,
    /// How often each part arrived.
    receipts: HashMap<Key, u32>,
    /// Per path, the seq_from of first arrivals, in arrival order.
    first_arrivals: HashMap<String, Vec<i64>>,
    batches: u64,
    /// Distinct batch ids received (resends keep their id).
    batch_ids: std::collections::HashSet<u64>,
    acked: u64,
    refused: Vec<Key>,
}

struct Cloud {
    seen: Mutex<Seen>,
    mode: Mutex<Mode>,
    /// Time spent per batch (a slow cloud keeps the drain going longer).
    delay: Duration,
}

impl Cloud {
    fn new(mode: Mode, delay: Duration) -> Arc<Cloud> {
        Arc::new(Cloud { seen: Mutex::new(Seen::default()), mode: Mutex::new(mode), delay })
    }

    fn set_mode(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    fn batches(&self) -> u64 {
        self.seen.lock().unwrap().batches
    }

    /// What to answer to a payload; `None` = no answer.
    fn take(&self, payload: &[u8]) -> Option<Ack> {
        let batch = match wire::decode_batch(payload) {
            Ok(b) => b,
            Err(e) => return Some(Ack::refused(wire::peek_batch_id(payload), e.0)),
        };
        let mut seen = self.seen.lock().unwrap();
        seen.batches += 1;
        seen.batch_ids.insert(batch.header.batch);
        let mode = {
            let mut m = self.mode.lock().unwrap();
            let now = *m;
            if now == Mode::RefuseNext {
                *m = Mode::Ack;
            }
            now
        };
        let keys: Vec<Key> =
            batch.parts.iter().map(|p| (batch.header.store.clone(), p.path.clone(), p.seq_from)).collect();
        if mode == Mode::RefuseNext {
            seen.refused.extend(keys);
            return Some(Ack::refused(Some(batch.header.batch), "test refusal: channel 0 is not welcome"));
        }
        let mut new = 0;
        for (p, key) in batch.parts.iter().zip(keys) {
            *seen.receipts.entry(key.clone()).or_default() += 1;
            if seen.parts.contains_key(&key) {
                continue;
            }
            let count = p.summary.map_or(0, |s| s.count) as usize;
            let samples = if count == 0 { vec![] } else { wire::decode_block(&p.block, count).unwrap() };
            new += samples.len() as u64;
            seen.first_arrivals.entry(p.path.clone()).or_default().push(p.seq_from);
            seen.parts.insert(key, (p.seq_to, samples));
        }
        if mode == Mode::Withhold {
            return None;
        }
        if mode == Mode::ForeignStore {
            return Some(Ack::stored(batch.header.batch, new).for_store("0123456789abcdef-another-machine"));
        }
        seen.acked += 1;
        Some(Ack::stored(batch.header.batch, new).for_store(&batch.header.store))
    }

    /// Subscribes and answers until aborted; reconnects after broker restarts.
    fn spawn(self: &Arc<Self>, port: u16) -> tokio::task::JoinHandle<()> {
        let cloud = self.clone();
        tokio::spawn(async move {
            let mut mo = MqttOptions::new("fake-cloud", "127.0.0.1", port);
            mo.set_credentials("fake-cloud", CLOUD_PASSWORD);
            mo.set_keep_alive(Duration::from_secs(5)).set_max_packet_size(8 << 20, 64 << 10).set_clean_session(true);
            let (client, mut el) = AsyncClient::new(mo, 1024);
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        client.subscribe("md/v1/+/up/batch", QoS::AtLeastOnce).await.unwrap();
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let Some(agent) = wire::agent_of_topic(&p.topic).map(str::to_string) else { continue };
                        if !cloud.delay.is_zero() {
                            tokio::time::sleep(cloud.delay).await;
                        }
                        if let Some(ack) = cloud.take(&p.payload) {
                            client
                                .publish(wire::ack_topic(&agent), QoS::AtLeastOnce, false, ack.to_json())
                                .await
                                .unwrap();
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
    }
}

// ------------------------------------------------------------------ agent

struct Site {
    dir: tempfile::TempDir,
    sim: Option<SimHandle>,
    agent: Option<AgentHandle>,
}

/// Writes a backlog of `per_channel` samples on 4 channels of `old`, then
/// starts the agent with two simulated loggers polled every second.
async fn start_site(port: u16, per_channel: i64, resend_timeout: Duration) -> Site {
    start_site_with(port, per_channel, resend_timeout, 8 * 1024, 4).await
}

async fn start_site_with(port: u16, per_channel: i64, resend_timeout: Duration, target: usize, window: usize) -> Site {
    start_site_full(port, per_channel, resend_timeout, target, window, None).await
}

async fn start_site_full(
    port: u16,
    per_channel: i64,
    resend_timeout: Duration,
    target: usize,
    window: usize,
    allowance: Option<u64>,
) -> Site {
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set(&secret_entry(AGENT), AGENT_SECRET).unwrap();
    start_site_secrets(port, per_channel, resend_timeout, target, window, allowance, secrets).await
}

async fn start_site_secrets(
    port: u16,
    per_channel: i64,
    resend_timeout: Duration,
    target: usize,
    window: usize,
    allowance: Option<u64>,
    secrets: Arc<MemorySecrets>,
) -> Site {
    let mut cloud = CloudSettings::new("127.0.0.1", port, AGENT);
    cloud.resend_timeout = resend_timeout;
    cloud.window = window;
    cloud.send_interval = Duration::from_millis(300);
    if let Some(a) = allowance {
        cloud.allowance_bytes = a;
    }
    start_site_cloud(cloud, per_channel, target, secrets).await
}

async fn start_site_cloud(cloud: CloudSettings, per_channel: i64, target: usize, secrets: Arc<MemorySecrets>) -> Site {
    start_site_prepared(cloud, per_channel, target, secrets, |_| {}, |_| {}).await
}

/// `prepare` runs on the data directory once the backlog is written, before
/// the agent starts; `tweak` adjusts its options.
async fn start_site_prepared(
    cloud: CloudSettings,
    per_channel: i64,
    target: usize,
    secrets: Arc<MemorySecrets>,
    prepare: impl FnOnce(&Path),
    tweak: impl FnOnce(&mut AgentOptions),
) -> Site {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(&dir.path().join(STORE_FILE), StoreOptions::default()).unwrap();
        store.upsert_instrument("old", "old", "hioki-logger", "tcp://nowhere").unwrap();
        let ids: Vec<_> = (1..=4).map(|c| store.ensure_channel("old", &format!("c{c}"), Some("V")).unwrap()).collect();
        let t0 = 1_700_000_000_000i64;
        for chunk in (0..per_channel).collect::<Vec<_>>().chunks(5000) {
            let mut rows = Vec::new();
            for &i in chunk {
                for (k, id) in ids.iter().enumerate() {
                    let v = ((i as f64 * 12.9898 + k as f64 * 78.233).sin() * 43758.5453).fract();
                    rows.push((*id, Sample::number(t0 + i * 1000, v)));
                }
            }
            store.append(&rows).unwrap();
        }
    }
    prepare(dir.path());
    let insts = ["la", "lb"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut s = SimInstrument::new(*name, Personality::HiokiLogger);
            s.seed = k as u64 + 3;
            s.channels = Some(3);
            s
        })
        .collect();
    let sim = sim::start(SimConfig { instruments: insts }).await.unwrap();
    let configs = sim
        .instruments
        .iter()
        .map(|r| {
            let mut c = r.instrument_config();
            c.poll_interval = Some(Duration::from_secs(1));
            c
        })
        .collect();
    let mut cfg =
        AgentConfig::new(AgentSettings { name: "sync-test".into(), ..AgentSettings::default() }, configs).unwrap();
    cfg.cloud = Some(cloud);
    let opts = AgentOptions {
        settings_every: Duration::from_millis(200),
        commit_linger: Duration::from_millis(5),
        commit_linger_max: Duration::from_millis(50),
        secrets,
        sync: SyncOptions {
            tick: Duration::from_millis(100),
            status_every: Duration::from_millis(300),
            // Small messages: many batches, so the window and resends matter.
            target_payload_bytes: target,
            backoff: BackoffPolicy { base: Duration::from_millis(200), cap: Duration::from_secs(1), jitter: 0.1 },
            // Short: the black-hole test waits for the missing PINGRESP.
            keep_alive: Duration::from_secs(2),
            ..SyncOptions::default()
        },
        ..AgentOptions::default()
    };
    let mut opts = opts;
    tweak(&mut opts);
    let agent = Agent::start(cfg, dir.path(), opts).unwrap();
    Site { dir, sim: Some(sim), agent: Some(agent) }
}

impl Site {
    fn store(&self) -> Store {
        Store::open_readonly(&self.dir.path().join(STORE_FILE)).unwrap()
    }

    /// Stops the instruments: no new samples after this.
    async fn stop_producing(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.shutdown().await;
        }
        if let Some(a) = &self.agent {
            a.flush().await.unwrap();
        }
    }

    async fn stop(&mut self) {
        self.stop_producing().await;
        if let Some(a) = self.agent.take() {
            a.shutdown().await.unwrap();
        }
    }
}

async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn outbox_samples(store: &Store) -> u64 {
    store.outbox_stats().unwrap().samples
}

/// Every sample the agent stored is in the cloud exactly once, per
/// channel in order, with no part overlapping another.
fn assert_exactly_once(store: &Store, cloud: &Cloud, skip: &[Key]) {
    let seen = cloud.seen.lock().unwrap();
    let store_id = store.setting("sync.store_id").unwrap().unwrap();
    let mut total = 0;
    for ch in store.channels().unwrap() {
        let path = ch.path();
        let stored = store.range(ch.id, i64::MIN, i64::MAX).unwrap();
        let mut got = Vec::new();
        let mut next_seq = 0;
        for ((s, p, from), (to, samples)) in seen.parts.range((store_id.clone(), path.clone(), i64::MIN)..) {
            if s != &store_id || p != &path {
                break;
            }
            assert_eq!(*from, next_seq, "{path}: parts must follow each other without gap or overlap");
            next_seq = *to;
            got.extend_from_slice(samples);
        }
        let skipped = skip.iter().filter(|k| k.1 == path).count();
        if skipped == 0 {
            assert_eq!(got.len(), stored.len(), "{path}: cloud holds {} of {} samples", got.len(), stored.len());
            assert_eq!(got, stored, "{path}: same samples in the same order");
        }
        let firsts = seen.first_arrivals.get(&path).cloned().unwrap_or_default();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{path}: parts first arrived out of order: {firsts:?}");
        total += got.len();
    }
    assert!(total > 0);
}

fn refusal_events(store: &Store) -> Vec<String> {
    store
        .events(None, None, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Error && e.message.contains("refused"))
        .map(|e| e.message)
        .collect()
}

fn tempdir_exists(p: &Path) -> bool {
    p.exists()
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_everything_arrives_exactly_once_and_the_outbox_empties() {
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site(broker.port, 30_000, Duration::from_secs(15)).await;
    let store = site.store();
    wait_for("the backlog to drain", 120, || {
        cloud.seen.lock().unwrap().parts.len() > 10 && outbox_samples(&store) < 100
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // live samples keep flowing
    site.stop_producing().await;
    wait_for("the outbox to empty", 60, || outbox_samples(&store) == 0 && store.outbox_stats().unwrap().batches == 0)
        .await;
    assert_exactly_once(&store, &cloud, &[]);
    let seen = cloud.seen.lock().unwrap().batches;
    assert!(seen > 10, "{seen} batches");
    // Status as another process sees it.
    wait_for("the status to show the last ack", 10, || {
        let s = SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();
        s.enabled && s.connected && s.last_ack_ms.is_some() && s.month_bytes > 0 && s.backlog_samples == 0
    })
    .await;
    let s = SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();
    assert_eq!(s.agent.as_deref(), Some(AGENT));
    assert_eq!(s.broker, Some(format!("127.0.0.1:{}", broker.port)));
    assert_eq!(s.allowance_bytes, 1 << 30);
    site.stop().await;
    let after = SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();
    assert!(!after.connected, "a stopped agent is not connected");
    assert!(tempdir_exists(site.dir.path()));
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_a_broker_restart_mid_drain_loses_and_duplicates_nothing() {
    let mut broker = Broker::start();
    let cloud = Cloud::new(Mode::Ack, Duration::from_millis(15));
    let cloud_task = cloud.spawn(broker.port);
    // Short resend timeout: batches the agent publishes before the fake cloud
    // has subscribed again are lost at the broker and go again by timeout.
    let mut site = start_site(broker.port, 60_000, Duration::from_secs(3)).await;
    let store = site.store();
    let before = outbox_samples(&store);
    wait_for("the drain to be under way", 60, || cloud.batches() >= 5).await;
    assert!(outbox_samples(&store) > 0, "still draining when the broker goes");
    broker.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await; // samples keep coming meanwhile
    broker.restart();
    wait_for("the drain to resume", 60, || outbox_samples(&store) < before / 2).await;
    broker.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.restart();
    site.stop_producing().await;
    wait_for("the outbox to empty", 120, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_withheld_acks_delete_nothing_and_batches_are_resent_after_reconnect() {
    let mut broker = Broker::start();
    let cloud = Cloud::new(Mode::Withhold, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    // The resend timeout (4 s) only matters if the agent reconnects before the
    // fake cloud has subscribed again (then its resends are lost at the broker).
    let mut site = start_site(broker.port, 5_000, Duration::from_secs(4)).await;
    let store = site.store();
    let backlog = 4 * 5_000;
    wait_for("a window of batches at the cloud", 60, || cloud.batches() >= 4).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let distinct = cloud.seen.lock().unwrap().batch_ids.len();
    assert_eq!(distinct, 4, "no more than the window goes out without acks");
    assert!(outbox_samples(&store) >= backlog, "nothing left the outbox without an ack");
    // A new connection: everything unacknowledged is sent again.
    broker.kill();
    broker.restart();
    wait_for("the resend", 60, || cloud.seen.lock().unwrap().receipts.values().filter(|n| **n >= 2).count() >= 4).await;
    assert!(outbox_samples(&store) >= backlog, "still nothing deleted");
    cloud.set_mode(Mode::Ack);
    site.stop_producing().await;
    wait_for("the outbox to empty", 120, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_a_refused_batch_is_parked_and_recorded() {
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::RefuseNext, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site(broker.port, 2_000, Duration::from_secs(2)).await;
    let store = site.store();
    wait_for("the refusal event", 60, || !refusal_events(&store).is_empty()).await;
    let ev = refusal_events(&store);
    assert!(ev[0].contains("test refusal"), "{ev:?}");
    site.stop_producing().await;
    let refused = cloud.seen.lock().unwrap().refused.clone();
    assert!(!refused.is_empty());
    // Everything else drains; the refused rows stay, unsent.
    let refused_samples: i64 = {
        let store_id = store.setting("sync.store_id").unwrap().unwrap();
        assert!(refused.iter().all(|k| k.0 == store_id));
        refused.len() as i64
    };
    wait_for("all but the parked rows to drain", 60, || {
        store.outbox_stats().unwrap().batches == refused_samples as u64
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // longer than the resend timeout
    {
        let seen = cloud.seen.lock().unwrap();
        for k in &refused {
            assert!(!seen.receipts.contains_key(k), "parked part {k:?} was sent again");
        }
    }
    assert_eq!(store.outbox_stats().unwrap().batches, refused.len() as u64, "parked rows are kept");
    let s = SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();
    assert!(s.last_error.as_deref().is_some_and(|e| e.contains("refused")), "{:?}", s.last_error);
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_the_traffic_notice_fires_once_at_90_percent() {
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site_full(broker.port, 2_000, Duration::from_secs(15), 8 * 1024, 4, Some(20_000)).await;
    let store = site.store();
    let notices = |store: &Store| {
        store
            .events(None, None, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.message.contains("monthly traffic allowance"))
            .count()
    };
    wait_for("the traffic notice", 60, || notices(&store) > 0).await;
    site.stop_producing().await;
    wait_for("the outbox to empty", 60, || store.outbox_stats().unwrap().batches == 0).await;
    assert_eq!(notices(&store), 1, "once a month");
    let conn = rusqlite::Connection::open_with_flags(
        site.dir.path().join(STORE_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let notes = meterdeck_core::notify::centre::list(&conn, false, None).unwrap();
    let month = meterdeck_core::sync::status::month_of(meterdeck_core::agent::now_ms());
    let ours: Vec<_> = notes.iter().filter(|n| n.id == format!("sync-traffic:{month}")).collect();
    assert_eq!(ours.len(), 1, "{notes:?}");
    assert!(ours[0].body.contains("allowance"), "{}", ours[0].body);
    wait_for("the month's bytes in the status", 10, || {
        SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap().month_bytes >= 18_000
    })
    .await;
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f_a_refused_login_is_shown_and_a_new_secret_is_used_without_restart() {
    let broker = Broker::start_with(&[(AGENT, AGENT_SECRET), ("fake-cloud", CLOUD_PASSWORD)]);
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set(&secret_entry(AGENT), "not-the-secret").unwrap();
    let mut site =
        start_site_secrets(broker.port, 1_000, Duration::from_secs(15), 8 * 1024, 4, None, secrets.clone()).await;
    let store = site.store();
    let status = |store: &Store| SyncStatus::read(store, None, meterdeck_core::agent::now_ms()).unwrap();
    wait_for("the refused login in the status", 30, || {
        status(&store).last_error.is_some_and(|e| e.contains("refused the login"))
    })
    .await;
    assert!(!status(&store).connected);
    assert_eq!(cloud.batches(), 0);
    assert!(!status(&store).last_error.unwrap_or_default().contains("not-the-secret"), "no secret in the status");
    // What `cloud login --check` does.
    let settings = CloudSettings::new("127.0.0.1", broker.port, AGENT);
    let e = meterdeck_core::sync::check_login(&settings, "nope", Duration::from_secs(5)).await.unwrap_err().to_string();
    assert!(e.contains("refused the login") && !e.contains("nope"), "{e}");
    meterdeck_core::sync::check_login(&settings, AGENT_SECRET, Duration::from_secs(5)).await.unwrap();
    // `cloud login` with the right secret, while the agent runs.
    secrets.set(&secret_entry(AGENT), AGENT_SECRET).unwrap();
    site.stop_producing().await;
    wait_for("the outbox to empty", 60, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_an_acl_without_the_ack_topic_shows_in_the_status() {
    // The agent may publish its batches but not read its acks.
    let acl = "pattern write md/v1/%u/up/#\nuser fake-cloud\ntopic readwrite md/v1/#\n";
    let broker = Broker::start_full(&[(AGENT, AGENT_SECRET), ("fake-cloud", CLOUD_PASSWORD)], Some(acl));
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site(broker.port, 1_000, Duration::from_secs(1)).await;
    let store = site.store();
    // Mosquitto grants the subscription and drops the acks silently (a broker
    // that refuses it in the SUBACK is named at once): after a few resends
    // the status says what is wrong.
    wait_for("the missing acks in the status", 30, || {
        SyncStatus::read(&store, None, meterdeck_core::agent::now_ms())
            .unwrap()
            .last_error
            .is_some_and(|e| e.contains("no acknowledgement") && e.contains("ACL"))
    })
    .await;
    wait_for("batches at the cloud", 30, || cloud.batches() > 0).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(outbox_samples(&store) >= 4_000, "no ack reached the agent: nothing deleted");
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h_a_black_holed_link_is_noticed_and_the_drain_resumes() {
    let broker = Broker::start();
    let proxy = Proxy::start(broker.port).await;
    let cloud = Cloud::new(Mode::Ack, Duration::from_millis(15));
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site(proxy.port, 40_000, Duration::from_secs(3)).await;
    let store = site.store();
    let status = |store: &Store| SyncStatus::read(store, None, meterdeck_core::agent::now_ms()).unwrap();
    wait_for("the drain to be under way", 60, || cloud.batches() >= 3).await;
    proxy.set_blackhole(true);
    // Keep-alive 2 s: the dead link is noticed without any RST.
    wait_for("the lost link in the status", 30, || !status(&store).connected).await;
    let stuck = outbox_samples(&store);
    proxy.set_blackhole(false);
    wait_for("the drain to resume", 60, || outbox_samples(&store) < stuck).await;
    site.stop_producing().await;
    wait_for("the outbox to empty", 120, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    site.stop().await;
    cloud_task.abort();
}

/// The agent with `tls = true` and the test CA in `ca_file`, against a
/// Mosquitto TLS listener with a certificate that CA signed.
fn tls_settings(broker: &Broker, ca: &Path) -> CloudSettings {
    let mut cloud = CloudSettings::new("127.0.0.1", broker.tls_port.expect("a TLS listener"), AGENT);
    cloud.tls = true;
    cloud.ca_file = Some(ca.to_owned());
    cloud.resend_timeout = Duration::from_secs(15);
    cloud.window = 4;
    cloud.send_interval = Duration::from_millis(300);
    cloud
}

fn agent_secrets() -> Arc<MemorySecrets> {
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set(&secret_entry(AGENT), AGENT_SECRET).unwrap();
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i_over_tls_batches_are_acknowledged_end_to_end() {
    let pki = Pki::new("right");
    let broker = Broker::start_tls(&pki);
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let settings = tls_settings(&broker, &pki.ca);
    // What `cloud login --check --ca-file` does, over TLS.
    meterdeck_core::sync::check_login(&settings, AGENT_SECRET, Duration::from_secs(5)).await.unwrap();
    // Plain MQTT to the TLS listener: refused, with a hint.
    let plain = CloudSettings { tls: false, ca_file: None, ..settings.clone() };
    let e =
        meterdeck_core::sync::check_login(&plain, AGENT_SECRET, Duration::from_secs(5)).await.unwrap_err().to_string();
    assert!(e.contains("--tls"), "{e}");
    let mut site = start_site_cloud(settings, 3_000, 8 * 1024, agent_secrets()).await;
    let store = site.store();
    wait_for("acknowledged batches", 60, || cloud.seen.lock().unwrap().acked > 0).await;
    site.stop_producing().await;
    wait_for("the outbox to empty", 60, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    wait_for("the status to show the TLS link and the last ack", 10, || {
        let s = SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();
        s.connected && s.last_ack_ms.is_some() && s.last_error.is_none()
    })
    .await;
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j_a_broker_certificate_from_another_ca_is_refused_and_nothing_leaves_the_outbox() {
    let pki = Pki::new("broker");
    let other = Pki::new("other");
    let broker = Broker::start_tls(&pki);
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let settings = tls_settings(&broker, &other.ca);
    let e = meterdeck_core::sync::check_login(&settings, AGENT_SECRET, Duration::from_secs(5))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("TLS") && e.contains("certificate"), "{e}");
    let mut site = start_site_cloud(settings, 1_000, 8 * 1024, agent_secrets()).await;
    let store = site.store();
    let status = |store: &Store| SyncStatus::read(store, None, meterdeck_core::agent::now_ms()).unwrap();
    wait_for("the TLS error in the status", 30, || {
        status(&store).last_error.is_some_and(|e| e.contains("TLS handshake failed") && e.contains("certificate"))
    })
    .await;
    let err = status(&store).last_error.unwrap();
    assert!(err.contains(&format!("127.0.0.1:{}", broker.tls_port.unwrap())), "names the broker: {err}");
    assert!(!status(&store).connected);
    site.stop_producing().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(cloud.batches(), 0, "nothing reached the cloud");
    assert!(outbox_samples(&store) >= 4 * 1_000, "nothing left the outbox");
    site.stop().await;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k_a_broker_that_requires_mutual_tls_takes_the_client_certificate() {
    let pki = Pki::new("mutual");
    let broker = Broker::start_mtls(&pki);
    let mut settings = tls_settings(&broker, &pki.ca);
    let e = meterdeck_core::sync::check_login(&settings, AGENT_SECRET, Duration::from_secs(5))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("127.0.0.1:{}", broker.tls_port.unwrap())), "{e}");
    settings.client_cert = Some(pki.client_cert.clone());
    settings.client_key = Some(pki.client_key.clone());
    meterdeck_core::sync::check_login(&settings, AGENT_SECRET, Duration::from_secs(5)).await.unwrap();
}

/// A rough figure, not a gate: `cargo test -p meterdeck-core --test sync_mqtt -- --ignored --nocapture`
/// (debug builds are several times slower than release).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn drain_throughput() {
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let per_channel = 250_000;
    let started = Instant::now();
    let mut site =
        start_site_with(broker.port, per_channel, Duration::from_secs(15), wire::TARGET_PAYLOAD_BYTES, 8).await;
    let store = site.store();
    let t0 = Instant::now();
    println!("backlog of {} samples written in {:?}", 4 * per_channel, t0 - started);
    wait_for("the backlog at the cloud", 600, || {
        cloud.seen.lock().unwrap().parts.values().map(|p| p.1.len() as i64).sum::<i64>() >= 4 * per_channel
    })
    .await;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{{\"agent_drain_samples_per_s\": {:.0}, \"batches\": {}}}",
        (4 * per_channel) as f64 / secs,
        cloud.batches()
    );
    site.stop().await;
    let _ = store;
    cloud_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l_acks_for_another_store_release_nothing_and_are_named() {
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::ForeignStore, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let mut site = start_site(broker.port, 2_000, Duration::from_secs(2)).await;
    let store = site.store();
    wait_for("the other process named in the status", 30, || {
        SyncStatus::read(&store, None, meterdeck_core::agent::now_ms())
            .unwrap()
            .last_error
            .is_some_and(|e| e.contains("another process syncs") && e.contains(AGENT))
    })
    .await;
    assert!(cloud.batches() >= 1);
    assert!(outbox_samples(&store) >= 4 * 2_000, "acks of another store deleted nothing");
    // The real acks: the resends drain everything, exactly once.
    cloud.set_mode(Mode::Ack);
    site.stop_producing().await;
    wait_for("the outbox to empty", 120, || store.outbox_stats().unwrap().batches == 0).await;
    assert_exactly_once(&store, &cloud, &[]);
    site.stop().await;
    cloud_task.abort();
}

// ------------------------------------------------------------ traffic cap

/// A gateway licence whose Remote plan allows `bytes` a month (a signed
/// document may carry any allowance: small here so the test reaches it).
fn gateway_licence(serial: &str, plan: RemotePlan, bytes: u64, issued_at: i64) -> LicenceDoc {
    let mut limits = plan.limits();
    limits.traffic_bytes_per_month = bytes;
    LicenceDoc {
        serial: serial.into(),
        account: "acme".into(),
        plan: Plan::Standard,
        limits: Plan::Standard.limits(),
        expires: Some(issued_at + 365 * 86_400_000),
        gateways: vec![Gateway { agent: AGENT.into(), plan, limits, expires: issued_at + 365 * 86_400_000 }],
        issued_at,
    }
}

/// The interface's `GET /api/v1/licence`, serving what `licence` holds.
async fn licence_api(licence: Arc<Mutex<String>>) -> String {
    let app = axum::Router::new()
        .route("/api/v1/licence", axum::routing::get(move || async move { licence.lock().unwrap().clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m_a_gateway_stops_at_its_allowance_and_resumes_next_month_or_with_a_new_licence() {
    const CAP: u64 = 25_000;
    let broker = Broker::start();
    let cloud = Cloud::new(Mode::Ack, Duration::ZERO);
    let cloud_task = cloud.spawn(broker.port);
    let key = signing_key(&[3; 32]);
    let now = meterdeck_core::agent::now_ms();
    let licence = Arc::new(Mutex::new(sign(&gateway_licence("L-1", RemotePlan::Basic, CAP, now), &key)));
    let api = licence_api(licence.clone()).await;
    // The traffic month's clock, moved forward by the test.
    let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let clock = {
        let offset = offset.clone();
        Clock(Arc::new(move || meterdeck_core::agent::now_ms() + offset.load(std::sync::atomic::Ordering::SeqCst)))
    };
    let mut settings = CloudSettings::new("127.0.0.1", broker.port, AGENT);
    settings.send_interval = Duration::from_millis(300);
    settings.api = Some(api);
    settings.account = Some("acme".into());
    settings.licence_key = Some(public_key_text(&key.verifying_key()));
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set(&secret_entry(AGENT), AGENT_SECRET).unwrap();
    // The licence in force at start (as fetched on an earlier day).
    let first = licence.lock().unwrap().clone();
    let prepare = |dir: &Path| {
        let mut store =
            Store::open_with(&dir.join(STORE_FILE), StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)
                .unwrap();
        let trust = Trust::from_text(&public_key_text(&key.verifying_key()), Some("acme")).unwrap();
        licence::accept(&mut store, &first, &trust, now, licence::Source::Fetched).unwrap();
    };
    let tweak = |o: &mut AgentOptions| {
        o.sync.clock = clock.clone();
        o.licence_every = Duration::from_millis(500);
    };
    let mut site = start_site_prepared(settings, 10_000, 4 * 1024, secrets, prepare, tweak).await;
    let store = site.store();
    let status = || SyncStatus::read(&store, None, meterdeck_core::agent::now_ms()).unwrap();

    // 100 % of the month: publishing stops, the outbox keeps everything.
    wait_for("the pause at the allowance", 60, || status().paused.is_some()).await;
    let s = status();
    assert!(s.paused.as_deref().unwrap().contains("Remote Basic allowance"), "{s:?}");
    assert_eq!((s.allowance_bytes, s.allowance_plan.as_deref()), (CAP, Some("Remote Basic")));
    assert!(s.render(now).contains("cloud sync paused"), "{}", s.render(now));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (bytes, batches) = (status().month_bytes, cloud.batches());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((status().month_bytes, cloud.batches()), (bytes, batches), "nothing published while paused");
    // Stops at the first batch that reaches it.
    assert!(bytes >= CAP && bytes < CAP + wire::MAX_PAYLOAD_BYTES as u64, "stops at the allowance: {bytes}");
    let waiting = outbox_samples(&store);
    assert!(waiting > 10_000, "the backlog waits in the outbox: {waiting}");

    // The month turns: it resumes, and stops again at the new month's allowance.
    let next = meterdeck_core::sync::traffic::next_month_start(meterdeck_core::agent::now_ms());
    offset.store(next - meterdeck_core::agent::now_ms() + 1000, std::sync::atomic::Ordering::SeqCst);
    wait_for("the new month's sending", 30, || cloud.batches() > batches).await;
    let month = meterdeck_core::sync::status::month_of(next);
    wait_for("the pause in the new month", 60, || status().paused.is_some_and(|p| p.contains(&month))).await;
    assert!(outbox_samples(&store) > 0, "more than one month's allowance was waiting");

    // A Remote Pro licence from the cloud lifts it: everything drains.
    *licence.lock().unwrap() =
        sign(&gateway_licence("L-2", RemotePlan::Pro, 5_000_000_000, meterdeck_core::agent::now_ms()), &key);
    wait_for("the resume with the new licence", 30, || status().paused.is_none()).await;
    site.stop_producing().await;
    wait_for("the outbox to empty", 60, || store.outbox_stats().unwrap().batches == 0).await;
    assert_eq!(status().allowance_plan.as_deref(), Some("Remote Pro"));
    assert_exactly_once(&store, &cloud, &[]);
    let twice = cloud.seen.lock().unwrap().receipts.values().filter(|n| **n > 1).count();
    assert_eq!(twice, 0, "parts arrived twice");
    site.stop().await;
    cloud_task.abort();
}
