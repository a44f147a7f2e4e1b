//! The offline monitor (issue 16, SPEC 5.2): an agent silent for longer
//! than its account allows raises an "agent offline" alarm once, and "back
//! online" when it returns; both are stored as the agent's cloud alarm
//! records. The offline alarm is a cloud alarm episode (`crate::alarms`):
//! sent to the account's destinations and reminded until acknowledged or
//! the agent is back; the back-online notice goes to the same destinations.
//! Each tick also sends whatever cloud alarm (traffic, storage) is due.
//!
//! "Silent" combines the agent's presence (`md/v1/<agent>/up/status`: its
//! retained "online" on every connection, the broker's last will or its
//! goodbye "offline") with the time of its last batch:
//!
//! - an agent whose last presence says online is connected: not silent;
//! - otherwise its last sign of life is the later of its last batch and its
//!   last presence message; it is silent once that is `offline_after` old;
//! - an agent that never sent a presence message (older agents) is judged
//!   by its last batch alone; one never heard of is not watched.
//!
//! Every process runs the monitor; the store's compare-and-set makes
//! exactly one of them see each transition, and only that one mails. The
//! clock is injected ([`Clock`]), so tests move time.

pub mod texts;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tracing::{info, warn};

use crate::auth::Clock;
use crate::state::MailConfig;
use crate::store::alarms::AGENT_OFFLINE;
use crate::store::records::{DEFAULT_OFFLINE_AFTER_S, PresenceRow};
use crate::store::{Storage, TimeMs};

/// What the monitor decided for one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Silent since this time: raise the offline alarm.
    Offline { silent_since: TimeMs },
    /// The offline alarm stands but the agent is back.
    Online,
}

/// The rule above, for one agent at `now`.
pub fn decide(p: &PresenceRow, now: TimeMs, default_after_s: u64) -> Option<Change> {
    let after_ms = i64::try_from(p.offline_after_s.unwrap_or(default_after_s).saturating_mul(1000)).unwrap_or(i64::MAX);
    let last = [p.last_batch_ms, p.status_ms].into_iter().flatten().max()?;
    let connected = p.online == Some(true);
    let silent = !connected && now.saturating_sub(last) >= after_ms;
    match (silent, p.offline_alarm) {
        (true, false) => Some(Change::Offline { silent_since: last }),
        (false, true) => Some(Change::Online),
        _ => None,
    }
}

#[derive(Clone)]
pub struct WatchOptions {
    /// How often every agent is looked at.
    pub every: Duration,
    /// The silence allowed when an account set none.
    pub default_offline_after_s: u64,
    pub mail: Option<MailConfig>,
    /// Signs the view-only link an offline mail carries (none without it).
    pub link_key: Option<crate::viewlink::LinkKey>,
    /// Opens the accounts' alarm settings (webhook destinations); without
    /// it alarms go to the admins by mail only.
    pub seal: Option<crate::alarms::SealKey>,
}

impl WatchOptions {
    pub fn notifier(&self) -> crate::alarms::Notifier {
        crate::alarms::Notifier::new(self.mail.clone(), self.seal.clone(), self.link_key.clone())
    }
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            every: Duration::from_secs(5),
            default_offline_after_s: DEFAULT_OFFLINE_AFTER_S,
            mail: None,
            link_key: None,
            seal: None,
        }
    }
}

/// Runs until aborted.
pub async fn run(store: Arc<dyn Storage>, clock: Arc<dyn Clock>, opts: WatchOptions) {
    let notifier = opts.notifier();
    let mut tick = tokio::time::interval(opts.every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = check_with(&*store, clock.now_ms(), &opts, &notifier).await {
            warn!("offline monitor: {e}");
        }
        if let Err(e) = crate::alarms::deliver_due(&*store, &notifier, clock.now_ms()).await {
            warn!("cloud alarms: {e}");
        }
    }
}

/// One look at every agent at `now`; returns the transitions this call
/// made (and sent).
pub async fn check(
    store: &dyn Storage,
    now: TimeMs,
    opts: &WatchOptions,
) -> crate::store::Result<Vec<(String, Change)>> {
    check_with(store, now, opts, &opts.notifier()).await
}

async fn check_with(
    store: &dyn Storage,
    now: TimeMs,
    opts: &WatchOptions,
    notifier: &crate::alarms::Notifier,
) -> crate::store::Result<Vec<(String, Change)>> {
    let mut made = Vec::new();
    for p in store.records().presences().await? {
        let Some(change) = decide(&p, now, opts.default_offline_after_s) else { continue };
        let after_s = p.offline_after_s.unwrap_or(opts.default_offline_after_s);
        let (offline, body) = match change {
            Change::Offline { silent_since } => (
                true,
                json!({"alarm": "agent_offline", "silent_since": silent_since, "offline_after_s": after_s,
                       "message": texts::offline_message(&p.name, silent_since, now)}),
            ),
            Change::Online => (
                false,
                json!({"alarm": "agent_online", "offline_since": p.alarm_ms,
                       "message": texts::online_message(&p.name, p.alarm_ms, now)}),
            ),
        };
        match store.records().set_offline_alarm(&p.agent, offline, now, &body).await {
            Ok(true) => {
                info!(agent = %p.agent, account = %p.account, "{}", body["message"].as_str().unwrap_or_default());
                let sent = match change {
                    Change::Offline { silent_since } => {
                        let a = crate::alarms::episode(
                            &p.account,
                            Some(&p.agent),
                            AGENT_OFFLINE,
                            silent_since.to_string(),
                            now,
                            json!({"name": p.name, "silent_since": silent_since, "offline_after_s": after_s}),
                        );
                        crate::alarms::raise(store, notifier, &a, now).await.map(|_| ())
                    }
                    Change::Online => crate::alarms::agent_back(store, notifier, &p, p.alarm_ms, now).await,
                };
                if let Err(e) = sent {
                    warn!(agent = %p.agent, "offline monitor: the cloud alarm was recorded but not sent: {e}");
                }
                made.push((p.agent.clone(), change));
            }
            // Another process made this transition (and sends it).
            Ok(false) => {}
            Err(e) => warn!(agent = %p.agent, "offline monitor: cannot record the alarm: {e}"),
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    fn row(last_batch: Option<i64>, online: Option<bool>, status: Option<i64>, alarm: bool) -> PresenceRow {
        PresenceRow {
            agent: "a1".into(),
            account: "acme".into(),
            name: "site".into(),
            last_batch_ms: last_batch,
            online,
            status_ms: status,
            offline_alarm: alarm,
            alarm_ms: None,
            offline_after_s: Some(60),
        }
    }

    #[test]
    fn silence_raises_once_and_return_clears() {
        // Never heard of: not watched.
        assert_eq!(decide(&row(None, None, None, false), 1_000_000, 300), None);
        // Old agent (no presence): judged by its last batch.
        assert_eq!(decide(&row(Some(0), None, None, false), 59_999, 300), None);
        assert_eq!(decide(&row(Some(0), None, None, false), 60_000, 300), Some(Change::Offline { silent_since: 0 }));
        // Raised already: nothing more while silent.
        assert_eq!(decide(&row(Some(0), None, None, true), 600_000, 300), None);
        // Connected: never silent, however old its last batch; clears a standing alarm.
        assert_eq!(decide(&row(Some(0), Some(true), Some(10), false), 10_000_000, 300), None);
        assert_eq!(decide(&row(Some(0), Some(true), Some(10), true), 10_000_000, 300), Some(Change::Online));
        // The last will: silent from the later of the will and the last batch.
        assert_eq!(decide(&row(Some(1_000), Some(false), Some(5_000), false), 64_999, 300), None);
        assert_eq!(
            decide(&row(Some(1_000), Some(false), Some(5_000), false), 65_000, 300),
            Some(Change::Offline { silent_since: 5_000 })
        );
        // A batch after the alarm (an agent without presence) clears it.
        assert_eq!(decide(&row(Some(100_000), None, None, true), 100_500, 300), Some(Change::Online));
        // The account's setting, else the default.
        let mut r = row(Some(0), None, None, false);
        r.offline_after_s = None;
        assert_eq!(decide(&r, 299_999, 300), None);
        assert!(decide(&r, 300_000, 300).is_some());
        r.offline_after_s = Some(u64::MAX);
        assert_eq!(decide(&r, i64::MAX - 1, 300), None, "no overflow");
    }

    /// The monitor over a real SQLite store with an injected time: the
    /// offline alarm is raised once at exactly the configured silence, and
    /// cleared when the agent says it is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_monitor_over_a_store_raises_once_and_clears() {
        use crate::store::{Account, Agent, AgentSync, TwoFactor, User};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::open(&format!("sqlite:{}", dir.path().join("c.db").display())).await.unwrap();
        let account = Account {
            id: "acme".into(),
            name: "Acme".into(),
            plan: "standard".into(),
            ip_allow: vec![],
            traffic_allowance: 0,
            created_ms: 0,
        };
        let admin = User {
            account: "acme".into(),
            id: "alice".into(),
            name: "Alice".into(),
            email: "alice@acme.test".into(),
            role: Role::Admin,
            password_hash: "x".into(),
            must_change: false,
            two_factor: TwoFactor::None,
            totp_secret: None,
            created_ms: 0,
        };
        store.create_account(&account, &admin).await.unwrap();
        let agent = Agent {
            id: "a1".into(),
            account: "acme".into(),
            name: "Site A".into(),
            secret_hash: "x".into(),
            broker_hash: "x".into(),
            created_ms: 0,
            sync: AgentSync::default(),
        };
        store.insert_agent(&agent).await.unwrap();
        store.records().set_offline_after("acme", 30).await.unwrap();
        let opts = WatchOptions::default();
        // Never heard of: nothing.
        assert!(check(&*store, 1_000_000, &opts).await.unwrap().is_empty());
        store.records().set_presence("a1", true, 1_000).await.unwrap();
        assert!(check(&*store, 9_000_000, &opts).await.unwrap().is_empty(), "connected");
        // The last will at t = 2000: silent from then.
        store.records().set_presence("a1", false, 2_000).await.unwrap();
        assert!(check(&*store, 31_999, &opts).await.unwrap().is_empty());
        let made = check(&*store, 32_000, &opts).await.unwrap();
        assert_eq!(made, vec![("a1".to_string(), Change::Offline { silent_since: 2_000 })]);
        assert!(check(&*store, 40_000, &opts).await.unwrap().is_empty(), "raised once");
        assert!(check(&*store, 900_000, &opts).await.unwrap().is_empty(), "raised once");
        store.records().set_presence("a1", true, 950_000).await.unwrap();
        assert_eq!(check(&*store, 950_500, &opts).await.unwrap(), vec![("a1".to_string(), Change::Online)]);
        assert!(check(&*store, 951_000, &opts).await.unwrap().is_empty());
        let q = crate::store::records::RecordQuery { limit: 10, ..Default::default() };
        let recs = store.records().records("a1", &q).await.unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].body["alarm"], "agent_offline");
        assert!(recs[0].body["message"].as_str().unwrap().contains("silent for 30 s"), "{}", recs[0].body);
        assert_eq!(recs[1].body["alarm"], "agent_online");
        assert_eq!(recs[1].body["offline_since"], 32_000);
    }
}
