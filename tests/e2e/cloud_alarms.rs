//! Issue 16, first slice, against the real parts: simulator ->
//! meterdeck-agent -> Mosquitto (started by meterdeck-cloud serve, with the
//! agents' logins and prefix ACL) -> meterdeck-cloud (SQLite) -> Web API,
//! the agent's secret in a real gnome-keyring, mail through aiosmtpd.
//!
//! - `alarm_journal_and_events_survive_link_cuts`: an alarm driven over and
//!   under its threshold and an instrument dropped again and again, while a
//!   TCP proxy cuts or black-holes the agent's link and the broker is
//!   killed: afterwards the cloud holds exactly the agent's journal entries
//!   and events (0 lost, 0 duplicated, in the agent's order), and the API
//!   pages, filters and hides them from another account (404).
//! - `killed_agent_is_mailed_offline_once_then_back_online`: kill -9 the
//!   agent; with a 5 s silence setting the "offline" mail reaches aiosmtpd
//!   once within 5 + 30 s; restarted, the "back online" mail follows.
//! - `alarms_are_acknowledged_both_ways`: an alarm acknowledged through the
//!   cloud API is journaled by the agent as `<user>@cloud` with the comment
//!   and then shows acknowledged in the cloud; one acknowledged on the agent
//!   shows acknowledged in the cloud (who, when, comment).
//! - `cloud_alarm_reaches_every_destination_and_the_ack_stops_its_reminders`:
//!   the offline alarm to mail and Slack/Teams/JSON webhooks, acknowledged
//!   in the portal, shown so in the desktop's Cloud screen data, and no
//!   reminder after the ack.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use meterdeck_drivers::TransportConfig;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::cloud::{ADMIN_PASSWORD, Api, Cloud, agent_login, cloud_with_agent, line_after, request};
use meterdeck_e2e::link::LinkProxy;
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::site::Site;
use meterdeck_e2e::*;
use serde_json::{Value, json};

const ALARM: &str = r#"
[[alarm]]
id = "hot"
name = "Too hot"
kind = "threshold"
channel = "log/CH1_1"
op = ">"
value = 50.0
severity = "critical"
notify_on_return = true
"#;

fn sim_command(port: u16, cmd: &str) {
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.write_all(format!("{cmd};*OPC?\n").as_bytes());
        let mut buf = [0u8; 16];
        let _ = std::io::Read::read(&mut s, &mut buf);
    }
}

fn port_of(c: &meterdeck_drivers::InstrumentConfig) -> u16 {
    match &c.transport {
        TransportConfig::Tcp { port: Some(p), .. } => *p,
        other => panic!("not a TCP instrument: {other:?}"),
    }
}

fn sims() -> SimConfig {
    SimConfig {
        instruments: vec![SimInstrument {
            channels: Some(2),
            seed: 16,
            ..SimInstrument::new("log", Personality::HiokiLogger)
        }],
    }
}

/// Every record of the agent through the API, in pages of `page`.
fn cloud_records(api: &Api, agent: &str, query: &str, page: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let v = api.get(&format!("/api/v1/agents/{agent}/records?limit={page}{query}{after}"));
        let recs = v["records"].as_array().expect("records").clone();
        out.extend(recs);
        match v["next"].as_str() {
            Some(n) => after = format!("&after={n}"),
            None => return out,
        }
    }
}

/// The SMTP peer's mails once `n` arrived, waiting up to `timeout`.
fn wait_mails(session: &mut Session, peer: usize, n: usize, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let got = session.peer_json_now(peer, "MAIL").unwrap();
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "{n} mails expected within {timeout:?}, got {got:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mosquitto_pid(cloud: &Cloud) -> u32 {
    proctree::descendants(cloud.proc.pid())
        .into_iter()
        .find(|p| proctree::comm(*p).as_deref() == Some("mosquitto"))
        .expect("serve runs mosquitto")
}

#[test]
fn alarm_journal_and_events_survive_link_cuts() {
    const CUTS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let proxy = LinkProxy::start(SocketAddr::from(([127, 0, 0, 1], setup.cloud.mqtt_port)));
    let rt = runtime();
    let sims = rt.block_on(sim::start(sims())).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let port = port_of(&cfgs[0]);
    let site = Site::new(dir.path(), &setup.agent_id, &setup.secret, proxy.port, &cfgs, ALARM);
    let mut agent = site.run();
    wait_until(Duration::from_secs(60), "the first records in the cloud", || {
        !cloud_records(&setup.api, &setup.agent_id, "", 1000).is_empty()
    });

    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(16);
    let started = Instant::now();
    let mut hot = false;
    for cut in 0..CUTS {
        use rand::Rng;
        // Alarm transitions and instrument events while the link comes and goes.
        for _ in 0..2 {
            hot = !hot;
            sim_command(port, &format!(":SIMulate:VALue CH1_1,{}", if hot { 77.5 } else { 20.0 }));
            std::thread::sleep(Duration::from_millis(rng.random_range(1200..2200)));
        }
        sims.instruments[0].drop_connections();
        if cut % 2 == 0 {
            proxy.cut();
        } else {
            proxy.black_hole();
            std::thread::sleep(Duration::from_millis(rng.random_range(2000..6000)));
            proxy.restore(true);
        }
        if cut == 5 {
            // The broker dies (serve starts it again): batches and acks in flight vanish.
            signal(mosquitto_pid(&setup.cloud), "KILL");
        }
    }
    sim_command(port, ":SIMulate:VALue CH1_1,20.0");
    std::thread::sleep(Duration::from_secs(3));
    eprintln!("{CUTS} link faults in {:?}", started.elapsed());
    wait_until(Duration::from_secs(120), "the record outbox drained", || site.records_waiting() == 0);
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    drop(sims);

    // The agent's journal and events, in its order, and what its stop left
    // in the outbox (records of the last moments, kept for the next run).
    let db = site.store();
    let journal: Vec<(i64, String, String, String, String)> = db
        .prepare("SELECT t, alarm_id, action, from_state, to_state FROM alarm_journal ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let events: Vec<(Option<String>, String)> = db
        .prepare("SELECT instrument, kind FROM event ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let left: Vec<i64> = db
        .prepare("SELECT id FROM record_outbox ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let raises = journal.iter().filter(|j| j.2 == "raise").count();
    assert!(raises >= 4, "too few alarm transitions to prove anything: {journal:?}");
    assert!(events.iter().filter(|e| e.1 == "disconnected").count() >= 3, "too few events: {events:?}");

    // The cloud's, in pages of 7.
    let all = cloud_records(&setup.api, &setup.agent_id, "&kind=journal,event", 7);
    let keys: Vec<(String, i64)> =
        all.iter().map(|r| (r["store"].as_str().unwrap().to_owned(), r["seq"].as_i64().unwrap())).collect();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "a record stored twice");
    let mut by_seq = all.clone();
    by_seq.sort_by_key(|r| r["seq"].as_i64().unwrap());
    let seqs: Vec<i64> = by_seq.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    let m = seqs.len() as i64;
    assert_eq!(seqs, (1..=m).collect::<Vec<_>>(), "a gap: a record lost");
    // What the cloud lacks is exactly what is still in the agent's outbox.
    assert_eq!(
        left,
        (m + 1..=m + left.len() as i64).collect::<Vec<_>>(),
        "the outbox holds other records than the cloud lacks"
    );
    assert!(left.len() <= 5, "the stop left {} records", left.len());
    assert_eq!(journal.len() + events.len(), m as usize + left.len());
    let cloud_journal: Vec<(i64, String, String, String, String)> = by_seq
        .iter()
        .filter(|r| r["kind"] == "journal")
        .map(|r| {
            let b = &r["body"];
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
            (r["t"].as_i64().unwrap(), s("alarm_id"), s("action"), s("from_state"), s("to_state"))
        })
        .collect();
    assert_eq!(cloud_journal[..], journal[..cloud_journal.len()], "the journal in the cloud differs from the agent's");
    let cloud_events: Vec<(Option<String>, String)> = by_seq
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| (r["body"]["instrument"].as_str().map(str::to_owned), r["body"]["event"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(cloud_events[..], events[..cloud_events.len()], "the events in the cloud differ from the agent's");
    // The listing is in site order: by time, then seq.
    let listed: Vec<(i64, i64)> = all.iter().map(|r| (r["t"].as_i64().unwrap(), r["seq"].as_i64().unwrap())).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    eprintln!(
        "{} journal entries and {} events in the cloud ({} left by the stop): 0 lost, 0 duplicated, order kept",
        cloud_journal.len(),
        cloud_events.len(),
        left.len()
    );
    let journal = cloud_journal;

    // Filters: kind and time.
    let only_journal = cloud_records(&setup.api, &setup.agent_id, "&kind=journal", 1000);
    assert_eq!(only_journal.len(), journal.len());
    let t_mid = journal[journal.len() / 2].0;
    let later = cloud_records(&setup.api, &setup.agent_id, &format!("&kind=journal&from={t_mid}"), 1000);
    assert_eq!(later.len(), journal.iter().filter(|j| j.0 >= t_mid).count());
    // The alarm's state in the cloud is its latest transition's.
    let alarms = setup.api.get(&format!("/api/v1/agents/{}/alarms", setup.agent_id));
    let last = journal.iter().rev().find(|j| !j.2.starts_with("notify")).unwrap();
    assert_eq!(alarms["alarms"][0]["body"]["alarm_id"], "hot", "{alarms}");
    assert_eq!(alarms["alarms"][0]["body"]["to_state"], last.4.as_str(), "{alarms}");

    // Bad input is named; another account sees nothing (404).
    let base = format!("{}/api/v1/agents/{}", setup.api.base, setup.agent_id);
    let tok = Some(setup.api.token.as_str());
    for (q, says) in [
        ("?kind=photos", "not a record kind"),
        ("?after=xyz", "not a page cursor"),
        ("?limit=0", "limit must be"),
        ("?from=5&to=5", "must be before"),
        ("?from=yesterday", "neither milliseconds"),
        ("?colour=red", "colour"),
    ] {
        let (s, v) = request("GET", &format!("{base}/records{q}"), tok, None);
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v.to_string().contains(says), "{q}: {v}");
    }
    let temp = setup.cloud.cli(&[
        "account",
        "create",
        "--id",
        "globex",
        "--name",
        "Globex",
        "--admin",
        "gus",
        "--email",
        "gus@globex.test",
    ]);
    let globex =
        Api::sign_in(&setup.cloud.http, "globex", "gus", &line_after(&temp, "temporary password"), ADMIN_PASSWORD);
    for what in ["records", "alarms"] {
        let (s, v) = request("GET", &format!("{base}/{what}"), Some(&globex.token), None);
        assert_eq!(s, 404, "another account's agent {what}: {v}");
    }
    let (s, _) = request("GET", &format!("{base}/records"), None, None);
    assert_eq!(s, 401);
}

/// A cloud mailing to the SMTP peer on `smtp_port` and checking every
/// second for silent agents, account acme with alice signed in, and the
/// agent "site-a" registered: (cloud, agent id, its secret, alice's API).
fn watched_cloud(dir: &Path, smtp_port: u16) -> (Cloud, String, String, Api) {
    let smtp_addr = format!("127.0.0.1:{smtp_port}");
    let cloud = Cloud::start(&dir.join("cloud"), None, None, &["--smtp", &smtp_addr, "--offline-check-every", "1s"]);
    let temp = meterdeck_e2e::cloud::create_acme(&cloud);
    let out = cloud.cli(&["agent", "register", "--account", "acme", "--name", "site-a"]);
    let agent_id = out.split_whitespace().nth(1).expect("agent id").to_owned();
    let secret = line_after(&out, "shown once");
    let api = Api::sign_in(&cloud.http, "acme", "alice", &temp, ADMIN_PASSWORD);
    (cloud, agent_id, secret, api)
}

/// The simulator and site-a's agent running (with [`ALARM`]), once the
/// cloud sees it connected. The runtime outlives the simulator.
fn connected_site(
    dir: &Path,
    cloud: &Cloud,
    api: &Api,
    agent_id: &str,
    secret: &str,
) -> (tokio::runtime::Runtime, sim::SimHandle, Site, Proc) {
    let rt = runtime();
    let sims = rt.block_on(sim::start(sims())).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let site = Site::new(dir, agent_id, secret, cloud.mqtt_port, &cfgs, ALARM);
    let agent = site.run();
    wait_until(Duration::from_secs(60), "the agent connected", || {
        api.get(&format!("/api/v1/agents/{agent_id}/alarms"))["connected"] == true
    });
    (rt, sims, site, agent)
}

#[test]
fn killed_agent_is_mailed_offline_once_then_back_online() {
    let dir = tempfile::tempdir().unwrap();
    let mut mail = Session::start();
    let (smtp, smtp_port) = mail.start_peer("smtp_peer.py", &[]);
    let (cloud, agent_id, secret, api) = watched_cloud(dir.path(), smtp_port);
    let setting = format!("{}/api/v1/account/offline-alarm", cloud.http);
    assert_eq!(api.get("/api/v1/account/offline-alarm")["offline_after_s"], 300, "the default");
    let (s, v) = request("PUT", &setting, Some(&api.token), Some(&json!({"offline_after_s": 2})));
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("5 to 604800"), "{v}");
    let (s, v) = request("PUT", &setting, Some(&api.token), Some(&json!({"offline_after_s": 5})));
    assert_eq!(s, 200, "{v}");

    let (_rt, sims, site, agent) = connected_site(dir.path(), &cloud, &api, &agent_id, &secret);
    // Running and sending: no mail.
    std::thread::sleep(Duration::from_secs(8));
    assert!(mail.peer_json_now(smtp, "MAIL").unwrap().is_empty(), "a mail while the agent runs");

    let killed = Instant::now();
    agent.kill9();
    // The configured silence plus 30 s.
    let got = wait_mails(&mut mail, smtp, 1, Duration::from_secs(35));
    let offline_after = killed.elapsed();
    eprintln!("agent_offline_alert_s (5 s silence setting) = {:.1}", offline_after.as_secs_f64());
    let mails_now = got;
    let m = &mails_now[0];
    let text = m.to_string();
    assert!(m["subject"].as_str().unwrap_or_default().contains("is offline"), "{text}");
    assert!(text.contains("alice@acme.test"), "to the account's admin: {text}");
    assert!(text.contains(&agent_id), "{text}");
    // Once: no second offline mail while it stays down.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(mail.peer_json_now(smtp, "MAIL").unwrap().len(), 1, "the offline alarm mailed more than once");
    let alarms = api.get(&format!("/api/v1/agents/{agent_id}/alarms"));
    assert_eq!((alarms["offline"].as_bool(), alarms["connected"].as_bool()), (Some(true), Some(false)), "{alarms}");

    // Back: the back-online mail follows.
    let mut agent = site.run();
    let back = Instant::now();
    let mails = wait_mails(&mut mail, smtp, 2, Duration::from_secs(60));
    eprintln!("back-online mail after {:.1} s", back.elapsed().as_secs_f64());
    assert!(mails[1]["subject"].as_str().unwrap_or_default().contains("back online"), "{}", mails[1]);
    let alarms = api.get(&format!("/api/v1/agents/{agent_id}/alarms"));
    assert_eq!(alarms["offline"], false, "{alarms}");
    let cloud_alarms = cloud_records(&api, &agent_id, "&kind=cloud_alarm", 100);
    let kinds: Vec<&str> = cloud_alarms.iter().map(|r| r["body"]["alarm"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, vec!["agent_offline", "agent_online"], "{cloud_alarms:?}");
    // A clean stop says goodbye: offline (once) without waiting for the keep-alive.
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0));
    let mails = wait_mails(&mut mail, smtp, 3, Duration::from_secs(30));
    assert!(mails[2]["subject"].as_str().unwrap_or_default().contains("is offline"), "{}", mails[2]);
    drop(sims);
}

/// The cloud's summary of alarm `id` of the agent (`/alarms`, `site`).
fn site_alarm(api: &Api, agent: &str, id: &str) -> Value {
    let v = api.get(&format!("/api/v1/agents/{agent}/alarms"));
    v["site"].as_array().and_then(|l| l.iter().find(|a| a["alarm_id"] == id).cloned()).unwrap_or(Value::Null)
}

/// The agent's latest `ack` journal entry of `alarm`: (user, comment).
fn local_ack(site: &Site, alarm: &str) -> Option<(String, Option<String>)> {
    site.store()
        .query_row(
            "SELECT user, comment FROM alarm_journal WHERE alarm_id = ?1 AND action = 'ack' ORDER BY id DESC LIMIT 1",
            [alarm],
            |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)),
        )
        .ok()
}

/// Issue 16, acknowledgements both ways: an alarm raised on the agent and
/// acknowledged through the cloud API is journaled on the agent as
/// `alice@cloud` with the comment, and the cloud then shows it acknowledged
/// (who, when, comment); one acknowledged on the agent (the local CLI)
/// shows acknowledged in the cloud by that user.
#[test]
fn alarms_are_acknowledged_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let (api, agent_id) = (&setup.api, setup.agent_id.as_str());
    let rt = runtime();
    let sims = rt.block_on(sim::start(sims())).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let port = port_of(&cfgs[0]);
    let site = Site::new(dir.path(), agent_id, &setup.secret, setup.cloud.mqtt_port, &cfgs, ALARM);
    let mut running = site.run();

    // Cloud -> agent.
    sim_command(port, ":SIMulate:VALue CH1_1,77.5");
    wait_until(Duration::from_secs(60), "the raised alarm in the cloud", || {
        site_alarm(api, agent_id, "hot")["state"] == "UNACK"
    });
    let ack_url = format!("{}/api/v1/agents/{agent_id}/alarms/hot/ack", api.base);
    let tok = Some(api.token.as_str());
    let (s, v) = request("POST", &ack_url, tok, Some(&json!({"comment": "valve closed"})));
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["pending"]["user"], "alice", "{v}");
    assert_eq!(v["alarm"]["pending_ack"]["comment"], "valve closed", "{v}");
    let (s, v) = request("POST", &ack_url, tok, Some(&json!({"comment": "again"})));
    assert_eq!(s, 409, "a second ack while the first travels: {v}");
    let (s, v) =
        request("POST", &format!("{}/api/v1/agents/{agent_id}/alarms/nope/ack", api.base), tok, Some(&json!({})));
    assert_eq!(s, 404, "{v}");
    let sent = Instant::now();
    wait_until(Duration::from_secs(30), "the cloud's ack in the agent's journal", || local_ack(&site, "hot").is_some());
    eprintln!("cloud ack journaled on the agent after {:.1} s", sent.elapsed().as_secs_f64());
    assert_eq!(local_ack(&site, "hot"), Some(("alice@cloud".into(), Some("valve closed".into()))));
    wait_until(Duration::from_secs(30), "the cloud showing the alarm acknowledged", || {
        site_alarm(api, agent_id, "hot")["state"] == "ACKED"
    });
    let a = site_alarm(api, agent_id, "hot");
    assert_eq!(
        (a["ack"]["user"].as_str(), a["ack"]["comment"].as_str()),
        (Some("alice@cloud"), Some("valve closed")),
        "{a}"
    );
    assert!(a["ack"]["t"].as_i64().is_some() && a["pending_ack"].is_null(), "{a}");
    // Now acknowledged: nothing more to acknowledge.
    let (s, v) = request("POST", &ack_url, tok, Some(&json!({})));
    assert_eq!(s, 409, "{v}");

    // Agent -> cloud: returned (normal), raised again, acknowledged locally.
    sim_command(port, ":SIMulate:VALue CH1_1,20.0");
    wait_until(Duration::from_secs(60), "the return in the cloud", || {
        site_alarm(api, agent_id, "hot")["state"] == "NORM"
    });
    sim_command(port, ":SIMulate:VALue CH1_1,80.0");
    wait_until(Duration::from_secs(60), "the second raise in the cloud", || {
        site_alarm(api, agent_id, "hot")["state"] == "UNACK"
    });
    assert!(site_alarm(api, agent_id, "hot")["ack"].is_null(), "the earlier ack is not this raise's");
    let cfg = site.config.to_str().unwrap();
    let data = site.data.to_str().unwrap();
    let out =
        agent(&["alarms", "--config", cfg, "--data-dir", data, "ack", "hot", "--user", "bob", "--comment", "on site"])
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_until(Duration::from_secs(30), "the local ack in the cloud", || {
        site_alarm(api, agent_id, "hot")["ack"]["user"] == "bob"
    });
    let a = site_alarm(api, agent_id, "hot");
    assert_eq!((a["state"].as_str(), a["ack"]["comment"].as_str()), (Some("ACKED"), Some("on site")), "{a}");

    // The portal's Alarms page: raised once more, acknowledged from the browser.
    sim_command(port, ":SIMulate:VALue CH1_1,20.0");
    wait_until(Duration::from_secs(60), "the return in the cloud", || {
        site_alarm(api, agent_id, "hot")["state"] == "NORM"
    });
    sim_command(port, ":SIMulate:VALue CH1_1,90.0");
    wait_until(Duration::from_secs(60), "the third raise in the cloud", || {
        site_alarm(api, agent_id, "hot")["state"] == "UNACK"
    });
    portal_ack(&setup.cloud.http, dir.path()).expect("the portal's Alarms page");
    wait_until(Duration::from_secs(30), "the portal's ack in the agent's journal", || {
        local_ack(&site, "hot").is_some_and(|(u, c)| u == "alice@cloud" && c.as_deref() == Some("from the portal"))
    });
    assert_eq!(running.terminate(Duration::from_secs(15)), Some(0));
    drop(sims);
}

/// Chromium signed in to the portal as alice, on the Alarms page (`height`
/// px tall for its screenshot). The driver must outlive the session.
fn portal_alarms_page(
    base: &str,
    dir: &Path,
    height: u32,
) -> anyhow::Result<(meterdeck_e2e::webdriver::Driver, meterdeck_e2e::webdriver::Session)> {
    use meterdeck_e2e::portal::{click, sign_in_form};
    use meterdeck_e2e::webdriver::{Driver, testid};
    let driver = Driver::start_chromedriver()?;
    let s = driver.chromium_session(&dir.join("chromium"))?;
    s.set_window_rect(1280, height)?;
    s.goto(&format!("{base}/"))?;
    sign_in_form(&s, "acme", "alice", ADMIN_PASSWORD)?;
    s.wait_for(&testid("portal-who"), Duration::from_secs(20))?;
    click(&s, "nav-alarms")?;
    Ok((driver, s))
}

/// Signs in to the portal as alice, opens Alarms, screenshots the site's
/// page (docs/screenshots/portal-alarms.png) and acknowledges `hot`.
fn portal_ack(base: &str, dir: &Path) -> anyhow::Result<()> {
    use meterdeck_e2e::portal::{click, doc_screenshot, fill};
    use meterdeck_e2e::webdriver::testid;
    let (_driver, s) = portal_alarms_page(base, dir, 860)?;
    s.wait_for("[data-testid=site-alarm][data-alarm=hot][data-unacked=true]", Duration::from_secs(20))?;
    s.wait_for(&testid("portal-record"), Duration::from_secs(20))?;
    doc_screenshot(&s, "portal-alarms")?;
    fill(&s, "site-alarm-comment", "from the portal")?;
    click(&s, "site-alarm-ack")?;
    s.wait_for(&testid("site-alarm-pending"), Duration::from_secs(20))?;
    Ok(())
}

/// The agent's alarm email carries a view-only link (issue 16, SPEC 5.5):
/// the agent, linked to the cloud (`--api`), asks the cloud for it with its
/// own credentials when the alarm is raised; the mail reaches aiosmtpd with
/// "View (valid 30 min): URL", and that URL's data (the API behind the
/// page) opens without signing in and shows the alarm's channel only.
#[test]
fn an_alarm_mail_carries_a_view_link_that_opens() {
    let dir = tempfile::tempdir().unwrap();
    let setup = cloud_with_agent(dir.path());
    let rt = runtime();
    let sims = rt.block_on(sim::start(sims())).expect("simulator");
    let cfgs: Vec<_> = sims.instruments.iter().map(|s| s.instrument_config()).collect();
    let port = port_of(&cfgs[0]);
    let mut session = Session::start();
    session.start_keyring();
    let (smtp, smtp_port) = session.start_peer("smtp_peer.py", &[]);
    let config = write_agent_config(dir.path(), "name = \"site-a\"\npoll_interval = \"1s\"", &cfgs);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&ALARM.replace("notify_on_return = true", "notify_on_return = false\ndestinations = [\"mail\"]"));
    text.push_str(&format!(
        "\n[[destination]]\nid = \"mail\"\nkind = \"email\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n\
         from = \"alarms@example.com\"\nto = [\"ops@example.com\"]\n"
    ));
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let extra = ["--config", config.to_str().unwrap(), "--send-interval", "1s", "--api", &setup.cloud.http];
    agent_login(&session.address, &setup.agent_id, &setup.secret, setup.cloud.mqtt_port, &extra).expect("cloud login");
    let args = ["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()];
    let mut c = agent(&args);
    c.env("DBUS_SESSION_BUS_ADDRESS", &session.address);
    let mut agent = Proc::spawn("meterdeck-agent", &mut c);
    // The channel is in the cloud before the alarm (the link names it).
    wait_until(Duration::from_secs(60), "log/CH1_1 in the cloud", || {
        let chans = setup.api.get(&format!("/api/v1/agents/{}/channels", setup.agent_id));
        chans.as_array().is_some_and(|a| a.iter().any(|c| c["path"] == "log/CH1_1"))
    });
    sim_command(port, ":SIMulate:VALue CH1_1,77.5");
    let mail = wait_mails(&mut session, smtp, 1, Duration::from_secs(60)).remove(0);
    sim_command(port, ":SIMulate:VALue CH1_1,20.0");
    let body = mail["body"].as_str().unwrap_or_default().to_string();
    let line = body.lines().find(|l| l.starts_with("View (valid 30 min): ")).unwrap_or_else(|| panic!("{body}"));
    let url = line.trim_start_matches("View (valid 30 min): ").trim().to_string();
    let token = url.strip_prefix(&format!("{}/v/", setup.cloud.http)).unwrap_or_else(|| panic!("{url}"));
    // The page's data, without signing in: the alarm and its one channel.
    let (s, v) = request("GET", &format!("{}/api/v1/view/{token}", setup.cloud.http), None, None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["alarm"]["id"], "hot");
    assert_eq!(v["alarm"]["name"], "Too hot");
    let paths: Vec<&str> = v["channels"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["log/CH1_1"], "{v}");
    // The page itself is served (the portal's page of the link).
    let (s, _) = request("GET", &url, None, None);
    assert_eq!(s, 200);
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
}

/// Issue 16, the cloud's own alarms end to end: the account's destinations
/// are mail (the admin and a listed address) and Slack, Teams and JSON
/// webhooks on a real HTTP server (tests/peers/webhook_peer.py); kill -9 the
/// agent and the offline alarm reaches each once (the webhook URLs never in
/// the API's answers); acknowledge it in the portal (chromium) and the
/// desktop's Cloud screen data (`CloudLink::site_alarms`, what the window's
/// `cloud_site_alarms` returns) shows it acknowledged by alice with the
/// comment; with reminders every minute, none follows the ack.
#[test]
fn cloud_alarm_reaches_every_destination_and_the_ack_stops_its_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let mut peers = Session::start();
    let (smtp, smtp_port) = peers.start_peer("smtp_peer.py", &[]);
    let (hooks, hook_port) = peers.start_peer("webhook_peer.py", &[]);
    let (cloud, agent_id, secret, api) = watched_cloud(dir.path(), smtp_port);
    let tok = Some(api.token.as_str());
    let (s, v) = request(
        "PUT",
        &format!("{}/api/v1/account/offline-alarm", cloud.http),
        tok,
        Some(&json!({"offline_after_s": 5})),
    );
    assert_eq!(s, 200, "{v}");
    let hook = |p: &str| format!("http://127.0.0.1:{hook_port}/{p}/secret-token-{p}");
    let dests = json!({
        "remind_every_min": 1, "language": "en", "zone": "Asia/Tokyo",
        "destinations": [
            {"id": "mail", "kind": "email", "admins": true, "addresses": ["ops@acme.test"]},
            {"id": "slack", "kind": "slack", "url": hook("slack")},
            {"id": "teams", "kind": "teams", "url": hook("teams")},
            {"id": "json", "kind": "json", "url": hook("json")},
        ]
    });
    let url = format!("{}/api/v1/account/alarm-destinations", cloud.http);
    let (s, v) = request("PUT", &url, tok, Some(&dests));
    assert_eq!(s, 200, "{v}");
    assert!(!v.to_string().contains("secret-token"), "masked: {v}");
    let (s, v) = request("GET", &url, tok, None);
    assert!(s == 200 && !v.to_string().contains("secret-token"), "{v}");
    let key = std::fs::metadata(dir.path().join("cloud/alarm-secrets.key")).expect("the key file");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777, 0o600);

    let (rt, sims, _site, agent) = connected_site(dir.path(), &cloud, &api, &agent_id, &secret);
    let killed = Instant::now();
    agent.kill9();
    let posts = peers.peer_json(hooks, "HOOK", 3);
    eprintln!("offline alarm at the webhooks {:.1} s after the kill", killed.elapsed().as_secs_f64());
    let mails = wait_mails(&mut peers, smtp, 2, Duration::from_secs(35));
    let to: String = mails.iter().map(|m| m["rcpt_tos"].to_string()).collect();
    assert!(to.contains("alice@acme.test") && to.contains("ops@acme.test"), "{to}");
    let by =
        |p: &str| posts.iter().find(|x| x["path"].as_str().unwrap_or_default().starts_with(&format!("/{p}/"))).cloned();
    let (slack, teams, json_post) = (by("slack").unwrap(), by("teams").unwrap(), by("json").unwrap());
    assert!(slack["body"]["text"].as_str().unwrap_or_default().contains("agent site-a is offline"), "{slack}");
    assert!(slack["body"]["text"].as_str().unwrap_or_default().contains("+09:00"), "the account's zone: {slack}");
    assert_eq!(teams["body"]["attachments"][0]["content"]["type"], "AdaptiveCard", "{teams}");
    assert_eq!(json_post["body"]["alarm_id"], "agent_offline", "{json_post}");
    assert_eq!(json_post["body"]["agent"], agent_id.as_str(), "{json_post}");

    // Acknowledged in the portal.
    let acked = Instant::now();
    portal_ack_cloud_alarm(&cloud.http, dir.path()).expect("the portal's Alarms page");
    // The desktop's Cloud screen data: acknowledged, by whom, with the comment.
    let shown = rt.block_on(async {
        use meterdeck_core::cloudlink::{CloudLink, MemoryPrefs};
        let link = CloudLink::new(
            std::sync::Arc::new(meterdeck_core::notify::MemorySecrets::new()),
            std::sync::Arc::new(MemoryPrefs::default()),
        )
        .unwrap();
        let st = link.sign_in(&cloud.http, "acme", "alice", ADMIN_PASSWORD).await.unwrap();
        assert!(st.signed_in, "{st:?}");
        link.site_alarms(&agent_id).await.unwrap()
    });
    let a = shown.site.iter().find(|a| a.alarm_id.starts_with("cloud-")).unwrap_or_else(|| panic!("{shown:?}"));
    assert_eq!((a.name.as_str(), a.state.as_str(), a.unacked), ("agent_offline", "ACKED", false), "{a:?}");
    let ack = a.ack.as_ref().expect("who acknowledged");
    assert_eq!((ack.user.as_deref(), ack.comment.as_deref()), (Some("alice"), Some("on my way")));

    // No reminder after the ack (one would have been due a minute after the alarm).
    let quiet = Duration::from_secs(75).saturating_sub(acked.elapsed());
    std::thread::sleep(quiet.max(Duration::from_secs(65)));
    assert_eq!(peers.peer_json_now(hooks, "HOOK").unwrap().len(), 3, "a webhook reminder after the ack");
    assert_eq!(peers.peer_json_now(smtp, "MAIL").unwrap().len(), 2, "a mail reminder after the ack");
    drop(sims);
}

/// Signs in to the portal as alice, opens Alarms, acknowledges the cloud's
/// offline alarm with a comment, waits for it to show acknowledged and
/// screenshots the page (docs/screenshots/portal-cloud-alarms.png).
fn portal_ack_cloud_alarm(base: &str, dir: &Path) -> anyhow::Result<()> {
    use meterdeck_e2e::portal::{click, doc_screenshot, fill};
    let (_driver, s) = portal_alarms_page(base, dir, 960)?;
    s.wait_for("[data-testid=site-alarm][data-cloud=true][data-unacked=true]", Duration::from_secs(20))?;
    s.wait_for("[data-testid=alarm-destination][data-kind=slack]", Duration::from_secs(20))?;
    fill(&s, "site-alarm-comment", "on my way")?;
    click(&s, "site-alarm-ack")?;
    s.wait_for("[data-testid=site-alarm][data-cloud=true][data-state=ACKED]", Duration::from_secs(20))?;
    // The account's list redraws with the site's.
    click(&s, "nav-alarms")?;
    s.wait_for("[data-testid=cloud-alarm][data-acked=true]", Duration::from_secs(20))?;
    doc_screenshot(&s, "portal-cloud-alarms")?;
    Ok(())
}
