//! `dashboard_idle_cpu_percent`: CPU of all of the app's processes (the
//! app and WebKit's), in % of one core, over `secs` seconds after start-up
//! while the Dashboard shows a board of 20 panels over 32 channels that the
//! agent polls every second (4 simulated loggers of 8 channels). The
//! baseline, measured in the same run on the same instruments: the app on
//! the Monitor screen (no board shown).
//!
//! For a breakdown: `MD_FIG_KIND=value|graph` makes all 20 panels of one
//! kind; `MD_FIG_SCREEN=settings` takes the baseline on a screen where
//! nothing moves. Each process's share is printed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use meterdeck_e2e::Proc;
use meterdeck_e2e::proctree;
use meterdeck_e2e::webdriver::Desktop;
use serde_json::json;

const LOGGERS: usize = 4;
const PER_LOGGER: usize = 8;

/// Clock ticks a second (`getconf CLK_TCK`; 100 on Linux).
const TICKS: f64 = 100.0;

pub struct CpuFigures {
    pub dashboard: f64,
    pub monitor: f64,
    /// The floor: a bare Tauri window whose page changes 32 numbers a second
    /// (no IPC, no agent), when the baseline window was built.
    pub bare_values: Option<f64>,
}

fn channels() -> Vec<String> {
    (0..LOGGERS).flat_map(|l| (1..=PER_LOGGER).map(move |c| format!("logger-{}/CH1_{c}", l + 1))).collect()
}

/// The 20 panels: 8 graphs with values, 4 graphs, 7 value panels and an
/// alarm list, 3x3 cells each, covering the 32 channels.
fn panels() -> Vec<serde_json::Value> {
    let ch = channels();
    let mut out = Vec::new();
    let mut next = 0;
    for k in 0..20 {
        let only = std::env::var("MD_FIG_KIND").ok();
        let (kind, n) = match k {
            _ if only.as_deref() == Some("value") => ("value", if k < 12 { 2 } else { 1 }),
            _ if only.as_deref() == Some("graph") => ("graph", if k < 12 { 2 } else { 1 }),
            0..=7 => ("graph-value", 2),
            8..=11 => ("graph", 2),
            12 => ("value", 2),
            13..=18 => ("value", 1),
            _ => ("alarm-list", 0),
        };
        let chans: Vec<&String> = ch[next..next + n].iter().collect();
        next += n;
        out.push(json!({"id": 0, "kind": kind, "title": format!("Panel {}", k + 1), "x": (k % 4) * 3, "y": (k / 4) * 3,
                        "w": 3, "h": 3, "channels": chans, "window": "hour", "image": null, "placements": [], "rules": []}));
    }
    out
}

/// CPU ticks of the app's processes now, by pid.
fn ticks(desk: &Desktop) -> Vec<(u32, u64)> {
    desk.app_pids().into_iter().filter_map(|p| proctree::cpu_ticks(p).map(|t| (p, t))).collect()
}

/// % of a core the app's processes used over `secs` seconds.
fn measure(desk: &Desktop, secs: u64) -> f64 {
    let before = ticks(desk);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let after = ticks(desk);
    let wall = t0.elapsed().as_secs_f64();
    let per: Vec<(u32, u64)> = after
        .iter()
        .map(|(p, t)| (*p, t.saturating_sub(before.iter().find(|(q, _)| q == p).map_or(0, |(_, b)| *b))))
        .collect();
    // Where it goes: the app (Rust: agent, store, IPC) or WebKit's processes (JS, layout, paint).
    for (p, t) in &per {
        let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        eprintln!("     {:<18} {:6.2} %", name.trim(), *t as f64 / TICKS / wall * 100.0);
    }
    let used: u64 = per.iter().map(|(_, t)| t).sum();
    used as f64 / TICKS / wall * 100.0
}

fn config(sim: &mut Proc) -> Result<String> {
    let mut cfg = String::from("[agent]\nname = \"dashboard-figure\"\npoll_interval = \"1s\"\n\n");
    for _ in 0..LOGGERS {
        let line = sim.wait_line("READY ", Duration::from_secs(20));
        let parts: Vec<&str> = line.split_whitespace().collect();
        ensure!(parts.len() >= 4, "bad READY line {line}");
        let port = parts[3].rsplit(':').next().unwrap_or_default();
        cfg += &format!(
            "[[instrument]]\nid = \"{}\"\nfamily = \"hioki-logger\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port} }}\n",
            parts[1]
        );
        for c in 1..=PER_LOGGER {
            cfg += &format!("[[instrument.channel]]\nid = \"CH1_{c}\"\nunit = \"V\"\n");
        }
        cfg += "\n";
    }
    Ok(cfg)
}

/// One app run on `dir`: with `board`, the Dashboard shows it; else the Monitor.
fn run_app(app: &Path, dir: &Path, env: &[(&str, &str)], board: bool, secs: u64) -> Result<f64> {
    let args = vec![
        "--config".to_string(),
        dir.join("meterdeck.toml").to_string_lossy().into_owned(),
        "--data-dir".to_string(),
        dir.join("data").to_string_lossy().into_owned(),
    ];
    // The app as a user's machine runs it: here, without a GPU, it paints
    // without compositing (src-tauri/src/render.rs). This figure takes
    // no screenshot, so it does not need the window tests' override.
    let mut env = env.to_vec();
    env.push(("MD_WEBKIT_COMPOSITING", "auto"));
    let desk = Desktop::launch(app, &args, &env)?;
    let _ = desk.set_window_rect(1440, 960);
    desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(60))?;
    desk.wait_until(Duration::from_secs(30), "32 channels stored", |s| {
        let n = super::invoke_timed(s, "latest", json!({}))?.0.as_array().map_or(0, Vec::len);
        Ok((n >= LOGGERS * PER_LOGGER).then_some(()))
    })?;
    if board {
        let d = desk.invoke("board_create", json!({"name": "Figures"}))?;
        let id = d["boards"][0]["id"].clone();
        for p in panels() {
            desk.invoke("panel_add", json!({"board": id, "panel": p}))?;
        }
        desk.nav("dashboard")?;
        desk.wait_until(Duration::from_secs(15), "20 panels drawn", |s| {
            let n = s.execute("return document.querySelectorAll('[data-testid=panel]').length", vec![])?;
            Ok((n.as_u64() == Some(20)).then_some(()))
        })?;
    } else {
        // MD_FIG_SCREEN: the baseline on another screen (e.g. `settings`, where nothing moves).
        desk.nav(&std::env::var("MD_FIG_SCREEN").unwrap_or_else(|_| "monitor".into()))?;
    }
    // Start-up settles (first fetches, graphs built) before the window is measured.
    std::thread::sleep(Duration::from_secs(3));
    let pct = measure(&desk, secs);
    let procs = desk.app_pids().len();
    eprintln!(
        "   {} : {pct:.2} % of a core over {secs} s ({procs} processes)",
        if board { "dashboard" } else { "monitor  " }
    );
    Ok(pct)
}

/// The floor: what WebKit alone spends to show 32 changing numbers.
fn run_bare(bare: &Path, env: &[(&str, &str)], secs: u64) -> Result<f64> {
    let mut env = env.to_vec();
    env.push(("MD_WEBKIT_COMPOSITING", "auto"));
    let n = (LOGGERS * PER_LOGGER).to_string();
    let desk = Desktop::launch(bare, &["--values".to_string(), n], &env)?;
    let _ = desk.set_window_rect(1440, 960);
    desk.wait_for(".c", Duration::from_secs(30))?;
    std::thread::sleep(Duration::from_secs(3));
    let pct = measure(&desk, secs);
    eprintln!("   bare window, 32 numbers a second : {pct:.2} % of a core over {secs} s");
    Ok(pct)
}

pub fn run(app: &Path, sim_bin: &Path, bare: Option<&Path>, env: &[(&str, &str)], secs: u64) -> Result<CpuFigures> {
    eprintln!("== dashboard CPU: 20 panels over {} channels polled every second, {secs} s", LOGGERS * PER_LOGGER);
    let dir = tempfile::tempdir()?;
    let mut sim_toml = String::new();
    for k in 0..LOGGERS {
        sim_toml += &format!(
            "[[instrument]]\nname = \"logger-{}\"\npersonality = \"hioki-logger\"\nseed = {}\nchannels = {PER_LOGGER}\n\n",
            k + 1,
            k + 1
        );
    }
    std::fs::write(dir.path().join("sim.toml"), sim_toml)?;
    let mut sim = Proc::spawn(
        "meterdeck-sim",
        Command::new(sim_bin).args(["--config", &dir.path().join("sim.toml").to_string_lossy()]),
    );
    std::fs::write(dir.path().join("meterdeck.toml"), config(&mut sim)?)?;
    // 4 instruments are over the Free plan (without a licence the app refuses
    // the config and exits before WebDriver gets a session), and 20 panels
    // over Pro's 10 a group: the figure's licence is signed with room for them.
    meterdeck_e2e::licence::grant_pro_with(&dir.path().join("data"), |l| l.panels_per_group = 20);
    let monitor = run_app(app, dir.path(), env, false, secs)?;
    let dashboard = run_app(app, dir.path(), env, true, secs)?;
    let _ = sim.terminate(Duration::from_secs(5));
    let bare_values = match bare {
        Some(b) => Some(run_bare(b, env, secs)?),
        None => {
            eprintln!("   (no baseline window: cargo build -p meterdeck --example bare_window for the floor)");
            None
        }
    };
    Ok(CpuFigures { dashboard, monitor, bare_values })
}
