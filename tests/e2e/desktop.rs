//! The desktop app in a real window (Xvfb + WebKitWebDriver), driven the
//! way an operator would: live values on the Monitor, adding an instrument
//! (a separate `meterdeck-sim` process) and a rejected form, a zoomed Viewer
//! export whose CSV equals the simulator's waveform, the Console, the Cloud
//! screen's sign-in refusal, the Japanese UI. Each screen is saved to docs/screenshots/<screen>.png.
//!
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build --workspace --bins` (the binary `meterdeck` embeds ui/dist).

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_drivers::sim::{Personality, expected_value};
use meterdeck_e2e::webdriver::{Desktop, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

struct Ctx {
    desk: Desktop,
    tmp: tempfile::TempDir,
    launched: Instant,
}

impl Ctx {
    fn nav(&self, screen: &str) -> Result<()> {
        self.desk.nav(screen)
    }

    fn screenshot(&self, screen: &str) -> Result<()> {
        self.desk.screenshot_doc(screen)
    }

    fn invoke(&self, cmd: &str, args: Value) -> Result<Value> {
        self.desk.invoke(cmd, args)
    }

    /// `[path, value text]` of every monitor row.
    fn monitor_values(&self) -> Result<Vec<(String, String)>> {
        let v = self.desk.execute(
            "return [...document.querySelectorAll('[data-testid=monitor-row]')].map(r =>
               [r.dataset.path, (r.querySelector('[data-testid=monitor-value]')?.textContent ?? '').trim()]);",
            vec![],
        )?;
        Ok(serde_json::from_value(v)?)
    }
}

fn step(cx: &Ctx, name: &str, started: Instant, f: impl FnOnce(&Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let report = cx.desk.failure_report(&format!("desktop-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn desktop_window_end_to_end() {
    let started = Instant::now();
    let app = bin("meterdeck");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let launched = Instant::now();
    let desk = Desktop::launch_app(&app, &args, &tmp.path().join("home"), None)
        .expect("start the app under Xvfb + WebKitWebDriver");
    let cx = Ctx { desk, tmp, launched };

    step(&cx, "ready", started, |cx| cx.desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ()));
    step(&cx, "monitor", started, monitor);
    step(&cx, "instruments", started, instruments);
    step(&cx, "viewer", started, viewer);
    step(&cx, "console", started, console);
    step(&cx, "events", started, events);
    step(&cx, "cloud", started, cloud);
    step(&cx, "settings", started, settings);
    eprintln!("desktop test took {:.1} s", started.elapsed().as_secs_f64());
    drop(cx);
}

/// (a) Live values arrive and change.
fn monitor(cx: &Ctx) -> Result<()> {
    cx.nav("monitor")?;
    let numeric = |s: &str| s.replace([',', ' '], "").parse::<f64>().is_ok();
    let first = cx.desk.wait_until(Duration::from_secs(15), "monitor rows with values", |_| {
        let vals = cx.monitor_values()?;
        Ok((vals.iter().filter(|(_, v)| numeric(v)).count() >= 4).then_some(vals))
    })?;
    let before: HashMap<String, String> = first.into_iter().collect();
    let changed = cx.desk.wait_until(Duration::from_secs(8), "a monitor value to change", |_| {
        let now = cx.monitor_values()?;
        Ok(now.into_iter().find(|(p, v)| numeric(v) && before.get(p).is_some_and(|b| b != v)))
    })?;
    eprintln!("    {} changed from {} to {}", changed.0, before[&changed.0], changed.1);
    let age =
        cx.desk.find(&format!("[data-testid=monitor-row][data-path=\"{}\"] [data-testid=monitor-age]", changed.0))?;
    ensure!(!cx.desk.text(&age)?.trim().is_empty(), "monitor-age is empty for {}", changed.0);
    cx.screenshot("monitor")
}

/// (b) Add an instrument through the form; a bad form shows an error.
fn instruments(cx: &Ctx) -> Result<()> {
    let (_sim, ready) = start_sim(&["--personality", "scpi", "--seed", "7"], 1);
    let port = ready[0].port();
    cx.nav("instruments")?;
    let d = &cx.desk;

    d.click(&d.by_testid("add-instrument")?)?;
    family_form(cx)?;
    d.fill(&d.by_testid("inst-id")?, "dmm-e2e")?;
    d.fill(&d.by_testid("inst-name")?, "Bench DMM")?;
    d.select(&d.by_testid("inst-family")?, "scpi")?;
    d.select(&d.by_testid("inst-transport")?, "tcp")?;
    d.fill(&d.by_testid("inst-host")?, "127.0.0.1")?;
    d.fill(&d.by_testid("inst-port")?, &port.to_string())?;
    d.fill(&d.by_testid("inst-poll")?, "1")?;
    d.fill(&d.by_testid("inst-channels")?, "vdc,V,MEAS:VOLT:DC?")?;
    d.click(&d.by_testid("inst-save")?)?;

    let state_sel = "[data-testid=instrument-row][data-id=\"dmm-e2e\"] [data-testid=instrument-state]";
    d.wait_for(state_sel, Duration::from_secs(10)).context("the new instrument's row")?;
    // Rows are re-rendered as states change: look the cell up each time.
    d.wait_until(Duration::from_secs(15), "dmm-e2e connected", |s| {
        let state = s.find(state_sel)?;
        Ok((s.attribute(&state, "data-state")?.as_deref() == Some("connected")).then_some(()))
    })
    .with_context(|| {
        let st = d.find(state_sel).and_then(|e| Ok((d.attribute(&e, "data-state")?, d.attribute(&e, "title")?)));
        format!("state now {st:?}")
    })?;

    // A form without an id is refused with a message and nothing is added.
    let rows_before = d.find_all("[data-testid=instrument-row]")?.len();
    d.click(&d.by_testid("add-instrument")?)?;
    d.fill(&d.by_testid("inst-id")?, "")?;
    d.select(&d.by_testid("inst-family")?, "scpi")?;
    d.fill(&d.by_testid("inst-host")?, "127.0.0.1")?;
    d.fill(&d.by_testid("inst-port")?, &port.to_string())?;
    d.click(&d.by_testid("inst-save")?)?;
    let err = d.by_testid("inst-error")?;
    let msg = d.wait_until(Duration::from_secs(5), "inst-error shown", |s| {
        let text = s.text(&err)?;
        Ok((s.is_displayed(&err)? && !text.trim().is_empty()).then_some(text))
    })?;
    eprintln!("    empty id refused: {msg}");
    ensure!(d.find_all("[data-testid=instrument-row]")?.len() == rows_before, "a row was added by the bad form");
    d.click(&d.by_testid("inst-cancel")?)?;
    d.two_frames()?;
    cx.screenshot("instruments")?;

    // The simulator stops with this step: remove the instrument again so
    // later screens show the demo only (accepting a confirmation dialog if
    // the UI asks for one).
    let remove = d.find("[data-testid=instrument-row][data-id=\"dmm-e2e\"] [data-testid=inst-remove]")?;
    d.click(&remove)?;
    d.wait_until(Duration::from_secs(10), "dmm-e2e removed", |s| {
        if s.alert_text()?.is_some() {
            s.accept_alert()?;
        }
        Ok(s.find_all("[data-testid=instrument-row][data-id=\"dmm-e2e\"]")?.is_empty().then_some(()))
    })
}

/// The add form's family list is the registry's, and a family's own fields
/// (instrument fields, the channel table's columns) are the ones it
/// declares; the filled-in Modbus form is saved as docs/screenshots/instrument-form.png.
fn family_form(cx: &Ctx) -> Result<()> {
    let d = &cx.desk;
    let family = d.by_testid("inst-family")?;
    let offered: Vec<String> = serde_json::from_value(
        d.execute("return [...arguments[0].options].map(o => o.value);", vec![family.to_json()])?,
    )?;
    let registry: Vec<&str> = meterdeck_drivers::Family::all().iter().map(|f| f.id()).collect();
    ensure!(offered == registry, "the form offers {offered:?}, the registry has {registry:?}");

    let modbus = meterdeck_drivers::families::modbus::FAMILY;
    d.select(&family, modbus.id())?;
    let columns = || -> Result<Vec<String>> {
        Ok(serde_json::from_value(d.execute(
            "return [...document.querySelectorAll('[data-testid=inst-column]')].map(r => r.dataset.key);",
            vec![],
        )?)?)
    };
    let want: Vec<&str> = modbus.channel_fields.iter().map(|f| f.key).collect();
    ensure!(columns()? == want, "modbus columns {:?}, registry {want:?}", columns()?);
    for f in modbus.instrument_fields {
        d.by_testid(&format!("inst-field-{}", f.key)).with_context(|| format!("instrument field {}", f.key))?;
    }
    d.fill(&d.by_testid("inst-id")?, "chiller")?;
    d.fill(&d.by_testid("inst-name")?, "Chiller PLC")?;
    d.fill(&d.by_testid("inst-host")?, "192.168.1.30")?;
    d.fill(&d.by_testid("inst-field-unit_id")?, "3")?;
    // U+E007 is WebDriver's Enter key: a new line in the channel table.
    d.fill(&d.by_testid("inst-channels")?, "flow,L/min,0,input,f32\u{E007}pressure,kPa,2,input,i16,,0.1")?;
    d.two_frames()?;
    cx.screenshot("instrument-form")?;

    let scpi = meterdeck_drivers::families::scpi::FAMILY;
    d.select(&family, scpi.id())?;
    let want: Vec<&str> = scpi.channel_fields.iter().map(|f| f.key).collect();
    ensure!(columns()? == want, "scpi columns {:?}, registry {want:?}", columns()?);
    ensure!(d.find_all("[data-testid=inst-field-unit_id]")?.is_empty(), "scpi shows modbus' unit id");
    Ok(())
}

/// The demo's logger: its id and seed (from the `SIM<seed>01` serial the
/// simulator answers `*IDN?` with).
fn demo_logger(cx: &Ctx) -> Result<(String, u64)> {
    let list = cx.invoke("list_instruments", json!({}))?;
    let logger = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["config"]["family"] == "hioki-logger"))
        .ok_or_else(|| anyhow!("no hioki-logger among the demo's instruments: {list}"))?;
    let id = logger["config"]["id"].as_str().ok_or_else(|| anyhow!("logger without id"))?.to_string();
    let identity = match logger.get("identity").filter(|v| !v.is_null()) {
        Some(i) => i.clone(),
        None => cx.invoke("identify", json!({"id": id}))?["identity"].clone(),
    };
    let serial = identity["serial"].as_str().ok_or_else(|| anyhow!("identity without serial: {identity}"))?;
    let seed = serial
        .strip_prefix("SIM")
        .and_then(|s| s.strip_suffix("01"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("serial {serial:?} is not the simulator's SIM<seed>01"))?;
    Ok((id, seed))
}

/// (c) Two channels, 1 h, drag-zoom onto the data, CSV export equal to the waveform.
fn viewer(cx: &Ctx) -> Result<()> {
    let (logger, seed) = demo_logger(cx)?;
    let paths = [format!("{logger}/CH1_1"), format!("{logger}/CH1_2")];
    cx.nav("viewer")?;
    let d = &cx.desk;
    let check_path = |p: &str| -> Result<()> {
        let check = d.wait_for(&format!("[data-testid=channel-check][data-path=\"{p}\"]"), Duration::from_secs(10))?;
        d.click(&check)
    };
    // The demo's cache starts with a week of history: its last hour before
    // the window's first data, the rest behind the agent, newest day first
    // (about a second in a release build, several in this debug one). Two
    // temperatures, which follow the day, once the week is in.
    let third = format!("{logger}/CH1_3");
    let channels = cx.invoke("channels", json!({}))?;
    let id_of = |path: &str| {
        channels
            .as_array()
            .and_then(|l| {
                l.iter().find(|c| {
                    format!("{}/{}", c["instrument"].as_str().unwrap_or(""), c["channel"].as_str().unwrap_or(""))
                        == path
                })
            })
            .and_then(|c| c["id"].as_i64())
            .ok_or_else(|| anyhow!("no channel {path} in {channels}"))
    };
    let ids = [id_of(&paths[0])?, id_of(&third)?];
    d.wait_until(Duration::from_secs(120), "the demo's week of history written", |_| {
        let mut all_in = true;
        for id in ids {
            let e = cx.invoke("series_extent", json!({"channelIds": [id]}))?;
            let from = e["from"].as_i64().ok_or_else(|| anyhow!("no extent of channel {id}: {e}"))?;
            all_in &= now_ms() - from >= 7 * 86_400_000 - 60_000;
        }
        Ok(all_in.then_some(()))
    })?;
    check_path(&paths[0])?;
    check_path(&third)?;
    d.click(&d.by_testid("range-1w")?)?;
    d.wait_for(&format!("{} .u-over", testid("viewer-plot")), Duration::from_secs(10))?;
    std::thread::sleep(Duration::from_millis(1500));
    cx.screenshot("viewer-week")?;
    check_path(&third)?;
    check_path(&paths[1])?;
    // Some seconds of data (one poll a second) to export.
    if let Some(wait) = Duration::from_secs(10).checked_sub(cx.launched.elapsed()) {
        std::thread::sleep(wait);
    }
    let clicked = now_ms();
    d.click(&d.by_testid("range-1h")?)?;
    d.wait_for(&format!("{} .u-over", testid("viewer-plot")), Duration::from_secs(10))?;
    // Let both series arrive and draw.
    d.wait_until(Duration::from_secs(10), "two series in the plot", |s| {
        let n = s.execute("return document.querySelectorAll('[data-testid=viewer-plot] canvas').length", vec![])?;
        Ok((n.as_u64().unwrap_or(0) >= 1).then_some(()))
    })?;

    // The x axis spans [clicked - 1 h, clicked]; the data is what was
    // polled since the launch. Drag over that (and at least 30 s).
    // uPlot is rebuilt on every refresh (the 1 h range follows "now"), so
    // the plot element is looked up right before the drag, and the drag is
    // tried again if a refresh replaced it meanwhile.
    let span_ms = (cx.launched.elapsed().as_millis() as f64 + 10_000.0).max(30_000.0);
    let frac = 1.0 - span_ms / 3_600_000.0;
    let over_sel = format!("{} .u-over", testid("viewer-plot"));
    let range_1h = d.by_testid("range-1h")?;
    let mut zoomed = false;
    for attempt in 1..=3 {
        let tried = (|| -> Result<()> {
            let over = d.find(&over_sel)?;
            let r = d.rect(&over)?;
            d.drag(&over, (r.width * frac, r.height / 2.0), (r.width - 1.0, r.height / 2.0), 8)
        })();
        if let Err(e) = tried {
            eprintln!("    drag attempt {attempt}: {e:#}");
            continue;
        }
        zoomed = d
            .wait_until(Duration::from_secs(3), "the zoom to leave the 1 h range", |s| {
                let class = s.attribute(&range_1h, "class")?.unwrap_or_default();
                Ok((!class.split_whitespace().any(|c| c == "active")).then_some(()))
            })
            .is_ok();
        if zoomed {
            break;
        }
    }
    ensure!(zoomed, "dragging on the plot did not zoom");

    let csv = cx.tmp.path().join("export").join("viewer.csv");
    std::fs::create_dir_all(csv.parent().unwrap())?;
    d.fill(&d.by_testid("export-path")?, &csv.to_string_lossy())?;
    d.click(&d.by_testid("export-button")?)?;
    let done = d.by_testid("export-done")?;
    let text = d.wait_until(Duration::from_secs(20), "export-done", |s| {
        if let Ok(e) = s.find(&testid("export-error"))
            && s.is_displayed(&e)?
        {
            bail!("export failed: {}", s.text(&e)?);
        }
        let t = s.text(&done)?;
        Ok((s.is_displayed(&done)? && !t.is_empty()).then_some(t))
    })?;
    ensure!(text.contains("viewer.csv"), "export-done does not show the path: {text:?}");
    cx.screenshot("viewer")?;
    check_csv(&csv, &paths, seed, clicked)
}

fn check_csv(csv: &Path, paths: &[String; 2], seed: u64, clicked: i64) -> Result<()> {
    let body = std::fs::read_to_string(csv).with_context(|| format!("read {}", csv.display()))?;
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().ok_or_else(|| anyhow!("empty CSV"))?.split(',').collect();
    ensure!(header.len() == 4 && header[..2] == ["time_utc", "epoch_ms"], "header {header:?}");
    for (k, p) in paths.iter().enumerate() {
        ensure!(header[2 + k].starts_with(p.as_str()), "column {} is {:?}, want {p}", 2 + k, header[2 + k]);
    }
    let mut checked = 0;
    let mut rows = 0;
    for line in lines {
        rows += 1;
        let cells: Vec<&str> = line.split(',').collect();
        ensure!(cells.len() == 4, "row {line:?}");
        let t: i64 = cells[1].parse().with_context(|| format!("epoch_ms in {line:?}"))?;
        ensure!(
            t <= clicked + 1000 && t >= clicked - 3_600_000,
            "row at {t} outside the zoomed range (clicked at {clicked})"
        );
        for (k, cell) in cells[2..].iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let got: f64 = cell.parse().with_context(|| format!("value {cell:?} in {line:?}"))?;
            // CHu_c is waveform channel (u-1)*15 + c-1: CH1_1 -> 0, CH1_2 -> 1.
            let ok = [t, t + 1000].iter().any(|&tt| {
                let want = expected_value(seed, Personality::HiokiLogger, k, tt);
                (got - want).abs() <= 1e-9 * want.abs().max(1.0)
            });
            ensure!(
                ok,
                "{} at {t}: {got} is not the waveform's {}",
                paths[k],
                expected_value(seed, Personality::HiokiLogger, k, t)
            );
            checked += 1;
        }
    }
    ensure!(rows >= 4 && checked >= 8, "only {rows} rows / {checked} values exported");
    eprintln!("    CSV: {rows} rows, {checked} values equal the waveform (seed {seed})");
    Ok(())
}

/// (e) The console: acquire the logger, `*IDN?`, a HIOKI reply.
fn console(cx: &Ctx) -> Result<()> {
    let (logger, _) = demo_logger(cx)?;
    cx.nav("console")?;
    let d = &cx.desk;
    d.select(&d.by_testid("console-instrument")?, &logger)?;
    d.fill(&d.by_testid("console-operator")?, "e2e")?;
    d.click(&d.by_testid("console-acquire")?)?;
    let input = d.by_testid("console-input")?;
    d.wait_until(Duration::from_secs(5), "console input enabled", |s| {
        Ok((s.property(&input, "disabled")? != Value::Bool(true)).then_some(()))
    })?;
    d.fill(&input, "*IDN?")?;
    d.click(&d.by_testid("console-send")?)?;
    let out = d.by_testid("console-output")?;
    let text = d.wait_until(Duration::from_secs(10), "a HIOKI reply", |s| {
        let t = s.text(&out)?;
        Ok(t.contains("HIOKI").then_some(t))
    })?;
    eprintln!("    console: {}", text.lines().last().unwrap_or_default());
    cx.screenshot("console")?;
    d.click(&d.by_testid("console-release")?)
}

/// The event log holds the connection of the instrument added in (b).
fn events(cx: &Ctx) -> Result<()> {
    cx.nav("events")?;
    cx.desk.wait_until(Duration::from_secs(10), "an event row about dmm-e2e", |s| {
        let rows = s.execute(
            "return [...document.querySelectorAll('[data-testid=event-row]')].map(r => r.textContent)",
            vec![],
        )?;
        let rows: Vec<String> = serde_json::from_value(rows)?;
        Ok(rows.iter().any(|r| r.contains("dmm-e2e") && r.contains("SIM701")).then_some(()))
    })?;
    cx.screenshot("events")
}

/// The Cloud screen: this agent's sync panel and the sign-in form; signing
/// in to a service that is not there says so beside the form and leaves the
/// window signed out.
fn cloud(cx: &Ctx) -> Result<()> {
    cx.nav("cloud")?;
    let d = &cx.desk;
    d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
    d.wait_until(Duration::from_secs(10), "the local sync panel", |s| {
        let t = s.execute("return document.querySelector('[data-testid=cloud-local-sync]').textContent", vec![])?;
        Ok((!t.as_str().unwrap_or_default().trim().is_empty()).then_some(()))
    })?;
    let port = meterdeck_e2e::webdriver::free_port()?;
    d.fill(&d.by_testid("cloud-url")?, &format!("http://127.0.0.1:{port}"))?;
    d.fill(&d.by_testid("cloud-account-id")?, "acme")?;
    d.fill(&d.by_testid("cloud-user-id")?, "alice")?;
    d.fill(&d.by_testid("cloud-password")?, "Secret1x")?;
    d.click(&d.by_testid("cloud-sign-in")?)?;
    let msg = d.wait_until(Duration::from_secs(15), "the sign-in error", |s| {
        let t = s.text(&s.by_testid("cloud-signin-error")?)?;
        Ok((!t.trim().is_empty()).then_some(t))
    })?;
    ensure!(
        msg.contains("cannot reach the cloud service") && msg.contains("connection refused"),
        "sign-in error: {msg}"
    );
    let st = cx.invoke("cloud_status", json!({}))?;
    ensure!(st["signed_in"] == false && st["url"].is_null(), "nothing is remembered after a failed sign-in: {st}");
    cx.screenshot("cloud")
}

/// (d) Japanese.
fn settings(cx: &Ctx) -> Result<()> {
    cx.nav("settings")?;
    let d = &cx.desk;
    // The English screenshot first; the Japanese check follows.
    cx.screenshot("settings")?;
    d.select(&d.by_testid("settings-language")?, "ja")?;
    d.wait_for("html[data-lang=\"ja\"]", Duration::from_secs(5))?;
    let label = d.wait_until(Duration::from_secs(5), "the Monitor nav label in Japanese", |s| {
        // The label span's text. WebKitWebDriver's rendered-text call gives
        // "" for the rail's labels (ellipsis-clipped flex items), so read
        // textContent; the screenshot shows what is drawn.
        let b = s.find(&format!("{} .label", testid("nav-monitor")))?;
        let t = s.property(&b, "textContent")?.as_str().unwrap_or_default().to_string();
        Ok(t.contains("モニター").then_some(t))
    })?;
    eprintln!("    nav-monitor reads {label:?}");
    let saved = cx.invoke("app_state", json!({}))?;
    ensure!(saved["settings"]["language"] == "ja", "settings not saved: {saved}");
    Ok(())
}

// ------------------------------------------------------------------ Viewer redraws (issue 17)

/// What the Viewer's plot holds and has painted: the uPlot instance's
/// marker and x scale, how many instances were built, the newest request
/// and the paint log.
const VIEWER_STATE: &str = "const box = document.querySelector('[data-testid=viewer-plot]');
  const u = box.querySelector('.plot-host').uplot;
  return {marker: u ? (u.__e2eMarker ?? null) : null, builds: box.plotBuilds,
          x: u ? [u.scales.x.min, u.scales.x.max] : null, points: u ? u.data[0].length : 0,
          requested: box.requested, paints: box.paints, timings: box.timings.slice(-3), dropped: box.dropped};";

fn viewer_state(d: &Desktop) -> Result<Value> {
    d.execute(VIEWER_STATE, vec![])
}

/// Waits until the newest request is painted; answers the state then.
fn viewer_settled(d: &Desktop, what: &str) -> Result<Value> {
    d.wait_until(Duration::from_secs(20), what, |_| {
        let v = viewer_state(d)?;
        let last = v["paints"].as_array().and_then(|p| p.last()).map(|p| p["gen"].clone());
        Ok((v["requested"]["gen"].is_number() && last.as_ref() == Some(&v["requested"]["gen"])).then_some(v))
    })
}

/// The Viewer keeps one uPlot instance across refreshes and range changes
/// (a marker set on it survives), and a storm of 20 zooms in one second
/// ends on the last zoom's range with no answer for an earlier zoom
/// painted after a later one.
#[test]
fn viewer_redraws_in_place_and_the_last_zoom_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), None)
        .expect("start the app under Xvfb + WebKitWebDriver");
    if let Err(e) = viewer_in_place(&desk) {
        let report = desk.failure_report("viewer-in-place");
        panic!("{e:#}\n{report}");
    }
}

fn viewer_in_place(d: &Desktop) -> Result<()> {
    d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30))?;
    d.nav("viewer")?;
    let check = d.wait_for("[data-testid=channel-check][data-path$=\"/CH1_1\"]", Duration::from_secs(10))?;
    d.click(&check)?;
    d.click(&d.by_testid("range-1d")?)?;
    let first = viewer_settled(d, "the day painted")?;
    ensure!(first["points"].as_u64().unwrap_or(0) > 10, "the demo's day of history is drawn: {first}");
    d.execute(
        "document.querySelector('[data-testid=viewer-plot] .plot-host').uplot.__e2eMarker = 'kept'; return true",
        vec![],
    )?;
    let builds = first["builds"].clone();

    // A refresh of another range: the same instance, the new range drawn.
    d.click(&d.by_testid("range-6h")?)?;
    let six = d.wait_until(Duration::from_secs(20), "the 6 h range painted", |_| {
        let v = viewer_settled(d, "6 h")?;
        let span = v["x"][1].as_f64().unwrap_or(0.0) - v["x"][0].as_f64().unwrap_or(0.0);
        Ok(((span - 6.0 * 3_600_000.0).abs() < 1.0).then_some(v))
    })?;
    ensure!(six["marker"] == "kept", "the uPlot instance was replaced by the refresh: {six}");
    ensure!(six["builds"] == builds, "a refresh built a new plot: {six}");
    // A pan (its neighbour was fetched ahead) keeps it too.
    d.click(&d.by_testid("viewer-pan-left")?)?;
    let panned = viewer_settled(d, "the pan painted")?;
    ensure!(panned["marker"] == "kept" && panned["builds"] == builds, "the pan rebuilt the plot: {panned}");
    ensure!(panned["x"][1].as_f64() == panned["requested"]["to"].as_f64(), "the pan's range is drawn: {panned}");

    // The storm starts on a week of two channels, so the first zooms are
    // slow to answer and the later, narrower ones quick: answers that paint
    // as they come would paint an early zoom over a later one.
    let second = d.wait_for("[data-testid=channel-check][data-path$=\"/CH1_2\"]", Duration::from_secs(10))?;
    d.click(&second)?;
    d.click(&d.by_testid("range-1w")?)?;
    d.wait_until(Duration::from_secs(30), "the week of two channels painted", |_| {
        let v = viewer_settled(d, "1 w")?;
        let span = v["x"][1].as_f64().unwrap_or(0.0) - v["x"][0].as_f64().unwrap_or(0.0);
        Ok(((span - 7.0 * 86_400_000.0).abs() < 1.0).then_some(()))
    })?;
    let builds = viewer_state(d)?["builds"].clone();
    d.execute(
        "document.querySelector('[data-testid=viewer-plot] .plot-host').uplot.__e2eMarker = 'kept'; return true",
        vec![],
    )?;
    // The storm: 20 drag-zooms (uPlot's selection hook, as a drag ends)
    // 50 ms apart, each a narrower middle part of what is drawn then.
    let before = viewer_state(d)?["paints"].as_array().map_or(0, |p| p.len());
    d.set_timeouts(30_000)?;
    d.execute_async(
        "const done = arguments[arguments.length - 1];
         const u = document.querySelector('[data-testid=viewer-plot] .plot-host').uplot;
         const w = u.bbox.width / devicePixelRatio, h = u.bbox.height / devicePixelRatio;
         let k = 0;
         const zoom = () => {
           const left = Math.round(w * 0.02 * (k + 1)), width = Math.round(w * (1 - 0.04 * (k + 1)));
           u.setSelect({left, top: 0, width: Math.max(4, width), height: h}, true);
           if (++k < 20) setTimeout(zoom, 50); else done(true);
         };
         zoom();",
        vec![],
    )?;
    let end = viewer_settled(d, "the storm's last zoom painted")?;
    let req = &end["requested"];
    ensure!(end["marker"] == "kept" && end["builds"] == builds, "the storm rebuilt the plot: {end}");
    ensure!(
        end["x"][0].as_f64() == req["from"].as_f64() && end["x"][1].as_f64() == req["to"].as_f64(),
        "the drawn range is not the last zoom's: drawn {}, last requested {req}",
        end["x"]
    );
    let paints = end["paints"].as_array().cloned().unwrap_or_default();
    let storm: Vec<i64> = paints[before.min(paints.len())..].iter().filter_map(|p| p["gen"].as_i64()).collect();
    ensure!(storm.windows(2).all(|w| w[0] < w[1]), "an older answer was painted after a newer one: {storm:?}");
    ensure!(storm.last() == req["gen"].as_i64().as_ref(), "the last paint is not the last request: {storm:?} vs {req}");
    eprintln!(
        "    storm: {} paints for 20 zooms (generations {storm:?}), {} stale answers dropped; last redraws {}",
        storm.len(),
        end["dropped"],
        end["timings"]
    );
    Ok(())
}
