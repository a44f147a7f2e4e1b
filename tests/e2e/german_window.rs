//! Issue 17's "every word in the user's language" in the real window
//! (Xvfb + WebKitWebDriver): the operator picks German on the Settings
//! screen; the app, started again, shows German from its first screen; a
//! threshold alarm on a `meterdeck-sim` logger channel raises a desktop
//! notification (python-dbusmock on a private session bus) whose title is
//! German, and the end-of-condition notice is German too; a refusal from
//! core (an unknown instrument) and an event core recorded (the logger's
//! connect, stored as key and arguments) reach the window in German.
//! Screenshot: docs/screenshots/german.png (the Alarms screen with the
//! active alarm, in German).
//!
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck --bin meterdeck -p meterdeck-drivers --bin meterdeck-sim`.

use anyhow::{Context, Result, bail, ensure};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::webdriver::{Desktop, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

const RULE: &str = "kessel-heiss";
const NAME: &str = "Kessel zu heiß";
const CHANNEL: &str = "logger1/CH1_1";
const HOT: &str = "91.5";
const BACK: &str = "21.5";

fn agent_toml(sim_port: u16) -> String {
    format!(
        r#"[agent]
name = "german-e2e"
poll_interval = "1s"

[[instrument]]
id = "logger1"
name = "Kesselschreiber"
family = "hioki-logger"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {sim_port} }}
poll_interval = "1s"
[[instrument.channel]]
id = "CH1_1"
unit = "°C"

[[alarm]]
id = "{RULE}"
name = "{NAME}"
severity = "high"
kind = "threshold"
channel = "{CHANNEL}"
op = ">"
value = 80.0
notify_on_return = true
destinations = ["desk"]

[[destination]]
id = "desk"
kind = "desktop"
name = "Dieser Computer"
"#
    )
}

/// Sets the simulated channel with its SCPI control command; `*OPC?`
/// returns once the command ran.
fn simulate(sim_port: u16, value: &str) -> Result<()> {
    let cmd = format!(":SIMulate:VALue CH1_1,{value};*OPC?\n");
    let mut s = TcpStream::connect(("127.0.0.1", sim_port)).context("connect to meterdeck-sim")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(cmd.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&s).read_line(&mut reply).with_context(|| format!("no reply to {}", cmd.trim()))?;
    ensure!(reply.trim() == "1", "{} answered {reply:?}", cmd.trim());
    eprintln!("    simulator: CH1_1 = {value}");
    Ok(())
}

/// Waits for a `Notify` call after the first `after` ones that `want` accepts.
fn wait_notify(bus: &Session, after: usize, what: &str, want: impl Fn(&Value) -> bool) -> Result<(usize, Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let calls = bus.notify_calls()?;
        if let Some(c) = calls.iter().skip(after).find(|c| want(c)) {
            return Ok((calls.len(), c.clone()));
        }
        if Instant::now() > deadline {
            bail!("no desktop notification {what} within 30 s; Notify calls received: {calls:#?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn launch(app: &Path, data: &Path, home: &Path, bus: &Session) -> Desktop {
    let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk =
        Desktop::launch_app(app, &args, home, Some(&bus.address)).expect("start the app under Xvfb + WebKitWebDriver");
    desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).expect("the window becomes ready");
    desk
}

/// The text of a nav entry (its label; the rail may be scrolled, so the
/// DOM's text rather than what WebDriver sees).
fn text_of(desk: &Desktop, id: &str) -> Result<String> {
    let v = desk.execute(
        "const sel = `[data-testid=\"${arguments[0]}\"]`;
         const e = document.querySelector(`${sel} .label`) ?? document.querySelector(sel);
         return e ? e.textContent.trim() : null;",
        vec![json!(id)],
    )?;
    v.as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("no element {id}"))
}

fn run(desk: &mut Option<Desktop>, app: &Path, data: &Path, home: &Path, bus: &Session, sim_port: u16) -> Result<()> {
    // 1. English at first; the operator picks German on the Settings screen.
    let d = desk.as_ref().unwrap();
    ensure!(text_of(d, "nav-settings")? == "Settings", "the app does not start in English");
    d.nav("settings")?;
    let picker = d.by_testid("settings-language")?;
    d.select(&picker, "de")?;
    d.wait_until(Duration::from_secs(10), "the settings saved in German", |_| {
        Ok((d.invoke("app_state", json!({}))?["settings"]["language"] == "de").then_some(()))
    })?;
    eprintln!("    German picked on the Settings screen");

    // 2. Started again, the window is German from its first screen.
    drop(desk.take());
    *desk = Some(launch(app, data, home, bus));
    let d = desk.as_ref().unwrap();
    ensure!(d.execute("return document.documentElement.lang", vec![])? == "de", "html lang is not de");
    for (id, want) in [("nav-settings", "Einstellungen"), ("nav-instruments", "Messgeräte"), ("nav-alarms", "Alarme")]
    {
        let got = text_of(d, id)?;
        ensure!(got == want, "{id} reads {got:?}, want {want:?}");
    }
    d.nav("monitor")?;
    let head = d.wait_until(Duration::from_secs(20), "a polled value in the Monitor", |s| {
        let v = s.execute(
            "const r = document.querySelector(`[data-testid=monitor-row][data-path=\"${arguments[0]}\"]`);
             const v = r ? (r.querySelector('[data-testid=monitor-value]')?.textContent ?? '').trim() : '';
             return v ? document.querySelector('[data-testid=screen-monitor] thead')?.textContent ?? '' : null;",
            vec![json!(CHANNEL)],
        )?;
        Ok(v.as_str().map(str::to_string))
    })?;
    ensure!(head.contains("Kanal") && head.contains("Wert") && head.contains("Einheit"), "Monitor header: {head:?}");
    eprintln!("    Monitor header in German: {head:?}");
    // A refusal from core reaches the window in German too.
    let err = d.invoke("remove_instrument", json!({"id": "ghost"})).err().map(|e| format!("{e:#}")).unwrap_or_default();
    ensure!(err.contains("kein Messgerät `ghost` ist eingerichtet"), "the refusal is not German: {err:?}");
    // So do a form's live check and a refused value (keyed in forms.ftl and core.ftl).
    let rule = json!({"id": "hot2", "kind": "threshold", "channel": CHANNEL, "op": ">"});
    let checked = d.invoke("rule_check", json!({ "rule": rule }))?;
    ensure!(
        checked["field"] == "alarm[hot2].value" && checked["message"] == "Operator \">\" braucht `value`",
        "the rule check is not German: {checked}"
    );
    let err = d.invoke("discover_ble", json!({"seconds": 0})).err().map(|e| format!("{e:#}")).unwrap_or_default();
    ensure!(err.contains("ein BLE-Scan dauert 1..120 s, erhalten: 0"), "the BLE refusal is not German: {err:?}");
    // Events are stored as key and arguments: the Events screen shows the
    // logger's connect, recorded by core, in German.
    d.nav("events")?;
    let connected = d.wait_until(Duration::from_secs(20), "the connect event in German", |s| {
        let v = s.execute(
            "const rows = [...document.querySelectorAll('[data-testid=event-row][data-kind=connected] td.msg')];
             const m = rows.map((r) => r.textContent.trim()).find((t) => t.startsWith('Verbunden mit 127.0.0.1:'));
             return m ?? null;",
            vec![],
        )?;
        Ok(v.as_str().map(str::to_string))
    })?;
    eprintln!("    connect event in German: {connected:?}");

    // 3. A raised alarm's desktop notification arrives in German over D-Bus.
    d.nav("alarms")?;
    let row = format!("{}[data-alarm-id=\"{RULE}\"]", testid("alarm-row"));
    d.wait_for(&row, Duration::from_secs(10)).context("the rule's row")?;
    let before = bus.notify_calls()?.len();
    simulate(sim_port, HOT)?;
    let (n, c) = wait_notify(bus, before, &format!("naming {NAME:?}"), |c| {
        c["summary"].as_str().is_some_and(|s| s.contains(NAME))
    })?;
    eprintln!("    Notify: {:?} / {:?}", c["summary"], c["body"]);
    ensure!(c["app_name"] == "Meterdeck", "app_name: {c}");
    ensure!(c["summary"] == format!("Alarm ausgelöst: {NAME}"), "the title is not German: {c}");
    ensure!(c["body"].as_str().is_some_and(|b| b.contains(HOT)), "the body lacks {HOT}: {c}");
    d.wait_until(Duration::from_secs(20), "the active alarm row", |s| {
        let r = s.find(&row)?;
        Ok(s.attribute(&r, "class")?.unwrap_or_default().split_whitespace().any(|c| c == "active").then_some(()))
    })?;
    let shown = d.text(&d.find(&row)?)?;
    ensure!(
        shown.contains("Aktiv") && shown.contains("Unquittiert") && shown.contains(HOT),
        "the row is not German or lacks {HOT}: {shown:?}"
    );
    d.screenshot_doc("german")?;

    // 4. The end-of-condition notice is German too (after the dispatcher's burst window).
    std::thread::sleep(Duration::from_millis(2500));
    simulate(sim_port, BACK)?;
    let (_, c) = wait_notify(bus, n, "of the return", |c| c["summary"].as_str().is_some_and(|s| s.contains(NAME)))?;
    eprintln!("    Notify: {:?} / {:?}", c["summary"], c["body"]);
    ensure!(c["summary"] == format!("Wieder normal: {NAME}"), "the return title is not German: {c}");
    let notes = d.invoke("notifications_list", json!({"unreadOnly": false})).unwrap_or(Value::Null);
    if let Some(list) = notes.as_array() {
        ensure!(
            list.iter().any(|x| x["title"] == format!("Alarm ausgelöst: {NAME}")),
            "the notification centre lacks the German title: {notes}"
        );
    }
    Ok(())
}

#[test]
fn the_app_starts_in_german_and_a_notification_title_arrives_in_german_over_dbus() {
    let started = Instant::now();
    let app = bin("meterdeck");
    let mut bus = Session::start();
    bus.start_notification_daemon();
    let (_sim, ready) = start_sim(&["--personality", "hioki-logger", "--seed", "4", "--name", "logger1"], 1);
    let sim_port = ready[0].port();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("agent.toml"), agent_toml(sim_port)).unwrap();

    let mut desk = Some(launch(&app, &data, &home, &bus));
    if let Err(e) = run(&mut desk, &app, &data, &home, &bus, sim_port) {
        let report = desk.as_ref().map(|d| d.failure_report("german")).unwrap_or_default();
        panic!("{e:#}\n{report}");
    }
    eprintln!("german window test took {:.1} s", started.elapsed().as_secs_f64());
    drop(desk);
}
