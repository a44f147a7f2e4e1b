//! The window's settings (language, time zone, theme): defaults, checks,
//! and their JSON form in the store's settings table.

use std::path::Path;

use super::error::{DeskError, DeskResult};
use super::views::UiSettings;
use crate::model::Text;

/// Settings key holding [`UiSettings`] as JSON.
pub const UI_SETTINGS_KEY: &str = crate::notify::locale::UI_SETTINGS_KEY;
/// The languages with translation files (locales/).
pub const LANGUAGES: [&str; 3] = meterdeck_wire::i18n::LANGUAGES;
pub const THEMES: [&str; 2] = ["light", "dark"];

impl UiSettings {
    /// English, the system's time zone, light theme.
    pub fn system_default() -> UiSettings {
        UiSettings { language: "en".into(), timezone: system_timezone(), theme: "light".into() }
    }

    pub fn validate(&self) -> DeskResult<()> {
        if !LANGUAGES.contains(&self.language.as_str()) {
            return Err(DeskError::Invalid(Text::new("err-desk-language").arg("got", &self.language)));
        }
        if !THEMES.contains(&self.theme.as_str()) {
            return Err(DeskError::Invalid(Text::new("err-desk-theme").arg("got", &self.theme)));
        }
        check_timezone(&self.timezone, Path::new("/usr/share/zoneinfo"))
    }
}

/// Reads the stored JSON; missing or damaged values fall back to the defaults
/// field by field so one bad field does not lose the others.
pub fn parse_stored(text: Option<&str>) -> UiSettings {
    let mut s = UiSettings::system_default();
    let Some(v) = text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()) else {
        return s;
    };
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(l) = get("language").filter(|l| LANGUAGES.contains(&l.as_str())) {
        s.language = l;
    }
    if let Some(t) = get("theme").filter(|t| THEMES.contains(&t.as_str())) {
        s.theme = t;
    }
    if let Some(z) = get("timezone").filter(|z| check_timezone(z, Path::new("/usr/share/zoneinfo")).is_ok()) {
        s.timezone = z;
    }
    s
}

/// An IANA name like `Asia/Tokyo` or `UTC`. When the system has a zone
/// database the name must be in it.
pub fn check_timezone(tz: &str, zoneinfo: &Path) -> DeskResult<()> {
    let bad = || DeskError::Invalid(Text::new("err-desk-time-zone").arg("tz", tz));
    let well_formed = !tz.is_empty()
        && tz.len() <= 64
        && !tz.starts_with('/')
        && !tz.split('/').any(|p| p.is_empty() || p == "." || p == "..")
        && tz.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if !well_formed {
        return Err(bad());
    }
    if tz == "UTC" || !zoneinfo.is_dir() || zoneinfo.join(tz).is_file() { Ok(()) } else { Err(bad()) }
}

/// `TZ`, else `/etc/timezone`, else the `/etc/localtime` link, else `UTC`.
pub fn system_timezone() -> String {
    let zoneinfo = Path::new("/usr/share/zoneinfo");
    let ok = |z: &str| check_timezone(z, zoneinfo).is_ok();
    if let Ok(tz) = std::env::var("TZ") {
        let tz = tz.trim().trim_start_matches(':');
        let tz = tz.strip_prefix("/usr/share/zoneinfo/").unwrap_or(tz);
        if ok(tz) {
            return tz.to_string();
        }
    }
    if let Ok(text) = std::fs::read_to_string("/etc/timezone") {
        let tz = text.trim();
        if ok(tz) {
            return tz.to_string();
        }
    }
    if let Ok(target) = std::fs::read_link("/etc/localtime") {
        let s = target.to_string_lossy();
        if let Some((_, tz)) = s.split_once("zoneinfo/")
            && ok(tz)
        {
            return tz.to_string();
        }
    }
    "UTC".to_string()
}
