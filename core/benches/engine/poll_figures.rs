//! Polling cost: 100 simulated hioki-logger instruments x 100 channels at
//! 1 s (one compound `:MEM:GETR;:MEM:VREAL? ...` line per poll), with the
//! simulator in this process and the agent as a child process, so the CPU
//! measured (utime + stime from /proc/<pid>/stat) is the agent's alone.
//! The child is this bench binary again (`CHILD_FLAG`), running the agent
//! on the config file as `meterdeck-agent run --config` does; the CLI lives
//! in another crate, whose binary a core bench cannot name.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meterdeck_core::agent::{Agent, AgentOptions};
use meterdeck_core::config::{AgentConfig, STORE_FILE};
use meterdeck_core::store::Store;
use meterdeck_drivers::sim::{self, Personality, SimConfig, SimInstrument};

const INSTRUMENTS: usize = 100;
const CHANNELS: usize = 100;
/// Argument that makes the bench binary run the polling agent (then: the config file).
pub const CHILD_FLAG: &str = "--poll-agent-child";

/// The agent child: polls the config's instruments into its data directory
/// until the measurement kills it.
pub fn child(config: &Path) {
    let run = || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        rt.block_on(async {
            let cfg = AgentConfig::load(config)?;
            let dir = cfg.agent.data_dir.clone().ok_or_else(|| anyhow::anyhow!("no [agent].data_dir"))?;
            let agent = Agent::start(
                cfg,
                &dir,
                // 100 instruments on one agent measure the engine; no plan allows them.
                AgentOptions { enforce_limits: false, ..AgentOptions::default() },
            )?;
            agent.writer_failed().await;
            anyhow::bail!("the store writer stopped")
        })
    };
    if let Err(e) = run() {
        eprintln!("poll agent child: {e:#}");
        std::process::exit(1);
    }
}

pub fn run(quick: bool) -> Vec<(&'static str, f64)> {
    match measure(quick) {
        Ok(figures) => figures,
        Err(e) => {
            // Left out rather than NaN, which would break the JSON line.
            eprintln!("poll figures failed: {e:#}");
            Vec::new()
        }
    }
}

/// Kills the agent when the measurement ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn measure(quick: bool) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let instruments = (0..INSTRUMENTS)
        .map(|k| {
            let mut s = SimInstrument::new(format!("logger{k:03}"), Personality::HiokiLogger);
            s.seed = k as u64;
            s.channels = Some(CHANNELS);
            s
        })
        .collect();
    let sim = rt.block_on(sim::start(SimConfig { instruments }))?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("agent.toml");
    std::fs::write(&config, agent_config(&sim, dir.path())?)?;

    let child = Command::new(std::env::current_exe()?)
        .arg(CHILD_FLAG)
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let child = ChildGuard(child);
    let pid = child.0.id();

    std::thread::sleep(Duration::from_secs(5));
    let store_path = dir.path().join(STORE_FILE);
    let window = Duration::from_secs(if quick { 5 } else { 20 });
    let (cpu0, stored0, t0) = (cpu_seconds(pid)?, stored_samples(&store_path)?, Instant::now());
    std::thread::sleep(window);
    let (cpu1, stored1, elapsed) = (cpu_seconds(pid)?, stored_samples(&store_path)?, t0.elapsed().as_secs_f64());
    drop(child);
    rt.block_on(sim.shutdown());

    let cpu_percent = 100.0 * (cpu1 - cpu0) / elapsed;
    let samples_per_s = (stored1.saturating_sub(stored0)) as f64 / elapsed;
    eprintln!(
        "poll: {INSTRUMENTS} hioki-logger instruments x {CHANNELS} channels at 1 s, compound query per poll; \
         agent child used {:.2} s CPU in {elapsed:.1} s ({cpu_percent:.2} % of one core), stored {samples_per_s:.0} samples/s",
        cpu1 - cpu0
    );
    Ok(vec![
        ("poll_100x100_cpu_percent", (cpu_percent * 100.0).round() / 100.0),
        ("poll_100x100_samples_per_s", samples_per_s.round()),
    ])
}

fn agent_config(sim: &sim::SimHandle, data_dir: &Path) -> anyhow::Result<String> {
    #[derive(serde::Serialize)]
    struct Agent<'a> {
        name: &'a str,
        data_dir: &'a Path,
        poll_interval: &'a str,
    }
    #[derive(serde::Serialize)]
    struct File<'a> {
        agent: Agent<'a>,
        instrument: Vec<meterdeck_drivers::InstrumentConfig>,
    }
    let instrument = sim
        .instruments
        .iter()
        .map(|r| {
            let mut c = r.instrument_config();
            c.poll_interval = Some(Duration::from_secs(1));
            c
        })
        .collect();
    let file = File { agent: Agent { name: "bench", data_dir, poll_interval: "1s" }, instrument };
    Ok(toml::to_string(&file)?)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| anyhow::anyhow!("odd /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i - 3).ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?.parse::<f64>()?)
    };
    Ok((ticks(14)? + ticks(15)?) / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn stored_samples(path: &Path) -> anyhow::Result<u64> {
    let store = Store::open_readonly(path)?;
    let mut n = 0;
    for ch in store.channels()? {
        n += store.count_in_range(ch.id, i64::MIN, i64::MAX)?;
    }
    Ok(n)
}
