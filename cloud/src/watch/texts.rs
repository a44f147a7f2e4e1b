//! Every text the offline monitor mails or stores, in one place (to move
//! into the Fluent files with the rest).

use crate::store::TimeMs;

/// How long, in words: "5 min 3 s".
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

fn utc(t: TimeMs) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// What a cloud alarm record says (its `message`).
pub fn offline_message(name: &str, silent_since: TimeMs, now: TimeMs) -> String {
    format!("agent {name} has been silent for {} (since {})", span(now - silent_since), utc(silent_since))
}

pub fn online_message(name: &str, offline_since: Option<TimeMs>, now: TimeMs) -> String {
    match offline_since {
        Some(t) => format!("agent {name} is back online after {} offline", span(now - t)),
        None => format!("agent {name} is back online"),
    }
}

pub fn offline_subject(name: &str) -> String {
    format!("Meterdeck: agent {name} is offline")
}

pub fn online_subject(name: &str) -> String {
    format!("Meterdeck: agent {name} is back online")
}

#[allow(clippy::too_many_arguments)]
pub fn offline_body(
    name: &str,
    id: &str,
    account: &str,
    silent_since: TimeMs,
    now: TimeMs,
    after_s: u64,
    url: &str,
) -> String {
    format!(
        "Agent {name} ({id}) of account {account} has not been heard from since {since} ({silent}; the account's \
         limit is {limit}).\n\nIts connection to the cloud ended or it stopped sending. It keeps measuring and \
         buffering locally if it still runs: check its power, its network and the meterdeck-agent service. \
         You get another mail when it is back.\n\n{url}\n",
        since = utc(silent_since),
        silent = span(now - silent_since),
        limit = span(after_s as i64 * 1000),
    )
}

pub fn online_body(
    name: &str,
    id: &str,
    account: &str,
    offline_since: Option<TimeMs>,
    now: TimeMs,
    url: &str,
) -> String {
    let was = offline_since.map(|t| format!(" after {} offline", span(now - t))).unwrap_or_default();
    format!(
        "Agent {name} ({id}) of account {account} is back online{was} ({at}).\n\nWhat it measured meanwhile \
         reaches the cloud by itself from its local buffer.\n\n{url}\n",
        at = utc(now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(4_999), "4 s");
        assert_eq!(span(303_000), "5 min 3 s");
        assert_eq!(span(7_260_000), "2 h 1 min");
        assert_eq!(span(-5), "0 s");
    }
}
