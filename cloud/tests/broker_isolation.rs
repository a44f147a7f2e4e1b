//! One tenant's agent must not disturb another's sync (issue 19), against
//! a real Mosquitto: while agent A syncs through the managed broker and the
//! cloud's ingest, agent B, logged in with its own real secret, keeps
//! connecting with A's client id and joins shared subscriptions of the
//! batch topics; every batch of A is acknowledged in time and A's session
//! is never closed. And the start-up self-test of an external broker
//! refuses a Mosquitto that lets one login take over another's session,
//! and passes the configuration docs/broker.md gives.
//! Run: `cargo test -p meterdeck-cloud --test broker_isolation`.

mod api_support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use api_support::Env;
use meterdeck_cloud::broker::{Broker, BrokerFiles, BrokerMode, CLOUD_BROKER_USER, random_secret};
use meterdeck_cloud::broker_check::{self, CheckError};
use meterdeck_cloud::ingest::{self, IngestConfig, IngestStats};
use meterdeck_wire::Sample;
use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{self as wire, Ack, PartIn};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn good_batch(id: u64) -> Vec<u8> {
    let t0 = 1_800_000_000_000 + id as i64 * 100_000;
    let samples: Vec<Sample> = (0..200).map(|i| Sample::number(t0 + i * 100, i as f64)).collect();
    let seq = id as i64 * 1_000;
    let parts = [PartIn { path: "dev/temp", unit: None, seq_from: seq, seq_to: seq + 200, samples: &samples }];
    wire::encode_batch("store-a", id, t0, 0, &parts, &mut EncodeScratch::default()).unwrap()
}

async fn register(env: &Env, admin: &str, name: &str) -> (String, String) {
    let r = env.post("/agents", Some(admin), json!({"name": name})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.json()["id"].as_str().unwrap().to_string(), r.json()["secret"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agent_cannot_take_over_or_stall_a_sync() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let (a, a_secret) = register(&env, &admin, "Victim").await;
    let (b, b_secret) = register(&env, &admin, "Intruder").await;

    let port = free_port();
    let mode = BrokerMode::Managed { program: "mosquitto".into(), bind: "127.0.0.1".into(), port, tls: None };
    let broker = Broker::start(env.store.clone(), mode, env.dir.path()).await.expect("mosquitto must be installed");
    let cfg = IngestConfig {
        host: broker.ingest_at.0.clone(),
        port: broker.ingest_at.1,
        user: broker.user.clone(),
        password: broker.password.clone(),
        workers: 2,
        mail: None,
        seal: None,
        limits: Default::default(),
    };
    let ingest =
        tokio::spawn(ingest::run(cfg, env.store.clone(), broker.connected.clone(), Arc::new(IngestStats::default())));
    for _ in 0..100 {
        if broker.connected.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(broker.connected.load(Ordering::Relaxed));

    // Agent A as the agent connects: client id = its agent id.
    let mut o = MqttOptions::new(a.clone(), "127.0.0.1", port);
    o.set_credentials(a.clone(), a_secret).set_keep_alive(Duration::from_secs(5)).set_clean_session(true);
    let (a_client, mut a_events) = AsyncClient::new(o, 64);
    let (ack_tx, mut acks) = mpsc::unbounded_channel::<Ack>();
    let drops = Arc::new(AtomicUsize::new(0));
    let (conn_tx, mut conn_rx) = mpsc::unbounded_channel();
    let a_loop = {
        let drops = drops.clone();
        tokio::spawn(async move {
            loop {
                match a_events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = conn_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = ack_tx.send(Ack::parse(&p.payload).unwrap());
                    }
                    Ok(_) => {}
                    Err(_) => {
                        drops.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        })
    };
    tokio::time::timeout(Duration::from_secs(5), conn_rx.recv()).await.expect("A connects");
    a_client.subscribe(wire::ack_topic(&a), QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Agent B, with its own real secret: sessions with A's client id, over
    // and over, and shared subscriptions of every batch topic under the
    // group name the protocol used to document.
    let intruder = {
        let (b, b_secret) = (b.clone(), b_secret.clone());
        let a = a.clone();
        tokio::spawn(async move {
            let mut keep = Vec::new();
            for round in 0u32.. {
                let client_id = if round % 2 == 0 { a.clone() } else { format!("{b}-{round}") };
                let mut o = MqttOptions::new(client_id, "127.0.0.1", port);
                o.set_credentials(b.clone(), b_secret.clone()).set_keep_alive(Duration::from_secs(5));
                let (c, mut ev) = AsyncClient::new(o, 16);
                for filter in [wire::CLOUD_SUBSCRIPTION, "$share/meterdeck-cloud/md/v1/#", "md/v1/+/up/batch"] {
                    let _ = c.subscribe(filter, QoS::AtLeastOnce).await;
                }
                keep.push((c, tokio::spawn(async move { while ev.poll().await.is_ok() {} })));
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A syncs 20 batches; each must be acknowledged in time.
    let start = tokio::time::Instant::now();
    const N: u64 = 20;
    for id in 1..=N {
        a_client.publish(wire::batch_topic(&a), QoS::AtLeastOnce, false, good_batch(id)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut acked = std::collections::BTreeSet::new();
    while acked.len() < N as usize {
        match tokio::time::timeout_at(start + Duration::from_secs(8), acks.recv()).await {
            Ok(Some(ack)) => {
                assert!(ack.ok, "{ack:?}");
                acked.insert(ack.batch.unwrap());
            }
            _ => break,
        }
    }
    intruder.abort();
    assert_eq!(acked.len(), N as usize, "only {acked:?} of {N} batches acknowledged within 8 s while B attacked");
    assert_eq!(drops.load(Ordering::SeqCst), 0, "B closed A's session");
    assert_eq!(env.store.agent(&a).await.unwrap().unwrap().sync.samples, 200 * N);
    assert!(env.store.channels(&b).await.unwrap().is_empty());

    a_loop.abort();
    ingest.abort();
    broker.stop().await;
}

/// A Mosquitto started from `conf`, with its pid in `pid_file`; killed on drop.
struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mosquitto(conf: &std::path::Path, pid_file: &std::path::Path, port: u16) -> Mosquitto {
    let child = Command::new("mosquitto").arg("-c").arg(conf).stdin(Stdio::null()).spawn().expect("mosquitto");
    std::fs::write(pid_file, child.id().to_string()).unwrap();
    let m = Mosquitto(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return m;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("mosquitto did not listen on {port}");
}

/// `serve --broker` against an external Mosquitto with the files meterdeck
/// writes (--broker-files, --broker-pid-file): the self-test registers its
/// probe logins, the broker learns them by SIGHUP, and the verdict follows
/// the broker's configuration. The probe logins are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_external_broker_self_test_refuses_a_takeover() {
    let env = Env::start(false).await;
    let files = BrokerFiles { dir: env.dir.path().join("ext") };
    std::fs::create_dir_all(&files.dir).unwrap();
    let pid_file = files.dir.join("mosquitto.pid");
    let password = random_secret();
    let mode = |port: u16| BrokerMode::External {
        host: "127.0.0.1".into(),
        port,
        user: CLOUD_BROKER_USER.into(),
        password: password.clone(),
        files: Some(files.dir.clone()),
        pid_file: Some(pid_file.clone()),
        agents: None,
        agents_tls: None,
    };

    // A listener without use_username_as_clientid (the old managed config).
    let port = free_port();
    let broker = Broker::start(env.store.clone(), mode(port), env.dir.path()).await.unwrap();
    // As root, Mosquitto would switch users and not read the 0600 files.
    let user = if rustix::process::geteuid().is_root() { "user root\n" } else { "" };
    let lax = format!(
        "{user}listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n",
        files.passwd().display(),
        files.acl().display()
    );
    let conf = files.dir.join("lax.conf");
    std::fs::write(&conf, lax).unwrap();
    let m = start_mosquitto(&conf, &pid_file, port);
    let err = broker_check::check(&*env.store, &*broker, broker.check.as_ref().unwrap()).await.unwrap_err();
    assert!(matches!(err, CheckError::Takeover { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("take over the session") && msg.contains("use_username_as_clientid true"), "{msg}");
    drop(m);
    assert!(env.store.broker_logins().await.unwrap().is_empty(), "the probe logins were removed");

    // The documented configuration (what the managed broker runs) passes.
    let port = free_port();
    let broker = Broker::start(env.store.clone(), mode(port), env.dir.path()).await.unwrap();
    files.write_conf("127.0.0.1", port).unwrap();
    let _m = start_mosquitto(&files.conf(), &pid_file, port);
    broker_check::check(&*env.store, &*broker, broker.check.as_ref().unwrap()).await.expect("the documented config");
    assert!(env.store.broker_logins().await.unwrap().is_empty(), "the probe logins were removed");
}
