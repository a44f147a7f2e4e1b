//! Poll timing against the simulator over TCP, through the agent binary:
//! a 100 ms interval stores ~10 samples a second, and an instrument whose
//! replies take longer than the interval is reported once when it starts
//! overrunning and once when it keeps up again.

use meterdeck_core::model::EventKind;
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimAddress, SimConfig, SimInstrument};
use meterdeck_drivers::{InstrumentConfig, TransportConfig};
use meterdeck_e2e::*;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn start_agent(dir: &Path, instruments: &[InstrumentConfig]) -> (Proc, std::path::PathBuf) {
    let config = write_agent_config(dir, "name = \"timing\"", instruments);
    let data = dir.join("data");
    let agent = Proc::spawn(
        "meterdeck-agent",
        &mut agent(&["run", "--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]),
    );
    (agent, data.join("meterdeck.db"))
}

fn with_timeout(mut c: InstrumentConfig, interval: Duration, timeout: Duration) -> InstrumentConfig {
    c.poll_interval = Some(interval);
    if let TransportConfig::Tcp { timeout: t, .. } = &mut c.transport {
        *t = timeout;
    }
    c
}

#[test]
fn a_100ms_interval_stores_ten_samples_a_second() {
    let rt = runtime();
    let inst = SimInstrument { channels: Some(4), ..SimInstrument::new("fast", Personality::Modbus) };
    let sims = rt.block_on(sim::start(SimConfig { instruments: vec![inst] })).expect("simulator starts");
    let mut cfg =
        with_timeout(sims.instruments[0].instrument_config(), Duration::from_millis(100), Duration::from_secs(1));
    cfg.id = "fast".into();
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, db) = start_agent(dir.path(), &[cfg]);
    // Settle (connect, first ticks), then measure over 5 s of wall time.
    wait_until(Duration::from_secs(20), "the first samples", || {
        Store::open_readonly(&db).ok().and_then(|s| s.latest().ok()).is_some_and(|l| l.len() == 4)
    });
    std::thread::sleep(Duration::from_secs(1));
    let from = meterdeck_core::model::now_ms();
    std::thread::sleep(Duration::from_secs(5));
    let to = meterdeck_core::model::now_ms();
    std::thread::sleep(Duration::from_millis(500));
    let store = Store::open_readonly(&db).unwrap();
    let latest = store.latest().unwrap();
    for (ch, _) in &latest {
        let n = store.count_in_range(ch.id, from, to).unwrap();
        let per_s = n as f64 * 1000.0 / (to - from) as f64;
        eprintln!("{}: {n} samples in {} ms = {per_s:.1}/s", ch.channel, to - from);
        assert!((8.5..=10.5).contains(&per_s), "{}: {per_s:.1} samples/s at a 100 ms interval", ch.channel);
    }
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));
    drop(sims);
}

/// `:SIMulate:SLOW <ms>` on a connection of its own sets the simulator's
/// reply delay while the agent polls it.
fn set_slow(port: u16, ms: u64) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    writeln!(s, ":SIMulate:SLOW {ms}").unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn overruns_are_one_event_when_they_start_and_one_when_they_end() {
    let rt = runtime();
    let inst = SimInstrument { channels: Some(1), ..SimInstrument::new("dmm", Personality::Scpi) };
    let sims = rt.block_on(sim::start(SimConfig { instruments: vec![inst] })).expect("simulator starts");
    let SimAddress::Tcp(addr) = sims.instruments[0].address.clone() else { panic!("tcp sim") };
    let mut cfg = with_timeout(sims.instruments[0].instrument_config(), Duration::from_secs(1), Duration::from_secs(4));
    cfg.id = "dmm".into();
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, db) = start_agent(dir.path(), &[cfg]);
    let events = |kind: EventKind| -> Vec<String> {
        Store::open_readonly(&db)
            .and_then(|s| s.events(None, Some("dmm"), 1000))
            .map(|e| e.into_iter().filter(|e| e.kind == kind).map(|e| e.message).collect())
            .unwrap_or_default()
    };
    wait_until(Duration::from_secs(20), "connected", || !events(EventKind::Connected).is_empty());
    std::thread::sleep(Duration::from_secs(2));
    assert!(events(EventKind::Overrun).is_empty(), "fast replies do not overrun");

    set_slow(addr.port(), 1500);
    let slow_since = Instant::now();
    wait_until(Duration::from_secs(20), "an overrun event", || !events(EventKind::Overrun).is_empty());
    eprintln!("overrun reported {:?} after the slowdown", slow_since.elapsed());
    // Several more slow polls: still one event.
    std::thread::sleep(Duration::from_secs(8));
    let during = events(EventKind::Overrun);
    assert_eq!(during.len(), 1, "{during:#?}");
    // 1.5 s of reply delay plus the exchange itself (more on a loaded machine).
    assert!(during[0].contains("replies take 1."), "{during:#?}");
    assert!(during[0].contains("interval 1 s; sampling every 2 s"), "{during:#?}");

    set_slow(addr.port(), 0);
    wait_until(Duration::from_secs(20), "a recovery event", || events(EventKind::Overrun).len() >= 2);
    std::thread::sleep(Duration::from_secs(3));
    let all = events(EventKind::Overrun);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].starts_with("polls keep up again"), "newest first: {all:#?}");
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));
    drop(sims);
}

/// A simulator whose replies are never numbers (garbage on every reply),
/// polled every 500 ms for ~20 s: one error event with a count of about 40
/// and its first and last time, in the store and in `meterdeck-agent status`.
#[test]
fn a_failure_on_every_poll_is_one_event_with_a_count() {
    let rt = runtime();
    let inst = SimInstrument {
        channels: Some(1),
        faults: sim::Faults { garbage_every: Some(1), ..sim::Faults::default() },
        ..SimInstrument::new("dmm", Personality::Scpi)
    };
    let sims = rt.block_on(sim::start(SimConfig { instruments: vec![inst] })).expect("simulator starts");
    let mut cfg =
        with_timeout(sims.instruments[0].instrument_config(), Duration::from_millis(500), Duration::from_secs(2));
    cfg.id = "dmm".into();
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, db) = start_agent(dir.path(), &[cfg]);
    let errors = || -> Vec<meterdeck_core::model::Event> {
        Store::open_readonly(&db)
            .and_then(|s| s.events(None, Some("dmm"), 1000))
            .map(|e| e.into_iter().filter(|e| e.kind == EventKind::Error).collect())
            .unwrap_or_default()
    };
    wait_until(Duration::from_secs(20), "the first error", || !errors().is_empty());
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(20));
    let polls = started.elapsed().as_millis() as u32 / 500;
    assert_eq!(agent.terminate(Duration::from_secs(10)), Some(0));
    let evs = errors();
    assert_eq!(evs.len(), 1, "one event for one repeated failure: {evs:#?}");
    let ev = &evs[0];
    assert!(ev.count + 2 >= polls && ev.count <= polls + 3, "count {} after ~{polls} polls: {ev:#?}", ev.count);
    assert!(ev.t - ev.first() >= 19_000, "first and last time span the run: {ev:#?}");
    assert!(ev.message.contains("bad reply"), "{ev:#?}");

    let (code, out, err) = agent_output(&["status", "--data-dir", dir.path().join("data").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("(x{} since ", ev.count)), "status shows the count: {out}");
    drop(sims);
}
