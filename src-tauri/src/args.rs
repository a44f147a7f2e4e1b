//! Command line and where the data and the configuration live.

use std::path::{Path, PathBuf};

use clap::Parser;
use meterdeck_core::config::{AgentConfig, ConfigError, default_data_dir};

/// Meterdeck: operator console for measuring instruments.
#[derive(Debug, Parser)]
#[command(name = "meterdeck", version)]
pub struct Args {
    /// Data directory (store, lock, default config). Default: ~/.local/share/meterdeck
    /// (the `demo` folder in it for the demo).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Agent configuration (TOML, same format as meterdeck-agent). Default: DATA_DIR/agent.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run on the built-in simulator. Also what happens when no configuration exists.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: the simulated history a fresh demo cache starts with (e.g. 1h, 0s).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = humantime::parse_duration)]
    pub demo_history: std::time::Duration,
}

/// What the desk is opened with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub demo: bool,
}

/// Why the window cannot start with these arguments.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot find a data directory: HOME is not set; pass --data-dir DIR")]
    NoHome,
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn home_default() -> Result<PathBuf, LaunchError> {
    default_data_dir().ok_or(LaunchError::NoHome)
}

/// Explicit `--demo` uses `--data-dir` as given (else the default's `demo`
/// folder). Without a configuration file the demo runs in `<dir>/demo`, so
/// it never writes simulator entries into the real configuration.
pub fn resolve(args: &Args) -> Result<Launch, LaunchError> {
    if args.demo {
        let data_dir = match &args.data_dir {
            Some(d) => d.clone(),
            None => home_default()?.join("demo"),
        };
        let config_path = args.config.clone().unwrap_or_else(|| data_dir.join("agent.toml"));
        return Ok(Launch { data_dir, config_path, demo: true });
    }
    if let Some(config) = &args.config {
        // A named file is used (and created empty when missing).
        let from_file = if config.is_file() { AgentConfig::load(config)?.agent.data_dir } else { None };
        let data_dir = match (&args.data_dir, from_file) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d,
            (None, None) => home_default()?,
        };
        return Ok(Launch { data_dir, config_path: config.clone(), demo: false });
    }
    let base = match &args.data_dir {
        Some(d) => d.clone(),
        None => home_default()?,
    };
    let config_path = base.join("agent.toml");
    if config_path.is_file() { Ok(Launch { data_dir: base, config_path, demo: false }) } else { Ok(demo_in(&base)) }
}

fn demo_in(base: &Path) -> Launch {
    let data_dir = base.join("demo");
    Launch { config_path: data_dir.join("agent.toml"), data_dir, demo: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("meterdeck").chain(v.iter().copied())).unwrap()
    }

    #[test]
    fn no_config_means_demo_in_a_folder_of_its_own() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().to_str().unwrap();
        let l = resolve(&args(&["--data-dir", p])).unwrap();
        assert!(l.demo);
        assert_eq!(l.data_dir, d.path().join("demo"));
        assert_eq!(l.config_path, d.path().join("demo/agent.toml"));
    }

    #[test]
    fn an_existing_config_runs_it() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("agent.toml"), "").unwrap();
        let l = resolve(&args(&["--data-dir", d.path().to_str().unwrap()])).unwrap();
        assert_eq!(l, Launch { data_dir: d.path().into(), config_path: d.path().join("agent.toml"), demo: false });
    }

    #[test]
    fn explicit_demo_uses_the_given_directory() {
        let d = tempfile::tempdir().unwrap();
        let l = resolve(&args(&["--data-dir", d.path().to_str().unwrap(), "--demo"])).unwrap();
        assert!(l.demo);
        assert_eq!(l.data_dir, d.path());
    }

    #[test]
    fn a_named_config_sets_the_data_dir_when_it_names_one() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("a.toml");
        std::fs::write(&cfg, format!("[agent]\ndata_dir = {:?}\n", d.path().join("x").display().to_string())).unwrap();
        let l = resolve(&args(&["--config", cfg.to_str().unwrap()])).unwrap();
        assert_eq!(l.data_dir, d.path().join("x"));
        assert!(!l.demo);
        let bad = d.path().join("bad.toml");
        std::fs::write(&bad, "[agent]\nnope = 1\n").unwrap();
        assert!(resolve(&args(&["--config", bad.to_str().unwrap()])).is_err());
    }
}
