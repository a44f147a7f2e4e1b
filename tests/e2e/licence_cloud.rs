//! The licence end to end against the REAL cloud: `meterdeck-cloud serve`
//! (SQLite, its managed Mosquitto) is the licence authority, the agent
//! pins its key at `cloud login --api`, fetches the signed document with
//! its secret from a real gnome-keyring on a private D-Bus, and enforces
//! it; the simulator supplies the instruments.
//!
//! - `free_refuses_a_fourth_instrument_until_a_standard_card`: Free from
//!   the real cloud refuses 4 instruments by name; a Standard card issued
//!   with `licence issue-card` and applied by the account's admin through
//!   `POST /api/v1/licence/cards` lifts it and the 4 instruments store
//!   samples; the real document verifies and one flipped byte is refused.
//! - `a_remote_basic_card_shows_in_the_agents_licence`: the agent logged in
//!   without `--account` (its first verified licence pins the account); a
//!   gateway card for it shows in `licence show` with its allowance.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{Api, Cloud, CloudWithAgent, agent_login, cloud_with_agent, line_after, request};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::*;
use meterdeck_wire::licence::RemotePlan;
use serde_json::{Value, json};

/// The agent side: its keychain session, config and data directory.
struct Site {
    session: Session,
    dir: PathBuf,
    config: PathBuf,
    data: PathBuf,
}

impl Site {
    /// Logs the agent in with `--api` (pins the cloud's licence key) and
    /// `--account` when given (else login pins the account the cloud names).
    fn new(dir: &Path, setup: &CloudWithAgent, account: Option<&str>) -> Site {
        let mut session = Session::start();
        session.start_keyring();
        let config = dir.join("agent.toml");
        std::fs::write(&config, "[agent]\nname = \"site-a\"\npoll_interval = \"1s\"\n").unwrap();
        let site = Site { session, dir: dir.to_owned(), config, data: dir.join("data") };
        let mut extra = vec!["--config", site.config.to_str().unwrap(), "--api", &setup.cloud.http];
        if let Some(a) = account {
            extra.extend_from_slice(&["--account", a]);
        }
        agent_login(&site.session.address, &setup.agent_id, &setup.secret, setup.cloud.mqtt_port, &extra)
            .expect("cloud login");
        let text = std::fs::read_to_string(&site.config).unwrap();
        assert!(
            text.contains("licence_key = \"md-ed25519:") && !text.contains(&setup.secret),
            "login pins the key, never the secret: {text}"
        );
        site
    }

    /// Replaces the instruments, keeping the `[agent]` and `[cloud]` sections.
    fn set_instruments(&self, instruments: &[meterdeck_drivers::InstrumentConfig]) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let cloud = text[text.find("[cloud]").expect("a [cloud] section")..].to_owned();
        write_agent_config(&self.dir, "name = \"site-a\"\npoll_interval = \"1s\"", instruments);
        let body = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, format!("{body}\n{cloud}")).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = agent(args);
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.session.address).stdin(Stdio::null());
        c
    }

    /// (exit code, stdout + stderr) of `meterdeck-agent ARGS --config C --data-dir D`.
    fn output(&self, args: &[&str]) -> (i32, String) {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--config", self.config.to_str().unwrap(), "--data-dir", self.data.to_str().unwrap()]);
        let out = self.cmd(&all).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    fn show(&self) -> Value {
        let (code, text) = self.output(&["licence", "show", "--json"]);
        assert_eq!(code, 0, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("licence show --json: {e}: {text}"))
    }

    fn fetch(&self) -> String {
        let (code, out) = self.output(&["licence", "fetch"]);
        assert_eq!(code, 0, "licence fetch: {out}");
        out
    }

    fn run(&self) -> Proc {
        let args = ["run", "--config", self.config.to_str().unwrap(), "--data-dir", self.data.to_str().unwrap()];
        Proc::spawn("meterdeck-agent", &mut self.cmd(&args))
    }
}

fn instruments(n: usize) -> SimConfig {
    SimConfig {
        instruments: (0..n)
            .map(|i| SimInstrument {
                channels: Some(2),
                seed: 700 + i as u64,
                ..SimInstrument::new(format!("log{i}"), Personality::HiokiLogger)
            })
            .collect(),
    }
}

/// Instruments (by the channel path's first part) with samples in the agent's store.
fn instruments_with_samples(store: &Path) -> std::collections::BTreeSet<String> {
    let Ok(store) = Store::open_readonly(store) else { return Default::default() };
    store
        .channels()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| store.range(c.id, i64::MIN / 2, i64::MAX / 2).is_ok_and(|s| !s.is_empty()))
        .map(|c| c.path().split('/').next().unwrap_or_default().to_owned())
        .collect()
}

/// `meterdeck-cloud licence issue-card ARGS`: the card's code.
fn issue_card(cloud: &Cloud, args: &[&str]) -> String {
    let mut all = vec!["licence", "issue-card", "--account", "acme", "--months", "1"];
    all.extend_from_slice(args);
    line_after(&cloud.cli(&all), "shown once")
}

/// The account's admin applies a card through the Web API.
fn apply_card(api: &Api, card: &str) -> Value {
    let (s, v) =
        request("POST", &format!("{}/api/v1/licence/cards", api.base), Some(&api.token), Some(&json!({"card": card})));
    assert_eq!(s, 200, "POST /api/v1/licence/cards: {v}");
    v
}

#[test]
fn free_refuses_a_fourth_instrument_until_a_standard_card() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let site = Site::new(dir.path(), &setup, Some("acme"));

    // Three instruments run on Free; `run` fetches the real cloud's Free
    // document at start with the agent's secret and keeps it.
    let rt = runtime();
    let sims = rt.block_on(sim::start(instruments(4))).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let store = site.data.join("meterdeck.db");
    site.set_instruments(&cfgs[..3]);
    let mut run = site.run();
    wait_until(Duration::from_secs(30), "the licence fetched at start and 3 instruments storing", || {
        let (_, text) = site.output(&["licence", "show", "--json"]);
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["checks"].as_array().is_some_and(|c| c.iter().any(|c| c["source"] == "cloud" && c["ok"] == true))
            && instruments_with_samples(&store).len() == 3
    });
    assert_eq!(run.terminate(Duration::from_secs(15)), Some(0));
    let v = site.show();
    assert_eq!((v["plan"].as_str(), v["account"].as_str()), (Some("free"), Some("acme")), "{v}");
    let free_serial = v["serial"].as_str().expect("a serial").to_owned();

    // Four instruments: one more than Free allows per agent, refused at start by name.
    site.set_instruments(&cfgs);
    let (code, out) = site.output(&["run"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the Free plan allows 3 instruments per agent")
            && out.contains("this agent has 3 and the change asks for 4")
            && out.contains("Standard or Pro licence card"),
        "{out}"
    );
    assert_eq!(instruments_with_samples(&store).len(), 3, "the refused start stored nothing new");

    // A Standard card issued by the authority, applied by the account's admin.
    let card = issue_card(&setup.cloud, &["--plan", "standard"]);
    let status = apply_card(&setup.api, &card);
    assert_eq!(status["plan"], "standard", "{status}");
    let out = site.fetch();
    assert!(out.contains("Standard") || out.contains("standard"), "{out}");
    let v = site.show();
    assert_eq!(v["plan"], "standard", "{v}");
    assert_ne!(v["serial"].as_str(), Some(free_serial.as_str()), "a new document: {v}");
    assert!(v["days_left"].as_i64().is_some_and(|d| d >= 27), "{v}");

    // Now the four instruments run and store samples.
    let mut run = site.run();
    wait_until(Duration::from_secs(30), "samples of all 4 instruments", || instruments_with_samples(&store).len() == 4);
    assert_eq!(run.terminate(Duration::from_secs(15)), Some(0));
    let (code, out) = site.output(&["licence", "show"]);
    assert!(code == 0 && out.contains("8 instruments per agent"), "{out}");

    // The real document verifies with the pinned key; one flipped byte is refused by name.
    let good = site.dir.join("licence.json");
    setup.cloud.cli(&["licence", "document", "--account", "acme", "--out", good.to_str().unwrap()]);
    let (code, out) = site.output(&["licence", "verify", good.to_str().unwrap()]);
    assert!(code == 0 && out.contains("valid licence") && out.contains("account acme"), "{out}");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut payload = b64.decode(file["payload"].as_str().expect("payload")).unwrap();
    let at = payload.windows(4).position(|w| w == b"acme").expect("the account in the payload");
    payload[at] = b'b';
    file["payload"] = Value::String(b64.encode(payload));
    let flipped = site.dir.join("flipped.json");
    std::fs::write(&flipped, file.to_string()).unwrap();
    let (code, out) = site.output(&["licence", "verify", flipped.to_str().unwrap()]);
    assert!(code != 0 && out.contains("was altered") && out.contains("flipped.json"), "{out}");
    assert_eq!(site.show()["plan"], "standard", "a refused file changes nothing");
}

#[test]
fn a_remote_basic_card_shows_in_the_agents_licence() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    // Logged in without --account: `cloud login` asks the real cloud (as the
    // agent) for its licence and pins the account it names, so no licence
    // file of another account can be installed before the first fetch.
    let site = Site::new(dir.path(), &setup, None);
    let config = std::fs::read_to_string(&site.config).unwrap();
    assert!(config.contains("account = \"acme\""), "login pins the agent's account: {config}");
    site.fetch();
    let v = site.show();
    assert_eq!(v["account"], "acme", "{v}");
    assert!(v["gateway"].is_null(), "no gateway entitlement on Free: {v}");

    let card = issue_card(&setup.cloud, &["--remote", "basic", "--agent", &setup.agent_id]);
    apply_card(&setup.api, &card);
    site.fetch();
    let v = site.show();
    let g = &v["gateway"];
    assert_eq!((g["agent"].as_str(), g["plan"].as_str()), (Some(setup.agent_id.as_str()), Some("basic")), "{v}");
    assert_eq!(g["limits"], serde_json::to_value(RemotePlan::Basic.limits()).unwrap(), "{v}");
    let days = (g["expires"].as_i64().unwrap() - meterdeck_wire::now_ms()) / 86_400_000;
    assert!((27..=31).contains(&days), "a month's term: {v}");
    let (code, out) = site.output(&["licence", "show"]);
    assert!(code == 0 && out.contains("gateway:") && out.contains("Remote Basic"), "{out}");
}
