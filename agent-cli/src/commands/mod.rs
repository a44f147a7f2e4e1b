//! One file per `meterdeck-agent` command: its clap arguments (`Args`) and
//! its body (`run`). What several commands share is here: where the store
//! is, the async runtime, the stop signals, channel lookup.

pub mod alarms;
pub mod cloud;
pub mod consent;
pub mod control;
pub mod demo;
pub mod discover;
pub mod export;
pub mod fast;
pub mod files;
pub mod journal;
pub mod licence;
pub mod notifications;
pub mod query;
pub mod report;
pub mod report_admin;
pub mod run;
pub mod status;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use meterdeck_core::config::AgentConfig;
use meterdeck_core::model::ChannelRecord;
use meterdeck_core::store::Store;

use crate::paths::{existing_store, resolve_data_dir};

/// Where the store is, for the commands that read it.
#[derive(clap::Args)]
pub struct StoreArgs {
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Take the data directory from this config's `[agent].data_dir`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    pub fn store_path(&self) -> Result<PathBuf> {
        let cfg = self.load_config()?;
        let dir = resolve_data_dir(self.data_dir.as_deref(), cfg.as_ref()).map_err(|e| anyhow!(e))?;
        existing_store(&dir).map_err(|e| anyhow!(e))
    }

    /// The `--config` file, when one was given.
    pub fn load_config(&self) -> Result<Option<AgentConfig>> {
        Ok(match &self.config {
            Some(path) => Some(AgentConfig::load(path)?),
            None => None,
        })
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// SIGTERM or SIGINT, whichever comes first (`run` and `demo` stop on both).
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// The channel at `instrument/channel`, or an error listing some known ones.
pub fn find_channel(store: &Store, path: &str) -> Result<ChannelRecord> {
    if let Some(ch) = store.find_channel(path)? {
        return Ok(ch);
    }
    let known: Vec<String> = store.channels()?.iter().take(20).map(ChannelRecord::path).collect();
    bail!(
        "unknown channel `{path}` (expected instrument/channel; known: {}{})",
        if known.is_empty() { "none".to_string() } else { known.join(", ") },
        if known.len() == 20 { ", ..." } else { "" }
    )
}
