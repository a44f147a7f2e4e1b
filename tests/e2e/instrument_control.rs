//! Instrument control through the real `meterdeck-agent` (run + the
//! `control` command) against `meterdeck-sim` processes over TCP: start,
//! stop, restart, set-clock and settings profiles (save, diff, push with
//! and without confirmation), with the simulator's own state queried after
//! every command; a bad profile file and a value the instrument refuses are
//! clear errors that change nothing; Modbus says what it does not support.

use meterdeck_e2e::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One line to the simulator and its reply (commands get `*OPC?` added so
/// that every line has one).
fn sim(port: u16, line: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut w = s.try_clone().unwrap();
    let line = if line.contains('?') { line.to_string() } else { format!("{line};*OPC?") };
    w.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).unwrap();
    reply.trim().to_string()
}

/// Run state, start count and settings of the logger, as the simulator says.
fn logger_state(port: u16) -> String {
    sim(port, ":STAT?;:SIM:STAR?;:SAMP:RATE?;:TRIG:MODE?;:SYST:BEEP?")
}

fn control(data: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["control", "--data-dir", data];
    all.extend_from_slice(args);
    agent_output(&all)
}

fn ok(data: &str, args: &[&str]) -> String {
    let (code, out, err) = control(data, args);
    assert_eq!(code, 0, "control {args:?} failed: {out}{err}");
    out
}

fn failed(data: &str, args: &[&str]) -> String {
    let (code, out, err) = control(data, args);
    assert_ne!(code, 0, "control {args:?} should fail: {out}");
    err
}

fn samples(data: &str, channel: &str) -> usize {
    let (code, out, _) = agent_output(&["query", "--data-dir", data, "--channel", channel, "--from", "-1h"]);
    if code == 0 { out.lines().count() } else { 0 }
}

#[test]
fn control_commands_and_profiles_through_the_running_agent() {
    let dir = tempfile::tempdir().unwrap();
    let (_log_sim, log) = start_sim(&["--personality", "hioki-logger", "--channels", "2"], 1);
    let (_dmm_sim, dmm) = start_sim(&["--personality", "scpi"], 1);
    let (_mb_sim, mb) = start_sim(&["--personality", "modbus", "--channels", "1"], 1);
    let (lp, dp, mp) = (log[0].port(), dmm[0].port(), mb[0].port());
    let config = format!(
        r#"[agent]
poll_interval = "1s"

[[instrument]]
id = "log"
family = "hioki-logger"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {lp} }}
channel = [{{ id = "CH1_1" }}]

[[instrument]]
id = "dmm"
family = "scpi"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {dp} }}
settings = [":SENSe:VOLTage:DC:RANGe", ":TRIGger:SOURce"]
channel = [{{ id = "v", query = ":MEASure:VOLTage:DC?" }}]

[[instrument]]
id = "mb"
family = "modbus"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {mp} }}
settings = ["1000", "1001"]
channel = [{{ id = "c0", modbus = {{ address = 0, data_type = "f32" }} }}]
"#
    );
    let (mut agent, data) = run_agent_on(dir.path(), &config);
    let d = data.to_str().unwrap();
    wait_until(Duration::from_secs(20), "the logger polled", || samples(d, "log/CH1_1") >= 2);
    assert_eq!(logger_state(lp), "RUN;0;1;SINGLE;ON");

    // Start, stop, restart: the simulator's run state and start count after each.
    assert_eq!(ok(d, &["log", "stop"]).trim(), "log: measurement stopped");
    assert_eq!(logger_state(lp), "STOP;0;1;SINGLE;ON");
    assert_eq!(ok(d, &["log", "start"]).trim(), "log: measurement started");
    assert_eq!(logger_state(lp), "RUN;1;1;SINGLE;ON");
    assert_eq!(ok(d, &["log", "restart"]).trim(), "log: measurement restarted");
    assert_eq!(logger_state(lp), "RUN;2;1;SINGLE;ON");

    // The clock: put the instrument years off, then set it now.
    sim(lp, ":SYST:DATE 2020,1,2;:SYST:TIME 3,4,5");
    assert_eq!(sim(lp, ":SYST:DATE?"), "2020,1,2");
    let out = ok(d, &["log", "set-clock"]);
    assert!(out.contains("log: clock set to"), "{out}");
    let today = chrono::Utc::now().format("%Y,%-m,%-d").to_string();
    assert_eq!(sim(lp, ":SYST:DATE?"), today);
    let hms: Vec<u32> = sim(lp, ":SYST:TIME?").split(',').map(|p| p.parse().unwrap()).collect();
    let now = chrono::Utc::now();
    let inst = chrono::NaiveTime::from_hms_opt(hms[0], hms[1], hms[2]).unwrap();
    let off = (now.time() - inst).num_seconds().abs();
    assert!(off <= 3 || off >= 86_397, "instrument time {hms:?}, now {now}");

    // Profile save: read back from the instrument, nothing changed on it.
    let out = ok(d, &["log", "profile", "save", "base"]);
    assert!(out.contains("profile `base` saved (3 settings)") && out.contains("value = \"SINGLE\""), "{out}");
    assert_eq!(logger_state(lp), "RUN;2;1;SINGLE;ON");
    let out = ok(d, &["log", "profile", "show"]);
    assert!(out.starts_with("base\t3 settings"), "{out}");

    // Someone changes the instrument; the diff shows it and changes nothing.
    sim(lp, ":SAMP:RATE 5;:TRIG:MODE REPEAT");
    let out = ok(d, &["log", "profile", "diff", "base"]);
    assert!(out.contains("2 to change"), "{out}");
    assert!(out.contains("* :SAMPle:RATE: 5 -> 1") && out.contains("* :TRIGger:MODE: REPEAT -> SINGLE"), "{out}");
    assert!(out.contains("  :SYSTem:BEEPer: ON"), "{out}");
    assert_eq!(logger_state(lp), "RUN;2;5;REPEAT;ON");

    // Push without confirmation (stdin closed): not pushed.
    let err = failed(d, &["log", "profile", "push", "base"]);
    assert!(err.contains("not confirmed"), "{err}");
    assert_eq!(logger_state(lp), "RUN;2;5;REPEAT;ON");
    // Confirmed: pushed, read back, verified.
    let out = ok(d, &["log", "profile", "push", "base", "--yes"]);
    assert!(out.contains("profile pushed and verified: 2 changed (:SAMPle:RATE, :TRIGger:MODE)"), "{out}");
    assert_eq!(logger_state(lp), "RUN;2;1;SINGLE;ON");

    // Generic SCPI: its configured settings.
    let dmm_state = || sim(dp, ":SENS:VOLT:DC:RANG?;:TRIG:SOUR?");
    assert_eq!(dmm_state(), "10;IMM");
    // A bad profile file: the error names the file and the problem; nothing saved or sent.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[setting]]\nkey = \":TRIGger:SOURce\"\nvalue = \"BUS;*RST\"\n").unwrap();
    let err = failed(d, &["dmm", "profile", "save", "bad", "--file", bad.to_str().unwrap()]);
    assert!(err.contains("bad.toml") && err.contains("without `;`") && err.contains("nothing was saved"), "{err}");
    let out = ok(d, &["dmm", "profile", "show"]);
    assert!(out.contains("no saved profiles"), "{out}");
    let err = failed(d, &["dmm", "profile", "push", "bad", "--yes"]);
    assert!(err.contains("has no profile `bad`"), "{err}");
    assert_eq!(dmm_state(), "10;IMM");

    // A value the instrument refuses: the error names it, and the setting
    // pushed before it is put back: nothing changed.
    let refused = dir.path().join("refused.toml");
    std::fs::write(
        &refused,
        "[[setting]]\nkey = \":SENSe:VOLTage:DC:RANGe\"\nvalue = \"100\"\n\n\
         [[setting]]\nkey = \":TRIGger:SOURce\"\nvalue = \"LOUD\"\n",
    )
    .unwrap();
    ok(d, &["dmm", "profile", "save", "refused", "--file", refused.to_str().unwrap()]);
    let out = ok(d, &["dmm", "profile", "diff", "refused"]);
    assert!(
        out.contains("* :SENSe:VOLTage:DC:RANGe: 10 -> 100") && out.contains("* :TRIGger:SOURce: IMM -> LOUD"),
        "{out}"
    );
    let err = failed(d, &["dmm", "profile", "push", "refused", "--yes"]);
    assert!(
        err.contains("push profile failed") && err.contains(":TRIGger:SOURce LOUD") && err.contains("-224"),
        "{err}"
    );
    assert_eq!(dmm_state(), "10;IMM");
    // A good one goes through.
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[[setting]]\nkey = \":TRIGger:SOURce\"\nvalue = \"BUS\"\n").unwrap();
    ok(d, &["dmm", "profile", "save", "good", "--file", good.to_str().unwrap()]);
    let out = ok(d, &["dmm", "profile", "push", "good", "--yes"]);
    assert!(out.contains("1 changed (:TRIGger:SOURce)"), "{out}");
    assert_eq!(dmm_state(), "10;BUS");
    assert_eq!(ok(d, &["dmm", "stop"]).trim(), "dmm: measurement stopped");
    assert_eq!(sim(dp, ":STAT?"), "STOP");

    // Modbus: no start/stop/clock (said so), profiles over holding registers.
    let err = failed(d, &["mb", "start"]);
    assert!(
        err.contains("mb: start measurement failed") && err.contains("modbus does not support start measurement"),
        "{err}"
    );
    let err = failed(d, &["mb", "set-clock"]);
    assert!(err.contains("does not support clock setting"), "{err}");
    let out = ok(d, &["mb", "profile", "save", "regs"]);
    assert!(out.contains("key = \"1000\"\nvalue = \"10\"") && out.contains("key = \"1001\"\nvalue = \"1\""), "{out}");
    let regs = dir.path().join("regs.toml");
    std::fs::write(&regs, "[[setting]]\nkey = \"1001\"\nvalue = \"42\"\n").unwrap();
    ok(d, &["mb", "profile", "save", "regs42", "--file", regs.to_str().unwrap()]);
    let out = ok(d, &["mb", "profile", "push", "regs42", "--yes"]);
    assert!(out.contains("1 changed (1001)"), "{out}");
    let out = ok(d, &["mb", "profile", "diff", "regs"]);
    assert!(out.contains("* 1001: 42 -> 1"), "{out}");

    // Unknown instruments are named; polling went on all along.
    let err = failed(d, &["nope", "start"]);
    assert!(err.contains("unknown instrument `nope` (known: dmm, log, mb)"), "{err}");
    let before = samples(d, "log/CH1_1");
    wait_until(Duration::from_secs(10), "more polls", || samples(d, "log/CH1_1") >= before + 2);
    agent.terminate(Duration::from_secs(10));
}
