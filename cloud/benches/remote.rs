//! `cargo bench -p meterdeck-cloud --bench remote [-- --quick]`: prints one JSON line.
//!
//! `remote_console_rtt_ms_p99` (and p50): a console command through the
//! real HTTP API (`POST /api/v1/agents/{id}/commands`, an admin's session)
//! -> signed -> a local Mosquitto started by the cloud's broker code (logins
//! and ACL) -> an agent's MQTT client that verifies it as the agent does
//! (`meterdeck_wire::remote::open`) and answers on `up/reply` -> the API's
//! answer; 200 commands one after another (`--quick`: 40). The instrument's
//! own answer time is not in it (the agent answers at once). Target: p99
//! <= 100 ms on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_cloud::broker::{Broker, BrokerMode, NoBroker};
use meterdeck_cloud::state::{AppState, BrokerAdmin};
use meterdeck_cloud::store::Storage;
use meterdeck_wire::remote::{self, Reply};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    (v[k] * 100.0).round() / 100.0
}

/// An agent that verifies each command with the cloud's key and answers.
async fn fake_agent(port: u16, agent: String, secret: String, key: ed25519_dalek::VerifyingKey) {
    let mut o = MqttOptions::new(agent.clone(), "127.0.0.1", port);
    o.set_credentials(agent.clone(), secret);
    let (client, mut ev) = AsyncClient::new(o, 64);
    // As the agent's sync connection does.
    let mut net = ev.network_options();
    net.set_tcp_nodelay(true);
    ev.set_network_options(net);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready_tx);
    let sub = client.clone();
    let cmd_topic = remote::command_topic(&agent);
    tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    sub.subscribe(cmd_topic.clone(), QoS::AtLeastOnce).await.unwrap();
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let reply = match remote::open(&p.payload, &key, &agent, meterdeck_wire::now_ms()) {
                        Ok(c) => Reply::done(&c.id, "sent", Some("BENCH,1".into())),
                        Err(e) => Reply::refused("", e.code(), e.to_string()),
                    };
                    let _ = client.try_publish(remote::reply_topic(&agent), QoS::AtLeastOnce, false, reply.to_json());
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("bench agent: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    ready_rx.await.expect("bench agent subscribed");
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 40 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> =
        meterdeck_cloud::store::open(&format!("sqlite:{}", dir.path().join("c.db").display())).await.unwrap();
    meterdeck_cloud::admin::create_account(&*store, "bench", "Bench", "pro", "admin", "a@b.test").await.unwrap();
    let (agent, secret) = meterdeck_cloud::admin::register_agent(&*store, &NoBroker, "bench", "site").await.unwrap();
    let port = free_port();
    let broker = Broker::start(
        store.clone(),
        BrokerMode::Managed { program: "mosquitto".into(), bind: "127.0.0.1".into(), port, tls: None },
        &dir.path().join("broker"),
    )
    .await
    .expect("broker");
    let bus = meterdeck_cloud::remote::RemoteBus::start(
        &broker.ingest_at.0,
        broker.ingest_at.1,
        &broker.user,
        &broker.password,
    );
    let _ = broker.remote.set(bus.clone());
    // What ingest records when the agent says it is connected.
    store.records().set_presence(&agent.id, true, meterdeck_wire::now_ms()).await.unwrap();
    let key = meterdeck_wire::licence::signing_key(&[7; 32]);
    fake_agent(port, agent.id.clone(), secret, key.verifying_key()).await;
    while !bus.connected() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let state = AppState {
        store: store.clone(),
        broker: broker.clone() as Arc<dyn BrokerAdmin>,
        mail: None,
        data_dir: dir.path().to_path_buf(),
        licence_key: Arc::new(key),
        files_dir: dir.path().join("files"),
    };
    let app = meterdeck_cloud::api::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, meterdeck_cloud::api::into_service(app)).await });
    let mut u = store.user("bench", "admin").await.unwrap().unwrap();
    u.password_hash = meterdeck_cloud::auth::password::hash_password("Bench-pass1");
    u.must_change = false;
    store.update_user(&u).await.unwrap();
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"account": "bench", "user": "admin", "password": "Bench-pass1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("token").to_owned();
    let url = format!("{base}/api/v1/agents/{}/commands", agent.id);
    let body = serde_json::json!({"action": {"kind": "console", "instrument": "log", "line": "*IDN?"}});
    let mut rtt = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let t = Instant::now();
        let r = http.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(status.is_success() && v["status"] == "done", "{status}: {v}");
        // The first few warm the connections up.
        if i >= 5 {
            rtt.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "quick": quick,
            "commands": n,
            "remote_console_rtt_ms_p50": percentile(&mut rtt, 0.50),
            "remote_console_rtt_ms_p99": percentile(&mut rtt, 0.99),
            "remote_console_rtt_ms_max": percentile(&mut rtt, 1.0),
            "target_p99_ms": 100,
        })
    );
}
