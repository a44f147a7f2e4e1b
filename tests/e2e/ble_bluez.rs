//! Bluetooth LE end to end: the real agent binary with the unmodified
//! btleplug, against the BlueZ stand-in (tests/peers/bluez_peer.py: a
//! private D-Bus bus, python-dbusmock's bluez5 template, GATT objects per
//! BlueZ's D-Bus API). Scan, connect, read, notify, battery channel, SCPI
//! through the Nordic UART bridge, the device lost mid-stream (a disconnect
//! event) and found again by name under a new address, samples resuming.

use meterdeck_core::model::EventKind;
use meterdeck_core::store::Store;
use meterdeck_e2e::bluez::BluezPeer;
use meterdeck_e2e::*;
use serde_json::json;
use std::time::{Duration, Instant};

const ENV: &str = "C0:FF:EE:00:00:01";
const ENV_MOVED: &str = "D2:00:00:00:00:99";
const METER: &str = "C0:FF:EE:00:00:02";

fn add_devices(peer: &mut BluezPeer) {
    peer.call(json!({
        "cmd": "add_ess", "name": "ENV-1", "address": ENV,
        "temperature": 21.5, "humidity": 45.25, "pressure": 101325.0, "battery": 87,
        // Humidity and pressure are read on every poll, the other two notify.
        "notify": ["temperature", "battery"],
    }));
    peer.call(json!({
        "cmd": "add_uart", "name": "BT-METER", "address": METER,
        "idn": "ACME,BT-DMM,42,1.0",
        "replies": {"MEAS:VOLT?": "+1.2345E+00"},
    }));
}

#[test]
fn discover_ble_lists_devices_with_services_and_family() {
    let mut peer = BluezPeer::start();
    add_devices(&mut peer);
    let mut cmd = agent(&["discover", "ble", "--seconds", "1", "--json"]);
    peer.env(&mut cmd);
    let out = cmd.output().expect("run discover ble");
    assert!(out.status.success(), "discover ble failed: {}", String::from_utf8_lossy(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON list");
    let by_name = |n: &str| {
        found
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} not listed: {found}"))
    };
    let env = by_name("ENV-1");
    assert_eq!(env["address"], ENV);
    assert_eq!(env["rssi"], -60);
    assert_eq!(env["family"], "ble-ess");
    assert_eq!(env["transport"], json!({"kind": "ble", "device": "ENV-1", "timeout": "10s"}));
    assert!(env["services"].as_array().unwrap().contains(&json!("0000181a-0000-1000-8000-00805f9b34fb")), "{env}");
    let meter = by_name("BT-METER");
    assert_eq!(meter["family"], "scpi");
    assert_eq!(meter["transport"]["kind"], "ble-uart");

    // Without BlueZ on the bus the scan is a clear error, not a hang or a panic.
    drop(peer);
    let mut cmd = agent(&["discover", "ble", "--seconds", "1"]);
    cmd.env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("Bluetooth (BlueZ over D-Bus) not available"), "{err}");
}

#[test]
fn agent_reads_notifies_and_survives_a_lost_device() {
    let mut peer = BluezPeer::start();
    add_devices(&mut peer);
    let dir = tempfile::tempdir().unwrap();
    let config = r#"[agent]
name = "ble-e2e"

[[instrument]]
id = "env"
family = "ble-ess"
poll_interval = "500ms"
transport = { kind = "ble", device = "ENV-1", timeout = "5s" }

[[instrument]]
id = "dmm"
family = "scpi"
poll_interval = "500ms"
transport = { kind = "ble-uart", device = "BT-METER", timeout = "5s" }
[[instrument.channel]]
id = "volt"
unit = "V"
query = "MEAS:VOLT?"
"#;
    let config_path = dir.path().join("agent.toml");
    std::fs::write(&config_path, config).unwrap();
    let data = dir.path().join("data");
    let mut cmd = agent(&[
        "run",
        "--config",
        config_path.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--print-acks",
    ]);
    peer.env(&mut cmd);
    let mut agent = Proc::spawn("meterdeck-agent", &mut cmd);

    let mut acks: Vec<Ack> = Vec::new();
    let mut wait_ack = |agent: &mut Proc, what: &str, f: &dyn Fn(&Ack) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            acks.extend(parse_acks(&agent.drain()));
            if let Some(a) = acks.iter().find(|a| f(a)) {
                return a.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within 30 s; acks: {:?}",
                acks.iter().rev().take(12).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let is = |ch: &'static str, v: &'static str| move |a: &Ack| a.channel == ch && a.value == v;

    // Connect, read (humidity, pressure), the first value of the notifying
    // ones (temperature, battery), and SCPI through the UART bridge.
    wait_ack(&mut agent, "temperature", &is("env/temperature", "21.5"));
    wait_ack(&mut agent, "humidity", &is("env/humidity", "45.25"));
    wait_ack(&mut agent, "pressure", &is("env/pressure", "101325"));
    wait_ack(&mut agent, "battery", &is("env/battery", "87"));
    wait_ack(&mut agent, "volt over the UART bridge", &is("dmm/volt", "1.2345"));
    let lines = peer.call(json!({"cmd": "uart_lines", "address": METER}))["lines"].clone();
    assert!(lines.as_array().unwrap().iter().any(|l| l == "MEAS:VOLT?"), "the bridge got the SCPI query: {lines}");
    assert!(lines.as_array().unwrap().iter().any(|l| l == "*IDN?"), "identified through the bridge: {lines}");

    // Notifications: the agent subscribed, and a pushed value is stored.
    let notifying = peer.call(json!({"cmd": "notifying", "address": ENV, "channel": "temperature"}));
    assert_eq!(notifying["notifying"], true);
    peer.call(json!({"cmd": "notify", "address": ENV, "channel": "temperature", "value": 23.75}));
    wait_ack(&mut agent, "the notified temperature", &is("env/temperature", "23.75"));
    peer.call(json!({"cmd": "notify", "address": ENV, "channel": "battery", "value": 64}));
    wait_ack(&mut agent, "the notified battery level", &is("env/battery", "64"));
    // A read-only characteristic is read again on every poll.
    peer.call(json!({"cmd": "set", "address": ENV, "channel": "humidity", "value": 50.5}));
    wait_ack(&mut agent, "the new humidity", &is("env/humidity", "50.5"));
    // A garbled value (1 byte for a sint16) is a flagged no-data, and the link stays up.
    peer.call(json!({"cmd": "notify", "address": ENV, "channel": "temperature", "raw": "01"}));
    wait_ack(&mut agent, "no-data for a garbled temperature", &is("env/temperature", "no-data"));
    peer.call(json!({"cmd": "notify", "address": ENV, "channel": "temperature", "value": 22.25}));
    wait_ack(&mut agent, "temperature after the garbled one", &is("env/temperature", "22.25"));
    // A burst of 10 notifications at 50/s, inside one poll interval (500 ms):
    // each value is stored as it arrives, not only the one a poll finds.
    peer.call(json!({"cmd": "burst", "address": ENV, "count": 10, "rate": 50.0, "start": 30.0}));
    for k in 0..10 {
        let want = f64::from(3000 + k) / 100.0;
        wait_ack(&mut agent, &format!("{want} of the burst"), &move |a: &Ack| {
            a.channel == "env/temperature" && a.value.parse::<f64>().is_ok_and(|v| (v - want).abs() < 1e-6)
        });
    }
    let burst = acks.iter().filter(|a| a.channel == "env/temperature" && a.value.starts_with("30.0")).count();
    assert_eq!(burst, 9, "30.01 to 30.09, each stored once: {:?}", acks.iter().rev().take(20).collect::<Vec<_>>());

    // Out of range mid-stream, back under a new random address.
    let store_path = data.join("meterdeck.db");
    let events_of = |kind: EventKind| {
        Store::open_readonly(&store_path)
            .unwrap()
            .events(None, Some("env"), 10_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(events_of(EventKind::Disconnected).len(), 0);
    peer.call(json!({"cmd": "lose", "address": ENV}));
    wait_until(Duration::from_secs(20), "a disconnect event for env", || {
        !events_of(EventKind::Disconnected).is_empty()
    });
    let lost = events_of(EventKind::Disconnected);
    assert!(lost.iter().all(|e| e.message.contains("ble:ENV-1")), "the event names the device: {lost:#?}");
    peer.call(json!({"cmd": "readd", "address": ENV, "new_address": ENV_MOVED}));
    wait_until(Duration::from_secs(30), "env connected again", || events_of(EventKind::Connected).len() >= 2);
    let again = events_of(EventKind::Connected);
    assert!(again.iter().any(|e| e.message.contains(ENV_MOVED)), "found again under the new address: {again:#?}");
    // Samples resume: a notification from the device at its new address is stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        peer.call(json!({"cmd": "notify", "address": ENV_MOVED, "channel": "temperature", "value": 24.5}));
        acks.extend(parse_acks(&agent.drain()));
        if acks.iter().any(|a| a.channel == "env/temperature" && a.value == "24.5") {
            break;
        }
        assert!(Instant::now() < deadline, "no sample after the device came back");
        std::thread::sleep(Duration::from_millis(300));
    }
    // The UART instrument was never disturbed.
    let volts_before = acks.iter().filter(|a| a.channel == "dmm/volt").count();
    wait_until(Duration::from_secs(10), "dmm keeps polling", || {
        acks.extend(parse_acks(&agent.drain()));
        acks.iter().filter(|a| a.channel == "dmm/volt").count() > volts_before
    });
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0), "agent exits cleanly on SIGTERM");
}
