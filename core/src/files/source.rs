//! `[[files]]`: where an instrument serves its measurement files over FTP
//! and what the agent does with them. The password is not here: it lives
//! in the OS keychain under `ftp:<instrument>` (like every other secret).

use std::time::Duration;

use meterdeck_drivers::files::{FtpLogin, NamePattern};
use meterdeck_drivers::{InstrumentConfig, TransportConfig};
use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};

use crate::notify::SecretStore;

/// Files up to this size are collected without being asked (SPEC 1.9).
pub const AUTO_LIMIT_MB: u64 = 128;
/// The largest file fetched at all, on request.
pub const REQUEST_LIMIT_MB: u64 = 1024;
pub const MB: u64 = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// The instrument whose files these are (an `[[instrument]]` id).
    pub instrument: String,
    /// FTP host; default: the instrument's TCP host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default = "default_port")]
    #[ts(as = "Option<_>", optional)]
    pub port: u16,
    /// Login name; the password is the keychain entry `ftp:<instrument>`
    /// (`anonymous` needs none).
    #[serde(default = "default_user")]
    #[ts(as = "Option<_>", optional)]
    pub user: String,
    #[serde(default = "yes")]
    #[ts(as = "Option<_>", optional)]
    pub passive: bool,
    /// The folder the instrument writes its files to.
    #[serde(default = "default_folder")]
    #[ts(as = "Option<_>", optional)]
    pub folder: String,
    /// Shell-style file name pattern (`*.MEM`); default every file.
    #[serde(default = "default_pattern")]
    #[ts(as = "Option<_>", optional)]
    pub pattern: String,
    /// Levels of subfolders below `folder` that are searched.
    #[serde(default = "default_depth")]
    #[ts(as = "Option<_>", optional)]
    pub depth: usize,
    /// How often the folder is listed.
    #[serde(default = "default_interval", with = "humantime_serde")]
    #[ts(as = "Option<String>", optional)]
    pub interval: Duration,
    /// Reply and read timeout.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    #[ts(as = "Option<String>", optional)]
    pub timeout: Duration,
    /// Larger files wait for a request (window or `files fetch`).
    #[serde(default = "default_auto_mb")]
    #[ts(as = "Option<_>", optional)]
    pub auto_max_mb: u64,
    /// Upload each fetched file to the cloud (`[cloud] api`).
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub upload: bool,
    /// Delete the file on the instrument once the cloud has confirmed its
    /// SHA-256 (never before).
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub delete_after_upload: bool,
}

fn default_port() -> u16 {
    21
}
fn default_user() -> String {
    "anonymous".into()
}
fn yes() -> bool {
    true
}
fn default_folder() -> String {
    "/".into()
}
fn default_pattern() -> String {
    "*".into()
}
fn default_depth() -> usize {
    3
}
fn default_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_auto_mb() -> u64 {
    AUTO_LIMIT_MB
}

/// The keychain entry of a source's password.
pub fn secret_entry(instrument: &str) -> String {
    format!("ftp:{instrument}")
}

impl FileSource {
    /// A source with every default, for `instrument`.
    pub fn new(instrument: &str) -> FileSource {
        toml::from_str(&format!("instrument = {}", toml::Value::String(instrument.into()))).expect("defaults parse")
    }

    pub fn name_pattern(&self) -> NamePattern {
        NamePattern::new(&self.pattern).unwrap_or_else(|_| NamePattern::any())
    }

    pub fn auto_limit(&self) -> u64 {
        self.auto_max_mb.saturating_mul(MB)
    }

    /// Checks against the instruments; the error is the field
    /// (`files[logger1].folder`) and why (English is its Display).
    pub fn validate(&self, instruments: &[InstrumentConfig]) -> Result<(), (String, Text)> {
        let field = |f: &str| format!("files[{}].{f}", self.instrument);
        let refuse = |f: &str, key: &str| Err((field(f), Text::new(key)));
        let Some(inst) = instruments.iter().find(|i| i.id == self.instrument) else {
            return Err((field("instrument"), Text::new("form-files-not-an-instrument").arg("id", &self.instrument)));
        };
        if self.host.is_none() && !matches!(inst.transport, TransportConfig::Tcp { .. }) {
            return Err((field("host"), Text::new("form-files-not-on-lan").arg("id", &inst.id)));
        }
        if self.host.as_deref().is_some_and(|h| h.trim().is_empty()) {
            return refuse("host", "form-files-host-empty");
        }
        if self.port == 0 {
            return refuse("port", "form-files-port");
        }
        if self.user.trim().is_empty() {
            return refuse("user", "form-files-user");
        }
        NamePattern::new(&self.pattern).map_err(|m| (field("pattern"), Text::plain(m)))?;
        if self.depth > 8 {
            return refuse("depth", "form-files-depth");
        }
        if self.interval < Duration::from_secs(1) || self.interval > Duration::from_secs(24 * 3600) {
            return refuse("interval", "form-files-interval");
        }
        if self.timeout < Duration::from_millis(100) || self.timeout > Duration::from_secs(600) {
            return refuse("timeout", "form-files-timeout");
        }
        if self.auto_max_mb > REQUEST_LIMIT_MB {
            return Err((
                field("auto_max_mb"),
                Text::new("form-files-auto-max").arg("max", REQUEST_LIMIT_MB.to_string()),
            ));
        }
        if self.delete_after_upload && !self.upload {
            return refuse("delete_after_upload", "form-files-delete-needs-upload");
        }
        Ok(())
    }

    /// The FTP host: `host`, else the instrument's TCP host.
    pub fn host_of(&self, instruments: &[InstrumentConfig]) -> Option<String> {
        if let Some(h) = &self.host {
            return Some(h.clone());
        }
        instruments.iter().find(|i| i.id == self.instrument).and_then(|i| match &i.transport {
            TransportConfig::Tcp { host, .. } => Some(host.clone()),
            _ => None,
        })
    }

    /// The login, with the password read from the keychain.
    pub fn login(&self, instruments: &[InstrumentConfig], secrets: &dyn SecretStore) -> Result<FtpLogin, String> {
        let host = self.host_of(instruments).ok_or_else(|| format!("files[{}]: no FTP host", self.instrument))?;
        let password = if self.user == "anonymous" {
            match secrets.get(&secret_entry(&self.instrument)) {
                Ok(Some(p)) => p,
                _ => "meterdeck@".into(),
            }
        } else {
            match secrets.get(&secret_entry(&self.instrument)) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    return Err(format!(
                        "no FTP password in the keychain for `{}` (entry `{}`; `meterdeck-agent files password {}` sets it)",
                        self.instrument,
                        secret_entry(&self.instrument),
                        self.instrument
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "cannot read the FTP password of `{}` from the keychain: {e}",
                        self.instrument
                    ));
                }
            }
        };
        Ok(FtpLogin {
            host,
            port: self.port,
            user: self.user.clone(),
            password,
            passive: self.passive,
            timeout: self.timeout,
        })
    }
}

/// Every source valid and one per instrument; the error as [`FileSource::validate`]'s.
pub fn validate_all(sources: &[FileSource], instruments: &[InstrumentConfig]) -> Result<(), (String, Text)> {
    let mut seen = std::collections::HashSet::new();
    for s in sources {
        if !seen.insert(s.instrument.as_str()) {
            return Err((format!("files[{}].instrument", s.instrument), Text::new("form-files-second-section")));
        }
        s.validate(instruments)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logger() -> InstrumentConfig {
        toml::from_str(
            r#"id = "logger1"
family = "hioki-logger"
transport = { kind = "tcp", host = "10.0.0.5" }"#,
        )
        .unwrap()
    }

    #[test]
    fn defaults_and_host_from_the_instrument() {
        let s = FileSource::new("logger1");
        assert_eq!((s.port, s.user.as_str(), s.passive, s.auto_max_mb), (21, "anonymous", true, 128));
        assert_eq!(s.host_of(&[logger()]).as_deref(), Some("10.0.0.5"));
        assert!(s.validate(&[logger()]).is_ok());
    }

    #[test]
    fn refusals_name_the_field() {
        let mut s = FileSource::new("nope");
        assert_eq!(s.validate(&[logger()]).unwrap_err().0, "files[nope].instrument");
        s.instrument = "logger1".into();
        s.pattern = "[".into();
        assert_eq!(s.validate(&[logger()]).unwrap_err().0, "files[logger1].pattern");
        s.pattern = "*.MEM".into();
        s.delete_after_upload = true;
        assert!(s.validate(&[logger()]).unwrap_err().1.to_string().contains("upload = true"));
        s.upload = true;
        s.auto_max_mb = 2048;
        assert_eq!(s.validate(&[logger()]).unwrap_err().0, "files[logger1].auto_max_mb");
    }

    #[test]
    fn refusals_read_as_before_in_english_and_are_translated() {
        let mut s = FileSource::new("nope");
        let mut errors = vec![s.validate(&[logger()]).unwrap_err()];
        s.instrument = "logger1".into();
        s.depth = 9;
        errors.push(s.validate(&[logger()]).unwrap_err());
        s.depth = 3;
        s.delete_after_upload = true;
        errors.push(s.validate(&[logger()]).unwrap_err());
        s.upload = true;
        s.auto_max_mb = 2048;
        errors.push(s.validate(&[logger()]).unwrap_err());
        s.auto_max_mb = 128;
        errors.push(validate_all(&[s.clone(), s.clone()], &[logger()]).unwrap_err());
        let english = [
            "`nope` is not an instrument of this configuration",
            "at most 8 levels of subfolders",
            "needs `upload = true`: a file is deleted only after the cloud confirmed its copy",
            "at most 1024 (1 GB)",
            "has a second `[[files]]` section",
        ];
        for ((_, text), en) in errors.iter().zip(english) {
            assert_eq!(text.to_string(), en);
            assert_ne!(text.render("de"), en);
            assert_ne!(text.render("ja"), en);
        }
        assert_eq!(errors[1].1.render("de"), "höchstens 8 Ebenen von Unterordnern");
        assert_eq!(errors[0].1.render("ja"), "`nope` はこの設定の計測器ではありません");
    }
}
