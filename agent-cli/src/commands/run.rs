//! `meterdeck-agent run`: poll the instruments of a config file into the
//! store until SIGINT or SIGTERM (or until the store writer fails); the
//! cloud's remote instrument settings rewrite the config file and restart it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use meterdeck_core::agent::{Agent, AgentOptions};
use meterdeck_core::config::AgentConfig;
use meterdeck_core::desk::FileEdits;
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
    // Remote instrument settings (issue 16) are saved to the config file
    // as the window saves them; the agent then restarts with it.
    let (edits_tx, mut edits) = tokio::sync::mpsc::channel(4);
    opts.config_edits = Some(edits_tx);
    let files = FileEdits::new(config.clone(), dir.clone(), opts.enforce_limits);
    let mut cfg = cfg;
    let mut agent = Agent::start(cfg.clone(), &dir, opts.clone())?;
    loop {
        tokio::select! {
            which = signals.recv() => {
                info!("{which}: shutting down");
                break;
            }
            _ = agent.writer_failed() => {
                let _ = agent.shutdown().await;
                bail!("the store writer stopped; see the log above");
            }
            Some(req) = edits.recv() => {
                let next = match files.save(&cfg, &req.edit) {
                    Ok(next) => next,
                    Err(refused) => {
                        let _ = req.answer.send(Err(refused));
                        continue;
                    }
                };
                // The command's reply goes out before the agent restarts.
                let (after_tx, after_rx) = tokio::sync::oneshot::channel();
                let _ = req.answer.send(Ok(after_tx));
                let _ = tokio::time::timeout(Duration::from_secs(5), after_rx).await;
                info!("instrument configuration changed from the cloud and saved to {}; restarting", config.display());
                agent.shutdown().await?;
                agent = Agent::start(next.clone(), &dir, opts.clone())?;
                cfg = next;
            }
        }
    }
    agent.shutdown().await?;
    Ok(())
}
