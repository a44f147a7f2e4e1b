//! Reading and atomically rewriting the agent's TOML file. The `[agent]`
//! table is kept as it was written; the instrument list is replaced. The
//! result is checked by `AgentConfig::parse` before it reaches the disk.

use std::io::Write;
use std::path::Path;

use meterdeck_drivers::InstrumentConfig;

use super::error::{DeskError, DeskResult};
use crate::config::AgentConfig;
use crate::model::Text;
use crate::remote::{EditRefused, InstrumentEdit};

/// The file's `[agent]` table (empty when the file has none or is new).
pub fn agent_table(text: &str) -> toml::Table {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|mut t| t.remove("agent"))
        .and_then(|v| match v {
            toml::Value::Table(t) => Some(t),
            _ => None,
        })
        .unwrap_or_default()
}

/// TOML text for `agent` plus the config's instruments, calculation
/// channels, alarm rules and destinations (`cfg.agent` is not written: the
/// `[agent]` table is kept as the user wrote it).
pub fn render(agent: &toml::Table, cfg: &AgentConfig) -> DeskResult<String> {
    let mut doc = toml::Table::new();
    if !agent.is_empty() {
        doc.insert("agent".into(), toml::Value::Table(agent.clone()));
    }
    /// `what`: the key of the section's name (`err-desk-toml-*`).
    fn section<T: serde::Serialize>(doc: &mut toml::Table, key: &str, what: &str, list: &[T]) -> DeskResult<()> {
        let v = toml::Value::try_from(list).map_err(|e| {
            DeskError::Invalid(
                Text::new("err-desk-toml").text_arg("what", Text::new(what)).arg("reason", e.to_string()),
            )
        })?;
        doc.insert(key.into(), v);
        Ok(())
    }
    section(&mut doc, "instrument", "err-desk-toml-instruments", &cfg.instruments)?;
    if !cfg.calcs.is_empty() {
        section(&mut doc, "calc", "err-desk-toml-calcs", &cfg.calcs)?;
    }
    if !cfg.alarms.is_empty() {
        section(&mut doc, "alarm", "err-desk-toml-alarms", &cfg.alarms)?;
    }
    if !cfg.destinations.is_empty() {
        section(&mut doc, "destination", "err-desk-toml-destinations", &cfg.destinations)?;
    }
    if !cfg.files.is_empty() {
        section(&mut doc, "files", "err-desk-toml-files", &cfg.files)?;
    }
    if let Some(cloud) = &cfg.cloud {
        doc.insert("cloud".into(), toml::Value::Table(cloud.to_toml()));
    }
    let body = toml::to_string(&doc)
        .map_err(|e| DeskError::Invalid(Text::new("err-desk-toml-config").arg("reason", e.to_string())))?;
    Ok(format!(
        "# Meterdeck agent configuration (written by the Meterdeck window; same format as meterdeck-agent)\n\n{body}"
    ))
}

/// A config holding only `instruments` (for `render`).
pub fn with_instruments(instruments: Vec<InstrumentConfig>, rest: Option<&AgentConfig>) -> AgentConfig {
    match rest {
        Some(r) => AgentConfig { instruments, ..r.clone() },
        None => AgentConfig {
            agent: Default::default(),
            instruments,
            calcs: Vec::new(),
            alarms: Vec::new(),
            destinations: Vec::new(),
            cloud: None,
            files: Vec::new(),
            source: None,
        },
    }
}

/// Checks the text as the agent would load it; errors name the file.
pub fn check(text: &str, path: &Path) -> DeskResult<AgentConfig> {
    let mut cfg = AgentConfig::parse(text, &path.display().to_string())?;
    cfg.source = Some(path.to_path_buf());
    Ok(cfg)
}

/// Writes beside the target, syncs, then renames: a crash leaves either
/// the old or the new file, never half of one.
pub fn write_atomic(path: &Path, text: &str) -> DeskResult<()> {
    let err = |source| DeskError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The instrument list after putting `config` in place of `replace_id`
/// (or adding it), with the user's mistakes named.
pub fn apply_edit(
    current: &[InstrumentConfig],
    config: InstrumentConfig,
    replace_id: Option<&str>,
) -> DeskResult<Vec<InstrumentConfig>> {
    config.validate().map_err(|e| DeskError::Invalid(e.text()))?;
    let mut list = current.to_vec();
    let slot = match replace_id {
        Some(old) => {
            Some(list.iter().position(|i| i.id == old).ok_or_else(|| DeskError::UnknownInstrument(old.to_string()))?)
        }
        None => None,
    };
    if list.iter().enumerate().any(|(k, i)| i.id == config.id && Some(k) != slot) {
        return Err(DeskError::Invalid(Text::new("err-desk-duplicate-id").arg("id", &config.id)));
    }
    match slot {
        Some(k) => list[k] = config,
        None => list.push(config),
    }
    Ok(list)
}

/// The instrument list after `edit`: the one place the window's editor
/// and the cloud's remote settings change it (same checks, same errors).
pub fn edited_list(current: &[InstrumentConfig], edit: &InstrumentEdit) -> DeskResult<Vec<InstrumentConfig>> {
    match edit {
        InstrumentEdit::Save { config, replace_id } => {
            apply_edit(current, config.as_ref().clone(), replace_id.as_deref())
        }
        InstrumentEdit::Remove { id } => {
            if !current.iter().any(|i| i.id == *id) {
                return Err(DeskError::UnknownInstrument(id.clone()));
            }
            Ok(current.iter().filter(|i| i.id != *id).cloned().collect())
        }
        InstrumentEdit::PollInterval { id, interval } => {
            let mut inst = current
                .iter()
                .find(|i| i.id == *id)
                .cloned()
                .ok_or_else(|| DeskError::UnknownInstrument(id.clone()))?;
            inst.poll_interval = Some(*interval);
            apply_edit(current, inst, Some(id))
        }
    }
}

/// A refused edit as the remote command's reply says it (the window's
/// message for the same mistake).
pub fn refusal(e: &DeskError) -> EditRefused {
    let code = match e {
        DeskError::UnknownInstrument(_) => "unknown_instrument",
        DeskError::Limit(_) => "limit",
        DeskError::Write { .. } => "not_saved",
        _ => "invalid",
    };
    EditRefused { code, message: e.to_string() }
}
