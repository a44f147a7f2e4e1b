//! The cloud's own alarms (issue 16, SPEC 5.2): agent offline, traffic at
//! 90 % and at 100 % of the month's allowance, storage over the plan. Each
//! is raised once per episode (a row per episode, `store::alarms`), sent to
//! every destination of the account (`settings`): mail in each admin's
//! language and zone, listed addresses and webhooks in the account's; and
//! reminded every `remind_every_min` until someone acknowledges it or the
//! condition clears. Every send is claimed with a compare-and-set first, so
//! with several cloud processes running the monitor exactly one sends each
//! message. The back-online notice goes to the same destinations, once.

pub mod seal;
pub mod send;
pub mod settings;
pub mod texts;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::state::MailConfig;
use crate::store::alarms::{AGENT_OFFLINE, CloudAlarm, TRAFFIC_90, TRAFFIC_100};
use crate::store::{Storage, TimeMs};
pub use seal::SealKey;
pub use settings::Settings;

/// What sending needs: the mail server, the key that opens the settings,
/// the view-link key (offline alarms carry a link), an HTTP client.
#[derive(Clone)]
pub struct Notifier {
    pub mail: Option<MailConfig>,
    pub seal: Option<SealKey>,
    pub link_key: Option<crate::viewlink::LinkKey>,
    pub http: reqwest::Client,
}

impl Notifier {
    pub fn new(
        mail: Option<MailConfig>,
        seal: Option<SealKey>,
        link_key: Option<crate::viewlink::LinkKey>,
    ) -> Notifier {
        Notifier { mail, seal, link_key, http: send::client() }
    }
}

/// A new episode's row (id random; not yet sent).
pub fn episode(
    account: &str,
    agent: Option<&str>,
    kind: &str,
    episode: String,
    now: TimeMs,
    body: serde_json::Value,
) -> CloudAlarm {
    CloudAlarm {
        id: format!("{:032x}", rand::random::<u128>()),
        account: account.to_owned(),
        agent: agent.map(str::to_owned),
        kind: kind.to_owned(),
        episode,
        raised_ms: now,
        cleared_ms: None,
        sends: 0,
        last_sent_ms: None,
        ack: None,
        body,
    }
}

/// `2026-12`: the UTC month of `t` (traffic allowances are per UTC month).
pub fn month(t: TimeMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(t).unwrap_or_default().format("%Y-%m").to_string()
}

/// Raises `a` and, when this call made the episode, sends it at once.
/// True when this call raised it.
pub async fn raise(store: &dyn Storage, n: &Notifier, a: &CloudAlarm, now: TimeMs) -> crate::store::Result<bool> {
    if !store.alarms().raise(a).await? {
        return Ok(false);
    }
    info!(account = %a.account, agent = a.agent.as_deref().unwrap_or("-"), kind = %a.kind, "cloud alarm raised");
    let settings = settings::load(store, n.seal.as_ref(), &a.account).await?;
    if store.alarms().claim_send(&a.id, None, now).await? {
        send::alarm(store, n, &settings, a, 1, now).await;
    }
    Ok(true)
}

/// One look at every open episode at `now`: clears traffic alarms of a past
/// month, then sends what is due (a first message not sent yet, a reminder
/// whose interval passed). Returns (alarm id, message number) of what this
/// call sent.
pub async fn deliver_due(store: &dyn Storage, n: &Notifier, now: TimeMs) -> crate::store::Result<Vec<(String, u32)>> {
    let mut settings: HashMap<String, Settings> = HashMap::new();
    let mut sent = Vec::new();
    let this_month = month(now);
    for a in store.alarms().open_alarms().await? {
        if matches!(a.kind.as_str(), TRAFFIC_90 | TRAFFIC_100) && a.episode < this_month {
            store.alarms().clear(&a.account, a.agent.as_deref(), &a.kind, Some(&this_month), now).await?;
            continue;
        }
        if !settings.contains_key(&a.account) {
            let s = settings::load(store, n.seal.as_ref(), &a.account).await?;
            settings.insert(a.account.clone(), s);
        }
        let s = &settings[&a.account];
        let due = match (a.last_sent_ms, s.remind_every_ms()) {
            (None, _) => true,
            (Some(last), Some(every)) => now >= last.saturating_add(every),
            (Some(_), None) => false,
        };
        if !due || !store.alarms().claim_send(&a.id, a.last_sent_ms, now).await? {
            continue;
        }
        let number = a.sends + 1;
        send::alarm(store, n, s, &a, number, now).await;
        sent.push((a.id.clone(), number));
    }
    Ok(sent)
}

/// The agent is back: its offline episode clears (no more reminders) and
/// the account's destinations hear it once. `offline_since`: when the
/// offline alarm was raised.
pub async fn agent_back(
    store: &dyn Storage,
    n: &Notifier,
    p: &crate::store::records::PresenceRow,
    offline_since: Option<TimeMs>,
    now: TimeMs,
) -> crate::store::Result<()> {
    store.alarms().clear(&p.account, Some(&p.agent), AGENT_OFFLINE, None, now).await?;
    let settings = settings::load(store, n.seal.as_ref(), &p.account).await?;
    send::online(store, n, &settings, p, offline_since, now).await;
    Ok(())
}

/// Acknowledges a cloud alarm of `account` (who, when, comment): reminders
/// stop. `Ok(false)` when someone acknowledged it first.
pub async fn acknowledge(
    store: &dyn Storage,
    account: &str,
    id: &str,
    user: &str,
    comment: Option<&str>,
    now: TimeMs,
) -> crate::store::Result<bool> {
    let done = store.alarms().ack(account, id, user, comment, now).await?;
    if done {
        info!(account, alarm = id, user, "cloud alarm acknowledged; no more reminders");
    } else {
        warn!(account, alarm = id, user, "cloud alarm acknowledged already");
    }
    Ok(done)
}
