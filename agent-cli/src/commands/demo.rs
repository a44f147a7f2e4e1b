//! `meterdeck-agent demo`: the built-in simulator and the agent together,
//! with a live table of the latest values redrawn every second.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::{Agent, AgentOptions, STORE_PARTS, now_ms};
use meterdeck_core::config::{AgentConfig, AgentSettings, STORE_FILE};
use meterdeck_core::store::StoreOptions;
use tracing::info;

use super::{Signals, runtime};
use crate::live_table::LiveTable;
use crate::paths::resolve_data_dir;

#[derive(clap::Args)]
pub struct Args {
    /// Default: the platform data directory's `demo` folder.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Simulated instruments (logger, power meter, SCPI DMM, Modbus, then again).
    #[arg(long, default_value_t = 4, value_name = "N")]
    instruments: usize,
    /// Sync to the cloud named in this file's `[cloud]` section (written by
    /// `meterdeck-agent cloud login --config FILE`); the secret comes from the keychain.
    #[arg(long, value_name = "FILE")]
    cloud_config: Option<PathBuf>,
    /// The simulated history a fresh demo cache starts with (e.g. 1h; 0s for none).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = humantime::parse_duration)]
    history: Duration,
}

pub fn run(args: Args) -> Result<()> {
    runtime()?.block_on(demo(args.data_dir, args.instruments, args.cloud_config, args.history))
}

async fn demo(data_dir: Option<PathBuf>, count: usize, cloud_config: Option<PathBuf>, history: Duration) -> Result<()> {
    if count == 0 {
        bail!("--instruments must be at least 1");
    }
    // Read before anything starts, so a bad file changes nothing.
    let cloud = match &cloud_config {
        Some(path) => Some(AgentConfig::load(path)?.cloud.ok_or_else(|| {
            anyhow!("{}: no [cloud] section (meterdeck-agent cloud login --config FILE writes one)", path.display())
        })?),
        None => None,
    };
    let dir = match data_dir {
        Some(d) => d,
        None => resolve_data_dir(None, None).map_err(|e| anyhow!(e))?.join("demo"),
    };
    let (sim, insts) =
        meterdeck_core::demo::start_simulator(count).await.map_err(|e| anyhow!("cannot start the simulator: {e}"))?;
    let settings =
        AgentSettings { name: "demo".into(), poll_interval: Duration::from_secs(1), ..AgentSettings::default() };
    let mut cfg = AgentConfig::new(settings, insts)?;
    let syncing = cloud.as_ref().map(|c| format!("; syncing as agent {} to {}", c.agent, c.broker()));
    cfg.cloud = cloud;
    let mut signals = Signals::new()?;
    // A fresh cache starts with a week of the simulator's history (synced like any data).
    let written = meterdeck_core::demo::write_history(
        &dir.join(STORE_FILE),
        StoreOptions { durability: cfg.agent.durability, block_samples: cfg.agent.block_samples },
        STORE_PARTS,
        &sim.instruments,
        &cfg.instruments,
        now_ms(),
        history,
    )?;
    if written.samples > 0 {
        eprintln!(
            "demo: wrote {} of history ({} samples, {} channels) in {} ms",
            humantime::format_duration(history),
            written.samples,
            written.channels,
            written.took.as_millis()
        );
    }
    let agent = Agent::start(cfg, &dir, AgentOptions { enforce_limits: false, ..AgentOptions::default() })?;
    eprintln!(
        "demo: {} simulated instruments, store in {}{}; Ctrl-C stops",
        sim.instruments.len(),
        dir.display(),
        syncing.unwrap_or_default()
    );
    let mut live = agent.subscribe();
    let mut table = LiveTable::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let clear = std::io::stdout().is_terminal();
    let which = loop {
        tokio::select! {
            which = signals.recv() => break which,
            update = live.recv() => match update {
                Ok(u) => table.apply(&u),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break "agent stopped",
            },
            _ = tick.tick() => {
                let mut out = std::io::stdout().lock();
                let text = table.render(now_ms());
                let framed = if clear { format!("\x1b[2J\x1b[H{text}") } else { format!("{text}\n") };
                if out.write_all(framed.as_bytes()).and_then(|_| out.flush()).is_err() {
                    break "stdout closed";
                }
            }
        }
    };
    info!("{which}: shutting down");
    agent.shutdown().await?;
    sim.shutdown().await;
    Ok(())
}
