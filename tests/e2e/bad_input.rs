//! Bad input from outside gets one clear error that names what was wrong,
//! never a panic: bad config files (syntax, unknown field, bad value,
//! duplicate ids), a missing file, unknown channels, bad times, an export
//! to a path that cannot be written.

use meterdeck_e2e::*;

fn run_config(body: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, body).unwrap();
    let data = dir.path().join("data");
    let (code, _out, err) =
        agent_output(&["run", "--config", path.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert!(!err.contains("panicked"), "panic on bad config: {err}");
    (code, err)
}

fn assert_names(err: &str, what: &[&str]) {
    for w in what {
        assert!(err.contains(w), "error should name {w:?}; got: {err}");
    }
}

const HEAD: &str = "[agent]\nname = \"x\"\n\n[[instrument]]\nid = \"a\"\nfamily = \"scpi\"\ntransport = { kind = \"tcp\", host = \"127.0.0.1\", port = 5025 }\n";

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (code, err) = run_config("[agent]\nname = \"x\"\npoll_interval = \n");
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml", "3"]);
}

#[test]
fn unknown_field_names_file_line_and_field() {
    let (code, err) = run_config(&format!("{HEAD}polling = \"1s\"\n"));
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml", ":8", "polling"]);
}

#[test]
fn bad_poll_interval_names_line_and_field() {
    let (code, err) = run_config(&format!("{HEAD}poll_interval = \"0s\"\n"));
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml", ":8", "poll_interval"]);
}

#[test]
fn missing_query_names_the_channel() {
    let (code, err) = run_config(&format!("{HEAD}\n[[instrument.channel]]\nid = \"volts\"\n"));
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml", "volts", "query"]);
}

#[test]
fn duplicate_instrument_ids_are_refused() {
    let (code, err) = run_config(&format!("{HEAD}\n{}", HEAD.replace("[agent]\nname = \"x\"\n\n", "")));
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml:10", "`a`", "already used"]);
}

#[test]
fn wrong_type_names_field() {
    let (code, err) = run_config(&HEAD.replace("port = 5025", "port = \"fifty\""));
    assert_ne!(code, 0);
    assert_names(&err, &["site.toml", ":7", "port"]);
}

#[test]
fn missing_config_file_is_named() {
    let (code, _out, err) = agent_output(&["run", "--config", "/nonexistent/meterdeck.toml"]);
    assert_ne!(code, 0);
    assert_names(&err, &["/nonexistent/meterdeck.toml"]);
    assert!(!err.contains("panicked"));
}

#[test]
fn queries_on_an_empty_store_explain_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _o, err) = agent_output(&["status", "--data-dir", d]);
    assert_ne!(code, 0, "no store yet");
    assert_names(&err, &["meterdeck.db"]);
    drop(meterdeck_core::store::Store::open(&dir.path().join("meterdeck.db"), Default::default()).unwrap());
    let (code, _o, err) =
        agent_output(&["query", "--data-dir", d, "--channel", "nope/CH9", "--from", "-1h", "--to", "now"]);
    assert_ne!(code, 0);
    assert_names(&err, &["nope/CH9"]);
    let (code, _o, err) =
        agent_output(&["query", "--data-dir", d, "--channel", "a/b", "--from", "yesterday-ish", "--to", "now"]);
    assert_ne!(code, 0);
    assert_names(&err, &["yesterday-ish"]);
    let (code, _o, err) = agent_output(&[
        "export",
        "--data-dir",
        d,
        "--all",
        "--from",
        "-1h",
        "--to",
        "now",
        "--out",
        "/proc/nope/x.zip",
    ]);
    assert_ne!(code, 0);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_documented_example_config_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/agent.example.toml");
    let cfg = meterdeck_core::config::AgentConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.instruments.len(), 8); // two of them disabled SCPI supplies on one line
    assert_eq!(cfg.enabled_instruments().count(), 3);
}
