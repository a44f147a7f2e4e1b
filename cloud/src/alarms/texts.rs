//! What a cloud alarm says, for one reader (language and zone): a title, what
//! happened, what to do, and for webhooks the facts. Mails and webhooks
//! read the same words (locales/*/mail.ftl).

use chrono_tz::Tz;

use crate::mail::tr;
use crate::store::TimeMs;
use crate::store::alarms::{AGENT_OFFLINE, CloudAlarm, STORAGE_OVER, TRAFFIC_90, TRAFFIC_100};
use crate::watch::texts::span;

/// The words of one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Words {
    pub title: String,
    pub what: String,
    pub then: String,
}

fn s<'a>(a: &'a CloudAlarm, k: &str) -> &'a str {
    a.body[k].as_str().unwrap_or_default()
}

fn n(a: &CloudAlarm, k: &str) -> i64 {
    a.body[k].as_i64().unwrap_or_default()
}

/// The alarm as `lang`/`zone` reads it at `now`.
pub fn words(a: &CloudAlarm, lang: &str, zone: Tz, now: TimeMs) -> Words {
    let agent = a.agent.clone().unwrap_or_default();
    match a.kind.as_str() {
        AGENT_OFFLINE => {
            let since = n(a, "silent_since");
            let (since_t, silent, limit) = (
                crate::mail::time_in(since, zone),
                span(now - since, lang),
                span(n(a, "offline_after_s").saturating_mul(1000), lang),
            );
            let args = [
                ("name", s(a, "name")),
                ("id", &agent),
                ("account", &a.account),
                ("since", &since_t),
                ("silent", &silent),
                ("limit", &limit),
            ];
            Words {
                title: tr(lang, "mail-offline-subject", &args),
                what: tr(lang, "mail-offline-what", &args),
                then: tr(lang, "mail-offline-then", &[]),
            }
        }
        TRAFFIC_90 | TRAFFIC_100 => {
            let (used, allowance) = (human_bytes(n(a, "bytes")), human_bytes(n(a, "allowance")));
            let pct = n(a, "percent").to_string();
            let args = [
                ("name", s(a, "name")),
                ("id", &agent),
                ("account", &a.account),
                ("used", &used),
                ("allowance", &allowance),
                ("percent", &pct),
            ];
            let (what, then) = if a.kind == TRAFFIC_100 {
                ("mail-traffic-full", "mail-traffic-full-then")
            } else {
                ("mail-traffic-near", "mail-traffic-near-then")
            };
            Words {
                title: tr(lang, "mail-traffic-subject", &args),
                what: tr(lang, what, &args),
                then: tr(lang, then, &[]),
            }
        }
        STORAGE_OVER => {
            let (used, cap) = (human_bytes(n(a, "used")), human_bytes(n(a, "cap")));
            let deadline = crate::mail::time_in(n(a, "deadline"), zone);
            let args = [
                ("account", a.account.as_str()),
                ("used", &used),
                ("plan", s(a, "plan")),
                ("cap", &cap),
                ("deadline", &deadline),
            ];
            Words {
                title: tr(lang, "mail-over-subject", &args),
                what: tr(lang, "mail-over", &args),
                then: String::new(),
            }
        }
        other => Words { title: format!("Meterdeck: {other}"), what: a.body.to_string(), then: String::new() },
    }
}

/// A reminder's title and the line that says so.
pub fn reminder(w: Words, lang: &str, zone: Tz, raised: TimeMs, n: u32) -> Words {
    let (since, count) = (crate::mail::time_in(raised, zone), n.to_string());
    let args = [("subject", w.title.as_str()), ("since", &since), ("n", &count)];
    Words {
        title: tr(lang, "mail-reminder-subject", &args),
        what: format!("{}\n\n{}", tr(lang, "mail-reminder-what", &args), w.what),
        then: w.then,
    }
}

/// The hint under an alarm that is reminded until acknowledged.
pub fn ack_hint(lang: &str, every_min: u32) -> String {
    tr(lang, "mail-alarm-ack-hint", &[("every", &every_min.to_string())])
}

/// `2026-12-07T14:05:09+01:00`: a time in a webhook's facts.
pub fn rfc3339_in(t: TimeMs, zone: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.with_timezone(&zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

pub fn human_bytes(b: i64) -> String {
    crate::traffic_notice::human_bytes(u64::try_from(b).unwrap_or(0))
}
