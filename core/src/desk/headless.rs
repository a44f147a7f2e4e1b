//! The headless agent's (`meterdeck-agent run`) side of remote instrument
//! settings: the window's editing path without a window. The edit is
//! checked by [`edited_list`] and the config loader, against the plan's
//! limits, and written atomically; the caller restarts the agent with the
//! returned configuration.

use std::path::PathBuf;

use super::config_file::{self, edited_list, refusal};
use super::error::{DeskError, DeskResult};
use crate::config::{AgentConfig, STORE_FILE};
use crate::remote::{EditRefused, InstrumentEdit};
use crate::store::Store;

/// The configuration file a headless agent runs from.
pub struct FileEdits {
    path: PathBuf,
    data_dir: PathBuf,
    enforce_limits: bool,
}

impl FileEdits {
    pub fn new(path: PathBuf, data_dir: PathBuf, enforce_limits: bool) -> FileEdits {
        FileEdits { path, data_dir, enforce_limits }
    }

    /// `edit` applied to `current` and saved; the new configuration, or
    /// why nothing was changed.
    pub fn save(&self, current: &AgentConfig, edit: &InstrumentEdit) -> Result<AgentConfig, EditRefused> {
        self.try_save(current, edit).map_err(|e| refusal(&e))
    }

    fn try_save(&self, current: &AgentConfig, edit: &InstrumentEdit) -> DeskResult<AgentConfig> {
        let list = edited_list(&current.instruments, edit)?;
        // The `[agent]` table as the file has it now.
        let now =
            std::fs::read_to_string(&self.path).map_err(|e| DeskError::Invalid(super::read_error(&self.path, &e)))?;
        let table = config_file::agent_table(&now);
        let text = config_file::render(&table, &config_file::with_instruments(list, Some(current)))?;
        let cfg = config_file::check(&text, &self.path)?;
        if self.enforce_limits {
            let store = Store::open_readonly(&self.data_dir.join(STORE_FILE))?;
            super::licence::check_limits_in(&store, current, &cfg)?;
        }
        config_file::write_atomic(&self.path, &text)?;
        Ok(cfg)
    }
}
