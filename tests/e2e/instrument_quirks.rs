//! SCPI instruments as they really behave, against peers written apart from
//! the simulator (tests/peers/scpi_peer.py), through the real agent: a
//! Hioki logger answering `:ERRor?` with bare NR1 codes, the same logger
//! ignoring `:HEADer OFF`, a meter refusing one query, a reply too long for
//! a line and a reply that stops mid-line.

use meterdeck_core::model::EventKind;
use meterdeck_core::store::Store;
use meterdeck_e2e::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The peer in `mode`; returns it and its port.
fn peer(mode: &str) -> (Proc, u16) {
    let mut p = Proc::spawn(
        &format!("scpi_peer {mode}"),
        Command::new(python()).arg(peer_script("scpi_peer.py")).args(["--mode", mode]),
    );
    let line = p.wait_line("READY ", Duration::from_secs(20));
    (p, line["READY ".len()..].trim().parse().expect("READY <port>"))
}

struct Run {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    acks: Vec<Ack>,
}

impl Run {
    fn store(&self) -> Store {
        Store::open_readonly(&self.data.join("meterdeck.db")).unwrap()
    }

    /// Tick times at which `channel` got a number.
    fn numbers(&self, channel: &str) -> Vec<(i64, f64)> {
        self.acks.iter().filter(|a| a.channel == channel).filter_map(|a| Some((a.t, a.value.parse().ok()?))).collect()
    }

    fn values(&self, channel: &str) -> Vec<&str> {
        self.acks.iter().filter(|a| a.channel == channel).map(|a| a.value.as_str()).collect()
    }

    fn status(&self) -> String {
        let (code, out, err) = agent_output(&[
            "status",
            "--config",
            self.config.to_str().unwrap(),
            "--data-dir",
            self.data.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "status: {err}");
        out
    }
}

/// Runs the agent on `instrument` (TOML of one `[[instrument]]`) until
/// `done` holds for the acks so far (or `limit`), then stops it.
fn run_agent(instrument: &str, limit: Duration, mut done: impl FnMut(&[Ack]) -> bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("[agent]\nname = \"quirks\"\npoll_interval = \"1s\"\n\n{instrument}");
    let (mut agent, data) = run_agent_on(dir.path(), &text);
    let config = dir.path().join("agent.toml");
    let started = Instant::now();
    let mut acks = Vec::new();
    while started.elapsed() < limit && !done(&acks) {
        std::thread::sleep(Duration::from_millis(100));
        acks.extend(parse_acks(&agent.drain()));
    }
    assert_eq!(agent.terminate(Duration::from_secs(15)), Some(0), "agent stops cleanly");
    acks.extend(parse_acks(&agent.drain()));
    Run { _dir: dir, data, config, acks }
}

fn count(acks: &[Ack], channel: &str) -> usize {
    acks.iter().filter(|a| a.channel == channel).count()
}

fn logger_config(port: u16) -> String {
    let mut s = format!(
        "[[instrument]]\nid = \"lr\"\nfamily = \"hioki-logger\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port}, timeout = \"1s\" }}\n"
    );
    for (id, scale) in [("CH1_1", 2.0), ("CH1_2", 1.0), ("CH1_3", 1.0), ("CH1_4", 1.0)] {
        s += &format!("[[instrument.channel]]\nid = \"{id}\"\nscale = {scale:?}\n");
    }
    s
}

fn events(data: &Path) -> Vec<meterdeck_core::model::Event> {
    Store::open_readonly(&data.join("meterdeck.db")).unwrap().events(None, None, 10_000).unwrap()
}

/// A Hioki logger that answers its error query with a bare `0` connects
/// (it stayed `reconnecting` before), headers ON or not: identity, values
/// with scale, and sentinels all come through.
#[test]
fn a_hioki_logger_with_nr1_error_codes_and_with_headers_on() {
    for mode in ["hioki-nr1", "hioki-headers"] {
        let (_peer, port) = peer(mode);
        let run = run_agent(&logger_config(port), Duration::from_secs(30), |a| count(a, "lr/CH1_4") >= 3);
        assert!(count(&run.acks, "lr/CH1_4") >= 3, "{mode}: too few polls: {:?}", run.acks);
        assert!(run.numbers("lr/CH1_1").iter().all(|(_, v)| *v == 2.468), "{mode}: {:?}", run.values("lr/CH1_1"));
        assert!(run.numbers("lr/CH1_2").iter().all(|(_, v)| *v == -0.25), "{mode}: {:?}", run.values("lr/CH1_2"));
        assert!(run.values("lr/CH1_3").iter().all(|v| *v == "no-data"), "{mode}: {:?}", run.values("lr/CH1_3"));
        assert!(run.values("lr/CH1_4").iter().all(|v| *v == "over-range"), "{mode}: {:?}", run.values("lr/CH1_4"));
        assert_eq!(run.numbers("lr/CH1_1").len(), count(&run.acks, "lr/CH1_1"), "{mode}: every poll has a value");
        let ev = events(&run.data);
        let connected: Vec<_> = ev.iter().filter(|e| e.kind == EventKind::Connected).collect();
        assert_eq!(connected.len(), 1, "{mode}: one connect, no reconnects: {ev:#?}");
        assert!(connected[0].message.contains("HIOKI LR8450 serial PEER0001 firmware V3.00"), "{mode}: {ev:#?}");
        assert!(!ev.iter().any(|e| e.kind == EventKind::Error), "{mode}: no errors: {ev:#?}");
        drop(run.store());
    }
}

/// A Hioki power meter that keeps headers ON (`U1 +100.02E+0`, `:ERROR 0`):
/// identity, values and the over-range sentinel come through.
#[test]
fn a_hioki_power_meter_with_headers_on() {
    let (_peer, port) = peer("hioki-power-headers");
    let mut instrument = format!(
        "[[instrument]]\nid = \"pw\"\nfamily = \"hioki-power\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port}, timeout = \"1s\" }}\n"
    );
    for id in ["U1", "I1", "P1", "PF1"] {
        instrument += &format!("[[instrument.channel]]\nid = \"{id}\"\n");
    }
    let run = run_agent(&instrument, Duration::from_secs(30), |a| count(a, "pw/PF1") >= 3);
    assert!(count(&run.acks, "pw/PF1") >= 3, "too few polls: {:?}", run.acks);
    for (channel, want) in [("pw/U1", "100.02"), ("pw/I1", "2"), ("pw/P1", "200.04"), ("pw/PF1", "over-range")] {
        let got = run.values(channel);
        assert!(got.iter().all(|v| *v == want), "{channel}: {got:?}");
    }
    let ev = events(&run.data);
    assert!(ev.iter().any(|e| e.kind == EventKind::Connected && e.message.contains("HIOKI PW3390 serial PEER0003")));
    assert!(!ev.iter().any(|e| e.kind == EventKind::Error || e.kind == EventKind::Disconnected), "{ev:#?}");
}

/// One refused query makes only its channel a flagged special value with
/// the reason (in the status too); the other channels keep their values and
/// their rate, although each refusal costs a whole reply timeout.
#[test]
fn a_refused_query_blanks_only_its_channel_and_keeps_the_rate() {
    let (_peer, port) = peer("scpi-refuse");
    let mut instrument = format!(
        "[[instrument]]\nid = \"pm\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port}, timeout = \"1500ms\" }}\n"
    );
    for (id, query) in [("v", "MEAS:VOLT?"), ("bad", "MEAS:FOO?"), ("i", "MEAS:CURR?")] {
        instrument += &format!("[[instrument.channel]]\nid = \"{id}\"\nquery = \"{query}\"\n");
    }
    let run = run_agent(&instrument, Duration::from_secs(40), |a| {
        let ts: Vec<i64> = a.iter().filter(|a| a.channel == "pm/v").map(|a| a.t).collect();
        ts.first().zip(ts.last()).is_some_and(|(f, l)| l - f >= 14_000)
    });
    let v = run.numbers("pm/v");
    assert!(v.iter().all(|(_, x)| *x == 1.5), "{:?}", run.values("pm/v"));
    assert!(run.numbers("pm/i").iter().all(|(_, x)| *x == 0.25), "{:?}", run.values("pm/i"));
    assert_eq!(v.len(), count(&run.acks, "pm/v"), "v has a value on every poll");
    assert!(run.values("pm/bad").iter().all(|x| *x == "no-data"), "{:?}", run.values("pm/bad"));
    // Rate: ticks polled in the 14 s after the first poll. Waiting out the
    // 1.5 s timeout on every poll would leave every second 1 s tick out (~7).
    let first = v[0].0;
    let polled = v.iter().filter(|(t, _)| *t - first < 14_000).count();
    let offsets: Vec<i64> = v.iter().map(|(t, _)| t - first).collect();
    eprintln!("v polled on {polled} of 14 ticks: {offsets:?}");
    assert!(polled >= 11, "v polled on {polled} of 14 ticks: {offsets:?}");

    let status = run.status();
    assert!(
        status.contains("channel `bad` fails: instrument error after `MEAS:FOO?`: -113,\"Undefined header\""),
        "{status}"
    );
    let ev = events(&run.data);
    let failing: Vec<_> = ev.iter().filter(|e| e.message.contains("channel `bad` fails")).collect();
    assert_eq!(failing.len(), 1, "one event when the channel starts failing: {ev:#?}");
    assert_eq!(ev.iter().filter(|e| e.kind == EventKind::Connected).count(), 1, "{ev:#?}");
}

/// A 100 kB reply (with control bytes) is one bad reply, quoted escaped and
/// cut; the rest of it is drained, so later polls are clean.
#[test]
fn an_oversized_reply_is_reported_once_and_later_polls_are_clean() {
    let (_peer, port) = peer("oversize");
    let mut instrument = format!(
        "[[instrument]]\nid = \"big\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port}, timeout = \"2s\" }}\n"
    );
    for (id, query) in [("v", "MEAS:VOLT?"), ("i", "MEAS:CURR?")] {
        instrument += &format!("[[instrument.channel]]\nid = \"{id}\"\nquery = \"{query}\"\n");
    }
    let run = run_agent(&instrument, Duration::from_secs(30), |a| run_numbers(a, "big/v") >= 5);
    assert!(run_numbers(&run.acks, "big/v") >= 5, "{:?}", run.values("big/v"));
    let v = run.values("big/v");
    assert_eq!(v[0], "no-data", "{v:?}");
    assert!(v[1..].iter().all(|x| *x == "1.5"), "only the first poll is lost: {v:?}");
    assert!(run.values("big/i").iter().all(|x| *x == "0.25"), "{:?}", run.values("big/i"));
    let ev = events(&run.data);
    let errors: Vec<_> = ev.iter().filter(|e| e.kind == EventKind::Error).collect();
    assert_eq!(errors.len(), 1, "one error, no leftover reported later: {ev:#?}");
    let m = &errors[0].message;
    assert!(m.contains("longer than 65536 bytes") && m.contains("<06><06>"), "{m}");
    assert!(!m.contains('\u{6}') && m.len() < 400, "escaped and cut: {m}");
    assert_eq!(ev.iter().filter(|e| e.kind == EventKind::Disconnected).count(), 0, "{ev:#?}");
}

fn run_numbers(acks: &[Ack], channel: &str) -> usize {
    acks.iter().filter(|a| a.channel == channel && a.value.parse::<f64>().is_ok()).count()
}

/// A reply that stops mid-line and a silent peer: the link is dropped
/// (disconnect event naming it) and made again; polling goes on.
#[test]
fn a_reply_stopping_mid_line_reconnects() {
    let (_peer, port) = peer("stall");
    let instrument = format!(
        "[[instrument]]\nid = \"st\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port}, timeout = \"1s\" }}\n[[instrument.channel]]\nid = \"v\"\nquery = \"MEAS:VOLT?\"\n"
    );
    let run = run_agent(&instrument, Duration::from_secs(40), |a| run_numbers(a, "st/v") >= 5);
    assert!(run_numbers(&run.acks, "st/v") >= 5, "polling goes on after the stall: {:?}", run.values("st/v"));
    let ev = events(&run.data);
    let down: Vec<_> = ev.iter().filter(|e| e.kind == EventKind::Disconnected).collect();
    assert_eq!(down.len(), 1, "{ev:#?}");
    assert!(down[0].message.contains("stopped mid-line after 4 bytes (\"+1.5\")"), "{}", down[0].message);
    let up: Vec<_> = ev.iter().filter(|e| e.kind == EventKind::Connected).collect();
    assert_eq!(up.len(), 2, "connected again: {ev:#?}");
    assert!(up.iter().any(|u| u.t > down[0].t), "a connect after the disconnect: {ev:#?}");
}
