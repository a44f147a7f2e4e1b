//! Every text the offline monitor mails or stores. The mails are in each
//! recipient's language and time zone (locales/*/mail.ftl); the alarm
//! records keep English with UTC, like the other site records.

use crate::mail::{Recipient, tr};
use crate::store::TimeMs;

/// How long, in words: "5 min 3 s".
pub fn span(ms: i64, lang: &str) -> String {
    let s = ms.max(0) / 1000;
    let (h, min, sec) = ((s / 3600).to_string(), (s % 3600 / 60).to_string(), (s % 60).to_string());
    match s {
        s if s >= 3600 => tr(lang, "mail-span-h-min", &[("h", &h), ("min", &min)]),
        s if s >= 60 => tr(lang, "mail-span-min-s", &[("min", &(s / 60).to_string()), ("s", &sec)]),
        _ => tr(lang, "mail-span-s", &[("s", &sec)]),
    }
}

fn utc(t: TimeMs) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// What a cloud alarm record says (its `message`).
pub fn offline_message(name: &str, silent_since: TimeMs, now: TimeMs) -> String {
    format!("agent {name} has been silent for {} (since {})", span(now - silent_since, "en"), utc(silent_since))
}

pub fn online_message(name: &str, offline_since: Option<TimeMs>, now: TimeMs) -> String {
    match offline_since {
        Some(t) => format!("agent {name} is back online after {} offline", span(now - t, "en")),
        None => format!("agent {name} is back online"),
    }
}

/// The agent-offline mail for `r`: subject and body.
#[allow(clippy::too_many_arguments)]
pub fn offline_mail(
    r: &Recipient,
    name: &str,
    id: &str,
    account: &str,
    silent_since: TimeMs,
    now: TimeMs,
    after_s: u64,
    url: &str,
) -> (String, String) {
    let (since, silent, limit) = (
        crate::mail::time_in(silent_since, r.zone),
        span(now - silent_since, r.lang),
        span(after_s as i64 * 1000, r.lang),
    );
    let args =
        [("name", name), ("id", id), ("account", account), ("since", &since), ("silent", &silent), ("limit", &limit)];
    let body =
        format!("{}\n\n{}\n\n{url}\n", tr(r.lang, "mail-offline-what", &args), tr(r.lang, "mail-offline-then", &[]));
    (tr(r.lang, "mail-offline-subject", &args), body)
}

/// The back-online mail for `r`: subject and body.
pub fn online_mail(
    r: &Recipient,
    name: &str,
    id: &str,
    account: &str,
    offline_since: Option<TimeMs>,
    now: TimeMs,
    url: &str,
) -> (String, String) {
    let at = crate::mail::time_in(now, r.zone);
    let offline = offline_since.map(|t| span(now - t, r.lang)).unwrap_or_default();
    let args = [("name", name), ("id", id), ("account", account), ("at", &at), ("offline", &offline)];
    let what = if offline_since.is_some() { "mail-online-what-after" } else { "mail-online-what" };
    let body = format!("{}\n\n{}\n\n{url}\n", tr(r.lang, what, &args), tr(r.lang, "mail-online-then", &[]));
    (tr(r.lang, "mail-online-subject", &args), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(4_999, "en"), "4 s");
        assert_eq!(span(303_000, "en"), "5 min 3 s");
        assert_eq!(span(7_260_000, "en"), "2 h 1 min");
        assert_eq!(span(-5, "en"), "0 s");
        assert_eq!(span(303_000, "ja"), "5 分 3 秒");
    }

    #[test]
    fn the_offline_mail_is_in_the_recipients_language_and_zone() {
        let r = Recipient { user: "u".into(), email: "u@x".into(), lang: "de", zone: chrono_tz::Tz::Europe__Berlin };
        let t0 = 1_765_130_400_000; // 2025-12-07 18:00 UTC
        let (subject, body) = offline_mail(&r, "Kessel", "a1", "acme", t0, t0 + 303_000, 300, "https://x");
        assert_eq!(subject, "Meterdeck: Agent Kessel ist offline");
        assert!(body.contains("2025-12-07 19:00 CET (UTC+01:00)"), "{body}");
        assert!(body.contains("5 min 3 s"), "{body}");
        let en = Recipient { lang: "en", zone: chrono_tz::Tz::UTC, ..r };
        let (subject, body) = online_mail(&en, "boiler", "a1", "acme", Some(t0), t0 + 60_000, "https://x");
        assert_eq!(subject, "Meterdeck: agent boiler is back online");
        assert!(body.contains("after 1 min 0 s offline"), "{body}");
    }
}
