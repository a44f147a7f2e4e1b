//! Where the data directory is: `--data-dir`, else `[agent].data_dir` of
//! the config (relative to the config file), else the platform default.

use std::path::{Path, PathBuf};

use meterdeck_core::config::{AgentConfig, STORE_FILE, default_data_dir};

pub fn resolve_data_dir(flag: Option<&Path>, cfg: Option<&AgentConfig>) -> Result<PathBuf, String> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(cfg) = cfg
        && let Some(dir) = &cfg.agent.data_dir
    {
        if dir.is_relative()
            && let Some(base) = cfg.source.as_deref().and_then(Path::parent)
        {
            return Ok(base.join(dir));
        }
        return Ok(dir.clone());
    }
    default_data_dir()
        .ok_or_else(|| "no data directory: pass --data-dir (neither XDG_DATA_HOME nor HOME is set)".to_string())
}

/// The store file of a data directory that must already exist (readers).
pub fn existing_store(data_dir: &Path) -> Result<PathBuf, String> {
    let path = data_dir.join(STORE_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no store at {} (has the agent run with this data directory?)", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_config_beats_default() {
        let mut cfg = AgentConfig::parse("[agent]\ndata_dir = \"data\"\n", "x.toml").unwrap();
        cfg.source = Some(PathBuf::from("/etc/meterdeck/agent.toml"));
        assert_eq!(resolve_data_dir(Some(Path::new("/tmp/d")), Some(&cfg)).unwrap(), PathBuf::from("/tmp/d"));
        assert_eq!(resolve_data_dir(None, Some(&cfg)).unwrap(), PathBuf::from("/etc/meterdeck/data"));
        cfg.agent.data_dir = Some(PathBuf::from("/var/lib/md"));
        assert_eq!(resolve_data_dir(None, Some(&cfg)).unwrap(), PathBuf::from("/var/lib/md"));
    }

    #[test]
    fn missing_store_is_named() {
        let e = existing_store(Path::new("/nonexistent/dir")).unwrap_err();
        assert!(e.contains("/nonexistent/dir/meterdeck.db"), "{e}");
    }
}
