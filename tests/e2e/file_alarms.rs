//! File alarms (SPEC 5.2, issue 14) against real parts: a pyftpdlib server
//! (tests/peers/ftp_peer.py) as the instrument's FTP server, an aiosmtpd
//! server (tests/peers/smtp_peer.py) as the mail relay, gnome-keyring on a
//! private bus for the FTP password, and the real `meterdeck-agent` as a
//! process. A `new_file` rule with a name pattern mails an alarm naming the
//! file when the collector records a matching new file; a file that does
//! not match is collected and raises nothing; a bad rule is refused at
//! start with the field and the reason, and nothing runs.

use std::path::Path;
use std::time::Duration;

use meterdeck_core::files::{FileState, records};
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};
use meterdeck_e2e::ftp::{agent_on, set_ftp_password, start_ftp};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::*;

const PASSWORD: &str = "logger-pass";

fn fetched(data: &Path, name: &str) -> bool {
    let Ok(s) = Store::open_readonly(&data.join("meterdeck.db")) else { return false };
    records::list(s.conn(), Some("logger1"), 100)
        .unwrap_or_default()
        .iter()
        .any(|f| f.remote_path.ends_with(name) && f.state == FileState::Fetched)
}

/// The agent's configuration: the logger, its FTP source (every file), a
/// mail destination and `rule` (the `[[alarm]]` under test).
fn config(dir: &Path, sim_port: u16, ftp_port: u16, smtp_port: u16, rule: &str) -> std::path::PathBuf {
    let text = format!(
        r#"[agent]
name = "file-alarms"
poll_interval = "1s"

[[instrument]]
id = "logger1"
family = "hioki-logger"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {sim_port} }}
channel = [{{ id = "CH1_1" }}]

[[files]]
instrument = "logger1"
host = "127.0.0.1"
port = {ftp_port}
user = "logger"
folder = "/DATA"
interval = "1s"

[[destination]]
id = "mail"
kind = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "alarms@example.com"
to = ["ops@example.com"]

{rule}
"#
    );
    let path = dir.join("agent.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const RULE: &str = r#"[[alarm]]
id = "new-csv"
name = "New CSV file"
kind = "new_file"
instrument = "logger1"
pattern = "*.csv"
severity = "low"
destinations = ["mail"]
message = "Look at the new measurement"
"#;

#[test]
fn a_matching_new_file_is_mailed_and_others_raise_nothing() {
    let mut bus = Session::start();
    bus.start_keyring();
    let (smtp, smtp_port) = bus.start_peer("smtp_peer.py", &[]);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("instrument");
    std::fs::create_dir_all(root.join("DATA")).unwrap();
    let (_ftp, ftp_port) = start_ftp(&root, 0, PASSWORD, &[]);
    let rt = runtime();
    let sims = rt
        .block_on(sim::start(SimConfig {
            instruments: vec![SimInstrument {
                channels: Some(1),
                ..SimInstrument::new("log", Personality::HiokiLogger)
            }],
        }))
        .expect("simulator starts");
    let sim_port = match &sims.instruments[0].address {
        sim::SimAddress::Tcp(addr) => addr.port(),
        other => panic!("{other}"),
    };
    set_ftp_password(&bus, "logger1", PASSWORD);

    // A bad rule: refused at start naming the field, nothing runs.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let bad_rule = RULE.replace("*.csv", "[");
    let cfg = config(&bad, sim_port, ftp_port, smtp_port, &bad_rule);
    let (code, out, err) =
        agent_output(&["run", "--config", cfg.to_str().unwrap(), "--data-dir", bad.join("data").to_str().unwrap()]);
    assert_ne!(code, 0, "a bad rule must not run: {out}");
    assert!(err.contains("alarm[new-csv].pattern") && err.contains("`[` is not a name pattern"), "{err}");
    let other = RULE.replace("pattern = \"*.csv\"", "pattern = \"*.csv\"\nfilter = \"10s\"");
    let cfg = config(&bad, sim_port, ftp_port, smtp_port, &other);
    let (code, _, err) =
        agent_output(&["run", "--config", cfg.to_str().unwrap(), "--data-dir", bad.join("data").to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("alarm[new-csv].filter") && err.contains("does not apply to kind = \"new_file\""), "{err}");
    assert!(!bad.join("data/meterdeck.db").exists(), "nothing was started: no store");

    // The good rule: the agent collects every file, alarms on *.csv only.
    let cfg = config(tmp.path(), sim_port, ftp_port, smtp_port, RULE);
    let data = tmp.path().join("data");
    let agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent_on(&bus, &["run", "--config", cfg.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]),
    );

    // A file that does not match: collected, no alarm.
    std::fs::write(root.join("DATA/NOTES.TXT"), "operator notes").unwrap();
    wait_until(Duration::from_secs(30), "NOTES.TXT collected", || fetched(&data, "NOTES.TXT"));
    // A matching one (the pattern is case-insensitive, as instruments write either).
    std::fs::write(root.join("DATA/W0001.CSV"), "t,CH1_1\n0,21.5\n").unwrap();
    wait_until(Duration::from_secs(30), "W0001.CSV collected", || fetched(&data, "W0001.CSV"));

    let mails = bus.peer_json(smtp, "MAIL", 1);
    let mail = &mails[0];
    assert_eq!(mail["subject"], "Alarm: New CSV file", "{mail}");
    let body = mail["body"].as_str().unwrap().replace("\r\n", "\n");
    assert!(body.contains("new file from logger1: /DATA/W0001.CSV (15 bytes)"), "the alarm names the file: {body}");
    assert!(body.contains("Look at the new measurement"), "{body}");

    // Nothing for NOTES.TXT, also after a while.
    std::thread::sleep(Duration::from_secs(3));
    let mails = bus.peer_json_now(smtp, "MAIL").unwrap();
    assert_eq!(mails.len(), 1, "one mail, for the CSV file only: {mails:#?}");
    let (code, out, err) =
        agent_output(&["alarms", "--config", cfg.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("new-csv") && out.contains("W0001.CSV") && !out.contains("NOTES"), "{out}");
    let (code, out, err) =
        agent_output(&["journal", "--config", cfg.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("NOTES"), "{out}");
    agent.kill9();
    drop(sims);
}
