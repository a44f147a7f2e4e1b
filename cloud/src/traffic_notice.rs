//! The cloud's side of the 90 % traffic notice (SPEC 3.4): when a payload
//! takes an agent's month to 90 % (or 100 %) of its allowance, a cloud alarm
//! goes to the account's destinations (issue 16) and the log a warning. The
//! agent raises its own notice too; this one reaches the people who run
//! the account, whichever machine the agent is on.
//!
//! Storage returns the month's total counted in the payload's own
//! transaction, so exactly one payload sees the crossing, however many
//! ingest workers or processes run.

use serde_json::json;
use tracing::warn;

use crate::alarms::Notifier;
use crate::store::alarms::{TRAFFIC_90, TRAFFIC_100};
use crate::store::{MonthTraffic, Storage, TimeMs};

/// True when the payload of `payload_bytes` is the one that took the month
/// from under 90 % of the allowance to 90 % or more.
pub fn crossed(t: MonthTraffic, payload_bytes: u64) -> bool {
    crossed_percent(t, payload_bytes, 90)
}

/// True when the payload took the month to the whole allowance: the
/// gateway stops sending until the next month or a card.
pub fn crossed_full(t: MonthTraffic, payload_bytes: u64) -> bool {
    crossed_percent(t, payload_bytes, 100)
}

fn crossed_percent(t: MonthTraffic, payload_bytes: u64, percent: u128) -> bool {
    if t.allowance == 0 {
        return false;
    }
    let threshold = u128::from(t.allowance) * percent / 100;
    let after = u128::from(t.bytes);
    let before = after.saturating_sub(u128::from(payload_bytes));
    before < threshold && after >= threshold
}

/// Raises the month's traffic alarm of the agent (90 % or, when the
/// payload took it to the whole allowance, 100 %; that one supersedes the
/// 90 % one): once per month, sent to the account's destinations and
/// reminded until acknowledged (`crate::alarms`). Failures are logged,
/// never returned (a notice must not hold up ingest).
pub async fn notify(store: &dyn Storage, notifier: &Notifier, agent_id: &str, t: MonthTraffic, now: TimeMs) {
    let agent = match store.agent(agent_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(e) => return warn!(agent = agent_id, "traffic notice: cannot read the agent: {e}"),
    };
    let percent = t.bytes.saturating_mul(100) / t.allowance.max(1);
    warn!(
        agent = agent_id,
        account = %agent.account,
        bytes = t.bytes,
        allowance = t.allowance,
        "agent {:?} has used {percent} % of its monthly traffic allowance",
        agent.name
    );
    let kind = if percent >= 100 { TRAFFIC_100 } else { TRAFFIC_90 };
    let month = crate::alarms::month(now);
    let body = json!({"name": agent.name, "bytes": t.bytes, "allowance": t.allowance, "percent": percent});
    let a = crate::alarms::episode(&agent.account, Some(&agent.id), kind, month.clone(), now, body);
    if kind == TRAFFIC_100
        && let Err(e) = store.alarms().clear(&agent.account, Some(&agent.id), TRAFFIC_90, None, now).await
    {
        warn!(agent = agent_id, "traffic notice: cannot clear the 90 % alarm: {e}");
    }
    if let Err(e) = crate::alarms::raise(store, notifier, &a, now).await {
        warn!(agent = agent_id, "traffic notice: cannot raise the alarm: {e}");
    }
}

pub fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bytes: u64, allowance: u64) -> MonthTraffic {
        MonthTraffic { bytes, allowance }
    }

    #[test]
    fn only_the_payload_that_reaches_90_percent_crosses() {
        assert!(crossed(t(900, 1000), 10)); // 890 -> 900
        assert!(crossed(t(950, 1000), 100)); // 850 -> 950
        assert!(!crossed(t(899, 1000), 10)); // still under
        assert!(!crossed(t(910, 1000), 10)); // was already over
        assert!(crossed(t(5000, 1000), 5000)); // one huge payload from 0
        assert!(!crossed(t(5000, 0), 5000)); // no allowance: no notice
        assert!(crossed(t(u64::MAX, u64::MAX), u64::MAX)); // no overflow
        assert!(crossed_full(t(1000, 1000), 10) && !crossed_full(t(999, 1000), 10) && !crossed_full(t(1010, 1000), 10));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(900_000_000), "900.0 MB");
        assert_eq!(human_bytes(5_000_000_000), "5.00 GB");
    }
}
