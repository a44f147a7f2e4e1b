//! Addressable SCPI devices sharing one serial line (issue 18): a Python
//! peer at one end of a socat pty pair emulates two devices that answer only
//! when selected (`ADR n` -> `OK`); two instruments on the other end's path,
//! each with its own `select`, are polled by the real `meterdeck-agent`.
//! Each gets its own exact values on every poll. A third instrument with an
//! address already used is refused by name.

use meterdeck_e2e::*;
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

fn instrument(id: &str, address: u8, path: &str) -> String {
    format!(
        "[[instrument]]\nid = \"{id}\"\nfamily = \"scpi\"\npoll_interval = \"1s\"\n\
         select = \"ADR {address}\"\nselect_reply = \"OK\"\n\
         transport = {{ kind = \"serial\", path = \"{path}\", baud = 19200, timeout = \"2s\" }}\n\
         [[instrument.channel]]\nid = \"volt\"\nquery = \"MEAS:VOLT?\"\n\
         [[instrument.channel]]\nid = \"curr\"\nquery = \"MEAS:CURR?\"\n"
    )
}

#[test]
fn two_addressed_scpi_devices_on_one_serial_line() {
    let dir = tempfile::tempdir().unwrap();
    let pty = socat_pty_pair(dir.path());
    let mut peer = Proc::spawn(
        "scpi-bus-peer",
        Command::new(python()).arg(peer_script("scpi_bus_peer.py")).args([
            "--serial",
            pty.a.to_str().unwrap(),
            "--addresses",
            "6,7",
        ]),
    );
    peer.wait_line("READY ", Duration::from_secs(30));
    let path = pty.b.to_str().unwrap();
    let text =
        format!("[agent]\nname = \"scpi-bus\"\n\n{}{}", instrument("psu6", 6, path), instrument("psu7", 7, path));
    let (mut agent, _data) = run_agent_on(dir.path(), &text);
    let want = HashMap::from([("psu6/volt", 6.25), ("psu6/curr", 0.75), ("psu7/volt", 7.25), ("psu7/curr", 0.875)]);
    let mut acks = Vec::new();
    let mut lines = Vec::new();
    wait_until(Duration::from_secs(40), "four polls of both devices", || {
        let new = agent.drain();
        acks.extend(parse_acks(&new));
        lines.extend(new);
        want.keys().all(|k| acks.iter().filter(|a| &a.channel == k).count() >= 4)
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0), "agent exits cleanly on SIGTERM");
    for a in &acks {
        let w = want[a.channel.as_str()];
        assert_eq!(a.value.parse::<f64>().ok(), Some(w), "{}: {:?} (log: {lines:#?})", a.channel, a.value);
    }
    assert!(!lines.iter().any(|l| l.contains("exclusive lock")), "{lines:#?}");
}

#[test]
fn a_duplicate_address_on_one_line_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = "/dev/ttyMDBUS0";
    let text =
        format!("{}{}{}", instrument("psu6", 6, path), instrument("psu7", 7, path), instrument("psu7b", 7, path));
    let config = dir.path().join("agent.toml");
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let (code, out, err) =
        agent_output(&["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("`psu7`") && all.contains("`psu7b`") && all.contains(path), "{all}");
    assert!(all.contains("select = \"ADR 7\""), "{all}");
    assert!(all.contains("agent.toml:31:"), "points at the third instrument's `select`: {all}");
}
