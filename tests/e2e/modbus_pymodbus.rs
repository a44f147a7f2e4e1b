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
    let want: HashMap<&str, Want> = expected().into_iter().map(|(k, v)| (k, Want::Number(v))).collect();
    poll_instrument(transport, extra, CHANNELS, &want);
}

/// What a channel should be stored as: a number, or a flagged value's label.
#[derive(Clone, Copy, Debug)]
enum Want {
    Number(f64),
    Label(&'static str),
}

impl Want {
    fn check(&self, name: &str, got: &str) {
        match self {
            Want::Number(w) => {
                let v: f64 = got.parse().unwrap_or_else(|_| panic!("{name}: got {got:?}, expected {w}"));
                assert!((v - w).abs() <= 1e-9 * w.abs().max(1.0), "{name}: got {v}, served {w}");
            }
            Want::Label(l) => assert_eq!(got, *l, "{name}"),
        }
    }
}

/// Polls one instrument `mb` with `channels` until every channel was acked
/// twice, and checks the acks and the store against `want`.
fn poll_instrument(transport: &str, extra: &str, channels: &str, want: &HashMap<&str, Want>) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nname = \"modbus-e2e\"\n\n[[instrument]]\nid = \"mb\"\nfamily = \"modbus\"\npoll_interval = \"1s\"\n{extra}transport = {transport}\n{channels}"
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
    // Two full polls of every channel.
    let mut acks = Vec::new();
    wait_until(Duration::from_secs(30), "two polls of every Modbus channel", || {
        acks.extend(parse_acks(&agent.drain()));
        want.keys().all(|k| acks.iter().filter(|a| a.channel == format!("mb/{k}")).count() >= 2)
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0), "agent exits cleanly on SIGTERM");

    for a in &acks {
        let name = a.channel.strip_prefix("mb/").unwrap();
        want[name].check(name, &a.value);
    }
    // What was acknowledged is what the store holds.
    let store = Store::open_readonly(&data.join("meterdeck.db")).unwrap();
    let latest = store.latest().unwrap();
    assert_eq!(latest.len(), want.len(), "one latest value per channel: {latest:?}");
    for (ch, s) in latest {
        want[ch.channel.as_str()].check(&ch.channel, &value_label(&s.value));
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

fn tcp_peer(units: &str) -> (Proc, String) {
    let mut peer = Proc::spawn(
        "pymodbus-tcp",
        Command::new(python()).arg(peer_script("modbus_peer.py")).args(["--tcp", "0", "--units", units]),
    );
    let ready = peer.wait_line("READY ", Duration::from_secs(30));
    let addr = ready.split_whitespace().nth(1).unwrap().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();
    (peer, format!("{{ kind = \"tcp\", host = \"{host}\", port = {port} }}"))
}

/// Every byte/word order for 32 and 64 bits, 64-bit integers, BCD, one bit
/// of a register, strings and a byte-swapped 16-bit value, each as
/// pymodbus' `struct.pack` wrote it (tests/peers/modbus_peer.py, 16..69).
#[test]
fn modbus_types_and_byte_orders_against_pymodbus() {
    let channels: &[(&str, &str, Want)] = &[
        ("f32_badc", "address = 16, data_type = \"f32\", word_order = \"badc\"", Want::Number(123.25)),
        ("f32_dcba", "address = 18, data_type = \"f32\", word_order = \"dcba\"", Want::Number(-45.5)),
        ("u32_badc", "address = 20, data_type = \"u32\", word_order = \"badc\"", Want::Number(3_000_000_000.0)),
        ("i32_dcba", "address = 22, data_type = \"i32\", word_order = \"dcba\"", Want::Number(-100_000.0)),
        ("u64_abcd", "address = 24, data_type = \"u64\"", Want::Number(1_234_567_890_123.0)),
        ("u64_cdab", "address = 28, data_type = \"u64\", word_order = \"cdab\"", Want::Number(1_234_567_890_123.0)),
        ("i64_badc", "address = 32, data_type = \"i64\", word_order = \"badc\"", Want::Number(-1_234_567_890_123.0)),
        ("i64_dcba", "address = 36, data_type = \"i64\", word_order = \"dcba\"", Want::Number(-9_876_543_210.0)),
        ("f64_cdab", "address = 40, data_type = \"f64\", word_order = \"cdab\"", Want::Number(-0.000123)),
        ("f64_dcba", "address = 44, data_type = \"f64\", word_order = \"dcba\"", Want::Number(98765.4321)),
        ("f64_badc", "address = 48, data_type = \"f64\", word_order = \"badc\"", Want::Number(3.5)),
        ("bcd16", "address = 52, data_type = \"bcd16\"", Want::Number(1234.0)),
        ("bcd32", "address = 53, data_type = \"bcd32\"", Want::Number(123_456.0)),
        ("bcd32_cdab", "address = 55, data_type = \"bcd32\", word_order = \"cdab\"", Want::Number(87_654_321.0)),
        ("bit0", "address = 57, data_type = \"bit\", bit = 0", Want::Number(1.0)),
        ("bit1", "address = 57, data_type = \"bit\", bit = 1", Want::Number(0.0)),
        ("bit15", "address = 57, data_type = \"bit\", bit = 15", Want::Number(1.0)),
        ("text_number", "address = 58, data_type = \"string\", count = 4", Want::Number(23.5)),
        ("text_serial", "address = 62, data_type = \"string\", count = 4", Want::Label("invalid")),
        ("text_badc", "address = 66, data_type = \"string\", count = 3, word_order = \"badc\"", Want::Number(-7.25)),
        ("i16_badc", "address = 69, data_type = \"i16\", word_order = \"badc\"", Want::Number(-1234.0)),
    ];
    let mut toml = String::new();
    for (id, reg, _) in channels {
        toml.push_str(&format!("[[instrument.channel]]\nid = \"{id}\"\nmodbus = {{ {reg} }}\n"));
    }
    // Scale and offset apply to the new types too.
    toml.push_str("[[instrument.channel]]\nid = \"bcd_scaled\"\nscale = 0.01\noffset = 1\nmodbus = { address = 52, data_type = \"bcd16\" }\n");
    let mut want: HashMap<&str, Want> = channels.iter().map(|(id, _, w)| (*id, *w)).collect();
    want.insert("bcd_scaled", Want::Number(13.34));
    let (_peer, transport) = tcp_peer("1");
    poll_instrument(&transport, "", &toml, &want);
}

/// Register 102 is not mapped by the device, 100, 101, 103 and 104-105 are:
/// the good channels keep their exact values on every poll, the one on 102
/// is stored as `no-data`.
#[test]
fn an_unmapped_register_among_good_ones_fails_alone() {
    let toml = "[[instrument.channel]]\nid = \"r100\"\nmodbus = { address = 100 }\n\
                [[instrument.channel]]\nid = \"r101\"\nmodbus = { address = 101 }\n\
                [[instrument.channel]]\nid = \"r102\"\nmodbus = { address = 102 }\n\
                [[instrument.channel]]\nid = \"r103\"\nmodbus = { address = 103 }\n\
                [[instrument.channel]]\nid = \"f104\"\nmodbus = { address = 104, data_type = \"f32\" }\n";
    let want = HashMap::from([
        ("r100", Want::Number(111.0)),
        ("r101", Want::Number(222.0)),
        ("r102", Want::Label("no-data")),
        ("r103", Want::Number(444.0)),
        ("f104", Want::Number(1.5)),
    ]);
    let (_peer, transport) = tcp_peer("1");
    poll_instrument(&transport, "", toml, &want);
}

/// Two Modbus RTU units behind one serial line (one pymodbus RTU server
/// with two device contexts at the end of a socat pty pair), polled by two
/// instruments on the same port: both get their own values.
#[test]
fn two_units_on_one_serial_line() {
    let dir = tempfile::tempdir().unwrap();
    let pty = socat_pty_pair(dir.path());
    let mut peer = Proc::spawn(
        "pymodbus-rtu",
        Command::new(python()).arg(peer_script("modbus_peer.py")).args([
            "--serial",
            pty.a.to_str().unwrap(),
            "--baud",
            "19200",
            "--units",
            "1,2",
        ]),
    );
    peer.wait_line("READY ", Duration::from_secs(30));
    let mut text = String::from("[agent]\nname = \"modbus-bus\"\n\n");
    for unit in [1, 2] {
        text.push_str(&format!(
            "[[instrument]]\nid = \"unit{unit}\"\nfamily = \"modbus\"\nunit_id = {unit}\npoll_interval = \"1s\"\n\
             transport = {{ kind = \"serial\", path = \"{}\", baud = 19200, timeout = \"2s\" }}\n\
             [[instrument.channel]]\nid = \"f32\"\nmodbus = {{ address = 0, data_type = \"f32\" }}\n\
             [[instrument.channel]]\nid = \"u16\"\nmodbus = {{ address = 4 }}\n",
            pty.b.display()
        ));
    }
    let (mut agent, _data) = run_agent_on(dir.path(), &text);
    let want =
        HashMap::from([("unit1/f32", 123.25), ("unit1/u16", 65000.0), ("unit2/f32", 246.5), ("unit2/u16", 64999.0)]);
    let mut acks = Vec::new();
    let mut lines = Vec::new();
    wait_until(Duration::from_secs(30), "three polls of both units", || {
        let new = agent.drain();
        acks.extend(parse_acks(&new));
        lines.extend(new);
        want.keys().all(|k| acks.iter().filter(|a| &a.channel == k).count() >= 3)
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0), "agent exits cleanly on SIGTERM");
    for a in &acks {
        let w = want[a.channel.as_str()];
        assert_eq!(a.value.parse::<f64>().ok(), Some(w), "{}: {:?} (log: {lines:#?})", a.channel, a.value);
    }
    assert!(!lines.iter().any(|l| l.contains("exclusive lock")), "{lines:#?}");
}

/// Two instruments asking one serial port for different baud rates: the
/// agent refuses the config, naming both instruments and the port.
#[test]
fn different_baud_rates_on_one_port_are_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (id, baud) in [("meter_a", 9600), ("meter_b", 19200)] {
        text.push_str(&format!(
            "[[instrument]]\nid = \"{id}\"\nfamily = \"modbus\"\n\
             transport = {{ kind = \"serial\", path = \"/dev/ttyMD0\", baud = {baud} }}\n\
             [[instrument.channel]]\nid = \"p\"\nmodbus = {{ address = 0 }}\n"
        ));
    }
    let config = dir.path().join("agent.toml");
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let (code, out, err) =
        agent_output(&["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("`meter_a`") && all.contains("`meter_b`") && all.contains("/dev/ttyMD0"), "{all}");
    assert!(all.contains("9600") && all.contains("19200"), "{all}");
    assert!(all.contains("agent.toml:11:"), "points at the second instrument's transport: {all}");
}
