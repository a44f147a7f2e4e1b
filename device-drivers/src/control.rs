//! Instrument control that is the same for every family: settings as
//! key/value pairs read back from an instrument, the diff of a saved
//! profile against the instrument's current settings, and pushing a profile
//! (write what differs, read back, verify; on a refusal put back what was
//! already written, so a refused push changes nothing). The families only
//! read and write their settings (`Driver::read_settings`/`write_settings`).

use serde::{Deserialize, Serialize};

use crate::config::Family;
use crate::driver::Driver;
use crate::error::{DriverError, Result};

/// One setting as the instrument reports it: the key is the setting's
/// header (SCPI, `:SAMPle:RATE`) or holding register address (Modbus).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

impl Setting {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Setting {
        Setting { key: key.into(), value: value.into() }
    }
}

/// One line of a profile's diff against the instrument. `current` is
/// `None` for a key the instrument does not list; `profile` is `None` for a
/// setting the profile leaves alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SettingDiff {
    pub key: String,
    pub current: Option<String>,
    pub profile: Option<String>,
    /// Pushing the profile would change this setting.
    pub changes: bool,
}

/// What a push did: the settings it changed (with their old values) and
/// every setting as read back afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PushReport {
    pub changed: Vec<SettingDiff>,
    pub read_back: Vec<Setting>,
}

/// Checks one entry of an instrument's `settings` list.
pub fn check_setting_key(family: Family, key: &str) -> std::result::Result<(), &'static str> {
    let key = key.trim();
    if key.is_empty() {
        return Err("is empty");
    }
    if family.id() == "modbus" {
        return key.parse::<u16>().map(|_| ()).map_err(|_| "must be a holding register address 0..65535");
    }
    if key.contains([';', '?', '\n', '\r']) || key.contains(char::is_whitespace) {
        return Err("must be one setting header such as `:SAMPle:RATE` (no `?`, `;` or spaces)");
    }
    Ok(())
}

/// A problem [`check_setting_key`] names, as a translatable message
/// (English: the problem as it reads).
pub fn setting_key_text(problem: &str) -> meterdeck_wire::i18n::Text {
    use meterdeck_wire::i18n::Text;
    match problem {
        "is empty" => Text::new("err-setting-key-empty"),
        "must be a holding register address 0..65535" => Text::new("err-setting-key-register"),
        "must be one setting header such as `:SAMPle:RATE` (no `?`, `;` or spaces)" => {
            Text::new("err-setting-key-header")
        }
        other => Text::plain(other),
    }
}

/// The settings an instrument's profile covers: its configured list, else
/// its family's own.
pub fn setting_keys(cfg: &crate::config::InstrumentConfig, family_default: &[&str]) -> Vec<String> {
    if cfg.settings.is_empty() {
        family_default.iter().map(|k| (*k).to_string()).collect()
    } else {
        cfg.settings.iter().map(|k| k.trim().to_string()).collect()
    }
}

/// A value the instrument will get on a command line of its own.
pub fn check_setting_value(key: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.contains([';', '\n', '\r']) {
        return Err(DriverError::Config(format!(
            "setting `{key}`: value {value:?} must be one non-empty value without `;` or line breaks"
        )));
    }
    Ok(())
}

/// Equal as numbers when both are numbers (`10` and `+1.000E+01`), else
/// equal ignoring case and surrounding quotes.
pub fn same_value(a: &str, b: &str) -> bool {
    let (a, b) = (unquote(a), unquote(b));
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a.eq_ignore_ascii_case(b),
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(s).trim()
}

fn find<'a>(settings: &'a [Setting], key: &str) -> Option<&'a Setting> {
    settings.iter().find(|s| s.key.eq_ignore_ascii_case(key))
}

/// The profile against the instrument's current settings: every current
/// setting in the instrument's order, then profile keys it does not list.
pub fn diff(current: &[Setting], profile: &[Setting]) -> Vec<SettingDiff> {
    let mut out: Vec<SettingDiff> = current
        .iter()
        .map(|c| {
            let wanted = find(profile, &c.key).map(|p| p.value.clone());
            let changes = wanted.as_deref().is_some_and(|w| !same_value(w, &c.value));
            SettingDiff { key: c.key.clone(), current: Some(c.value.clone()), profile: wanted, changes }
        })
        .collect();
    for p in profile.iter().filter(|p| find(current, &p.key).is_none()) {
        out.push(SettingDiff { key: p.key.clone(), current: None, profile: Some(p.value.clone()), changes: true });
    }
    out
}

/// Pushes `profile`: reads the current settings, refuses a profile naming
/// a setting the instrument does not list (nothing sent), writes what
/// differs, reads back and verifies. If the instrument refuses a value,
/// the settings written before it are put back and the refusal returned.
pub async fn push_profile(driver: &mut dyn Driver, profile: &[Setting]) -> Result<PushReport> {
    let before = driver.read_settings().await?;
    let plan = diff(&before, profile);
    if let Some(unknown) = plan.iter().find(|d| d.current.is_none()) {
        let known: Vec<&str> = before.iter().map(|s| s.key.as_str()).collect();
        return Err(DriverError::Config(format!(
            "the profile sets `{}`, which this instrument does not list among its settings ({}); nothing was sent",
            unknown.key,
            known.join(", ")
        )));
    }
    let changed: Vec<SettingDiff> = plan.into_iter().filter(|d| d.changes).collect();
    let writes: Vec<Setting> =
        changed.iter().map(|d| Setting::new(d.key.clone(), d.profile.clone().unwrap_or_default())).collect();
    for w in &writes {
        check_setting_value(&w.key, &w.value)?;
    }
    if let Err(e) = driver.write_settings(&writes).await {
        if !e.is_link_failure() {
            let undo: Vec<Setting> =
                changed.iter().map(|d| Setting::new(d.key.clone(), d.current.clone().unwrap_or_default())).collect();
            if let Err(undo_err) = driver.write_settings(&undo).await {
                tracing::warn!("could not put the settings back after a refused push: {undo_err}");
            }
        }
        return Err(e);
    }
    let read_back = driver.read_settings().await?;
    let wrong: Vec<String> = writes
        .iter()
        .filter_map(|w| match find(&read_back, &w.key) {
            Some(r) if same_value(&r.value, &w.value) => None,
            Some(r) => Some(format!("`{}` is {} (pushed {})", w.key, r.value, w.value)),
            None => Some(format!("`{}` is no longer reported", w.key)),
        })
        .collect();
    if !wrong.is_empty() {
        return Err(DriverError::NotVerified(wrong.join("; ")));
    }
    Ok(PushReport { changed, read_back })
}

#[cfg(test)]
#[path = "control_sim_tests.rs"]
mod sim_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn s(k: &str, v: &str) -> Setting {
        Setting::new(k, v)
    }

    #[test]
    fn values_compare_as_numbers_or_words() {
        assert!(same_value("10", "+1.000E+01"));
        assert!(same_value("single", "SINGLE"));
        assert!(same_value("\"ON\"", "on"));
        assert!(!same_value("1", "10"));
    }

    #[test]
    fn diff_marks_changes_and_unknown_keys() {
        let current = [s(":A", "1"), s(":B", "ON")];
        let d = diff(&current, &[s(":a", "1.0"), s(":B", "OFF"), s(":C", "2")]);
        assert_eq!(d.len(), 3);
        assert!(!d[0].changes && d[1].changes && d[2].changes);
        assert_eq!(d[2].current, None);
        let d = diff(&current, &[]);
        assert!(d.iter().all(|d| !d.changes && d.profile.is_none()));
    }

    #[test]
    fn keys_and_values_are_checked() {
        let scpi = crate::families::scpi::FAMILY;
        let modbus = crate::families::modbus::FAMILY;
        assert!(check_setting_key(scpi, ":SAMPle:RATE").is_ok());
        assert!(check_setting_key(scpi, ":SAMP:RATE?").is_err());
        assert!(check_setting_key(scpi, ":A;*RST").is_err());
        assert!(check_setting_key(modbus, "1000").is_ok());
        assert!(check_setting_key(modbus, "x").is_err());
        assert!(check_setting_value(":A", "1;*RST").is_err());
        assert!(check_setting_value(":A", " ").is_err());
    }
}
