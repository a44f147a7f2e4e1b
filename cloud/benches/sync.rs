//! `cargo bench -p meterdeck-cloud [-- --quick]`: prints one JSON line.
//!
//! - `sync_drain_samples_per_s` / `sync_drain_pg_samples_per_s`: a backlog
//!   (two weeks of 8 instruments x 100 channels at 10 s = 96.8M samples;
//!   `--quick`: one day) encoded as the agent encodes its outbox (10,000-sample
//!   rows packed into ~512 KiB batches), published at QoS 1 through a local
//!   Mosquitto (started by the cloud's broker code, with logins and ACL) with a
//!   window of 16 batches in flight, decoded, stored and acknowledged by the
//!   cloud's ingest; the clock stops at the last end-to-end ack.
//!   Baseline measured in the same run: the same batches decoded and stored
//!   directly (no MQTT), `*_direct_store_samples_per_s`.
//! - `api_m4_1y_ms`: a year of 1 s samples on one channel (31.5M; `--quick`: 30
//!   days), min/max to 2000 buckets through the HTTP API (median of 9), beside
//!   the same query on the storage directly (`api_m4_1y_store_ms`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_cloud::broker::{Broker, BrokerMode, NoBroker};
use meterdeck_cloud::ingest::{IngestConfig, IngestStats};
use meterdeck_cloud::state::{AppState, BrokerAdmin};
use meterdeck_cloud::store::{IngestBatch, Storage};
use meterdeck_wire::Sample;
use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{self as wire, Ack, PartIn};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

const PART: usize = 10_000;

/// Encoded batches of `channels` channels, `per_channel` samples each at `step_ms`.
fn backlog(channels: usize, per_channel: usize, step_ms: i64) -> (Vec<Vec<u8>>, u64) {
    let t0 = 1_780_000_000_000i64;
    let mut scratch = EncodeScratch::default();
    let mut out = Vec::new();
    let mut pending: Vec<(String, i64, Vec<Sample>)> = Vec::new();
    let mut bytes = 0usize;
    let mut id = 1u64;
    let mut total = 0u64;
    let flush = |pending: &mut Vec<(String, i64, Vec<Sample>)>,
                 out: &mut Vec<Vec<u8>>,
                 id: &mut u64,
                 scratch: &mut EncodeScratch| {
        let parts: Vec<PartIn> = pending
            .iter()
            .map(|(p, from, s)| PartIn {
                path: p,
                unit: Some("V"),
                seq_from: *from,
                seq_to: *from + s.len() as i64,
                samples: s,
            })
            .collect();
        out.push(wire::encode_batch("bench-store", *id, 0, 0, &parts, scratch).expect("encode"));
        *id += 1;
        pending.clear();
    };
    for start in (0..per_channel).step_by(PART) {
        for c in 0..channels {
            let n = PART.min(per_channel - start);
            let samples: Vec<Sample> = (start..start + n)
                .map(|i| {
                    let t = t0 + i as i64 * step_ms;
                    // A logger waveform with 0.1 resolution.
                    let v = ((i as f64 / 360.0 + c as f64).sin() * 1000.0).round() / 10.0;
                    Sample::number(t, v)
                })
                .collect();
            total += n as u64;
            bytes += n; // about a byte per sample
            pending.push((format!("log{}/CH{}", c / 100, c % 100), start as i64, samples));
            if bytes >= wire::TARGET_PAYLOAD_BYTES {
                flush(&mut pending, &mut out, &mut id, &mut scratch);
                bytes = 0;
            }
        }
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut out, &mut id, &mut scratch);
    }
    (out, total)
}

async fn account_and_agent(store: &dyn Storage) -> (String, String) {
    meterdeck_cloud::admin::create_account(store, "bench", "Bench", "pro", "admin", "a@b.test").await.expect("account");
    let (agent, secret) =
        meterdeck_cloud::admin::register_agent(store, &NoBroker, "bench", "site").await.expect("agent");
    (agent.id, secret)
}

/// Stores the batches directly: the cloud side without MQTT.
async fn direct(store: &dyn Storage, agent: &str, batches: &[Vec<u8>]) -> f64 {
    let t = Instant::now();
    let mut n = 0;
    for b in batches {
        let batch = IngestBatch::decode(b).expect("decode");
        n += store.ingest(agent, &batch, b.len() as u64, 0).await.expect("ingest").stored;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Publishes every batch through a managed Mosquitto into the cloud's ingest and waits for all acks.
async fn drain(store: Arc<dyn Storage>, data: &std::path::Path, batches: &[Vec<u8>], total: u64) -> f64 {
    let (agent, secret) = account_and_agent(&*store).await;
    let port = free_port();
    let broker = Broker::start(
        store.clone(),
        BrokerMode::Managed { program: "mosquitto".into(), bind: "127.0.0.1".into(), port, tls: None },
        data,
    )
    .await
    .expect("broker");
    let stats = Arc::new(IngestStats::default());
    let ingest = tokio::spawn(meterdeck_cloud::ingest::run(
        IngestConfig {
            host: broker.ingest_at.0.clone(),
            port: broker.ingest_at.1,
            user: broker.user.clone(),
            password: broker.password.clone(),
            workers: 4,
            mail: None,
            seal: None,
            limits: Default::default(),
        },
        store.clone(),
        broker.connected.clone(),
        stats.clone(),
    ));
    while !broker.connected() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut o = MqttOptions::new(agent.clone(), "127.0.0.1", port);
    o.set_credentials(agent.clone(), secret).set_max_packet_size(8 << 20, 8 << 20).set_inflight(32);
    let (client, mut ev) = AsyncClient::new(o, 64);
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<Ack>();
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let agent_loop = tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = conn_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(a) = Ack::parse(&p.payload) {
                        let _ = ack_tx.send(a);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("bench agent: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    conn_rx.recv().await;
    client.subscribe(wire::ack_topic(&agent), QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let window = 16;
    let mut in_flight: HashMap<u64, usize> = HashMap::new();
    let mut next = 0usize;
    let mut stored = 0u64;
    while next < batches.len() || !in_flight.is_empty() {
        while next < batches.len() && in_flight.len() < window {
            client.publish(wire::batch_topic(&agent), QoS::AtLeastOnce, false, batches[next].clone()).await.unwrap();
            in_flight.insert(next as u64 + 1, next);
            next += 1;
        }
        let ack =
            tokio::time::timeout(Duration::from_secs(60), ack_rx.recv()).await.expect("no ack within 60 s").unwrap();
        assert!(ack.ok, "refused: {:?}", ack.error);
        if let Some(b) = ack.batch {
            in_flight.remove(&b);
        }
        stored += ack.stored;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    assert_eq!(stored, total, "every sample stored once");
    // Stopped before the broker, or it would retry the connection for the rest of the run.
    agent_loop.abort();
    ingest.abort();
    broker.stop().await;
    rate
}

async fn api_m4(store: Arc<dyn Storage>, days: usize) -> (f64, f64) {
    let (agent, _) = account_and_agent(&*store).await;
    // One channel, 1 s, `days` days, ingested in 10,000-sample parts.
    let per_day = 86_400usize;
    let total = days * per_day;
    let t0 = 1_760_000_000_000i64;
    let mut scratch = EncodeScratch::default();
    for (bi, start) in (0..total).step_by(PART * 40).enumerate() {
        let mut parts_s = Vec::new();
        for s in (start..(start + PART * 40).min(total)).step_by(PART) {
            let n = PART.min(total - s);
            let v: Vec<Sample> = (s..s + n)
                .map(|i| Sample::number(t0 + i as i64 * 1000, ((i as f64 / 3600.0).sin() * 500.0).round() / 10.0))
                .collect();
            parts_s.push((s as i64, v));
        }
        let parts: Vec<PartIn> = parts_s
            .iter()
            .map(|(f, v)| PartIn {
                path: "log0/CH1",
                unit: Some("V"),
                seq_from: *f,
                seq_to: *f + v.len() as i64,
                samples: v,
            })
            .collect();
        let payload = wire::encode_batch("year", bi as u64, 0, 0, &parts, &mut scratch).unwrap();
        let batch = IngestBatch::decode(&payload).unwrap();
        store.ingest(&agent, &batch, payload.len() as u64, 0).await.unwrap();
    }
    let ch = store.channels(&agent).await.unwrap()[0].id;
    let to = t0 + total as i64 * 1000;
    let mut direct = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        store.minmax(ch, t0, to, 2000).await.unwrap();
        direct.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // The API: an admin token through the real HTTP router.
    let state = AppState {
        store: store.clone(),
        broker: Arc::new(NoBroker),
        mail: None,
        data_dir: std::env::temp_dir(),
        licence_key: Arc::new(meterdeck_wire::licence::signing_key(&[7; 32])),
        files_dir: std::env::temp_dir().join("meterdeck-bench-files"),
    };
    let app = meterdeck_cloud::api::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, meterdeck_cloud::api::into_service(app)).await });
    let http = reqwest::Client::new();
    let temp = {
        // A fresh admin with a known password: reset through the admin functions.
        let mut u = store.user("bench", "admin").await.unwrap().unwrap();
        u.password_hash = meterdeck_cloud::auth::password::hash_password("Bench-pass1");
        u.must_change = false;
        store.update_user(&u).await.unwrap();
        "Bench-pass1"
    };
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"account": "bench", "user": "admin", "password": temp}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("token").to_owned();
    let mut api = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/channels/{ch}/minmax?from={t0}&to={to}&buckets=2000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
        api.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(api), median(direct))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn pg_store(name: &str) -> Option<(Arc<dyn Storage>, String)> {
    let base = std::env::var("MD_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let (client, conn) = tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls).await.ok()?;
    tokio::spawn(conn);
    client.execute(&format!("DROP DATABASE IF EXISTS {name}"), &[]).await.ok()?;
    client.execute(&format!("CREATE DATABASE {name}"), &[]).await.ok()?;
    let store = meterdeck_cloud::store::open(&format!("{base}/{name}")).await.ok()?;
    Some((store, base))
}

async fn drop_pg(base: &str, name: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client.execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), &[]).await;
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (days, year_days) = if quick { (1, 30) } else { (14, 365) };
    let per_channel = days * 8640; // 10 s
    let (batches, total) = backlog(800, per_channel, 10_000);
    let dir = tempfile::tempdir().unwrap();

    let sqlite = |n: &str| {
        let url = format!("sqlite:{}", dir.path().join(n).display());
        async move { meterdeck_cloud::store::open(&url).await }
    };
    let direct_store = sqlite("direct.db").await.unwrap();
    let (direct_agent, _) = account_and_agent(&*direct_store).await;
    let direct_sqlite = direct(&*direct_store, &direct_agent, &batches).await;
    let drain_sqlite = drain(sqlite("drain.db").await.unwrap(), &dir.path().join("b1"), &batches, total).await;

    let pid = std::process::id();
    let (drain_pg, direct_pg) = match pg_store(&format!("md_bench_drain_{pid}")).await {
        Some((s, base)) => {
            let r = drain(s, &dir.path().join("b2"), &batches, total).await;
            drop_pg(&base, &format!("md_bench_drain_{pid}")).await;
            let d = match pg_store(&format!("md_bench_direct_{pid}")).await {
                Some((s, base)) => {
                    let (agent, _) = account_and_agent(&*s).await;
                    let d = direct(&*s, &agent, &batches).await;
                    drop_pg(&base, &format!("md_bench_direct_{pid}")).await;
                    Some(d)
                }
                None => None,
            };
            (Some(r), d)
        }
        None => {
            eprintln!("PostgreSQL not reachable (MD_PG_URL): the PostgreSQL figures are left out");
            (None, None)
        }
    };
    let (m4_api, m4_store) = api_m4(sqlite("year.db").await.unwrap(), year_days).await;
    println!(
        "{}",
        serde_json::json!({
            "quick": quick,
            "backlog_samples": total,
            "batches": batches.len(),
            "sync_drain_samples_per_s": drain_sqlite.round(),
            "sqlite_direct_store_samples_per_s": direct_sqlite.round(),
            "sync_drain_vs_direct": (drain_sqlite / direct_sqlite * 1000.0).round() / 1000.0,
            "sync_drain_pg_samples_per_s": drain_pg.map(f64::round),
            "pg_direct_store_samples_per_s": direct_pg.map(f64::round),
            "api_m4_days": year_days,
            "api_m4_1y_ms": (m4_api * 10.0).round() / 10.0,
            "api_m4_1y_store_ms": (m4_store * 10.0).round() / 10.0,
        })
    );
}
