//! The licence in force on this agent or desktop (SPEC 7): the last good
//! document the cloud signed, kept in the store and verified offline with
//! the pinned key at every start and daily; the plan limits it grants.
//!
//! ```text
//! cloud GET /api/v1/licence --fetch--> accept(): verify (wire) --ok--> kept (store) --> in_force() --> limits
//!                                                  '--refused--> check recorded, the kept one stays
//! ```
//!
//! The document format and its checks are the wire crate's
//! (`meterdeck_wire::licence`); here is what an installation does with it.
//! No licence (or none that verifies) means the Free plan's limits.

pub mod fetch;
mod kept;
pub mod limits;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

pub use kept::{Check, SCHEMA_PART};
pub use limits::{Counts, LimitError};
pub use meterdeck_wire::licence::{
    Gateway, LicenceDoc, LicenceError, Limits, Plan, RemoteLimits, RemotePlan, key_id, parse_public_key,
};

use crate::model::TimeMs;
use crate::store::{Store, StoreError};

const DAY_MS: TimeMs = 86_400_000;

/// What a licence is checked against: the pinned key, and the account when
/// known (else the account of the first licence that verifies).
#[derive(Clone, Debug)]
pub struct Trust {
    pub key: VerifyingKey,
    pub account: Option<String>,
}

impl Trust {
    /// From the `[cloud]` section's `licence_key` text and `account`.
    /// The refusal names the key's fault (English: "licence key: ...").
    pub fn from_text(key: &str, account: Option<&str>) -> Result<Trust, meterdeck_wire::i18n::Text> {
        let key = parse_public_key(key)
            .map_err(|e| meterdeck_wire::i18n::Text::new("err-licence-key").text_arg("reason", e.text()))?;
        Ok(Trust { key, account: account.map(str::to_string) })
    }
}

/// Settings keys of the key and account the window pins from the signed-in
/// service at its first fetch, when the configuration has no `[cloud]
/// licence_key`.
pub const PINNED_KEY: &str = "licence.pinned_key";
pub const PINNED_ACCOUNT: &str = "licence.pinned_account";

/// What licences are checked against: the configuration's key (`[cloud]
/// licence_key` and `account`), else the one pinned in the store.
pub fn trust_for(store: &Store, key: Option<&str>, account: Option<&str>) -> Option<Trust> {
    if let Some(k) = key {
        return Trust::from_text(k, account).ok();
    }
    let k = store.setting(PINNED_KEY).ok()??;
    let a = store.setting(PINNED_ACCOUNT).ok().flatten();
    Trust::from_text(&k, a.as_deref()).ok()
}

/// Verifies `text` against `trust` at `now`. With no account pinned, the
/// account the document names is taken (the signature already holds).
pub fn verify(text: &str, trust: &Trust, now: TimeMs) -> Result<LicenceDoc, LicenceError> {
    match &trust.account {
        Some(a) => meterdeck_wire::licence::verify(text, &trust.key, a, now),
        None => match meterdeck_wire::licence::verify(text, &trust.key, "", now) {
            Err(LicenceError::OtherAccount { licence, .. }) => {
                meterdeck_wire::licence::verify(text, &trust.key, &licence, now)
            }
            other => other,
        },
    }
}

/// How a licence reached [`accept`] (recorded with its check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Re-verified from the store at start.
    Start,
    /// Re-verified from the store by the daily check.
    Daily,
    /// Fetched from the cloud.
    Fetched,
    /// Given as a file (`licence verify FILE --install`).
    File,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Start => "start",
            Source::Daily => "daily",
            Source::Fetched => "cloud",
            Source::File => "file",
        }
    }
}

/// Verifies `text` and, when it holds, keeps it as the licence in force
/// (unless the one kept is newer: an old document replayed changes
/// nothing). A refused document changes nothing but the check log. Both
/// outcomes are recorded as the last check. Answers the licence in force.
pub fn accept(
    store: &mut Store,
    text: &str,
    trust: &Trust,
    now: TimeMs,
    source: Source,
) -> Result<LicenceDoc, AcceptError> {
    // The account of a kept licence pins it when the config names none.
    let trust = with_kept_account(store, trust)?;
    match verify(text, &trust, now) {
        Ok(doc) => {
            let kept = kept::load(store.conn())?;
            let newer = kept.as_ref().is_none_or(|k| k.issued_at <= doc.issued_at);
            if newer {
                kept::save(store.conn(), text, &doc, now)?;
                let message = format!("licence {} ({} plan) verified and in force", doc.serial, doc.plan);
                kept::record(store.conn(), now, source, true, &message)?;
                return Ok(doc);
            }
            let message = format!("licence {} verified but older than the one in force; kept the newer", doc.serial);
            kept::record(store.conn(), now, source, true, &message)?;
            // The one in force is the kept one.
            let kept_doc = kept::load_row(store.conn())?.and_then(|r| verify(&r.text, &trust, now).ok());
            Ok(kept_doc.unwrap_or(doc))
        }
        Err(e) => {
            let message = format!("licence from the {} refused: {e}", source_noun(source));
            kept::record(store.conn(), now, source, false, &message)?;
            Err(AcceptError::Refused(e))
        }
    }
}

fn source_noun(s: Source) -> &'static str {
    match s {
        Source::Start | Source::Daily => "store",
        Source::Fetched => "cloud",
        Source::File => "file",
    }
}

fn with_kept_account(store: &Store, trust: &Trust) -> Result<Trust, StoreError> {
    if trust.account.is_some() {
        return Ok(trust.clone());
    }
    let account = kept::load_row(store.conn())?.map(|r| r.account);
    Ok(Trust { key: trust.key, account })
}

/// Re-verifies the kept licence offline (at start, daily) and records the
/// check. The licence in force: the kept one if it still verifies.
pub fn reverify(store: &mut Store, trust: Option<&Trust>, now: TimeMs, source: Source) -> Result<InForce, StoreError> {
    let Some(row) = kept::load_row(store.conn())? else {
        return Ok(InForce::free(None));
    };
    let Some(trust) = trust else {
        let message = "the kept licence cannot be verified: no licence key is pinned (`[cloud] licence_key`; \
                       run `meterdeck-agent cloud login --api URL`)";
        kept::record(store.conn(), now, source, false, message)?;
        return Ok(InForce::free(Some(message.to_string())));
    };
    let trust = with_kept_account(store, trust)?;
    match verify(&row.text, &trust, now) {
        Ok(doc) => {
            kept::record(
                store.conn(),
                now,
                source,
                true,
                &format!("licence {} ({} plan) verified offline", doc.serial, doc.plan),
            )?;
            Ok(InForce { doc: Some(doc), problem: None })
        }
        Err(e) => {
            let message = format!("the kept licence does not verify: {e}; Free limits apply until it does");
            kept::record(store.conn(), now, source, false, &message)?;
            Ok(InForce::free(Some(message)))
        }
    }
}

/// The licence in force without writing anything (readers: `licence show`,
/// the window): the kept document if it verifies.
pub fn in_force(store: &Store, trust: Option<&Trust>, now: TimeMs) -> Result<InForce, StoreError> {
    let Some(row) = kept::load_row(store.conn())? else { return Ok(InForce::free(None)) };
    let Some(trust) = trust else {
        return Ok(InForce::free(Some("no licence key is pinned (`[cloud] licence_key`)".into())));
    };
    let trust = with_kept_account(store, trust)?;
    Ok(match verify(&row.text, &trust, now) {
        Ok(doc) => InForce { doc: Some(doc), problem: None },
        Err(e) => InForce::free(Some(e.to_string())),
    })
}

/// The kept licence's text (for `licence show --raw`, exports).
pub fn kept_text(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(kept::load_row(store.conn())?.map(|r| r.text))
}

/// Records a check that is not a verification (a fetch that failed).
pub fn record_check(store: &Store, t: TimeMs, source: Source, ok: bool, message: &str) -> Result<(), StoreError> {
    kept::record(store.conn(), t, source, ok, message)
}

/// The last checks, newest first.
pub fn checks(store: &Store, limit: usize) -> Result<Vec<Check>, StoreError> {
    kept::checks(store.conn(), limit)
}

/// The licence in force: a verified document, or none (Free).
#[derive(Clone, Debug, PartialEq)]
pub struct InForce {
    pub doc: Option<LicenceDoc>,
    /// Why the kept licence is not in force, when there is one.
    pub problem: Option<String>,
}

impl InForce {
    pub fn free(problem: Option<String>) -> InForce {
        InForce { doc: None, problem }
    }

    pub fn plan(&self, now: TimeMs) -> Plan {
        self.doc.as_ref().map_or(Plan::Free, |d| d.effective_plan(now))
    }

    pub fn limits(&self, now: TimeMs) -> Limits {
        self.doc.as_ref().map_or_else(|| Plan::Free.limits(), |d| d.effective_limits(now))
    }

    /// The gateway entitlement of `agent`, in its term.
    pub fn gateway(&self, agent: Option<&str>, now: TimeMs) -> Option<Gateway> {
        let (doc, agent) = (self.doc.as_ref()?, agent?);
        doc.gateway(agent, now).cloned()
    }

    /// What limits things on agent `agent` (a gateway: its Remote plan's
    /// instruments and channels).
    pub fn agent_limits(&self, agent: Option<&str>, now: TimeMs) -> limits::AgentLimits {
        limits::AgentLimits::of(self.plan(now), self.limits(now), self.gateway(agent, now))
    }

    /// The view `licence show` and the window's Licence screen present.
    pub fn view(&self, agent: Option<&str>, now: TimeMs, checks: Vec<Check>) -> LicenceView {
        let expires = self.doc.as_ref().and_then(|d| d.expires);
        LicenceView {
            plan: self.plan(now),
            licensed_plan: self.doc.as_ref().map(|d| d.plan),
            serial: self.doc.as_ref().map(|d| d.serial.clone()),
            account: self.doc.as_ref().map(|d| d.account.clone()),
            issued_at: self.doc.as_ref().map(|d| d.issued_at),
            expires,
            days_left: expires.map(|e| days_left(e, now)),
            limits: self.limits(now),
            gateway: self.gateway(agent, now),
            problem: self.problem.clone(),
            last_check: checks.first().cloned(),
            checks,
        }
    }
}

/// Whole days from `now` until `end` (negative once past).
pub fn days_left(end: TimeMs, now: TimeMs) -> i64 {
    (end - now).div_euclid(DAY_MS)
}

/// The licence as shown: plan in force, term, limits, this agent's
/// gateway entitlement and the checks.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct LicenceView {
    /// The plan whose limits apply now (Free when none is in force or the term lapsed).
    pub plan: Plan,
    /// The plan the document grants (None: no licence in force).
    pub licensed_plan: Option<Plan>,
    pub serial: Option<String>,
    pub account: Option<String>,
    pub issued_at: Option<TimeMs>,
    pub expires: Option<TimeMs>,
    pub days_left: Option<i64>,
    pub limits: Limits,
    pub gateway: Option<Gateway>,
    /// Why the kept licence is not in force.
    pub problem: Option<String>,
    pub last_check: Option<Check>,
    /// Newest first.
    pub checks: Vec<Check>,
}

impl LicenceView {
    /// Text for `licence show`.
    pub fn render(&self, now: TimeMs) -> String {
        use std::fmt::Write as _;
        let date = crate::fmt::format_time;
        let mut s = String::new();
        let _ = writeln!(s, "plan:        {}", self.plan);
        match (&self.serial, self.licensed_plan) {
            (Some(serial), Some(p)) => {
                let _ = writeln!(
                    s,
                    "licence:     {serial} ({p} plan, account {}, issued {})",
                    self.account.as_deref().unwrap_or("?"),
                    self.issued_at.map(date).unwrap_or_default()
                );
            }
            _ => {
                let _ = writeln!(s, "licence:     none in force (Free plan limits)");
            }
        }
        match (self.expires, self.days_left) {
            (Some(e), Some(d)) if d >= 0 => {
                let _ = writeln!(s, "expires:     {} ({d} days left)", date(e));
            }
            (Some(e), _) => {
                let _ = writeln!(s, "expired:     {} (Free plan limits apply)", date(e));
            }
            _ => {}
        }
        if let Some(g) = &self.gateway {
            let _ = writeln!(
                s,
                "gateway:     {} until {} ({} instruments, {} channels per instrument, {} a month)",
                g.plan,
                date(g.expires),
                g.limits.instruments,
                g.limits.channels_per_instrument,
                crate::fmt::format_bytes(g.limits.traffic_bytes_per_month)
            );
        }
        let l = &self.limits;
        let _ = writeln!(
            s,
            "limits:      {} instruments per agent, {} channels per instrument, {} alarm rules, {} calculation channels",
            l.instruments_per_agent, l.channels_per_instrument, l.alarms_per_group, l.calcs_per_group
        );
        if let Some(p) = &self.problem {
            let _ = writeln!(s, "problem:     {p}");
        }
        match &self.last_check {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "last check:  {} ({}, {}): {}",
                    date(c.t),
                    c.source,
                    if c.ok { "ok" } else { "refused" },
                    c.message
                );
            }
            None => {
                let _ = writeln!(s, "last check:  never");
            }
        }
        let _ = now;
        s
    }
}

/// A licence that could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Refused(#[from] LicenceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests;
