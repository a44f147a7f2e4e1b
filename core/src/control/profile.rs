//! Saved settings profiles: per instrument, by name, in the store's
//! settings (`control.profiles.<instrument>`, a JSON list), and the profile
//! file (TOML, what `profile show` prints and `profile save --file` reads):
//!
//! ```toml
//! [[setting]]
//! key = ":SAMPle:RATE"
//! value = "0.5"
//! ```

use std::path::Path;

use meterdeck_drivers::Family;
use meterdeck_drivers::control::{Setting, check_setting_key, check_setting_value};
use serde::{Deserialize, Serialize};

use crate::model::TimeMs;
use crate::store::{Store, StoreError};

/// A named list of settings read back from an instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Profile {
    pub name: String,
    pub instrument: String,
    /// The family id of the instrument it was read from.
    pub family: String,
    #[ts(type = "number")]
    pub saved_at: TimeMs,
    pub settings: Vec<Setting>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile name {0:?}: use 1-64 letters, digits, `-`, `_` or `.`")]
    Name(String),
    #[error("instrument `{instrument}` has no profile `{name}` (saved: {known})")]
    NotFound { instrument: String, name: String, known: String },
    #[error("profile file {path}: {reason}; nothing was saved")]
    File { path: String, reason: String },
    #[error("the saved profiles of `{instrument}` cannot be read ({reason})")]
    Damaged { instrument: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProfileError {
    /// The refusal as a translatable message (keys `err-profile-*` in
    /// locales/*/core.ftl); English is the Display. What a file, the OS or
    /// the store said is quoted as it came.
    pub fn text(&self) -> meterdeck_wire::i18n::Text {
        use meterdeck_wire::i18n::Text;
        match self {
            ProfileError::Name(name) => Text::new("err-profile-name").arg("name", format!("{name:?}")),
            ProfileError::NotFound { instrument, name, known } => {
                Text::new("err-profile-not-found").arg("instrument", instrument).arg("name", name).arg("known", known)
            }
            ProfileError::File { path, reason } => {
                Text::new("err-profile-file").arg("path", path).arg("reason", reason)
            }
            ProfileError::Damaged { instrument, reason } => {
                Text::new("err-profile-damaged").arg("instrument", instrument).arg("reason", reason)
            }
            ProfileError::Store(e) => e.text(),
        }
    }
}

fn key(instrument: &str) -> String {
    format!("control.profiles.{instrument}")
}

pub fn check_name(name: &str) -> Result<(), ProfileError> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(()) } else { Err(ProfileError::Name(name.to_string())) }
}

/// Every saved profile of an instrument, oldest first.
pub fn profiles(store: &Store, instrument: &str) -> Result<Vec<Profile>, ProfileError> {
    match store.setting(&key(instrument))? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| ProfileError::Damaged { instrument: instrument.to_string(), reason: e.to_string() }),
    }
}

pub fn load_profile(store: &Store, instrument: &str, name: &str) -> Result<Profile, ProfileError> {
    let all = profiles(store, instrument)?;
    let known = if all.is_empty() {
        "none".to_string()
    } else {
        all.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
    };
    all.into_iter().find(|p| p.name == name).ok_or_else(|| ProfileError::NotFound {
        instrument: instrument.to_string(),
        name: name.to_string(),
        known,
    })
}

/// Saves (or replaces) a profile by name.
pub fn save_profile(store: &mut Store, profile: &Profile) -> Result<(), ProfileError> {
    check_name(&profile.name)?;
    let mut all = profiles(store, &profile.instrument)?;
    all.retain(|p| p.name != profile.name);
    all.push(profile.clone());
    let text = serde_json::to_string(&all)
        .map_err(|e| ProfileError::Damaged { instrument: profile.instrument.clone(), reason: e.to_string() })?;
    store.set_setting(&key(&profile.instrument), &text)?;
    Ok(())
}

/// Deletes a profile; deleting one that does not exist is `NotFound`.
pub fn delete_profile(store: &mut Store, instrument: &str, name: &str) -> Result<(), ProfileError> {
    load_profile(store, instrument, name)?;
    let mut all = profiles(store, instrument)?;
    all.retain(|p| p.name != name);
    let text = serde_json::to_string(&all)
        .map_err(|e| ProfileError::Damaged { instrument: instrument.to_string(), reason: e.to_string() })?;
    store.set_setting(&key(instrument), &text)?;
    Ok(())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default, rename = "setting")]
    settings: Vec<FileSetting>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSetting {
    key: String,
    value: String,
}

/// The profile file text of `settings`.
pub fn to_file_text(settings: &[Setting]) -> String {
    let settings = settings.iter().map(|s| FileSetting { key: s.key.clone(), value: s.value.clone() }).collect();
    toml::to_string(&ProfileFile { settings }).unwrap_or_default()
}

/// Reads a profile file for an instrument of `family`: every key and value
/// is checked (the family's key form, one value per line, no repeats).
pub fn parse_profile_file(path: &Path, family: Family) -> Result<Vec<Setting>, ProfileError> {
    let bad = |reason: String| ProfileError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let file: ProfileFile = toml::from_str(&text).map_err(|e| bad(e.to_string().trim().replace('\n', " ")))?;
    if file.settings.is_empty() {
        return Err(bad("no `[[setting]]` entries".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for s in &file.settings {
        check_setting_key(family, &s.key).map_err(|problem| bad(format!("setting `{}`: {problem}", s.key)))?;
        check_setting_value(&s.key, &s.value).map_err(|e| bad(e.to_string()))?;
        if !seen.insert(s.key.trim().to_ascii_uppercase()) {
            return Err(bad(format!("setting `{}` is listed twice", s.key)));
        }
    }
    Ok(file.settings.iter().map(|s| Setting::new(s.key.trim(), s.value.trim())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db"), crate::store::StoreOptions::default()).unwrap();
        (dir, store)
    }

    fn profile(name: &str, v: &str) -> Profile {
        Profile {
            name: name.into(),
            instrument: "log".into(),
            family: "hioki-logger".into(),
            saved_at: 1,
            settings: vec![Setting::new(":SAMPle:RATE", v)],
        }
    }

    #[test]
    fn profiles_are_saved_replaced_and_deleted() {
        let (_d, mut s) = store();
        save_profile(&mut s, &profile("fast", "0.1")).unwrap();
        save_profile(&mut s, &profile("slow", "10")).unwrap();
        save_profile(&mut s, &profile("fast", "0.2")).unwrap();
        assert_eq!(profiles(&s, "log").unwrap().len(), 2);
        assert_eq!(load_profile(&s, "log", "fast").unwrap().settings[0].value, "0.2");
        let err = load_profile(&s, "log", "nope").unwrap_err().to_string();
        assert_eq!(err, "instrument `log` has no profile `nope` (saved: slow, fast)");
        assert!(matches!(save_profile(&mut s, &profile("a b", "1")), Err(ProfileError::Name(_))));
        delete_profile(&mut s, "log", "slow").unwrap();
        assert_eq!(profiles(&s, "log").unwrap().len(), 1);
    }

    #[test]
    fn profile_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let scpi = meterdeck_drivers::families::scpi::FAMILY;
        let write = |text: &str| {
            let p = dir.path().join("p.toml");
            std::fs::write(&p, text).unwrap();
            p
        };
        let good = to_file_text(&[Setting::new(":A", "1"), Setting::new(":B", "ON")]);
        assert_eq!(parse_profile_file(&write(&good), scpi).unwrap().len(), 2);
        for (text, wanted) in [
            ("[[setting]]\nkey = \":A\"\n", "missing field `value`"),
            ("[[setting]]\nkey = \":A?\"\nvalue = \"1\"\n", "no `?`"),
            ("[[setting]]\nkey = \":A\"\nvalue = \"1;*RST\"\n", "without `;`"),
            ("[[setting]]\nkey = \":A\"\nvalue = \"1\"\n[[setting]]\nkey = \":a\"\nvalue = \"2\"\n", "twice"),
            ("", "no `[[setting]]`"),
            ("[[setting]]\nkey = \":A\"\nvalue = \"1\"\ncolour = 1\n", "unknown field `colour`"),
        ] {
            let err = parse_profile_file(&write(text), scpi).unwrap_err().to_string();
            assert!(err.contains(wanted) && err.contains("p.toml"), "{text:?}: {err}");
        }
        let modbus = meterdeck_drivers::families::modbus::FAMILY;
        let err = parse_profile_file(&write(&good), modbus).unwrap_err().to_string();
        assert!(err.contains("holding register address"), "{err}");
    }
}
