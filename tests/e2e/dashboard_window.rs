//! Dashboards in the real window (Xvfb + WebKitWebDriver) on the demo's
//! simulator: a board is created on the Dashboard screen and one panel of
//! every kind added through the panel form (graph with values, graph,
//! values, image with values, image, alarm list), the image picked as a
//! file and copied into the data directory. Values arrive live (the value
//! tiles' times move on, the graphs grow), an alarm on the board is
//! acknowledged from its alarm list, a value is dragged onto the image, a
//! panel is moved and resized by keyboard and by mouse, and every change
//! is in the store at once. After a restart the app opens on that board
//! and the value sits where it was dropped. Screenshot:
//! docs/screenshots/dashboard.png.
//!
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck --bins`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use meterdeck_e2e::bin;
use meterdeck_e2e::webdriver::{Desktop, Session, testid};
use serde_json::{Value, json};

/// An always-active alarm on a channel the board shows.
const AGENT_TOML: &str = "[agent]\nname = \"dashboard-e2e\"\npoll_interval = \"1s\"\n\n\
[[alarm]]\nid = \"u1-watch\"\nname = \"Line voltage watch\"\nkind = \"threshold\"\nseverity = \"high\"\n\
channel = \"power-meter-1/U1\"\nop = \">\"\nvalue = -1000000.0\n";

/// A plant drawing for the image panels.
const PLANT_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">
<rect width="640" height="360" fill="#eef3f8"/>
<rect x="40" y="70" width="170" height="220" rx="12" fill="#c3d1e2" stroke="#51627a" stroke-width="4"/>
<text x="125" y="190" font-family="sans-serif" font-size="22" text-anchor="middle" fill="#243041">Furnace</text>
<path d="M210 180 H420" stroke="#51627a" stroke-width="10"/>
<circle cx="480" cy="180" r="62" fill="#d6e0ec" stroke="#51627a" stroke-width="4"/>
<text x="480" y="187" font-family="sans-serif" font-size="20" text-anchor="middle" fill="#243041">Pump</text>
<path d="M480 118 V40 H600" stroke="#51627a" stroke-width="8" fill="none"/>
</svg>"##;

fn step(desk: &Desktop, name: &str, f: impl FnOnce(&Desktop) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name}");
    if let Err(e) = f(desk) {
        let report = desk.failure_report(&format!("dashboard-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

fn launch(data: &Path, home: &Path) -> Desktop {
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, home, None).expect("start the app under Xvfb");
    let _ = desk.set_window_rect(1440, 960);
    step(&desk, "ready", |d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ()));
    desk
}

/// Calls a Tauri command from the page (facts the test checks against).
fn invoke(s: &Session, cmd: &str, args: Value) -> Result<Value> {
    let v = s.execute_async(
        "const [cmd, args, done] = arguments;
         window.__TAURI_INTERNALS__.invoke(cmd, args).then(v => done({ok: v}), e => done({err: String(e)}));",
        vec![json!(cmd), args],
    )?;
    match (v.get("ok"), v.get("err")) {
        (Some(ok), _) => Ok(ok.clone()),
        (_, Some(err)) => bail!("{cmd}: {err}"),
        _ => bail!("{cmd}: unexpected reply {v}"),
    }
}

/// The board as the backend keeps it.
fn kept_board(d: &Session) -> Result<Value> {
    let all = invoke(d, "dashboards_list", json!({}))?;
    all["boards"].get(0).cloned().context(format!("no board kept: {all}"))
}

fn kept_panel(d: &Session, kind: &str) -> Result<Value> {
    let b = kept_board(d)?;
    b["panels"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["kind"] == kind).cloned())
        .context(format!("no {kind} panel: {b}"))
}

fn panel_css(kind: &str) -> String {
    format!("[data-testid=panel][data-kind=\"{kind}\"]")
}

/// Channels with numbers in the Monitor's sense: those the demo stores.
fn demo_channels(d: &Session) -> Result<Vec<String>> {
    d.wait_until(Duration::from_secs(30), "the demo's channels stored", |s| {
        let v = invoke(s, "latest", json!({}))?;
        let paths: Vec<String> =
            v.as_array().into_iter().flatten().filter_map(|l| l["path"].as_str().map(str::to_string)).collect();
        Ok((paths.iter().any(|p| p.starts_with("hioki-logger-1/")) && paths.iter().any(|p| p == "power-meter-1/U1"))
            .then_some(paths))
    })
}

/// Adds a panel through the form: kind, title, channels (by path), image file.
fn add_panel(d: &Session, kind: &str, title: &str, channels: &[&str], image: Option<&Path>) -> Result<()> {
    let before = d.find_all("[data-testid=panel]")?.len();
    d.click(&d.by_testid("panel-new")?)?;
    d.wait_for(&testid("panel-form"), Duration::from_secs(5))?;
    d.select(&d.by_testid("panel-kind")?, kind)?;
    d.fill(&d.by_testid("panel-title")?, title)?;
    for c in channels {
        let sel = format!("[data-testid=panel-channel][data-path=\"{c}\"] input");
        let box_ = d.wait_for(&sel, Duration::from_secs(10))?;
        d.click(&box_)?;
    }
    if let Some(img) = image {
        d.fill(&d.by_testid("panel-image-path")?, &img.to_string_lossy())?;
        d.click(&d.by_testid("panel-image-use")?)?;
        d.wait_until(Duration::from_secs(10), "the image copied", |s| {
            let t = s.text(&s.by_testid("panel-image-name")?)?;
            Ok((!t.trim().is_empty()).then_some(()))
        })?;
    }
    d.click(&d.by_testid("panel-form-save")?)?;
    d.wait_until(Duration::from_secs(10), &format!("the {kind} panel added"), |s| {
        if let Ok(e) = s.by_testid("panel-form-error")
            && s.is_displayed(&e)?
        {
            bail!("refused: {}", s.text(&e)?);
        }
        Ok((s.find_all("[data-testid=panel]")?.len() == before + 1).then_some(()))
    })
}

/// `[path, value text, data-t]` of the value tiles in panels of `kind`.
fn tiles(d: &Session, kind: &str) -> Result<Vec<(String, String, String)>> {
    let v = d.execute(
        "return [...document.querySelectorAll(arguments[0] + ' [data-testid=value-tile]')].map(t =>
           [t.dataset.path, t.querySelector('[data-testid=panel-value]').textContent.trim(), t.dataset.t || '']);",
        vec![json!(panel_css(kind))],
    )?;
    Ok(serde_json::from_value(v)?)
}

fn graph_points(d: &Session, kind: &str) -> Result<u64> {
    let v = d.execute(
        "const h = document.querySelector(arguments[0] + ' [data-testid=panel-graph]');
         return h && h.uplot ? h.uplot.data[0].length : 0;",
        vec![json!(panel_css(kind))],
    )?;
    Ok(v.as_u64().unwrap_or(0))
}

fn panel_rect(d: &Session, kind: &str) -> Result<(u64, u64, u64, u64)> {
    let v = d.execute(
        "const p = document.querySelector(arguments[0]).dataset; return [+p.x, +p.y, +p.w, +p.h];",
        vec![json!(panel_css(kind))],
    )?;
    Ok(serde_json::from_value(v)?)
}

#[test]
fn a_board_with_every_panel_kind_updates_live_and_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("agent.toml"), AGENT_TOML).unwrap();
    let drawing = tmp.path().join("plant.svg");
    std::fs::write(&drawing, PLANT_SVG).unwrap();
    let home = tmp.path().join("home");

    let desk = launch(&data, &home);
    let mut logger = Vec::new();
    step(&desk, "board", |d| {
        let paths = demo_channels(d)?;
        logger = paths.iter().filter(|p| p.starts_with("hioki-logger-1/")).take(3).cloned().collect();
        ensure!(logger.len() == 3, "logger channels: {paths:?}");
        d.nav("dashboard")?;
        d.wait_for(".dash-empty:not([hidden])", Duration::from_secs(5))?;
        d.click(&d.by_testid("board-new")?)?;
        d.fill(&d.by_testid("board-name")?, "Furnace line")?;
        d.click(&d.by_testid("board-form-save")?)?;
        let tab = d.wait_for("[data-testid=board-tab].active", Duration::from_secs(10))?;
        ensure!(d.text(&tab)? == "Furnace line", "tab: {}", d.text(&tab)?);
        Ok(())
    });

    step(&desk, "every-panel-kind", |d| {
        let l: Vec<&str> = logger.iter().map(String::as_str).collect();
        add_panel(d, "graph-value", "Furnace temperatures", &l[..2], None)?;
        add_panel(d, "graph", "Line voltage", &["power-meter-1/U1", "power-meter-1/U2"], None)?;
        add_panel(d, "value", "Line", &["power-meter-1/U1", "power-meter-1/I1", "scpi-1/VDC"], None)?;
        add_panel(d, "image-values", "Plant", &[l[0], "power-meter-1/U1"], Some(&drawing))?;
        add_panel(d, "image", "Drawing", &[], Some(&drawing))?;
        add_panel(d, "alarm-list", "Alarms", &[], None)?;
        let b = kept_board(d)?;
        let kinds: Vec<&str> = b["panels"].as_array().unwrap().iter().filter_map(|p| p["kind"].as_str()).collect();
        ensure!(kinds == ["graph-value", "graph", "value", "image-values", "image", "alarm-list"], "kept: {kinds:?}");
        let img = b["panels"][3]["image"].as_str().context("image name")?;
        let copied = std::fs::read_to_string(data.join("dashboard-images").join(img))?;
        ensure!(copied == PLANT_SVG, "the image in the data directory differs from the file picked");
        Ok(())
    });

    step(&desk, "values-arrive-live", |d| {
        let numeric = |s: &str| s.replace([',', ' '], "").parse::<f64>().is_ok();
        let first = d.wait_until(Duration::from_secs(15), "numbers in the value panel", |s| {
            let t = tiles(s, "value")?;
            Ok((t.len() == 3 && t.iter().all(|(_, v, ts)| numeric(v) && !ts.is_empty())).then_some(t))
        })?;
        d.wait_until(Duration::from_secs(10), "a newer reading in the value panel", |s| {
            let now = tiles(s, "value")?;
            Ok(now
                .iter()
                .zip(&first)
                .any(|(a, b)| a.2.parse::<i64>().unwrap_or(0) > b.2.parse::<i64>().unwrap_or(0))
                .then_some(()))
        })?;
        let unit = d.execute(
            "return document.querySelector(arguments[0] + ' [data-path=\"power-meter-1/U1\"] [data-testid=panel-unit]').textContent",
            vec![json!(panel_css("value"))],
        )?;
        ensure!(unit == "V", "unit shown: {unit}");
        let g0 = d.wait_until(Duration::from_secs(15), "graph points", |s| {
            let n = graph_points(s, "graph-value")?;
            Ok((n > 0).then_some(n))
        })?;
        // A graph redraws once a pixel's worth of time has passed (about 10 s for an hour here).
        d.wait_until(Duration::from_secs(40), "the graph to grow live", |s| {
            Ok((graph_points(s, "graph-value")? > g0).then_some(()))
        })?;
        ensure!(graph_points(d, "graph")? > 0, "the graph-only panel drew nothing");
        // The alarm on U1 colours its tiles.
        d.wait_for(
            &format!("{} [data-path=\"power-meter-1/U1\"][data-alarm=\"high\"]", panel_css("value")),
            Duration::from_secs(20),
        )?;
        Ok(())
    });

    step(&desk, "alarm-ack", |d| {
        let li =
            d.wait_for(&format!("{} [data-testid=panel-alarms] li", panel_css("alarm-list")), Duration::from_secs(20))?;
        let row = d.property(&li, "textContent")?;
        ensure!(row.as_str().unwrap_or_default().contains("Line voltage watch"), "alarm row: {row}");
        d.click(&d.find(&format!("{} [data-testid=panel-ack]", panel_css("alarm-list")))?)?;
        d.fill(&d.find(&format!("{} [data-testid=panel-ack-user]", panel_css("alarm-list")))?, "operator1")?;
        d.click(&d.find(&format!("{} [data-testid=panel-ack]", panel_css("alarm-list")))?)?;
        d.wait_until(Duration::from_secs(10), "the alarm acknowledged", |s| {
            let all = invoke(s, "alarms_list", json!({}))?;
            let a = all.as_array().and_then(|l| l.iter().find(|a| a["rule_id"] == "u1-watch").cloned());
            Ok(a.filter(|a| a["acked"] == true && a["ack"]["user"] == "operator1").map(|_| ()))
        })
    });

    let mut placed_at = (0.0, 0.0);
    step(&desk, "drag-value-onto-image", |d| {
        let css = panel_css("image-values");
        let img = d.wait_for(&format!("{css} [data-testid=panel-image]"), Duration::from_secs(10))?;
        d.wait_until(Duration::from_secs(10), "the image loaded", |s| {
            Ok((s.property(&img, "naturalWidth")?.as_u64().unwrap_or(0) > 0).then_some(()))
        })?;
        let tile = d.find(&format!("{css} [data-testid=image-tray] [data-path=\"power-meter-1/U1\"]"))?;
        let (ir, tr) = (d.rect(&img)?, d.rect(&tile)?);
        let target = (ir.x + ir.width * 0.75, ir.y + ir.height * 0.5);
        d.drag(&tile, (tr.width / 2.0, tr.height / 2.0), (target.0 - tr.x, target.1 - tr.y), 8)?;
        let p = d.wait_until(Duration::from_secs(10), "the placement kept", |s| {
            let p = kept_panel(s, "image-values")?;
            Ok(p["placements"].as_array().and_then(|l| l.iter().find(|x| x["channel"] == "power-meter-1/U1").cloned()))
        })?;
        placed_at = (p["x"].as_f64().unwrap_or(-1.0), p["y"].as_f64().unwrap_or(-1.0));
        ensure!((placed_at.0 - 0.75).abs() < 0.05 && (placed_at.1 - 0.5).abs() < 0.05, "dropped at {placed_at:?}");
        d.wait_for(
            &format!("{css} [data-testid=placed-value][data-path=\"power-meter-1/U1\"]"),
            Duration::from_secs(5),
        )?;
        Ok(())
    });

    step(&desk, "keyboard-move-and-resize", |d| {
        let before = panel_rect(d, "alarm-list")?;
        d.execute("document.querySelector(arguments[0]).focus()", vec![json!(panel_css("alarm-list"))])?;
        let panel = d.find(&panel_css("alarm-list"))?;
        // Shift+Down grows it a row; Up moves it a row up (if there is room) or Right a column.
        d.send_keys(&panel, "\u{E008}\u{E015}\u{E000}")?;
        let grown = d.wait_until(Duration::from_secs(5), "the panel grown", |s| {
            let r = panel_rect(s, "alarm-list")?;
            Ok((r.3 == before.3 + 1).then_some(r))
        })?;
        d.wait_until(Duration::from_secs(5), "the new size kept", |s| {
            Ok((kept_panel(s, "alarm-list")?["h"].as_u64() == Some(grown.3)).then_some(()))
        })?;
        d.send_keys(&panel, "\u{E012}")?; // left
        let moved = d.wait_until(Duration::from_secs(5), "the panel moved left", |s| {
            let r = panel_rect(s, "alarm-list")?;
            Ok((r.0 + 1 == before.0).then_some(r))
        });
        if moved.is_err() {
            // Left was blocked by a neighbour: then it must not have moved.
            ensure!(panel_rect(d, "alarm-list")?.0 == before.0, "moved onto another panel");
        }
        Ok(())
    });

    step(&desk, "mouse-move", |d| {
        let before = panel_rect(d, "image")?;
        d.execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})",
            vec![json!(panel_css("image"))],
        )?;
        d.two_frames()?;
        let head = d.find(&format!("{} .panel-head", panel_css("image")))?;
        let r = d.rect(&head)?;
        // Offsets from the scrolling area, which stays put while the panel follows the pointer.
        let area = d.find(".board-scroll")?;
        let grid = d.rect(&area)?;
        let row = 74.0;
        let from = (r.x + r.width / 3.0 - grid.x, r.y + r.height / 2.0 - grid.y);
        // Down by two rows (into the free space under the board).
        d.drag(&area, from, (from.0, from.1 + 2.0 * row), 6)?;
        let after = d.wait_until(Duration::from_secs(5), "the panel moved by mouse", |s| {
            let k = kept_panel(s, "image")?;
            let y = k["y"].as_u64().unwrap_or(0);
            Ok((y == before.1 + 2).then_some(y))
        });
        ensure!(
            after.is_ok(),
            "the drag did not move the panel: before {before:?}, now {:?} (grid {grid:?})",
            panel_rect(d, "image")?
        );
        Ok(())
    });

    step(&desk, "screenshot", |d| {
        d.execute("document.querySelector('.board-scroll').scrollTop = 0", vec![])?;
        std::thread::sleep(Duration::from_secs(2));
        d.two_frames()?;
        d.screenshot_doc("dashboard")
    });
    drop(desk);

    let desk = launch(&data, &home);
    step(&desk, "after-restart", |d| {
        let root = d.by_testid("screen-dashboard")?;
        d.wait_until(Duration::from_secs(10), "the app opens on the dashboard", |s| {
            Ok(s.is_displayed(&root)?.then_some(()))
        })?;
        let tab = d.wait_for("[data-testid=board-tab].active", Duration::from_secs(10))?;
        ensure!(d.text(&tab)? == "Furnace line", "opened on {}", d.text(&tab)?);
        let css = panel_css("image-values");
        let placed = d.wait_for(
            &format!("{css} [data-testid=placed-value][data-path=\"power-meter-1/U1\"]"),
            Duration::from_secs(10),
        )?;
        let left = d.execute(
            "return [parseFloat(arguments[0].style.left), parseFloat(arguments[0].style.top)]",
            vec![placed.to_json()],
        )?;
        let (x, y) = (left[0].as_f64().unwrap_or(-1.0), left[1].as_f64().unwrap_or(-1.0));
        ensure!(
            (x - placed_at.0 * 100.0).abs() < 0.01 && (y - placed_at.1 * 100.0).abs() < 0.01,
            "placed at {left}, dropped at {placed_at:?}"
        );
        let p = kept_panel(d, "image-values")?;
        ensure!(p["placements"][0]["x"].as_f64() == Some(placed_at.0), "kept placement {p}");
        ensure!(d.find_all("[data-testid=panel]")?.len() == 6, "panels after restart");
        Ok(())
    });
    drop(desk);
}
