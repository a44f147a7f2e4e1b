//! Issue 16, cloud -> agent commands, against the real parts: simulator ->
//! meterdeck-agent <-> Mosquitto (started by meterdeck-cloud serve with the
//! agents' logins and prefix ACL) <-> meterdeck-cloud (SQLite) <- Web API.
//!
//! `remote_console_needs_consent_a_valid_signature_and_the_acl`:
//! - a command the agent cannot verify (it pinned another cloud key) is
//!   refused (`bad_authorisation`) and journaled on both sides;
//! - with the right key: refused without the owner's consent
//!   (`no_consent`), done after `meterdeck-agent consent log on`, the
//!   agent's store naming the remote operator (what the window shows);
//! - another agent's credentials can neither publish on this agent's
//!   `down/cmd` (nothing reaches it) nor read its `up/reply`;
//! - remote instrument settings: a poll-interval change is saved to the
//!   agent's config file (what the window reads) and the agent restarts
//!   with it; adding an instrument is refused without the agent-wide
//!   consent (`meterdeck-agent consent '*' on`), then done with it; a bad
//!   one is refused with the editor's message and changes nothing; an
//!   instrument is removed; both journals have every one;
//! - an agent known offline answers 409 `agent_offline` at once.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{Api, agent_login, cloud_with_agent, line_after, request};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::site::Site;
use meterdeck_e2e::*;
use serde_json::{Value, json};

/// The agent's journal events about remote commands.
fn remote_events(site: &Site) -> Vec<String> {
    let db = site.store();
    let mut st = db.prepare("SELECT message FROM event WHERE message LIKE 'remote %' ORDER BY id").unwrap();
    st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

fn command(api: &Api, agent: &str, action: Value) -> (u16, Value, Duration) {
    let t = Instant::now();
    let (s, v) = request(
        "POST",
        &format!("{}/api/v1/agents/{agent}/commands", api.base),
        Some(&api.token),
        Some(&json!({ "action": action })),
    );
    (s, v, t.elapsed())
}

fn console(line: &str) -> Value {
    json!({"kind": "console", "instrument": "log", "line": line})
}

/// A command once the agent is connected again (a settings change
/// restarts it: for a moment the cloud knows it offline).
fn command_online(api: &Api, agent: &str, action: Value) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v, _) = command(api, agent, action.clone());
        if s != 409 || Instant::now() > deadline {
            return (s, v);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The instruments of the agent's config file, as the window reads them.
fn configured(config: &Path) -> Vec<toml::Table> {
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    doc.get("instrument")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_table().cloned()).collect())
        .unwrap_or_default()
}

fn consent(site: &Site, instrument: &str, on: &str) {
    let out = agent(&["consent", instrument, on, "--data-dir", site.data.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "consent: {}", String::from_utf8_lossy(&out.stderr));
}

/// The cloud's journal of remote commands to `agent`.
fn cloud_journal(api: &Api, agent: &str) -> Vec<Value> {
    api.get(&format!("/api/v1/agents/{agent}/records?kind=remote_command&limit=1000"))["records"]
        .as_array()
        .expect("records")
        .clone()
}

/// Sets the agent config's pinned cloud key.
fn pin_key(config: &Path, key: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let mut out: Vec<String> =
        text.lines().filter(|l| !l.trim_start().starts_with("licence_key")).map(str::to_owned).collect();
    let at = out.iter().position(|l| l.trim() == "[cloud]").expect("[cloud] section") + 1;
    out.insert(at, format!("licence_key = \"{key}\""));
    std::fs::write(config, out.join("\n") + "\n").unwrap();
}

fn pinned_key(config: &Path) -> String {
    let text = std::fs::read_to_string(config).unwrap();
    let line = text.lines().find(|l| l.trim_start().starts_with("licence_key")).expect("a pinned licence key");
    line.split('"').nth(1).expect("quoted key").to_owned()
}

fn mosquitto_sub(port: u16, user: &str, secret: &str, topic: &str, secs: u32) -> std::process::Child {
    Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-u", user, "-P", secret, "-i", &format!("{user}-spy")])
        .args(["-q", "1", "-t", topic, "-W", &secs.to_string(), "-v"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mosquitto_sub (apt-get install mosquitto-clients)")
}

#[test]
fn remote_console_needs_consent_a_valid_signature_and_the_acl() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let (api, agent_id) = (&setup.api, setup.agent_id.as_str());
    let rt = runtime();
    let sims = rt
        .block_on(sim::start(SimConfig {
            instruments: vec![SimInstrument {
                channels: Some(1),
                seed: 16,
                ..SimInstrument::new("log", Personality::HiokiLogger)
            }],
        }))
        .expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let mut session = Session::start();
    session.start_keyring();
    let config = write_agent_config(dir.path(), "name = \"site-a\"\npoll_interval = \"1s\"", &cfgs);
    let site = Site { session, config, data: dir.path().join("data") };
    let extra = ["--config", site.config.to_str().unwrap(), "--send-interval", "1s", "--api", &setup.cloud.http];
    agent_login(&site.session.address, agent_id, &setup.secret, setup.cloud.mqtt_port, &extra).expect("cloud login");
    let right_key = pinned_key(&site.config);

    // 1. The agent trusts another cloud's key: the command reaches it but
    //    does not verify.
    let other = meterdeck_wire::licence::signing_key(&[3; 32]);
    pin_key(&site.config, &meterdeck_wire::licence::public_key_text(&other.verifying_key()));
    let mut proc = site.run();
    wait_until(Duration::from_secs(60), "the agent online in the cloud", || {
        api.get(&format!("/api/v1/agents/{agent_id}"))["online"] == true
    });
    let (s, v, _) = command(api, agent_id, console("*IDN?"));
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["status"].as_str(), v["code"].as_str()), (Some("refused"), Some("bad_authorisation")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("does not verify"), "{v}");
    wait_until(Duration::from_secs(10), "the refusal in the agent's journal", || {
        remote_events(&site).iter().any(|m| m.contains("refused") && m.contains("does not verify"))
    });
    assert_eq!(proc.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");

    // 2. The right key, no consent: refused with a message that says so.
    pin_key(&site.config, &right_key);
    let mut proc = site.run();
    wait_until(Duration::from_secs(60), "the agent connected again", || {
        let (s, v, _) = command(api, agent_id, console("*IDN?"));
        s == 200 && v["code"] != "bad_authorisation"
    });
    let (s, v, _) = command(api, agent_id, console("*IDN?"));
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["status"].as_str(), v["code"].as_str()), (Some("refused"), Some("no_consent")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("has not allowed remote access to instrument `log`"), "{v}");
    assert!(site.setting("remote.console_holds").is_none(), "no hold without consent");

    // 3. The owner allows it locally: the console works; the store names
    //    the remote operator (the window's "operated remotely by ...").
    let out = agent(&["consent", "log", "on", "--data-dir", site.data.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "consent: {}", String::from_utf8_lossy(&out.stderr));
    let (s, v, _) = command(api, agent_id, console("*IDN?"));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "done", "{v}");
    assert!(v["output"].as_str().is_some_and(|o| !o.trim().is_empty()), "an *IDN? answer: {v}");
    let holds = site.setting("remote.console_holds").expect("the remote hold");
    assert!(holds.contains("alice@acme.test"), "{holds}");

    // 4. The ACL: another agent's credentials neither read the replies nor
    //    publish commands to this agent.
    let out = setup.cloud.cli(&["agent", "register", "--account", "acme", "--name", "site-b"]);
    let b_id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let b_secret = line_after(&out, "shown once");
    std::thread::sleep(Duration::from_secs(3)); // the broker reloads its logins
    let spy = mosquitto_sub(setup.cloud.mqtt_port, &b_id, &b_secret, &format!("md/v1/{agent_id}/up/reply"), 6);
    let before = remote_events(&site).len();
    let forged = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &setup.cloud.mqtt_port.to_string(), "-u", &b_id, "-P", &b_secret])
        .args([
            "-q",
            "1",
            "-t",
            &format!("md/v1/{agent_id}/down/cmd"),
            "-m",
            "{\"v\":1,\"command\":\"{}\",\"sig\":\"\"}",
        ])
        .output()
        .expect("mosquitto_pub");
    eprintln!("mosquitto_pub as another agent: {:?}", forged.status);
    std::thread::sleep(Duration::from_secs(1));
    let (s, v, _) = command(api, agent_id, console("*IDN?"));
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    let spied = spy.wait_with_output().unwrap();
    let seen = String::from_utf8_lossy(&spied.stdout);
    assert!(seen.trim().is_empty(), "another agent read this agent's replies: {seen}");
    std::thread::sleep(Duration::from_secs(1));
    let after = remote_events(&site);
    assert_eq!(after.len(), before + 1, "only the cloud's command reached the agent: {:?}", &after[before..]);
    assert!(!after.iter().any(|m| m.contains("not a remote command")), "{after:?}");

    // 5. Both journals: every command, allowed or refused, with who.
    let journal = cloud_journal(api, agent_id);
    let codes: Vec<&str> = journal.iter().filter_map(|r| r["body"]["code"].as_str()).collect();
    for code in ["bad_authorisation", "no_consent", "ok"] {
        assert!(codes.contains(&code), "cloud journal has {code}: {codes:?}");
    }
    assert!(journal.iter().all(|r| r["body"]["user"] == "alice"), "{journal:?}");
    let events = remote_events(&site);
    assert!(events.iter().any(|m| m.contains("by alice@acme.test (admin)") && m.contains("no_consent")), "{events:?}");
    assert!(events.iter().any(|m| m.contains("console `*IDN?`") && m.ends_with(": done")), "{events:?}");

    // 6. Remote settings: a poll interval, saved as a local edit would be;
    //    the agent restarts with it.
    let (s, v) = command_online(api, agent_id, json!({"kind": "poll_interval", "instrument": "log", "seconds": 5}));
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("configuration saved"), "{v}");
    let log = configured(&site.config).into_iter().find(|i| i["id"].as_str() == Some("log")).expect("log");
    assert_eq!(log.get("poll_interval").and_then(|p| p.as_str()), Some("5s"), "{log:?}");
    // The restarted agent answers again (the console still held by alice).
    let (s, v) = command_online(api, agent_id, console("*IDN?"));
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");

    //    Adding: refused without the agent-wide consent, file untouched.
    let dmm = json!({"id": "dmm2", "name": "Bench DMM", "family": "scpi", "enabled": false,
                     "transport": {"kind": "tcp", "host": "127.0.0.1", "port": 9}});
    let before = std::fs::read_to_string(&site.config).unwrap();
    let (s, v) = command_online(api, agent_id, json!({"kind": "add_instrument", "config": dmm}));
    assert_eq!((s, v["status"].as_str(), v["code"].as_str()), (200, Some("refused"), Some("no_consent")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("has not allowed adding instruments remotely"), "{v}");
    assert_eq!(std::fs::read_to_string(&site.config).unwrap(), before);
    consent(&site, "*", "on");
    //    A bad one: the editor's message, nothing changed.
    let bad =
        json!({"id": "dmm3", "family": "no-such-family", "transport": {"kind": "tcp", "host": "127.0.0.1", "port": 9}});
    let (s, v) = command_online(api, agent_id, json!({"kind": "add_instrument", "config": bad}));
    assert_eq!((s, v["status"].as_str(), v["code"].as_str()), (200, Some("refused"), Some("invalid")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("no-such-family"), "{v}");
    assert_eq!(std::fs::read_to_string(&site.config).unwrap(), before);
    let (s, v) = command_online(api, agent_id, json!({"kind": "add_instrument", "config": dmm}));
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    let ids = |c: &Path| configured(c).iter().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect::<Vec<_>>();
    assert_eq!(ids(&site.config), ["log", "dmm2"]);

    //    Removing (log has the owner's consent; dmm2 has none of its own).
    let (s, v) = command_online(api, agent_id, json!({"kind": "remove_instrument", "instrument": "dmm2"}));
    assert_eq!((s, v["code"].as_str()), (200, Some("no_consent")), "{v}");
    let (s, v) = command_online(api, agent_id, json!({"kind": "remove_instrument", "instrument": "log"}));
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    assert_eq!(ids(&site.config), ["dmm2"]);
    //    Both journals.
    wait_until(Duration::from_secs(10), "the settings in the agent's journal", || {
        let events = remote_events(&site);
        ["poll interval", "add instrument", "remove instrument"]
            .iter()
            .all(|what| events.iter().any(|m| m.contains(&format!("remote {what} by alice@acme.test (admin)"))))
    });
    let events = remote_events(&site);
    assert!(events.iter().any(|m| m.contains("add instrument") && m.contains("no_consent")), "{events:?}");
    let journal = cloud_journal(api, agent_id);
    let settings: Vec<(&str, &str)> = journal
        .iter()
        .filter_map(|r| Some((r["body"]["action"].as_str()?, r["body"]["code"].as_str()?)))
        .filter(|(k, _)| *k != "console")
        .collect();
    for want in [
        ("poll_interval", "ok"),
        ("add_instrument", "no_consent"),
        ("add_instrument", "ok"),
        ("remove_instrument", "ok"),
    ] {
        assert!(settings.contains(&want), "cloud journal has {want:?}: {settings:?}");
    }

    // 7. Offline: stopped agent (its goodbye presence) answers 409 at once.
    assert_eq!(proc.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    wait_until(Duration::from_secs(20), "409 agent_offline", || {
        let (s, v, took) = command(api, agent_id, console("*IDN?"));
        s == 409 && v["code"] == "agent_offline" && took < Duration::from_secs(2)
    });
    drop(sims);
}
