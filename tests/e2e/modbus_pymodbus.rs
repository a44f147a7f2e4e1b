//! Modbus TCP and RTU (over a socat pty pair) against pymodbus, a Modbus
//! implementation nobody here wrote: the agent polls it and the values it
//! stores equal the register map in tests/peers/modbus_peer.py.

use meterdeck_core::store::Store;
use meterdeck_e2e::*;
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

/// (channel, modbus table, expected value) — mirrors modbus_peer.py.
const CHANNELS: &str = r#"
[[instrument.channel]]
id = "f32_big"
modbus = { address = 0, data_type = "f32" }
[[instrument.channel]]
id = "f32_little"
modbus = { address = 2, data_type = "f32", word_order = "little" }
[[instrument.channel]]
id = "u16"
modbus = { address = 4, data_type = "u16" }
[[instrument.channel]]
id = "i16"
modbus = { address = 5, data_type = "i16" }
[[instrument.channel]]
id = "u32"
modbus = { address = 6, data_type = "u32" }
[[instrument.channel]]
id = "i32"
modbus = { address = 8, data_type = "i32" }
[[instrument.channel]]
id = "f64"
modbus = { address = 10, data_type = "f64" }
[[instrument.channel]]
id = "i32_little"
modbus = { address = 14, data_type = "i32", word_order = "little" }
[[instrument.channel]]
id = "temp"
unit = "degC"
scale = 0.1
modbus = { address = 0, kind = "input", data_type = "i16" }
[[instrument.channel]]
id = "freq"
unit = "Hz"
scale = 0.01
modbus = { address = 1, kind = "input", data_type = "u16" }
[[instrument.channel]]
id = "coil2"
modbus = { address = 2, kind = "coil" }
[[instrument.channel]]
id = "coil1"
modbus = { address = 1, kind = "coil" }
[[instrument.channel]]
id = "di1"
modbus = { address = 1, kind = "discrete" }
"#;

fn expected() -> HashMap<&'static str, f64> {
    HashMap::from([
        ("f32_big", 123.25),
        ("f32_little", -45.5),
        ("u16", 65000.0),
        ("i16", -1234.0),
        ("u32", 3_000_000_000.0),
        ("i32", -100_000.0),
        ("f64", 12345.678),
        ("i32_little", -7.0),
        ("temp", 21.5),
        ("freq", 50.0),
        ("coil2", 1.0),
        ("coil1", 0.0),
        ("di1", 1.0),
    ])
}

fn poll_and_check(transport: &str, extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nname = \"modbus-e2e\"\n\n[[instrument]]\nid = \"mb\"\nfamily = \"modbus\"\npoll_interval = \"1s\"\n{extra}transport = {transport}\n{CHANNELS}"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent(&[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--print-acks",
        ]),
    );
    // Two full polls of all 13 channels.
    let want = expected();
    let mut acks = Vec::new();
    wait_until(Duration::from_secs(30), "two polls of every Modbus channel", || {
        acks.extend(parse_acks(&agent.drain()));
        want.keys().all(|k| acks.iter().filter(|a| a.channel == format!("mb/{k}")).count() >= 2)
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0), "agent exits cleanly on SIGTERM");

    for a in &acks {
        let name = a.channel.strip_prefix("mb/").unwrap();
        let v: f64 = a.value.parse().unwrap_or_else(|_| panic!("{name}: acked {:?}, expected a number", a.value));
        let w = want[name];
        assert!((v - w).abs() <= 1e-9 * w.abs().max(1.0), "{name}: acked {v}, served {w}");
    }
    // What was acknowledged is what the store holds.
    let store = Store::open_readonly(&data.join("meterdeck.db")).unwrap();
    let latest = store.latest().unwrap();
    assert_eq!(latest.len(), want.len(), "one latest value per channel: {latest:?}");
    for (ch, s) in latest {
        let w = want[ch.channel.as_str()];
        let v = s.value.as_number().unwrap_or_else(|| panic!("{}: stored {:?}", ch.channel, s.value));
        assert!((v - w).abs() <= 1e-9 * w.abs().max(1.0), "{}: stored {v}, served {w}", ch.channel);
    }
}

#[test]
fn modbus_tcp_against_pymodbus() {
    let mut peer =
        Proc::spawn("pymodbus-tcp", Command::new(python()).arg(peer_script("modbus_peer.py")).args(["--tcp", "0"]));
    let ready = peer.wait_line("READY ", Duration::from_secs(30));
    let addr = ready.split_whitespace().nth(1).unwrap().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();
    poll_and_check(&format!("{{ kind = \"tcp\", host = \"{host}\", port = {port} }}"), "");
}

#[test]
fn modbus_rtu_over_pty_against_pymodbus() {
    let dir = tempfile::tempdir().unwrap();
    let pty = socat_pty_pair(dir.path());
    let mut peer = Proc::spawn(
        "pymodbus-rtu",
        Command::new(python()).arg(peer_script("modbus_peer.py")).args([
            "--serial",
            pty.a.to_str().unwrap(),
            "--baud",
            "19200",
        ]),
    );
    peer.wait_line("READY ", Duration::from_secs(30));
    poll_and_check(
        &format!("{{ kind = \"serial\", path = \"{}\", baud = 19200, timeout = \"2s\" }}", pty.b.display()),
        "",
    );
}
