//! `ble_notify_p99_ms` (`cargo bench -p meterdeck-core --bench ble_notify [-- --quick]`):
//! from the BlueZ stand-in's PropertiesChanged on a characteristic's Value
//! (tests/peers/bluez_peer.py, on a private D-Bus bus) to the sample stored
//! in the SQLite store, at 50 notifications per second, through the real
//! btleplug and the `ble-ess` driver. Baseline, same run: the same store
//! path fed from an in-process channel at the same rate, so the difference
//! is what BLE over D-Bus costs. Target: p99 <= 50 ms.
//! Needs the test venv (/var/tmp/meterdeck-venv, or MD_PYTHON) and dbus-daemon.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meterdeck_core::model::Sample;
use meterdeck_core::store::{Durability, Store, StoreOptions};
use meterdeck_drivers::families::ble_ess::driver::BleEssDriver;
use meterdeck_drivers::{InstrumentConfig, Value};
use serde_json::{Value as Json, json};

const RATE: f64 = 50.0;

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(sorted: &[f64], p: f64) -> f64 {
    (percentile(sorted, p) * 100.0).round() / 100.0
}

fn open_store(dir: &Path) -> Store {
    Store::open(&dir.join("bench.db"), StoreOptions { durability: Durability::Normal, block_samples: 1024 })
        .expect("bench store")
}

/// The peer and its control socket; stdin held so it stops when we drop it.
struct Peer {
    child: std::process::Child,
    control: BufReader<TcpStream>,
    bus: String,
}

impl Peer {
    fn start() -> Peer {
        let python = std::env::var_os("MD_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/tmp/meterdeck-venv/bin/python"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/bluez_peer.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bluez_peer.py (the test venv)");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let ready: Json = serde_json::from_str(&first).expect("bluez_peer.py ready line");
        let port = ready["control"].as_u64().unwrap() as u16;
        let control = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
        Peer { child, control, bus: ready["bus"].as_str().unwrap().to_string() }
    }

    fn call(&mut self, req: Json) -> Json {
        writeln!(self.control.get_mut(), "{req}").unwrap();
        let mut line = String::new();
        self.control.read_line(&mut line).unwrap();
        let reply: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(reply["ok"], true, "{req}: {reply}");
        reply
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        std::thread::sleep(Duration::from_millis(500));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Latencies (ms) from each PropertiesChanged to its sample stored.
async fn over_ble(peer: &mut Peer, count: usize, dir: &Path) -> Vec<f64> {
    peer.call(json!({
        "cmd": "add_ess", "name": "BENCH-ENV", "address": "C0:FF:EE:00:BE:01",
        "temperature": 20.0, "humidity": 40.0, "notify": ["temperature"],
    }));
    let cfg: InstrumentConfig = toml::from_str(
        "id = \"env\"\nfamily = \"ble-ess\"\ntransport = { kind = \"ble\", device = \"BENCH-ENV\", timeout = \"10s\" }",
    )
    .unwrap();
    let driver = BleEssDriver::connect(&cfg).await.expect("connect to the stand-in");
    let mut notified = driver.notified();
    let mut store = open_store(dir);
    store.upsert_instrument("env", "env", "ble-ess", "ble:BENCH-ENV").unwrap();
    let ch = store.ensure_channel("env", "temperature", Some("°C")).unwrap();
    // The store side: every notified value appended as it arrives, stamped when stored.
    let stored = tokio::spawn(async move {
        let mut at = Vec::with_capacity(count);
        while at.len() < count {
            let Ok(r) = notified.recv().await else { break };
            let Value::Number(v) = r.value else { continue };
            store.append(&[(ch, Sample::number(now_ns() / 1_000_000, v))]).unwrap();
            at.push((v, now_ns()));
        }
        at
    });
    // The burst runs on the peer's control thread; values start at 30.00 so
    // none equals the initial reading.
    let sent =
        peer.call(json!({"cmd": "burst", "address": "C0:FF:EE:00:BE:01", "count": count, "rate": RATE, "start": 30.0}));
    let stored = tokio::time::timeout(Duration::from_secs(10), stored).await.expect("all samples stored").unwrap();
    drop(driver);
    let mut lat = Vec::new();
    for pair in sent["sent"].as_array().unwrap() {
        let (v, t) = (pair[0].as_f64().unwrap(), pair[1].as_i64().unwrap());
        if let Some((_, at)) = stored.iter().find(|(sv, _)| (sv - v).abs() < 1e-6) {
            lat.push((at - t) as f64 / 1e6);
        }
    }
    assert_eq!(lat.len(), count, "every notification stored once");
    lat
}

/// The same store path, fed from an in-process channel at the same rate.
async fn in_process(count: usize, dir: &Path) -> Vec<f64> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(f64, i64)>();
    let mut store = open_store(dir);
    store.upsert_instrument("base", "base", "ble-ess", "in-process").unwrap();
    let ch = store.ensure_channel("base", "temperature", Some("°C")).unwrap();
    let sink = tokio::spawn(async move {
        let mut lat = Vec::with_capacity(count);
        while let Some((v, t)) = rx.recv().await {
            store.append(&[(ch, Sample::number(now_ns() / 1_000_000, v))]).unwrap();
            lat.push((now_ns() - t) as f64 / 1e6);
        }
        lat
    });
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    for i in 0..count {
        tick.tick().await;
        tx.send((30.0 + i as f64 * 0.01, now_ns())).unwrap();
    }
    drop(tx);
    sink.await.unwrap()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let count = if quick { 100 } else { 500 };
    let mut peer = Peer::start();
    // btleplug reaches BlueZ on the system bus: the stand-in's. Set before any thread starts.
    unsafe { std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &peer.bus) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ble = rt.block_on(over_ble(&mut peer, count, dir.path()));
    let mut base = rt.block_on(in_process(count, dir.path()));
    ble.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    println!(
        "ble notify -> stored, {count} at {RATE}/s: p50 {} ms, p99 {} ms, max {} ms",
        ms(&ble, 0.5),
        ms(&ble, 0.99),
        ms(&ble, 1.0)
    );
    println!("in-process -> stored (baseline): p50 {} ms, p99 {} ms", ms(&base, 0.5), ms(&base, 0.99));
    println!(
        "{}",
        json!({
            "ble_notify_p99_ms": ms(&ble, 0.99),
            "ble_notify_p50_ms": ms(&ble, 0.5),
            "baseline_in_process_p99_ms": ms(&base, 0.99),
            "notifications": count,
            "rate_per_s": RATE,
            "target_p99_ms": 50,
        })
    );
}
