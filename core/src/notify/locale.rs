//! The language and time zone a notification is written in: the window's
//! settings (language, time zone) as the desk stores them. Titles and bodies
//! come from the translation files (`locales/<lang>/core.ftl`) through
//! `meterdeck_wire::i18n::tr`; times are shown in the zone with its offset.

use chrono::TimeZone;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::TimeMs;
use crate::store::Store;

/// Settings key holding the window's settings as JSON (the desk's
/// `UiSettings`: `language`, `timezone`, `theme`).
pub const UI_SETTINGS_KEY: &str = "desk.ui_settings";

/// A language Meterdeck has (`en`, `ja`, `de`) and an IANA time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locale {
    pub lang: String,
    pub zone: String,
}

impl Default for Locale {
    /// English, UTC.
    fn default() -> Locale {
        Locale { lang: "en".into(), zone: "UTC".into() }
    }
}

impl Locale {
    /// `lang` if Meterdeck has it (else English) and `zone` if it is a known
    /// IANA zone (else UTC).
    pub fn new(lang: &str, zone: &str) -> Locale {
        let zone = zone.parse::<Tz>().map(|z| z.name().to_string()).unwrap_or_else(|_| "UTC".into());
        Locale { lang: meterdeck_wire::i18n::language(lang).to_string(), zone }
    }

    /// From the stored settings JSON; missing or bad fields take the defaults.
    pub fn of_settings(json: Option<&str>) -> Locale {
        let v = json.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
        let get = |k: &str| v.as_ref().and_then(|v| v.get(k)).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        Locale::new(&get("language"), &get("timezone"))
    }

    /// The settings in `store` (defaults when it cannot be read).
    pub fn of_store(store: &Store) -> Locale {
        Locale::of_settings(store.setting(UI_SETTINGS_KEY).ok().flatten().as_deref())
    }

    /// The message `key` in this language (see `meterdeck_wire::i18n::tr`).
    pub fn tr(&self, key: &str, args: &[(&str, &str)]) -> String {
        meterdeck_wire::i18n::tr(&self.lang, key, args)
    }

    /// A severity code (`critical`) as the reader reads it (`Kritisch`, `緊急`);
    /// English keeps the code, as mails and webhooks always showed it.
    pub fn severity(&self, sev: &str) -> String {
        if self.lang == "en" { sev.to_string() } else { self.tr(&format!("sev.{sev}"), &[]) }
    }

    /// `t` in this zone as RFC 3339 with the zone's offset:
    /// `2026-12-07T14:05:09+01:00` in Europe/Berlin, `2026-12-07T13:05:09Z` in UTC.
    pub fn time(&self, t: TimeMs) -> String {
        let tz: Tz = self.zone.parse().unwrap_or(Tz::UTC);
        match tz.timestamp_millis_opt(t).single() {
            Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => t.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_settings_and_falls_back() {
        let l = Locale::of_settings(Some(r#"{"language":"de","timezone":"Europe/Berlin","theme":"dark"}"#));
        assert_eq!(l, Locale { lang: "de".into(), zone: "Europe/Berlin".into() });
        assert_eq!(Locale::of_settings(Some(r#"{"language":"xx","timezone":"Mars/Base"}"#)), Locale::default());
        assert_eq!(Locale::of_settings(Some("not json")), Locale::default());
        assert_eq!(Locale::of_settings(None), Locale::default());
    }

    #[test]
    fn times_show_the_zone_and_its_offset() {
        // 2026-01-15 12:00:00 UTC
        let t = 1_768_478_400_000;
        assert_eq!(Locale::new("de", "Europe/Berlin").time(t), "2026-01-15T13:00:00+01:00");
        assert_eq!(Locale::new("ja", "Asia/Tokyo").time(t), "2026-01-15T21:00:00+09:00");
        assert_eq!(Locale::default().time(t), "2026-01-15T12:00:00Z");
    }

    #[test]
    fn titles_come_from_the_translation_files() {
        let name = [("name", "Kessel")];
        assert_eq!(Locale::new("de", "UTC").tr("notify-alarm-return", &name), "Wieder normal: Kessel");
        assert_eq!(Locale::new("en", "UTC").tr("notify-alarm-return", &name), "Returned to normal: Kessel");
        assert_eq!(Locale::new("ja", "UTC").tr("notify-alarm-return", &name), "正常に復帰: Kessel");
    }
}
