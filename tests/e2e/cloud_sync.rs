//! Store-and-forward against the real parts: simulator -> meterdeck-agent ->
//! Mosquitto (started by meterdeck-cloud serve, with the agents' logins and
//! prefix ACL) -> meterdeck-cloud (SQLite) -> Web API. The agent's secret is
//! in a real gnome-keyring on a private D-Bus.
//!
//! - `simulator_to_cloud_api`: values read back through the API equal the
//!   agent's cache, sample for sample; the API and `meterdeck-agent status`
//!   show the sync state.
//! - `link_cuts_and_restarts_lose_nothing`: minutes of ingest through a TCP
//!   proxy that cuts or black-holes the agent's link 20 times, with a broker
//!   kill and a cloud restart among them: afterwards the cloud holds exactly
//!   the samples the agent stored (0 lost, 0 duplicated, order kept).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use meterdeck_core::model::Value as Reading;
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{Api, Cloud, agent_login, cloud_with_agent, line_after};
use meterdeck_e2e::link::LinkProxy;
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::site::Site;
use meterdeck_e2e::*;

/// The API's last time: the end of year 9999.
const END: i64 = 253_402_300_799_999;

fn instruments(n: usize, channels: usize) -> SimConfig {
    SimConfig {
        instruments: (0..n)
            .map(|i| SimInstrument {
                channels: Some(channels),
                seed: 500 + i as u64,
                ..SimInstrument::new(format!("log{i}"), Personality::HiokiLogger)
            })
            .collect(),
    }
}

/// Every channel's samples in the agent's cache: path -> [(t, value)].
fn agent_samples(store: &Path) -> BTreeMap<String, Vec<(i64, Option<f64>)>> {
    let store = Store::open_readonly(store).expect("agent store");
    store
        .channels()
        .unwrap()
        .into_iter()
        .map(|c| {
            let v = store
                .range(c.id, i64::MIN / 2, i64::MAX / 2)
                .unwrap()
                .into_iter()
                .map(|s| {
                    (
                        s.t,
                        match s.value {
                            Reading::Number(v) => Some(v),
                            Reading::Special(_) => None,
                        },
                    )
                })
                .collect();
            (c.path(), v)
        })
        .collect()
}

/// Every channel of the agent as the API returns it.
fn cloud_samples(api: &Api, agent: &str) -> BTreeMap<String, Vec<(i64, Option<f64>)>> {
    let channels = api.get(&format!("/api/v1/agents/{agent}/channels"));
    channels
        .as_array()
        .expect("channel list")
        .iter()
        .map(|c| {
            let id = c["id"].as_i64().unwrap();
            let raw = api.get(&format!("/api/v1/channels/{id}/raw?from=0&to={END}&limit=100000"));
            assert_eq!(raw["truncated"], false, "more samples than one page");
            let points = raw["points"]
                .as_array()
                .expect("raw points")
                .iter()
                .map(|p| (p["t"].as_i64().unwrap(), p["v"].as_f64()))
                .collect();
            (c["path"].as_str().unwrap().to_owned(), points)
        })
        .collect()
}

/// Exactly the same samples per channel, in the same order.
fn assert_same(agent: &BTreeMap<String, Vec<(i64, Option<f64>)>>, cloud: &BTreeMap<String, Vec<(i64, Option<f64>)>>) {
    assert_eq!(agent.keys().collect::<Vec<_>>(), cloud.keys().collect::<Vec<_>>(), "channel sets differ");
    let mut report = Vec::new();
    for (path, a) in agent {
        let c = &cloud[path];
        if a != c {
            let first = a.iter().zip(c).position(|(x, y)| x != y).unwrap_or(a.len().min(c.len()));
            report.push(format!("{path}: agent {} samples, cloud {}; first difference at {first}", a.len(), c.len()));
        }
    }
    assert!(report.is_empty(), "cloud differs from the agent:\n{}", report.join("\n"));
}

#[test]
fn simulator_to_cloud_api() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let rt = runtime();
    let sims = rt.block_on(sim::start(instruments(2, 8))).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let site = Site::new(dir.path(), &setup.agent_id, &setup.secret, setup.cloud.mqtt_port, &cfgs, "");
    let mut agent = site.run();

    // Data shows up in the cloud while the agent runs.
    let api = &setup.api;
    wait_until(Duration::from_secs(60), "samples in the cloud", || {
        let agents = api.get("/api/v1/agents");
        agents[0]["sync"]["samples"].as_u64().unwrap_or(0) > 100
    });
    let agents = api.get("/api/v1/agents");
    assert_eq!(agents[0]["id"], setup.agent_id.as_str());
    assert_eq!(agents[0]["online"], true, "{agents}");
    assert!(agents[0]["traffic_bytes"].as_u64().unwrap() > 0, "{agents}");

    drop(sims); // no new samples: the outbox can run empty
    site.wait_drained(Duration::from_secs(60));
    let status = site.sync_status();
    assert_eq!(status["connected"], true, "{status}");
    assert!(status["month_bytes"].as_u64().unwrap() > 0, "{status}");
    let (code, out, _) = {
        let o = site
            .agent(&["status", "--config", site.config.to_str().unwrap(), "--data-dir", site.data.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), ())
    };
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("cloud"), "status shows the sync state: {out}");
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0));

    let local = agent_samples(&site.store_path());
    assert_eq!(local.len(), 16);
    assert!(local.values().all(|v| !v.is_empty()));
    let remote = cloud_samples(api, &setup.agent_id);
    assert_same(&local, &remote);

    // Latest and CSV agree with the last stored sample.
    let channels = api.get(&format!("/api/v1/agents/{}/channels", setup.agent_id));
    let ch = &channels[0];
    let last = local[ch["path"].as_str().unwrap()].last().copied().unwrap();
    let latest = api.get(&format!("/api/v1/channels/{}/latest", ch["id"]));
    assert_eq!(latest["point"]["t"].as_i64(), Some(last.0), "{latest}");
    let (s, csv) = meterdeck_e2e::cloud::request(
        "GET",
        &format!("{}/api/v1/channels/{}/csv?from=0&to={END}", api.base, ch["id"]),
        Some(&api.token),
        None,
    );
    assert_eq!(s, 200);
    let csv = csv.as_str().unwrap_or_default().to_owned();
    assert_eq!(csv.lines().count(), local[ch["path"].as_str().unwrap()].len() + 1, "header + one line per sample");
    let agents = api.get("/api/v1/agents");
    assert_eq!(agents[0]["sync"]["backlog"], 0, "{agents}");
}

/// The managed Mosquitto under `serve`.
fn mosquitto_pid(cloud: &Cloud) -> u32 {
    proctree::descendants(cloud.proc.pid())
        .into_iter()
        .find(|p| proctree::comm(*p).as_deref() == Some("mosquitto"))
        .expect("serve runs mosquitto")
}

#[test]
fn link_cuts_and_restarts_lose_nothing() {
    const CUTS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = cloud_with_agent(dir.path());
    let mqtt_port = setup.cloud.mqtt_port;
    let proxy = LinkProxy::start(SocketAddr::from(([127, 0, 0, 1], mqtt_port)));
    let rt = runtime();
    let sims = rt.block_on(sim::start(instruments(4, 30))).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let site = Site::new(dir.path(), &setup.agent_id, &setup.secret, proxy.port, &cfgs, "");
    // Four instruments: more than the Free plan's three.
    meterdeck_e2e::licence::grant_pro(&site.data);
    let mut agent = site.run();
    wait_until(Duration::from_secs(60), "the first acknowledgement", || site.sync_status()["last_ack_ms"].is_i64());

    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(20);
    let started = Instant::now();
    for cut in 0..CUTS {
        use rand::Rng;
        std::thread::sleep(Duration::from_millis(rng.random_range(1500..4000)));
        if cut % 2 == 0 {
            proxy.cut();
        } else {
            // A dead route: only the keep-alive notices; the agent must not lose what it sent into it.
            proxy.black_hole();
            std::thread::sleep(Duration::from_millis(rng.random_range(2000..8000)));
            proxy.restore(true);
        }
        if cut == 6 {
            // The broker dies (serve starts it again): in-flight batches and acks vanish.
            signal(mosquitto_pid(&setup.cloud), "KILL");
        }
        if cut == 13 {
            // The cloud restarts on the same data, and its broker with it.
            setup.cloud.stop();
            setup.cloud = Cloud::start(&dir.path().join("cloud"), Some(mqtt_port), None, &[]);
            setup.api = Api { base: setup.cloud.http.clone(), token: setup.api.token.clone() };
        }
    }
    eprintln!("{CUTS} faults in {:?}", started.elapsed());
    drop(sims);
    site.wait_drained(Duration::from_secs(120));
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0));

    let local = agent_samples(&site.store_path());
    let total: usize = local.values().map(Vec::len).sum();
    assert!(total > 10_000, "too few samples to prove anything: {total}");
    let remote = cloud_samples(&setup.api, &setup.agent_id);
    assert_same(&local, &remote);
    let agents = setup.api.get("/api/v1/agents");
    assert_eq!(agents[0]["sync"]["samples"].as_u64(), Some(total as u64), "stored once each: {agents}");
    eprintln!("{total} samples in {} channels: 0 lost, 0 duplicated", local.len());
}

/// The README's run command wires the demo like this: `cloud login
/// --config F --send-interval` into the keychain, then `meterdeck-agent demo
/// --cloud-config F`; its simulator's samples reach the cloud's API, the
/// history a fresh demo cache starts with among them (two hours here, a
/// week by default: the cloud demo has it at once). Then
/// the agent's secret is rotated, by the CLI (another process than serve)
/// and by the API: each time the broker refuses the old secret and takes
/// the new one within seconds.
#[test]
fn demo_syncs_and_rotated_secrets_replace_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let s = cloud_with_agent(dir.path());
    let mut session = Session::start();
    session.start_keyring();
    let config = dir.path().join("demo.toml");
    std::fs::write(&config, "").unwrap();
    let port = s.cloud.mqtt_port;
    agent_login(
        &session.address,
        &s.agent_id,
        &s.secret,
        port,
        &["--config", config.to_str().unwrap(), "--send-interval", "1s"],
    )
    .expect("cloud login");
    assert!(std::fs::read_to_string(&config).unwrap().contains("send_interval = \"1s\""));

    let data = dir.path().join("demo-data");
    let mut demo = Proc::spawn(
        "meterdeck-agent demo",
        agent(&[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--instruments",
            "1",
            "--history",
            "2h",
            "--cloud-config",
            config.to_str().unwrap(),
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &session.address),
    );
    // The logger's 6 channels x 2 h at 1 s of history, then live samples.
    let history = 6 * 7200;
    let deadline = Instant::now() + Duration::from_secs(60);
    let synced = loop {
        let agents = s.api.get("/api/v1/agents");
        let samples =
            agents.as_array().unwrap().iter().find(|a| a["id"] == s.agent_id.as_str()).unwrap()["sync"]["samples"]
                .as_u64()
                .unwrap_or(0);
        if samples > history {
            break samples;
        }
        assert!(
            Instant::now() < deadline,
            "the demo's history did not reach the cloud in 60 s ({samples} of more than {history}): {agents}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    demo.terminate(Duration::from_secs(10));
    let channels = s.api.get(&format!("/api/v1/agents/{}/channels", s.agent_id));
    assert!(!channels.as_array().unwrap().is_empty(), "the demo's channels are in the cloud ({synced} samples)");

    // A bad --cloud-config is refused before anything starts.
    let bad = dir.path().join("no-cloud.toml");
    std::fs::write(&bad, "[agent]\nname = \"x\"\n").unwrap();
    let out = agent(&["demo", "--data-dir", data.to_str().unwrap(), "--cloud-config", bad.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no [cloud] section"), "{err}");

    let check = |secret: &str| agent_login(&session.address, &s.agent_id, secret, port, &["--check"]);
    let until_swapped = |old: &str, new: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match (check(old), check(new)) {
                (Err(refusal), Ok(())) => {
                    assert!(refusal.contains("nothing stored"), "{refusal}");
                    return;
                }
                other => assert!(Instant::now() < deadline, "the broker has not swapped the secrets: {other:?}"),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    check(&s.secret).expect("the registered secret works");
    let out = s.cloud.cli(&["agent", "rotate", "--account", "acme", "--agent", &s.agent_id]);
    let by_cli = line_after(&out, "shown once");
    until_swapped(&s.secret, &by_cli);
    let (status, r) = meterdeck_e2e::cloud::request(
        "POST",
        &format!("{}/api/v1/agents/{}/secret", s.cloud.http, s.agent_id),
        Some(&s.api.token),
        None,
    );
    assert_eq!(status, 200, "{r}");
    let by_api = r["secret"].as_str().expect("secret").to_owned();
    until_swapped(&by_cli, &by_api);
    let listed = s.cloud.cli(&["agent", "list", "--account", "acme"]);
    assert!(listed.contains(&s.agent_id) && listed.contains("site-a") && !listed.contains(&by_api), "{listed}");

    // A lost admin password, from the server's shell: the old session ends,
    // the temporary password signs in (and must be changed).
    let out = s.cloud.cli(&["user", "reset-password", "--account", "acme", "--user", "alice"]);
    let temp = line_after(&out, "temporary password");
    let (status, _) =
        meterdeck_e2e::cloud::request("GET", &format!("{}/api/v1/me", s.cloud.http), Some(&s.api.token), None);
    assert_eq!(status, 401, "the session before the reset has ended");
    let api = Api::sign_in(&s.cloud.http, "acme", "alice", &temp, "Meter2deck-test");
    assert_eq!(api.get("/api/v1/me")["user"]["id"], "alice");

    // A crashed service takes its broker with it: no orphan keeps the port.
    let mut s = s;
    let brokers: Vec<u32> = meterdeck_e2e::proctree::descendants(s.cloud.proc.pid())
        .into_iter()
        .filter(|p| meterdeck_e2e::proctree::comm(*p).as_deref() == Some("mosquitto"))
        .collect();
    assert_eq!(brokers.len(), 1, "serve runs one Mosquitto");
    signal(s.cloud.proc.pid(), "KILL");
    let _ = s.cloud.proc.child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while meterdeck_e2e::proctree::comm(brokers[0]).is_some() {
        assert!(Instant::now() < deadline, "the broker outlived the killed service");
        std::thread::sleep(Duration::from_millis(50));
    }
}
