//! `meterdeck-agent run`: poll the instruments of a config file into the
//! store until SIGINT or SIGTERM (or until the store writer fails).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::{Agent, AgentOptions};
use meterdeck_core::config::AgentConfig;
use tracing::{info, warn};

use super::{Signals, runtime};
use crate::paths::resolve_data_dir;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Overrides `[agent].data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print `ACK <instrument>/<channel> <t_ms> <value>` for every stored sample.
    #[arg(long)]
    print_acks: bool,
}

pub fn run(args: Args) -> Result<()> {
    runtime()?.block_on(poll(args))
}

async fn poll(Args { config, data_dir, print_acks }: Args) -> Result<()> {
    let cfg = AgentConfig::load(&config)?;
    let dir = resolve_data_dir(data_dir.as_deref(), Some(&cfg)).map_err(|e| anyhow!(e))?;
    if cfg.enabled_instruments().next().is_none() {
        warn!("{}: no enabled instruments; the agent will only keep the store", config.display());
    }
    let mut signals = Signals::new()?;
    let mut opts = AgentOptions { print_acks, ..AgentOptions::default() };
    // Tests step the report schedules' clock through DST changes with a file
    // holding epoch ms (and look at it often).
    if let Some(file) = std::env::var_os("MD_TEST_CLOCK_FILE") {
        opts.reports.clock = meterdeck_core::report::runner::Clock::from_file(file.into());
        opts.reports.every = std::time::Duration::from_millis(200);
    }
    let agent = Agent::start(cfg, &dir, opts)?;
    tokio::select! {
        which = signals.recv() => info!("{which}: shutting down"),
        _ = agent.writer_failed() => {
            let _ = agent.shutdown().await;
            bail!("the store writer stopped; see the log above");
        }
    }
    agent.shutdown().await?;
    Ok(())
}
