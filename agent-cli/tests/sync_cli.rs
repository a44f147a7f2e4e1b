//! `meterdeck-agent cloud ...` and the sync lines of `status`, run as the
//! user runs them (the keychain is not touched: the tests only reach the
//! checks before it, or read status).

use std::io::Write;
use std::process::{Command, Stdio};

use meterdeck_core::config::STORE_FILE;
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_core::sync::status::{Persisted, STATUS_KEY, month_of};

fn agent(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meterdeck-agent"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn login_refuses_bad_input_in_one_line_and_leaves_the_config_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("site.toml");
    std::fs::write(&cfg, "[agent]\nname = \"x\"\n").unwrap();
    let c = cfg.to_str().unwrap();
    for (args, want) in [
        (vec!["cloud", "login", "--agent", "a/b", "--broker", "h:1883", "--config", c], "--agent"),
        (vec!["cloud", "login", "--agent", "a", "--broker", "h:0", "--config", c], "not a TCP port"),
        (vec!["cloud", "login", "--agent", "a", "--broker", "h:1883", "--config", "/nope/x.toml"], "/nope/x.toml"),
    ] {
        let (code, _, err) = agent(&args, "secret\n");
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    // No secret on stdin: refused before the keychain is asked.
    let (code, _, err) = agent(&["cloud", "login", "--agent", "a", "--broker", "h", "--config", c], "\n");
    assert_ne!(code, 0);
    assert!(err.contains("no secret"), "{err}");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "[agent]\nname = \"x\"\n");
    let (code, _, err) = agent(&["cloud", "logout"], "");
    assert_ne!(code, 0);
    assert!(err.contains("--agent") || err.contains("--config"), "{err}");
}

#[test]
fn status_and_cloud_status_show_the_sync_state() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    {
        let mut store = Store::open(&dir.path().join(STORE_FILE), StoreOptions::default()).unwrap();
        store.upsert_instrument("i", "i", "scpi", "tcp://x").unwrap();
        let ch = store.ensure_channel("i", "v", None).unwrap();
        store.append(&[(ch, meterdeck_core::model::Sample::number(now - 5000, 1.0))]).unwrap();
        let p = Persisted {
            enabled: true,
            connected: true,
            agent: Some("site-a".into()),
            broker: Some("mqtt.example.com:1883".into()),
            last_ack_ms: Some(now - 1000),
            month: month_of(now),
            month_bytes: 3 * 1024 * 1024,
            allowance_bytes: 1 << 30,
            updated_ms: now,
            ..Persisted::default()
        };
        store.set_setting(STATUS_KEY, &p.to_json()).unwrap();
    }
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = agent(&["cloud", "status", "--data-dir", d, "--json"], "");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["enabled"], true);
    assert_eq!(v["connected"], true);
    assert_eq!(v["agent"], "site-a");
    assert_eq!(v["backlog_samples"], 1);
    assert_eq!(v["backlog_batches"], 1);
    assert_eq!(v["month_bytes"], 3 * 1024 * 1024);
    assert_eq!(v["allowance_bytes"], 1u64 << 30);
    assert!(v["last_ack_ms"].is_i64());
    let (code, out, err) = agent(&["status", "--data-dir", d], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cloud   mqtt.example.com:1883 as site-a: connected"), "{out}");
    assert!(out.contains("3.0 MiB of 1.0 GiB"), "{out}");
    assert!(out.contains("last ack"), "{out}");
    let (_, json, _) = agent(&["status", "--data-dir", d, "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["sync"]["agent"], "site-a");
}
