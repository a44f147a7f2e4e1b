//! Bad batches through the real ingest: a managed Mosquitto (the cloud's
//! broker code, with logins and ACL), `ingest::run` on real storage, and a
//! raw rumqttc client logged in as a registered agent. Every malformed or
//! oversized payload gets an error ack naming what was wrong and is counted
//! where the API shows it; a good batch afterwards is still stored.
//! Run: `cargo test -p meterdeck-cloud --test ingest_refusals`.

mod api_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use api_support::{Db, Env};
use meterdeck_cloud::broker::{Broker, BrokerMode};
use meterdeck_cloud::ingest::{self, IngestConfig, IngestStats};
use meterdeck_cloud::state::MailConfig;
use meterdeck_wire::Sample;
use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{self as wire, Ack, PartIn};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A valid batch `id` of `n` samples on `dev/temp`.
fn good_batch(id: u64, n: usize) -> Vec<u8> {
    let t0 = 1_800_000_000_000;
    let samples: Vec<Sample> = (0..n).map(|i| Sample::number(t0 + i as i64 * 1000, i as f64 * 0.25)).collect();
    let seq = (id as i64) * 100_000;
    let parts =
        [PartIn { path: "dev/temp", unit: Some("V"), seq_from: seq, seq_to: seq + n as i64, samples: &samples }];
    wire::encode_batch("store-1", id, t0, 0, &parts, &mut EncodeScratch::default()).unwrap()
}

/// Batch `id` holding `samples` on `dev/x`.
fn batch_of(id: u64, samples: &[Sample]) -> Vec<u8> {
    let parts = [PartIn { path: "dev/x", unit: None, seq_from: 1, seq_to: 1 + samples.len() as i64, samples }];
    wire::encode_batch("store-1", id, 0, 0, &parts, &mut EncodeScratch::default()).unwrap()
}

/// Batch `id` of `n` empty parts on `n` channels.
fn many_channels(id: u64, n: usize) -> Vec<u8> {
    let paths: Vec<String> = (0..n).map(|i| format!("dev/c{i}")).collect();
    let parts: Vec<PartIn<'_>> =
        paths.iter().map(|p| PartIn { path: p, unit: None, seq_from: 1, seq_to: 2, samples: &[] }).collect();
    wire::encode_batch("store-1", id, 0, 0, &parts, &mut EncodeScratch::default()).unwrap()
}

/// A payload with a readable header (batch `id`, version `v`) and `body` after it.
fn framed(id: u64, v: u32, body: &[u8]) -> Vec<u8> {
    let head = json!({"v": v, "store": "store-1", "batch": id, "sent_ms": 0, "channels": []}).to_string();
    let mut out = b"MDB1".to_vec();
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

/// An agent's MQTT client: its acks arrive on the returned channel.
async fn agent_client(port: u16, id: &str, secret: &str) -> (AsyncClient, mpsc::UnboundedReceiver<Ack>) {
    let mut o = MqttOptions::new(format!("t-{id}"), "127.0.0.1", port);
    o.set_credentials(id, secret).set_keep_alive(Duration::from_secs(5)).set_max_packet_size(8 << 20, 8 << 20);
    let (client, mut ev) = AsyncClient::new(o, 16);
    let (tx, rx) = mpsc::unbounded_channel();
    let (conn_tx, mut conn_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = conn_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(Ack::parse(&p.payload).expect("acks are JSON"));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(5), conn_rx.recv()).await.expect("agent connects").unwrap();
    client.subscribe(wire::ack_topic(id), QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    (client, rx)
}

async fn next_ack(rx: &mut mpsc::UnboundedReceiver<Ack>, what: &str) -> Ack {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no ack within 10 s for {what}: ingest must answer every batch"))
        .unwrap()
}

/// A managed Mosquitto on a free port and `ingest::run` on `env`'s store,
/// connected: (broker, ingest task, stats, port).
async fn start_ingest(
    env: &Env,
    mail: Option<MailConfig>,
) -> (Arc<Broker>, tokio::task::JoinHandle<anyhow::Result<()>>, Arc<IngestStats>, u16) {
    let port = free_port();
    let mode = BrokerMode::Managed { program: "mosquitto".into(), bind: "127.0.0.1".into(), port, tls: None };
    let broker = Broker::start(env.store.clone(), mode, env.dir.path()).await.expect("mosquitto must be installed");
    let stats = Arc::new(IngestStats::default());
    let cfg = IngestConfig {
        host: broker.ingest_at.0.clone(),
        port: broker.ingest_at.1,
        user: broker.user.clone(),
        password: broker.password.clone(),
        workers: 2,
        mail,
        seal: None,
        limits: Default::default(),
    };
    let task = tokio::spawn(ingest::run(cfg, env.store.clone(), broker.connected.clone(), stats.clone()));
    for _ in 0..100 {
        if broker.connected.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(broker.connected.load(Ordering::Relaxed), "ingest connects to the broker");
    (broker, task, stats, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batches_get_error_acks_and_ingest_goes_on() {
    refusals(Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batches_get_error_acks_and_ingest_goes_on_postgres() {
    refusals(Env::start_on(Db::Postgres, false, "refusals").await).await;
}

async fn refusals(env: Env) {
    let admin = env.account("acme").await;
    let mut agents = Vec::new();
    for name in ["Site 1", "Site 2"] {
        let r = env.post("/agents", Some(&admin), json!({"name": name})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let j = r.json();
        agents.push((j["id"].as_str().unwrap().to_string(), j["secret"].as_str().unwrap().to_string()));
    }
    let ((me, secret), (other, _)) = (agents[0].clone(), agents[1].clone());

    let (broker, task, stats, port) = start_ingest(&env, None).await;
    let (client, mut acks) = agent_client(port, &me, &secret).await;
    let publish = |payload: Vec<u8>| {
        let (client, topic) = (client.clone(), wire::batch_topic(&me));
        async move { client.publish(topic, QoS::AtLeastOnce, false, payload).await.unwrap() }
    };

    let good = good_batch(7, 300);
    let mut wrong_magic = good.clone();
    wrong_magic[..4].copy_from_slice(b"MDB9");
    // The header stays valid, the block's tail is garbage.
    let mut corrupt = good_batch(8, 300);
    let n = corrupt.len();
    corrupt[n - 40..].fill(0xA5);
    let over_limit = framed(9, 1, &vec![0u8; wire::MAX_PAYLOAD_BYTES + 1]);
    // Past the wire limit and the ingest client's old packet limit, within the broker's.
    let way_over = framed(10, 1, &vec![0u8; 4_700_000]);
    let cases: Vec<(&str, Vec<u8>, Option<u64>, &str)> = vec![
        ("garbage bytes", (0..200u32).map(|i| (i * 37 % 251) as u8).collect(), None, "no MDB1 magic"),
        ("a wrong magic", wrong_magic, None, "no MDB1 magic"),
        ("a corrupt block", corrupt, Some(8), "channel 0 (dev/temp)"),
        ("a batch over the size limit", over_limit, None, "over the 4194304-byte limit"),
        ("a batch far over the size limit", way_over, None, "over the 4194304-byte limit"),
        ("an unknown protocol version", framed(11, 3, b""), Some(11), "protocol version 3 is not supported"),
        (
            "timestamps at the ends of i64",
            batch_of(14, &[Sample::number(i64::MIN, 1.0), Sample::number(0, 2.0), Sample::number(i64::MAX, 3.0)]),
            Some(14),
            "channel 0 (dev/x): sample 0 has the time -9223372036854775808 ms, outside the years 0 to 9999",
        ),
        (
            "a NaN",
            batch_of(15, &[Sample::number(1_000, 1.0), Sample::number(2_000, f64::NAN)]),
            Some(15),
            "channel 0 (dev/x): sample 1 (t=2000 ms) is NaN, not a finite number",
        ),
        (
            "an infinity",
            batch_of(16, &[Sample::number(1_000, f64::NEG_INFINITY)]),
            Some(16),
            "is -inf, not a finite number",
        ),
        ("more channels than an agent may have", many_channels(17, 1_001), Some(17), "this batch would give agent"),
        (
            "an unreadable header",
            framed(12, 1, b"").iter().map(|&b| if b == b'{' { b'[' } else { b }).collect(),
            None,
            "header",
        ),
    ];
    let mut refused_bytes = 0u64;
    for (what, payload, batch, names) in &cases {
        refused_bytes += payload.len() as u64;
        publish(payload.clone()).await;
        let ack = next_ack(&mut acks, what).await;
        assert!(!ack.ok, "{what} was accepted: {ack:?}");
        assert_eq!(ack.batch, *batch, "{what}: {ack:?}");
        let error = ack.error.clone().unwrap_or_default();
        assert!(error.contains(names), "{what}: the error {error:?} should name {names:?}");
        assert!(!error.contains("panicked") && !error.contains("overflow"), "{what}: a bug's text in the ack: {error}");
    }

    // Writing as another agent: the broker's ACL drops it before the cloud
    // (MQTT 3.1.1 has no refusal to send back), so nothing is stored or
    // counted for the other agent and no ack goes to either.
    client.publish(wire::batch_topic(&other), QoS::AtLeastOnce, false, good_batch(13, 10)).await.unwrap();
    let stray = tokio::time::timeout(Duration::from_secs(1), acks.recv()).await;
    assert!(stray.is_err(), "a batch under another agent's topic got an ack: {stray:?}");

    // Ingest never stopped: a good batch is stored and acknowledged.
    publish(good.clone()).await;
    let ack = next_ack(&mut acks, "the good batch").await;
    assert!(ack.ok, "{ack:?}");
    assert_eq!((ack.batch, ack.stored), (Some(7), 300));

    // The refusals are counted where the API shows them.
    let r = env.get(&format!("/agents/{me}"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sync = &r.json()["sync"];
    assert_eq!(sync["rejected"], cases.len() as u64, "{sync}");
    assert_eq!(sync["batches"], 1, "{sync}");
    assert_eq!(sync["samples"], 300, "{sync}");
    assert!(sync["last_error"].as_str().unwrap().contains("header"), "{sync}");
    assert_eq!(r.json()["traffic_bytes"], refused_bytes + good.len() as u64, "refused payloads count as traffic");
    let r = env.get(&format!("/agents/{other}"), &admin).await;
    let sync = &r.json()["sync"];
    assert_eq!((sync["rejected"].as_u64(), sync["batches"].as_u64()), (Some(0), Some(0)), "{sync}");
    assert!(env.store.channels(&other).await.unwrap().is_empty());
    assert_eq!(env.store.channels(&me).await.unwrap().len(), 1, "refused batches made no channel");
    assert_eq!(stats.refused.load(Ordering::Relaxed), cases.len() as u64);
    assert_eq!(stats.batches.load(Ordering::Relaxed), 1);

    task.abort();
    broker.stop().await;
}

/// The cloud's 90 % and 100 % traffic notices: the payload that takes an
/// agent's month past 90 % (then 100 %) of its allowance mails the
/// account's admins (a real aiosmtpd), once each; the payloads after do not. The acks name the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_crossing_90_percent_mails_the_admins_once() {
    let env = Env::start(true).await;
    let admin = env.account("acme").await;
    let r = env.post("/agents", Some(&admin), json!({"name": "Boiler room"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (me, secret) = (r.json()["id"].as_str().unwrap().to_string(), r.json()["secret"].as_str().unwrap().to_string());
    // An allowance the fourth batch crosses 90 % of, the fifth 100 % (4.3 batches).
    let one = good_batch(1, 300).len() as u64;
    let mut account = env.store.account("acme").await.unwrap().unwrap();
    account.traffic_allowance = one * 43 / 10;
    env.store.update_account(&account).await.unwrap();
    let smtp = env.smtp.as_ref().unwrap();
    let (broker, task, _stats, port) = start_ingest(&env, Some(smtp.mail_config())).await;
    let (client, mut acks) = agent_client(port, &me, &secret).await;

    for id in 1..=6 {
        client.publish(wire::batch_topic(&me), QoS::AtLeastOnce, false, good_batch(id, 300)).await.unwrap();
        let ack = next_ack(&mut acks, "a good batch").await;
        assert!(ack.ok && ack.batch == Some(id), "{ack:?}");
        assert_eq!(ack.store.as_deref(), Some("store-1"), "the ack names the batch's store");
        if id == 3 {
            assert!(smtp.mail_within(Duration::from_millis(500)).is_none(), "no notice under 90 %");
        }
    }
    let mail = smtp.next_mail();
    assert_eq!(mail["rcpt_tos"][0], "boss@example.com", "{mail}");
    let (subject, body) = (mail["subject"].as_str().unwrap_or_default(), mail["body"].as_str().unwrap_or_default());
    assert!(subject.contains("Boiler room") && subject.contains("monthly traffic"), "{subject}");
    assert!(body.contains(&me) && body.contains("send_interval"), "{body}");
    // At 100 %: it stops sending and buffers (the agent's side); the admins are told.
    let mail = smtp.next_mail();
    let body = mail["body"].as_str().unwrap_or_default();
    assert!(body.contains("whole monthly sync traffic allowance") && body.contains("nothing is lost"), "{body}");
    assert!(smtp.mail_within(Duration::from_secs(2)).is_none(), "one notice of each a month");

    task.abort();
    broker.stop().await;
}
