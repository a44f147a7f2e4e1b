//! Acknowledgements made in the cloud on their way to the agent (issue 16):
//! each stays open in the store until the agent's synced journal shows the
//! alarm needing no acknowledgement any more (the agent journaled the ack,
//! or someone acknowledged it locally first), and is published meanwhile
//! at QoS 1 on `md/v1/<agent>/down/alarm-ack` every few seconds, so an
//! agent that was offline gets it once it reconnects. The agent applies
//! each ack id once, so the repeats are harmless; every cloud process may
//! run this loop. One the agent has not applied within a day
//! (`ACK_EXPIRY_MS`: the agent is gone, or never learns of the alarm) is
//! marked expired, shown as such, and no longer published.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use meterdeck_wire::alarms::{ACK_EXPIRY_MS, CloudAck, PendingAck, alarm_ack_topic, phase};
use rumqttc::{AsyncClient, QoS};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::store::Storage;

/// How often the open acknowledgements are looked at.
pub const TICK: Duration = Duration::from_secs(1);
/// An open acknowledgement is published again after this long.
pub const RESEND: Duration = Duration::from_secs(5);

/// Runs until aborted.
pub async fn run(client: AsyncClient, store: Arc<dyn Storage>) {
    let mut last = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = step(&client, &*store, &mut last).await {
            warn!("cloud acknowledgements: {e}");
        }
    }
}

/// Marks the acknowledgements older than a day at `now` expired.
pub async fn expire(store: &dyn Storage, now: i64) -> crate::store::Result<Vec<crate::store::alarms::ExpiredAck>> {
    let gone = store.alarms().expire_cloud_acks(now.saturating_sub(ACK_EXPIRY_MS), now).await?;
    for e in &gone {
        warn!(agent = %e.agent, alarm = %e.alarm_id, ack = %e.id, "the agent did not apply the cloud acknowledgement within a day: expired, no longer sent");
    }
    Ok(gone)
}

/// Whether an alarm in this journal state still waits for an acknowledgement.
fn waits(state: Option<&str>) -> bool {
    state.is_some_and(|s| matches!(phase(s), "UNACK" | "RTNUN"))
}

/// One look: closes what the agent applied, publishes what is due.
async fn step(
    client: &AsyncClient,
    store: &dyn Storage,
    last: &mut HashMap<String, Instant>,
) -> crate::store::Result<()> {
    expire(store, meterdeck_wire::now_ms()).await?;
    let open = store.records().open_cloud_acks(None).await?;
    let mut by_agent: BTreeMap<String, Vec<PendingAck>> = BTreeMap::new();
    for (agent, ack) in open {
        by_agent.entry(agent).or_default().push(ack);
    }
    let now = meterdeck_wire::now_ms();
    let mut still = Vec::new();
    for (agent, acks) in by_agent {
        let states = store.records().alarm_states(&agent).await?;
        for ack in acks {
            let state = states
                .iter()
                .find(|r| r.body["alarm_id"].as_str() == Some(ack.alarm_id.as_str()))
                .and_then(|r| r.body["to_state"].as_str());
            if !waits(state) {
                store.records().close_cloud_ack(&ack.id, now).await?;
                info!(agent = %agent, alarm = %ack.alarm_id, ack = %ack.id, state = state.unwrap_or("-"), "the agent's journal shows the cloud acknowledgement applied");
                continue;
            }
            still.push(ack.id.clone());
            if last.get(&ack.id).is_some_and(|t| t.elapsed() < RESEND) {
                continue;
            }
            let msg = CloudAck {
                v: 1,
                id: ack.id.clone(),
                alarm_id: ack.alarm_id.clone(),
                user: ack.user.clone(),
                comment: ack.comment.clone(),
                t: ack.created_ms,
            };
            // Never wait on a full request queue (broker away): the next tick tries again.
            match client.try_publish(alarm_ack_topic(&agent), QoS::AtLeastOnce, false, msg.to_json()) {
                Ok(()) => {
                    last.insert(ack.id.clone(), Instant::now());
                    store.records().cloud_ack_sent(&ack.id, now).await?;
                }
                Err(e) => warn!(agent = %agent, ack = %ack.id, "cloud acknowledgement not published yet: {e}"),
            }
        }
    }
    last.retain(|id, _| still.contains(id));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_unacknowledged_states_wait() {
        for (s, w) in [
            (Some("UNACK"), true),
            (Some("RTNUN/SHELVED"), true),
            (Some("ACKED"), false),
            (Some("NORM"), false),
            (None, false),
        ] {
            assert_eq!(super::waits(s), w, "{s:?}");
        }
    }
}
