//! Alarm notification latency, end to end: from a poll result entering the
//! agent (an in-process driver's `read` returning a value that crosses an
//! alarm threshold) through the writer (commit, rule evaluation, journal),
//! the notification dispatcher and notify-rust, to the desktop notification
//! arriving on D-Bus. The bus is a private dbus-daemon; the notification
//! server on it is a small zbus one that stamps each `Notify` call as it
//! comes in, on the same clock as the driver's stamps.
//!
//! Agent, driver and server run in a child process (this bench binary
//! again) so that the private bus address is in its environment from the
//! start, where notify-rust looks for the session bus.
//!
//! Bursts to one destination are grouped (1 s window by default, kept here),
//! which would hide notifications behind a summary. So each of `INSTRUMENTS`
//! simulated instruments (polled at 1 s) has its own rule and desktop
//! destination, changes its value every 2 s (raise, return, raise, ...), and
//! answers its poll 0 or 500 ms after the tick: one notification every
//! 500 ms overall, never two in one destination's window, never two in flight.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use meterdeck_core::agent::{Agent, AgentOptions, ConnectFuture, Connector, LiveUpdate};
use meterdeck_core::alarm::AlarmRule;
use meterdeck_core::config::{AgentConfig, AgentSettings};
use meterdeck_core::model::Value;
use meterdeck_core::notify::{DestinationConfig, MemorySecrets};
use meterdeck_drivers::families::hioki_logger;
use meterdeck_drivers::{
    ChannelConfig, ChannelInfo, Driver, DriverError, Family, Identity, InstrumentConfig, Reading, TransportConfig,
};

/// Argument that makes the bench binary run the measuring child.
pub const CHILD_FLAG: &str = "--alarm-notify-child";
const INSTRUMENTS: usize = 4;
/// Notifications per instrument left out at the start (connects, first commits).
const WARMUP: usize = 2;
const FIGURES: [&str; 2] = ["alarm_notify_p50_ms", "alarm_notify_p99_ms"];

fn wall_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn nulls() -> Vec<(&'static str, Option<f64>)> {
    FIGURES.iter().map(|k| (*k, None)).collect()
}

/// Kills and reaps a child however the measurement ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first line of `child`'s stdout that starts with `prefix`, within `limit`.
fn first_line(child: &mut Child, prefix: &'static str, limit: Duration) -> anyhow::Result<String> {
    let out = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with(prefix) {
                let _ = tx.send(line);
                // Keep draining so the writer never blocks on a full pipe.
            }
        }
    });
    rx.recv_timeout(limit).map_err(|_| anyhow::anyhow!("no line starting with {prefix:?} within {limit:?}"))
}

pub fn run(quick: bool) -> Vec<(&'static str, Option<f64>)> {
    if Command::new("dbus-daemon").arg("--version").stdout(Stdio::null()).status().is_err() {
        eprintln!("alarm notify: SKIPPED, no dbus-daemon on PATH (Debian package dbus-daemon); figures are null");
        return nulls();
    }
    let Ok(dir) = tempfile::tempdir() else { return nulls() };
    let log = dir.path().join("bus.log");
    match measure(quick, dir.path()) {
        Ok(figures) => figures,
        Err(e) => {
            let bus_log = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("alarm notify figures failed: {e:#}\ndbus-daemon said:\n{bus_log}");
            nulls()
        }
    }
}

fn measure(quick: bool, dir: &Path) -> anyhow::Result<Vec<(&'static str, Option<f64>)>> {
    let config = dir.join("bus.conf");
    // A private session bus: nothing is started by activation, so the only
    // notification server on it is ours.
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            dir.join("bus").display()
        ),
    )?;
    let mut bus = Guard(
        Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Kept for a failure report (it also warns about fd limits as root).
            .stderr(std::fs::File::create(dir.join("bus.log"))?)
            .spawn()?,
    );
    let address = first_line(&mut bus.0, "unix:", Duration::from_secs(10))?.trim().to_string();

    let mut child = Command::new(std::env::current_exe()?);
    child.arg(CHILD_FLAG);
    if quick {
        child.arg("--quick");
    }
    let mut child = Guard(
        child
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let limit = Duration::from_secs(if quick { 60 } else { 300 });
    let line = first_line(&mut child.0, "{", limit)?;
    let r: serde_json::Value = serde_json::from_str(&line)?;
    let _ = child.0.wait();
    drop(child);
    drop(bus);

    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    eprintln!(
        "alarm notify: poll result entering the agent -> Notify on D-Bus (private dbus-daemon, zbus server), \
         {INSTRUMENTS} instruments at 1 s, one desktop destination each, default dispatcher: {} notifications \
         ({} summaries, {} crossings without one), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; the writer had raised the \
         alarm and handed it to the dispatcher after {:.1} ms (median)",
        f("count"),
        f("summaries"),
        f("missing"),
        f("p50_ms"),
        f("p99_ms"),
        f("max_ms"),
        f("agent_p50_ms"),
    );
    let round = |v: f64| v.is_finite().then(|| (v * 10.0).round() / 10.0);
    Ok(vec![(FIGURES[0], round(f("p50_ms"))), (FIGURES[1], round(f("p99_ms")))])
}

// ---- the child: agent, driver and notification server in one process ----

/// Wall-clock times (ms) of threshold crossings entering the agent, per instrument.
type Crossings = Arc<Mutex<Vec<Vec<f64>>>>;

struct Toggler {
    k: usize,
    /// Set at the first low phase: the first alarm comes at the start of a
    /// high phase, not at whatever tick the instrument happened to connect.
    armed: bool,
    last: Option<bool>,
    crossings: Crossings,
}

impl Toggler {
    /// High on every other 2 s period; instruments 2 and 3 one second later.
    fn high(&self, tick_s: i64) -> bool {
        (tick_s + (self.k / 2) as i64).div_euclid(2) % 2 == 1
    }
}

#[async_trait]
impl Driver for Toggler {
    fn family(&self) -> Family {
        hioki_logger::FAMILY
    }
    async fn identify(&mut self) -> Result<Identity, DriverError> {
        Ok(Identity { maker: "BENCH".into(), model: "TOGGLE".into(), serial: self.k.to_string(), firmware: "1".into() })
    }
    fn channels(&self) -> Vec<ChannelInfo> {
        vec![]
    }
    async fn read(&mut self, channels: &[String]) -> Result<Vec<Reading>, DriverError> {
        // Called right after the tick; round in case it is a little late.
        let tick_s = (wall_ms() / 1000.0).round() as i64;
        let phase = self.high(tick_s);
        self.armed |= !phase;
        let high = self.armed && phase;
        tokio::time::sleep(Duration::from_millis(500 * (self.k % 2) as u64)).await;
        if self.last.unwrap_or(false) != high {
            self.crossings.lock().unwrap_or_else(|p| p.into_inner())[self.k].push(wall_ms());
        }
        self.last = Some(high);
        let v = if high { 80.0 } else { 20.0 };
        Ok(channels.iter().map(|c| Reading::new(c.clone(), Value::Number(v))).collect())
    }
}

struct Got {
    t: f64,
    summary: String,
}

struct Server {
    got: Arc<Mutex<Vec<Got>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        _body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let t = wall_ms();
        let mut got = self.got.lock().unwrap_or_else(|p| p.into_inner());
        got.push(Got { t, summary });
        got.len() as u32
    }
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }
    fn get_server_information(&self) -> (String, String, String, String) {
        ("meterdeck-bench".into(), "meterdeck".into(), "1".into(), "1.2".into())
    }
    fn close_notification(&self, _id: u32) {}
}

fn name(k: usize) -> String {
    format!("bench{k}")
}

fn config() -> anyhow::Result<AgentConfig> {
    let instruments = (0..INSTRUMENTS)
        .map(|k| InstrumentConfig {
            id: name(k),
            name: None,
            family: hioki_logger::FAMILY,
            transport: TransportConfig::Tcp {
                host: "192.0.2.1".into(),
                port: Some(8802),
                timeout: Duration::from_secs(2),
            },
            terminator: "\n".into(),
            unit_id: 1,
            error_query: None,
            error_format: None,
            select: None,
            select_reply: None,
            sentinels: vec![],
            poll_interval: Some(Duration::from_secs(1)),
            enabled: true,
            set_clock_on_connect: false,
            start_on_connect: false,
            settings: Vec::new(),
            channels: vec![ChannelConfig { unit: Some("°C".into()), ..ChannelConfig::new("CH1_1".to_string()) }],
        })
        .collect();
    let mut cfg = AgentConfig::new(AgentSettings::default(), instruments)?;
    for k in 0..INSTRUMENTS {
        cfg.alarms.push(toml::from_str::<AlarmRule>(&format!(
            "id = \"hot{k}\"\nname = \"Hot {k}\"\nkind = \"threshold\"\nchannel = \"{}/CH1_1\"\nop = \">\"\n\
             value = 50.0\nseverity = \"high\"\nnotify_on_return = true\ndestinations = [\"desk{k}\"]\n",
            name(k)
        ))?);
        cfg.destinations.push(toml::from_str::<DestinationConfig>(&format!("id = \"desk{k}\"\nkind = \"desktop\"\n"))?);
    }
    cfg.check_sections()?;
    Ok(cfg)
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs in the child: measures and prints one JSON line on stdout.
pub fn child(quick: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    match rt.block_on(child_measure(quick)) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("alarm notify child: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn child_measure(quick: bool) -> anyhow::Result<String> {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS")?;
    let got = Arc::new(Mutex::new(Vec::new()));
    let _server = zbus::connection::Builder::address(address.as_str())?
        .name("org.freedesktop.Notifications")?
        .serve_at("/org/freedesktop/Notifications", Server { got: got.clone() })?
        .build()
        .await?;

    let crossings: Crossings = Arc::new(Mutex::new(vec![Vec::new(); INSTRUMENTS]));
    let shared = crossings.clone();
    let connector: Connector = Arc::new(move |cfg: InstrumentConfig| {
        let crossings = shared.clone();
        Box::pin(async move {
            let k: usize =
                cfg.id.trim_start_matches("bench").parse().map_err(|_| DriverError::Config(cfg.id.clone()))?;
            Ok(Box::new(Toggler { k, armed: false, last: None, crossings }) as Box<dyn Driver>)
        }) as ConnectFuture
    });
    let dir = tempfile::tempdir()?;
    // The engine's latency, not a plan: no limits.
    let opts = AgentOptions {
        connector,
        secrets: Arc::new(MemorySecrets::new()),
        enforce_limits: false,
        ..AgentOptions::default()
    };
    let agent = Agent::start(config()?, dir.path(), opts)?;

    // When the writer raised/returned each alarm (the view it broadcasts after
    // handing the notification to the dispatcher).
    let mut live = agent.subscribe();
    let raised: Crossings = Arc::new(Mutex::new(vec![Vec::new(); INSTRUMENTS]));
    let raised_w = raised.clone();
    let watcher = tokio::spawn(async move {
        let mut active = [false; INSTRUMENTS];
        while let Ok(u) = live.recv().await {
            let t = wall_ms();
            if let LiveUpdate::Alarm(v) = u
                && let Some(k) = v.rule_id.strip_prefix("hot").and_then(|k| k.parse::<usize>().ok())
                && k < INSTRUMENTS
                && active[k] != v.active
            {
                active[k] = v.active;
                raised_w.lock().unwrap_or_else(|p| p.into_inner())[k].push(t);
            }
        }
    });

    let want = if quick { 12 } else { 200 };
    let need = want + WARMUP * INSTRUMENTS;
    let deadline = Instant::now() + Duration::from_secs(if quick { 40 } else { 240 });
    while got.lock().unwrap_or_else(|p| p.into_inner()).len() < need && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Crossings from here on are left out; the one in flight gets its
    // notification before the agent stops.
    let end = wall_ms();
    tokio::time::sleep(Duration::from_millis(600)).await;
    agent.shutdown().await?;
    watcher.abort();

    let got = std::mem::take(&mut *got.lock().unwrap_or_else(|p| p.into_inner()));
    let crossings = crossings.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let raised = raised.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); INSTRUMENTS];
    let mut summaries = 0;
    for g in &got {
        match (0..INSTRUMENTS).find(|k| g.summary.ends_with(&format!(": Hot {k}"))) {
            Some(k) => per[k].push(g.t),
            None => summaries += 1,
        }
    }
    // Each crossing pairs with the first stamp after it and before the
    // instrument's next crossing; none there means it was lost (or grouped).
    let first_in = |ts: &[f64], from: f64, to: f64| ts.iter().copied().find(|&t| t >= from && t < to);
    let (mut lat, mut agent_lat, mut missing) = (Vec::new(), Vec::new(), 0);
    for k in 0..INSTRUMENTS {
        let c = &crossings[k];
        for j in (WARMUP..c.len()).filter(|&j| c[j] < end) {
            let next = c.get(j + 1).copied().unwrap_or(f64::INFINITY);
            match first_in(&per[k], c[j], next) {
                Some(recv) => lat.push(recv - c[j]),
                None => missing += 1,
            }
            if let Some(r) = first_in(&raised[k], c[j], next) {
                agent_lat.push(r - c[j]);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    agent_lat.sort_by(f64::total_cmp);
    Ok(serde_json::json!({
        "count": lat.len(),
        "summaries": summaries,
        "missing": missing,
        "p50_ms": pct(&lat, 50.0),
        "p99_ms": pct(&lat, 99.0),
        "max_ms": lat.last().copied().unwrap_or(f64::NAN),
        "agent_p50_ms": pct(&agent_lat, 50.0),
    })
    .to_string())
}
