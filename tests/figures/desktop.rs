//! The desktop app's figures (run by scripts/figures-desktop): time from
//! process start to the first painted frame with data, idle memory of all
//! of the app's processes while polling 10 simulated instruments, and the
//! Viewer's redraw time for 1M raw points and for a year of 1 s data.
//!
//! Everything runs in real windows under Xvfb through WebKitWebDriver.
//!
//! Usage: figures_desktop [--app PATH] [--sim PATH] [--only first-paint|memory|viewer|dashboard]...
//!                        [--runs N] [--memory-secs S] [--year-days D] [--dashboard-secs S] [--short]
//!                        [--demo-history DUR]
//!
//! Prints a table, then one JSON line (`first_paint_ms` with its breakdown,
//! `viewer_year_redraw_ms`, `viewer_1m_redraw_ms`, `series_core_ms`, ...).
//! `--short`: first paint and Viewer only, one run, small data (2 days, 50k
//! points): checks that every figure is produced (a finite number), not its
//! value; fails otherwise. For the test command.
//!
//! `dashboard`: CPU of the app's processes with a board of 20 panels over 32
//! channels updating every second (`dashboard_cpu.rs`).

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_core::model::{Sample, Value as Sv};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_e2e::proctree;
use meterdeck_e2e::webdriver::{Desktop, Driver, Session, Xvfb, testid};
use meterdeck_e2e::{Proc, bin};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "dashboard_cpu.rs"]
mod dashboard_cpu;

const DAY_MS: i64 = 86_400_000;

struct Args {
    app: PathBuf,
    sim: PathBuf,
    /// The baseline window (`cargo build -p meterdeck --example bare_window`).
    bare: Option<PathBuf>,
    /// Long mode: PSS again after this many more seconds of live updates.
    memory_growth_secs: u64,
    only: Vec<String>,
    runs: usize,
    memory_secs: u64,
    year_days: i64,
    dashboard_secs: u64,
    /// Points of the "1M" channel (fewer with --short).
    raw_points: u64,
    short: bool,
    /// `--demo-history` for the first-paint runs (the app's default: a week).
    demo_history: Option<String>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        app: PathBuf::new(),
        sim: PathBuf::new(),
        bare: None,
        memory_growth_secs: 0,
        only: Vec::new(),
        runs: 5,
        memory_secs: 60,
        year_days: 365,
        dashboard_secs: 60,
        raw_points: 1_000_000,
        short: false,
        demo_history: None,
    };
    let mut app = None;
    let mut sim = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--app" => app = Some(PathBuf::from(val()?)),
            "--sim" => sim = Some(PathBuf::from(val()?)),
            "--bare" => a.bare = Some(PathBuf::from(val()?)),
            "--memory-growth-secs" => a.memory_growth_secs = val()?.parse().context("--memory-growth-secs: seconds")?,
            "--only" => {
                let v = val()?;
                ensure!(
                    ["first-paint", "memory", "viewer", "dashboard"].contains(&v.as_str()),
                    "--only {v}: first-paint, memory, viewer or dashboard"
                );
                a.only.push(v);
            }
            "--runs" => a.runs = val()?.parse().context("--runs: a count")?,
            "--memory-secs" => a.memory_secs = val()?.parse().context("--memory-secs: seconds")?,
            "--year-days" => a.year_days = val()?.parse().context("--year-days: days")?,
            "--dashboard-secs" => a.dashboard_secs = val()?.parse().context("--dashboard-secs: seconds")?,
            "--short" => a.short = true,
            "--demo-history" => a.demo_history = Some(val()?),
            other => bail!("unknown argument {other} (see the file's header for usage)"),
        }
    }
    a.app = app.unwrap_or_else(|| bin("meterdeck"));
    a.sim = sim.unwrap_or_else(|| bin("meterdeck-sim"));
    a.runs = a.runs.max(1);
    if a.short {
        a.runs = 1;
        a.year_days = 2;
        a.raw_points = 50_000;
        a.demo_history.get_or_insert_with(|| "1h".into());
        if a.only.is_empty() {
            a.only = vec!["first-paint".into(), "viewer".into()];
        }
    }
    ensure!(a.year_days >= 2, "--year-days must be at least 2");
    for p in [&a.app, &a.sim] {
        ensure!(p.exists(), "{} does not exist", p.display());
    }
    // The baseline window is built beside the app (target/<profile>/examples).
    if a.bare.is_none() {
        a.bare = a.app.parent().map(|d| d.join("examples").join("bare_window")).filter(|p| p.exists());
    }
    Ok(a)
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("figures-desktop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn wants(a: &Args, what: &str) -> bool {
    a.only.is_empty() || a.only.iter().any(|o| o == what)
}

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    target: Option<f64>,
}

/// The JSON line's fields, filled by each part.
type Json = serde_json::Map<String, Value>;

fn run(a: &Args) -> Result<()> {
    let mut figs = Vec::new();
    let mut json = Json::new();
    if wants(a, "first-paint") {
        figs.extend(first_paint(a, &mut json)?);
    }
    if wants(a, "memory") {
        figs.extend(memory(a, &mut json)?);
    }
    if wants(a, "viewer") {
        figs.extend(viewer(a, &mut json)?);
    }
    if wants(a, "dashboard") {
        let h = home()?;
        let c = dashboard_cpu::run(&a.app, &a.sim, a.bare.as_deref(), &h.env(), a.dashboard_secs)?;
        figs.push(Figure {
            name: "dashboard_idle_cpu_percent (20 panels, 32 channels, 1 s)".into(),
            value: c.dashboard,
            unit: "%",
            target: Some(5.0),
        });
        figs.push(Figure {
            name: "  baseline: the same app on the Monitor".into(),
            value: c.monitor,
            unit: "%",
            target: None,
        });
        if let Some(floor) = c.bare_values {
            figs.push(Figure {
                name: "  floor: bare window changing 32 numbers a second".into(),
                value: floor,
                unit: "%",
                target: None,
            });
        }
        json.insert("dashboard_idle_cpu_percent".into(), json!(round2(c.dashboard)));
        json.insert("dashboard_baseline_monitor_cpu_percent".into(), json!(round2(c.monitor)));
        if let Some(floor) = c.bare_values {
            json.insert("dashboard_floor_bare_32_values_cpu_percent".into(), json!(round2(floor)));
        }
    }
    println!();
    println!("{:<58} {:>12} {:>10}  verdict", "figure", "value", "target");
    let mut missed = 0;
    for f in &figs {
        let (target, verdict) = match f.target {
            Some(t) if f.value <= t => (format!("<= {t}"), "ok"),
            Some(t) => {
                missed += 1;
                (format!("<= {t}"), "MISSED")
            }
            None => (String::new(), ""),
        };
        println!("{:<58} {:>9.1} {:<3}{:>9}  {verdict}", f.name, f.value, f.unit, target);
    }
    println!("app: {}", a.app.display());
    if missed > 0 {
        println!("{missed} target(s) missed");
    }
    json.insert("profile".into(), json!(std::env::var("MD_FIGURES_PROFILE").unwrap_or_else(|_| "release".into())));
    json.insert("short".into(), json!(a.short));
    println!("{}", Value::Object(json.clone()));
    if a.short {
        // Produced, not judged: every figure asked for is a finite number.
        let mut want = Vec::new();
        if wants(a, "first-paint") {
            want.push("first_paint_ms");
        }
        if wants(a, "viewer") {
            want.extend(["viewer_year_redraw_ms", "viewer_1m_redraw_ms", "series_core_ms"]);
        }
        for k in want {
            let v = json.get(k).and_then(Value::as_f64);
            ensure!(v.is_some_and(|v| v.is_finite() && v > 0.0), "--short: figure {k} was not produced ({v:?})");
        }
        println!("short mode: every figure produced");
    }
    Ok(())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Temp XDG dirs so neither the app nor WebKit touch the user's.
struct Home {
    _dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

fn home() -> Result<Home> {
    let dir = tempfile::tempdir()?;
    let vars = [("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache")]
        .iter()
        .map(|(k, d)| (k.to_string(), dir.path().join(d).to_string_lossy().into_owned()))
        .chain([("LANG".to_string(), "en_US.UTF-8".to_string())])
        .collect();
    Ok(Home { _dir: dir, vars })
}

impl Home {
    fn env(&self) -> Vec<(&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
}

fn wait_ready(s: &Session) -> Result<()> {
    s.wait_for("html[data-ready=\"1\"]", Duration::from_secs(60)).map(|_| ())
}

/// Calls a Tauri command from the page; returns (reply, milliseconds it took in the page).
fn invoke_timed(s: &Session, cmd: &str, args: Value) -> Result<(Value, f64)> {
    let v = s.execute_async(
        "const [cmd, args, done] = arguments;
         const t0 = performance.now();
         window.__TAURI_INTERNALS__.invoke(cmd, args)
           .then(v => done({ok: v, ms: performance.now() - t0}), e => done({err: String(e)}));",
        vec![json!(cmd), args],
    )?;
    match (v.get("ok"), v.get("err")) {
        (Some(ok), _) => Ok((ok.clone(), v["ms"].as_f64().unwrap_or(f64::NAN))),
        (_, Some(err)) => bail!("{cmd}: {err}"),
        _ => bail!("{cmd}: unexpected reply {v}"),
    }
}

// ------------------------------------------------------------------ (a) first paint

/// Epoch milliseconds at which a process started, from /proc (10 ms steps).
fn process_start_epoch_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.get(stat.rfind(')')? + 1..)?;
    // Fields after the name start at field 3 (state); starttime is field 22.
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    let ticks = 100.0; // USER_HZ on Linux
    Some(now_ms() - uptime * 1000.0 + start_ticks / ticks * 1000.0)
}

const FIRST_DATA_PAINT: &str = "
const done = arguments[arguments.length - 1];
const has = () => [...document.querySelectorAll('[data-testid=monitor-value]')].some(e => /[0-9]/.test(e.textContent));
const painted = (already) => requestAnimationFrame(() => requestAnimationFrame(() =>
  done({t: performance.timeOrigin + performance.now(), origin: performance.timeOrigin, already,
        marks: performance.getEntriesByType('mark').map(m => [m.name, performance.timeOrigin + m.startTime])})));
if (has()) painted(true);
else new MutationObserver((_, o) => { if (has()) { o.disconnect(); painted(false); } })
  .observe(document, {subtree: true, childList: true, characterData: true});
";

/// A run's start-up, in ms from the process's start: the page starts
/// (the web view is up), the UI's script runs, its one start call has the
/// data, and the first frame with data is painted.
#[derive(Default, Clone, Copy)]
struct Startup {
    page: f64,
    script: f64,
    data: f64,
    painted: f64,
}

fn mark(v: &Value, name: &str) -> Option<f64> {
    v["marks"].as_array()?.iter().find(|m| m[0] == name).and_then(|m| m[1].as_f64())
}

fn first_paint(a: &Args, json: &mut Json) -> Result<Vec<Figure>> {
    eprintln!("== first painted frame with data ({} runs, demo mode)", a.runs);
    let mut runs = Vec::new();
    let mut from_request = Vec::new();
    for run in 0..a.runs {
        let h = home()?;
        let data = tempfile::tempdir()?;
        let xvfb = Xvfb::start()?;
        let driver = Driver::start(&xvfb.display, &h.env())?;
        // As a user starts it: the demo writes the last hour of its week
        // of history beside the web view's start and the rest behind the
        // agent; --demo-history D writes less (--short: an hour, all of
        // it before the agent).
        let mut args = vec!["--demo".to_string(), "--data-dir".into(), data.path().to_string_lossy().into_owned()];
        if let Some(h) = &a.demo_history {
            args.extend(["--demo-history".to_string(), h.clone()]);
        }
        let requested = now_ms();
        let session = driver.session(&a.app, &args)?;
        let app_pid = proctree::descendants(driver.pid())
            .into_iter()
            .find(|p| {
                proctree::comm(*p)
                    .is_some_and(|c| a.app.file_name().is_some_and(|f| f.to_string_lossy().starts_with(&c)))
            })
            .ok_or_else(|| anyhow!("the app's process is not among the driver's children"))?;
        let started = process_start_epoch_ms(app_pid).ok_or_else(|| anyhow!("no start time for pid {app_pid}"))?;
        session.set_timeouts(60_000)?;
        let v = session.execute_async(FIRST_DATA_PAINT, vec![])?;
        let t = v["t"].as_f64().ok_or_else(|| anyhow!("no time in {v}"))?;
        let origin = v["origin"].as_f64().unwrap_or(f64::NAN);
        let already = v["already"].as_bool().unwrap_or(false);
        let s = Startup {
            page: origin - started,
            script: mark(&v, "app:start").map_or(f64::NAN, |m| m - started),
            data: mark(&v, "app:start-data").map_or(f64::NAN, |m| m - started),
            painted: t - started,
        };
        eprintln!(
            "   run {}: process start -> page start {:.0} ms -> script {:.0} ms -> first data {:.0} ms -> painted {:.0} ms{} (session request -> painted {:.0} ms)",
            run + 1,
            s.page,
            s.script,
            s.data,
            s.painted,
            if already { " (data was already there when looked: an upper bound)" } else { "" },
            t - requested,
        );
        runs.push(s);
        from_request.push(t - requested);
        drop(session);
        drop(driver);
        drop(xvfb);
    }
    let med = |f: fn(&Startup) -> f64| median(runs.iter().map(f).collect());
    let painted = med(|s| s.painted);
    json.insert("first_paint_ms".into(), json!(painted.round()));
    json.insert(
        "first_paint_breakdown_ms".into(),
        json!({
            "process_to_page_start": med(|s| s.page).round(),
            "process_to_script": med(|s| s.script).round(),
            "process_to_first_data": med(|s| s.data).round(),
            "process_to_painted": painted.round(),
        }),
    );
    json.insert("first_paint_runs_ms".into(), json!(runs.iter().map(|s| s.painted.round()).collect::<Vec<_>>()));
    Ok(vec![
        Figure {
            name: "first painted frame with data, from process start (median)".into(),
            value: painted,
            unit: "ms",
            target: Some(1000.0),
        },
        Figure {
            name: "  process start -> page start (web view up)".into(),
            value: med(|s| s.page),
            unit: "ms",
            target: None,
        },
        Figure { name: "  process start -> UI script runs".into(), value: med(|s| s.script), unit: "ms", target: None },
        Figure {
            name: "  process start -> first data (the start call answered)".into(),
            value: med(|s| s.data),
            unit: "ms",
            target: None,
        },
        Figure {
            name: "  same, from the WebDriver session request (median)".into(),
            value: median(from_request),
            unit: "ms",
            target: None,
        },
    ])
}

// ------------------------------------------------------------------ (b) memory

const LOGGERS: usize = 4;
const POWERS: usize = 3;
const DMMS: usize = 3;

fn memory(a: &Args, json: &mut Json) -> Result<Vec<Figure>> {
    let bare = a.bare.as_deref().ok_or_else(|| {
        anyhow!("the memory figure needs the baseline window: cargo build -p meterdeck --example bare_window (or --bare PATH)")
    })?;
    let h = home()?;
    // Both windows draw as a user's machine draws them (no compositing without a GPU).
    let mut env = h.env();
    env.push(("MD_WEBKIT_COMPOSITING", "auto"));
    eprintln!("== memory baseline: a bare Tauri window (blank page), {} s", a.memory_secs);
    let bare_pss = {
        let desk = Desktop::launch(bare, &[], &env)?;
        let _ = desk.set_window_rect(1280, 800);
        desk.wait_for("body", Duration::from_secs(30))?;
        std::thread::sleep(Duration::from_secs(a.memory_secs));
        let (_, pss) = tree_memory(&desk);
        pss
    };
    eprintln!("== idle memory after {} s polling 10 simulated instruments", a.memory_secs);
    let dir = tempfile::tempdir()?;
    let mut sim_toml = String::new();
    let kinds = [("hioki-logger", LOGGERS), ("power-meter", POWERS), ("scpi", DMMS)];
    let mut names = Vec::new();
    for (p, n) in kinds {
        for k in 0..n {
            let name = format!("{p}-{}", k + 1);
            sim_toml +=
                &format!("[[instrument]]\nname = \"{name}\"\npersonality = \"{p}\"\nseed = {}\n", names.len() + 1);
            if p == "hioki-logger" {
                sim_toml += "channels = 6\n";
            }
            sim_toml += "\n";
            names.push((name, p));
        }
    }
    let sim_cfg = dir.path().join("sim.toml");
    std::fs::write(&sim_cfg, sim_toml)?;
    let mut sim = Proc::spawn("meterdeck-sim", Command::new(&a.sim).args(["--config", &sim_cfg.to_string_lossy()]));
    let mut cfg = String::from("[agent]\nname = \"figures\"\npoll_interval = \"1s\"\n\n");
    for _ in 0..names.len() {
        let line = sim.wait_line("READY ", Duration::from_secs(20));
        let parts: Vec<&str> = line.split_whitespace().collect();
        ensure!(parts.len() >= 4, "bad READY line {line}");
        let (name, personality, addr) = (parts[1], parts[2], parts[3]);
        let port = addr.rsplit(':').next().unwrap_or_default();
        let family = match personality {
            "hioki-logger" => "hioki-logger",
            "power-meter" => "hioki-power",
            _ => "scpi",
        };
        cfg += &format!(
            "[[instrument]]\nid = \"{name}\"\nfamily = \"{family}\"\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {port} }}\n"
        );
        let channels: Vec<(&str, &str, Option<&str>)> = match family {
            "hioki-logger" => vec![
                ("CH1_1", "V", None),
                ("CH1_2", "V", None),
                ("CH1_3", "V", None),
                ("CH1_4", "V", None),
                ("CH1_5", "V", None),
                ("CH1_6", "V", None),
            ],
            "hioki-power" => {
                vec![("U1", "V", None), ("I1", "A", None), ("P1", "W", None), ("PF1", "", None), ("FREQ1", "Hz", None)]
            }
            _ => vec![("vdc", "V", Some("MEAS:VOLT:DC?")), ("temp", "C", Some("MEAS:TEMP?"))],
        };
        for (id, unit, query) in channels {
            cfg += &format!("[[instrument.channel]]\nid = \"{id}\"\nunit = \"{unit}\"\n");
            if let Some(q) = query {
                cfg += &format!("query = \"{q}\"\n");
            }
        }
        cfg += "\n";
    }
    let config = dir.path().join("meterdeck.toml");
    std::fs::write(&config, cfg)?;
    // 10 instruments are over the Free plan (and Pro's 8): without room in
    // the licence the app refuses the config and exits before WebDriver
    // gets a session.
    meterdeck_e2e::licence::grant_pro_with(&dir.path().join("data"), |l| l.instruments_per_agent = 16);
    let args = vec![
        "--config".to_string(),
        config.to_string_lossy().into_owned(),
        "--data-dir".to_string(),
        dir.path().join("data").to_string_lossy().into_owned(),
    ];
    let desk = Desktop::launch(&a.app, &args, &env)?;
    let _ = desk.set_window_rect(1280, 800);
    wait_ready(&desk)?;
    let connected = desk.wait_until(Duration::from_secs(30), "10 instruments connected", |s| {
        let states = s.execute("return [...document.querySelectorAll('[data-testid=monitor-row]')].length", vec![])?;
        let n = states.as_u64().unwrap_or(0);
        Ok((n >= (LOGGERS * 6 + POWERS * 5 + DMMS * 2) as u64).then_some(n))
    })?;
    eprintln!("   {connected} monitor rows live; waiting {} s on the Monitor", a.memory_secs);
    std::thread::sleep(Duration::from_secs(a.memory_secs));
    let (rss, pss) = tree_memory(&desk);
    let ratio = pss as f64 / bare_pss.max(1) as f64;
    json.insert("bare_window_pss_mb".into(), json!(round2(bare_pss as f64 / 1024.0)));
    json.insert("app_pss_mb".into(), json!(round2(pss as f64 / 1024.0)));
    json.insert("app_pss_ratio_to_bare".into(), json!(round2(ratio)));
    let mut figs = vec![
        Figure {
            name: "bare_window_pss_mb (blank Tauri window)".into(),
            value: bare_pss as f64 / 1024.0,
            unit: "MB",
            target: None,
        },
        Figure {
            name: "app_pss_mb (10 instruments, Monitor)".into(),
            value: pss as f64 / 1024.0,
            unit: "MB",
            target: None,
        },
        Figure { name: "  app PSS / bare window PSS".into(), value: ratio, unit: "x", target: Some(1.5) },
        Figure {
            name: "  app RSS sum (shared pages counted per process)".into(),
            value: rss as f64 / 1024.0,
            unit: "MB",
            target: None,
        },
    ];
    if a.memory_growth_secs > 0 {
        eprintln!("   live updates for {} s more (growth)", a.memory_growth_secs);
        // Readings along the way: a long run cut short still shows its trend.
        let t0 = Instant::now();
        while t0.elapsed().as_secs() + 600 < a.memory_growth_secs {
            std::thread::sleep(Duration::from_secs(600));
            let (_, now) = tree_memory(&desk);
            eprintln!(
                "   after {:>4} s more: PSS {:.1} MB ({:+.1} %)",
                t0.elapsed().as_secs(),
                now as f64 / 1024.0,
                (now as f64 - pss as f64) / pss.max(1) as f64 * 100.0
            );
        }
        std::thread::sleep(Duration::from_secs(a.memory_growth_secs).saturating_sub(t0.elapsed()));
        let (_, later) = tree_memory(&desk);
        let growth = (later as f64 - pss as f64) / pss.max(1) as f64 * 100.0;
        json.insert("pss_growth_1h_percent".into(), json!(round2(growth)));
        json.insert("pss_growth_secs".into(), json!(a.memory_growth_secs));
        figs.push(Figure {
            name: format!("pss_growth_1h_percent (after {} s more)", a.memory_growth_secs),
            value: growth,
            unit: "%",
            target: Some(10.0),
        });
    }
    drop(desk);
    let _ = sim.terminate(Duration::from_secs(5));
    Ok(figs)
}

/// RSS and PSS (KiB) summed over a launched window's processes, each printed.
fn tree_memory(desk: &Desktop) -> (u64, u64) {
    let (mut rss, mut pss) = (0u64, 0u64);
    for pid in desk.app_pids() {
        let name = proctree::comm(pid).unwrap_or_default();
        let (r, p) = (proctree::rss_kib(pid).unwrap_or(0), proctree::pss_kib(pid).unwrap_or(0));
        eprintln!("   pid {pid:>7} {name:<18} RSS {:>7.1} MB  PSS {:>7.1} MB", r as f64 / 1024.0, p as f64 / 1024.0);
        rss += r;
        pss += p;
    }
    (rss, pss)
}

// ------------------------------------------------------------------ (c) viewer

/// Writes the two bench channels: `raw_n` samples over the last day and one
/// sample a second over the last `days` days.
fn seed_store(data: &Path, days: i64, raw_n: u64) -> Result<(i64, u64, u64)> {
    let t0 = Instant::now();
    let mut store = Store::open(&data.join(meterdeck_core::config::STORE_FILE), StoreOptions::default())?;
    store.upsert_instrument("bench", "Bench data", "scpi", "figures")?;
    let raw = store.ensure_channel("bench", "raw1m", Some("V"))?;
    let year = store.ensure_channel("bench", "year1s", Some("°C"))?;
    let end = (now_ms() as i64 / 1000) * 1000;
    let value = |t: i64, k: u64| {
        let x = t as f64 / DAY_MS as f64 * std::f64::consts::TAU;
        20.0 + 5.0 * x.sin() + 0.5 * (x * 37.0).sin() + ((k.wrapping_mul(2_654_435_761) % 1000) as f64) / 2000.0
    };
    let mut batch = Vec::with_capacity(100_000);
    for k in 0..raw_n {
        let t = end - DAY_MS + (k as i64 * DAY_MS) / raw_n as i64;
        batch.push((raw, Sample { t, value: Sv::Number(value(t, k)) }));
        if batch.len() == 100_000 {
            store.append(&batch)?;
            batch.clear();
        }
    }
    let year_n = (days * DAY_MS / 1000) as u64;
    let start = end - days * DAY_MS;
    for k in 0..year_n {
        let t = start + k as i64 * 1000;
        batch.push((year, Sample { t, value: Sv::Number(value(t, k)) }));
        if batch.len() == 100_000 {
            store.append(&batch)?;
            batch.clear();
            if k % 5_000_000 < 100_000 {
                eprintln!("   seeded {:.1}M of {:.1}M samples", k as f64 / 1e6, year_n as f64 / 1e6);
            }
        }
    }
    if !batch.is_empty() {
        store.append(&batch)?;
    }
    store.checkpoint()?;
    eprintln!(
        "   seeded {} + {} samples in {:.1} s ({:.0} MB)",
        raw_n,
        year_n,
        t0.elapsed().as_secs_f64(),
        store.size_bytes().unwrap_or(0) as f64 / 1e6
    );
    Ok((end, raw_n, year_n))
}

/// Installs a watch on the plot: the time of the next click / mouseup in the
/// page, and of the second frame after the plot draws new data (the Viewer
/// sets `data-drawn` on its box at each draw; an older build without it
/// replaced its canvas, which is watched too).
const ARM: &str = "
const host = document.querySelector('[data-testid=viewer-plot]');
const old = host.querySelector('canvas');
const drawn = host.dataset.drawn;
const f = window.__fig = {t0: null, t1: null};
const mark = () => { if (f.t0 === null) f.t0 = performance.now(); };
document.addEventListener('click', mark, {capture: true, once: true});
document.addEventListener('mouseup', mark, {capture: true, once: true});
new MutationObserver((_, o) => {
  const c = host.querySelector('canvas');
  if ((c && c !== old) || (host.dataset.drawn !== undefined && host.dataset.drawn !== drawn)) {
    o.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { f.t1 = performance.now(); }));
  }
}).observe(host, {childList: true, subtree: true, attributes: true, attributeFilter: ['data-drawn']});
return true;";

/// One redraw: click -> painted, and the Viewer's own breakdown of it.
struct Redraw {
    ms: f64,
    /// The Viewer's record (`timings` on its box): ipcMs, decodeMs, setDataMs, paintMs, bytes.
    parts: Value,
}

fn redraw_ms(s: &Session, trigger: impl FnOnce(&Session) -> Result<()>) -> Result<Redraw> {
    // From an idle Viewer: the previous range's pan neighbours (fetched
    // 250 ms after it painted) are not counted into this redraw.
    std::thread::sleep(Duration::from_millis(400));
    s.wait_until(Duration::from_secs(60), "the Viewer idle", |s| {
        Ok((s.execute("return document.querySelector('[data-testid=viewer-plot]').busy === true", vec![])? == false)
            .then_some(()))
    })?;
    s.execute(ARM, vec![])?;
    trigger(s)?;
    let ms = s.wait_until(Duration::from_secs(60), "the plot to redraw", |s| {
        let f = s.execute("return window.__fig", vec![])?;
        Ok(match (f["t0"].as_f64(), f["t1"].as_f64()) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        })
    })?;
    let parts = s.execute(
        "const t = document.querySelector('[data-testid=viewer-plot]').timings; return t && t.length ? t[t.length - 1] : null",
        vec![],
    )?;
    Ok(Redraw { ms, parts })
}

/// Each redraw's phases (ms from its setData: alignment, uPlot's scales,
/// axes, series, draw hook, cursor, next frame), where a breakdown's
/// setData and paint went.
fn print_phases(rs: &[Redraw]) {
    for r in rs {
        eprintln!("     redraw {:.1} ms: phases {}", r.ms, r.parts["phases"]);
    }
}

/// Median of one field of the Viewer's breakdowns.
fn part(rs: &[Redraw], key: &str) -> f64 {
    median(rs.iter().filter_map(|r| r.parts[key].as_f64()).collect())
}

fn breakdown(rs: &[Redraw]) -> Value {
    // What the web view adds on top of the command's round trip.
    let webview = median(rs.iter().filter_map(|r| r.parts["ipcMs"].as_f64().map(|ipc| r.ms - ipc)).collect());
    json!({
        "webview_ms": webview,
        "ipc_ms": part(rs, "ipcMs"),
        "decode_ms": part(rs, "decodeMs"),
        "set_data_ms": part(rs, "setDataMs"),
        "paint_ms": part(rs, "paintMs"),
        "bytes": part(rs, "bytes"),
    })
}

/// Core's answer for `[from, to)` at `width`, as the Viewer's series command
/// computes it (more than 2 samples a pixel?, then min/max per pixel),
/// timed in this process on the same store file.
fn core_series_ms(store: &Store, ch: i64, from: i64, to: i64, width: usize) -> Result<f64> {
    let t0 = Instant::now();
    ensure!(store.count_exceeds(ch, from, to, 2 * width as u64)?, "the range came back raw");
    let b = store.minmax(ch, from, to, width)?;
    ensure!(!b.is_empty(), "no buckets");
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

fn js_click(css: &str) -> impl FnOnce(&Session) -> Result<()> + '_ {
    move |s| s.execute("document.querySelector(arguments[0]).click(); return true", vec![json!(css)]).map(|_| ())
}

fn viewer(a: &Args, json: &mut Json) -> Result<Vec<Figure>> {
    eprintln!("== viewer redraw ({} days of 1 s data + {} points over a day)", a.year_days, a.raw_points);
    let data = tempfile::tempdir()?;
    let (_end, raw_n, year_n) = seed_store(data.path(), a.year_days, a.raw_points)?;
    let h = home()?;
    let args = vec![
        "--demo".to_string(),
        "--demo-history".to_string(),
        "1h".to_string(),
        "--data-dir".to_string(),
        data.path().to_string_lossy().into_owned(),
    ];
    let desk = Desktop::launch(&a.app, &args, &h.env())?;
    let _ = desk.set_window_rect(1280, 800);
    wait_ready(&desk)?;
    desk.set_timeouts(120_000)?;
    desk.click(&desk.by_testid("nav-viewer")?)?;
    let reader = Store::open_readonly(&data.path().join(meterdeck_core::config::STORE_FILE))?;
    let channels = invoke_timed(&desk, "channels", json!({}))?.0;
    let id_of = |name: &str| {
        channels
            .as_array()
            .and_then(|l| l.iter().find(|c| c["instrument"] == "bench" && c["channel"] == name))
            .and_then(|c| c["id"].as_i64())
            .ok_or_else(|| anyhow!("no bench/{name} channel in {channels}"))
    };
    let (raw_id, year_id) = (id_of("raw1m")?, id_of("year1s")?);
    let check = |path: &str| -> Result<()> {
        let c =
            desk.wait_for(&format!("[data-testid=channel-check][data-path=\"{path}\"]"), Duration::from_secs(10))?;
        desk.click(&c)
    };
    let over_sel = format!("{} .u-over", testid("viewer-plot"));
    let mut figs = Vec::new();
    // The JSON `series` and the binary `series_frame` for the same range, timed in the page.
    let both_cmds = |id: i64, from: i64, to: i64, width: i64| -> Result<(f64, f64)> {
        let args = json!({"channelIds": [id], "from": from, "to": to, "width": width});
        let (v, json_ms) = invoke_timed(&desk, "series", args.clone())?;
        ensure!(v[0]["raw"] == false, "the range came back raw");
        let (_, bin_ms) = invoke_timed(&desk, "series_frame", args)?;
        Ok((json_ms, bin_ms))
    };

    // 1M raw points: the last day of bench/raw1m.
    check("bench/raw1m")?;
    desk.wait_for(&over_sel, Duration::from_secs(30))?;
    let width = desk.rect(&desk.find(&over_sel)?)?.width.round() as i64;
    let mut ui = Vec::new();
    let (mut cmd, mut frame, mut core) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..a.runs {
        ui.push(redraw_ms(&desk, js_click(&testid("range-1d")))?);
        let to = now_ms() as i64;
        let (j, b) = both_cmds(raw_id, to - DAY_MS, to, width)?;
        cmd.push(j);
        frame.push(b);
        // Core's share of the same answer, in this process.
        core.push(core_series_ms(&reader, raw_id, to - DAY_MS, to, width as usize)?);
    }
    print_phases(&ui);
    let ms: Vec<f64> = ui.iter().map(|r| r.ms).collect();
    eprintln!(
        "   {raw_n} points: click -> painted {ms:.1?} ms; series (JSON) {cmd:.1?} ms, series_frame {frame:.1?} ms (plot {width} px); core alone {core:.1?} ms; breakdown {}",
        breakdown(&ui)
    );
    json.insert("series_core_1m_ms".into(), json!(median(core)));
    let raw_redraw = median(ms);
    json.insert("viewer_1m_redraw_ms".into(), json!(raw_redraw));
    json.insert("viewer_1m_points".into(), json!(raw_n));
    json.insert("viewer_1m_breakdown".into(), breakdown(&ui));
    figs.push(Figure {
        name: format!("viewer redraw, {raw_n} raw points in range (median)"),
        value: raw_redraw,
        unit: "ms",
        target: Some(50.0),
    });
    figs.push(Figure {
        name: "  series command, JSON, in the page (median)".into(),
        value: median(cmd),
        unit: "ms",
        target: None,
    });
    figs.push(Figure {
        name: "  series_frame command, binary, in the page (median)".into(),
        value: median(frame),
        unit: "ms",
        target: None,
    });

    // A year of 1 s data: range "all", then a drag over the whole plot
    // zooms to exactly the stored year (what an operator does).
    check("bench/raw1m")?;
    check("bench/year1s")?;
    desk.wait_for(&over_sel, Duration::from_secs(30))?;
    let mut ui = Vec::new();
    let mut all = Vec::new();
    let (mut cmd, mut frame, mut core, mut cold) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..a.runs {
        all.push(redraw_ms(&desk, js_click(&testid("range-all")))?.ms);
        let over = desk.find(&over_sel)?;
        let r = desk.rect(&over)?;
        // Off the edge (a drag from the very edge selects exactly the "all"
        // range, already in the Viewer's cache) and further in each run
        // (the same drag twice would be a cache hit too).
        let x0 = 4.0 + 2.0 * run as f64;
        ui.push(redraw_ms(&desk, |s| s.drag(&over, (x0, r.height / 2.0), (r.width - 1.0, r.height / 2.0), 1))?);
        let to = now_ms() as i64;
        let from = to - a.year_days * DAY_MS;
        let (j, b) = both_cmds(year_id, from, to, width)?;
        cmd.push(j);
        frame.push(b);
        core.push(core_series_ms(&reader, year_id, from, to, width as usize)?);
        // A fresh reader: the block summaries read from the index, not memory.
        let fresh = Store::open_readonly(&data.path().join(meterdeck_core::config::STORE_FILE))?;
        cold.push(core_series_ms(&fresh, year_id, from, to, width as usize)?);
    }
    print_phases(&ui);
    let ms: Vec<f64> = ui.iter().map(|r| r.ms).collect();
    eprintln!(
        "   year: range-all click -> painted {all:.1?} ms; zoom drag -> painted {ms:.1?} ms; series (JSON) {cmd:.1?} ms, series_frame {frame:.1?} ms; core alone {core:.1?} ms; breakdown {}",
        breakdown(&ui)
    );
    let year_redraw = median(ms);
    let core_ms = median(core);
    json.insert("viewer_year_redraw_ms".into(), json!(year_redraw));
    json.insert("viewer_year_samples".into(), json!(year_n));
    json.insert("viewer_year_breakdown".into(), breakdown(&ui));
    json.insert("series_core_ms".into(), json!(core_ms));
    json.insert("series_core_cold_ms".into(), json!(median(cold.clone())));
    json.insert("series_json_cmd_ms".into(), json!(median(cmd.clone())));
    json.insert("series_frame_cmd_ms".into(), json!(median(frame.clone())));
    figs.push(Figure {
        name: format!("viewer redraw, {:.1}M samples (1 s over {} d, downsampled)", year_n as f64 / 1e6, a.year_days),
        value: year_redraw,
        unit: "ms",
        target: Some(50.0),
    });
    figs.push(Figure {
        name: "  same, against 1.5x series_core_ms + 20 ms (same run)".into(),
        value: year_redraw,
        unit: "ms",
        target: Some((1.5 * core_ms + 20.0).round()),
    });
    figs.push(Figure {
        name: "  series_core_ms: core's answer alone (median)".into(),
        value: core_ms,
        unit: "ms",
        target: None,
    });
    figs.push(Figure {
        name: "  same, from a freshly opened store (summaries not in memory)".into(),
        value: median(cold),
        unit: "ms",
        target: None,
    });
    figs.push(Figure {
        name: "  series command, JSON, in the page (median)".into(),
        value: median(cmd),
        unit: "ms",
        target: None,
    });
    figs.push(Figure {
        name: "  series_frame command, binary, in the page (median)".into(),
        value: median(frame),
        unit: "ms",
        target: None,
    });
    figs.push(Figure {
        name: "  range \"all\" click -> painted (median)".into(),
        value: median(all),
        unit: "ms",
        target: None,
    });
    Ok(figs)
}
