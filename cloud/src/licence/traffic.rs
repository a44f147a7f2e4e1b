//! Gateway traffic (SPEC 3.4, 7 Remote plans): an agent with a Remote plan
//! term may send its plan's bytes a UTC month (Basic 1 GB, Pro 5 GB);
//! other agents have no allowance. At 100 % the gateway stops sending and
//! buffers (the agent's side); the cloud says why in the API and mails the
//! account's admins at 90 % and at 100 %.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meterdeck_wire::licence::RemotePlan;

use super::terms;
use crate::store::{GatewayTerm, LicenceState, Storage, TimeMs};

/// The term of `agent` in `state` in force at `now`.
pub fn active_term<'a>(state: &'a LicenceState, agent: &str, now: TimeMs) -> Option<&'a GatewayTerm> {
    state.gateways.iter().find(|g| g.agent == agent && now < g.expires)
}

/// The monthly allowance of `agent` at `now`: its Remote plan's, or `None`.
pub async fn allowance(
    store: &dyn Storage,
    agent: &str,
    now: TimeMs,
) -> crate::store::Result<Option<(RemotePlan, u64)>> {
    let Some(a) = store.agent(agent).await? else { return Ok(None) };
    let Some((state, _)) = store.licence(&a.account).await? else { return Ok(None) };
    Ok(active_term(&state, agent, now).map(|g| (g.plan, g.plan.limits().traffic_bytes_per_month)))
}

/// Why `term`'s gateway does not send now, if it does not.
pub fn stopped_because(term: Option<&GatewayTerm>, used: u64, now: TimeMs) -> Option<String> {
    let g = term?;
    if let Some(at) = g.removed {
        return Some(format!(
            "the {} term ended on {} and the gateway's registration was removed on {}; register the agent again",
            g.plan.name(),
            terms::utc(g.expires),
            terms::utc(at)
        ));
    }
    if now >= g.expires {
        return Some(format!(
            "the {} term ended on {}; apply a card for this gateway within {} days of that to resume",
            g.plan.name(),
            terms::utc(g.expires),
            terms::GATEWAY_GRACE_DAYS
        ));
    }
    let allowance = g.plan.limits().traffic_bytes_per_month;
    (used >= allowance).then(|| {
        format!(
            "this month's {} traffic allowance ({} bytes) is used up: the gateway keeps its data and sends again next month (UTC) or after a Remote Pro card",
            g.plan.name(),
            allowance
        )
    })
}

/// Allowances per agent for ingest, read again after a few seconds (a card
/// applied elsewhere takes effect without a restart).
#[derive(Default)]
pub struct AllowanceCache {
    map: Mutex<HashMap<String, (Option<u64>, Instant)>>,
}

const CACHE_FOR: Duration = Duration::from_secs(10);

impl AllowanceCache {
    pub async fn get(&self, store: &dyn Storage, agent: &str, now: TimeMs) -> Option<u64> {
        if let Some((a, at)) = self.map.lock().unwrap_or_else(|p| p.into_inner()).get(agent)
            && at.elapsed() < CACHE_FOR
        {
            return *a;
        }
        let a = match allowance(store, agent, now).await {
            Ok(a) => a.map(|(_, bytes)| bytes),
            Err(e) => {
                tracing::warn!(agent, "cannot read the gateway's allowance: {e}");
                None
            }
        };
        self.map.lock().unwrap_or_else(|p| p.into_inner()).insert(agent.to_string(), (a, Instant::now()));
        a
    }
}
