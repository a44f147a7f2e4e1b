//! Store-and-forward to the Meterdeck cloud (docs/protocol.md), the last
//! stage: the outbox drains in order over MQTT and a batch leaves the
//! outbox only when the cloud's acknowledgement says it is stored.
//!
//! ```text
//! writer thread (owns the Store, `outbox`) <--SyncMsg: OutboxNext / OutboxAck-- drain task (client.rs)
//!                                                                 | Outflow: pack, window, resend, park
//!                                   MQTT event pump task <--------+ rumqttc AsyncClient (try_publish)
//! ```
//!
//! The drain sends its [`SyncMsg`]s into a channel of any type made `From`
//! them, so it knows nothing of the agent that wires it to the writer.

pub(crate) mod client;
pub mod outflow;
pub mod settings;
pub mod status;
pub mod tls;
pub mod traffic;
pub mod wire;

pub use client::{Clock, LinkError, SyncOptions, TrafficCap, check_login};
pub use settings::{CloudFieldError, CloudSettings};
pub use status::SyncStatus;

use tokio::sync::oneshot;

use crate::outbox::{Fetched, OutboxError};
use crate::store::{Store, StoreError};

/// What the drain asks of the writer thread, which owns the store.
pub enum SyncMsg {
    /// The oldest `limit` outbox rows, sealed, with their samples (only the
    /// writer may seal).
    OutboxNext { limit: usize, reply: oneshot::Sender<Result<Fetched, OutboxError>> },
    /// The cloud stored these outbox rows; delete them.
    OutboxAck(Vec<i64>),
    /// An event (a refused batch, the traffic notice) and, with `note_id`,
    /// a notification-centre entry (once per id).
    Notice { message: String, note_id: Option<String> },
    /// The drain's status as JSON, kept under `status::STATUS_KEY` for
    /// `status` readers.
    Status(String),
    /// A cloud user acknowledged one of this agent's alarms: applied once
    /// per id through the alarm engine (`crate::alarm::cloud_acks`).
    CloudAck(meterdeck_wire::alarms::CloudAck),
    /// Work on the store for a remote command (consent, console holds,
    /// its journal event); the closure answers on its own channel.
    WithStore(Box<dyn FnOnce(&mut Store) + Send>),
}

/// Settings key of the random id of this cache file (sequence numbers are
/// per store, so the cloud keys samples by it).
pub const STORE_ID_KEY: &str = "sync.store_id";

/// Keychain entry (service `meterdeck`) of an agent's broker secret.
pub fn secret_entry(agent: &str) -> String {
    format!("cloud-agent:{agent}")
}

/// This store's sync id, created (random, 32 hex digits) on first use.
pub fn store_id(store: &mut Store) -> Result<String, StoreError> {
    if let Some(id) = store.setting(STORE_ID_KEY)?.filter(|v| !v.is_empty() && v.len() <= 64) {
        return Ok(id);
    }
    let id = format!("{:032x}", rand::random::<u128>());
    store.set_setting(STORE_ID_KEY, &id)?;
    Ok(id)
}

/// Batch ids of a process start here: the clock in ms times 1024, so a late
/// acknowledgement for an earlier process's batch never names one of ours
/// (and ids stay below 2^53 for JSON readers until the year 2250).
pub fn first_batch_id(now_ms: i64) -> u64 {
    (now_ms.max(0) as u64) << 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[test]
    fn the_store_id_is_made_once_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let id = {
            let mut s = Store::open(&path, StoreOptions::default()).unwrap();
            let a = store_id(&mut s).unwrap();
            assert_eq!(store_id(&mut s).unwrap(), a);
            a
        };
        assert_eq!(id.len(), 32);
        let mut s = Store::open(&path, StoreOptions::default()).unwrap();
        assert_eq!(store_id(&mut s).unwrap(), id);
        let other = dir.path().join("n.db");
        assert_ne!(store_id(&mut Store::open(&other, StoreOptions::default()).unwrap()).unwrap(), id);
    }

    #[test]
    fn batch_ids_of_a_later_process_are_higher() {
        let a = first_batch_id(1_764_259_200_000);
        assert!(first_batch_id(1_764_259_200_001) >= a + 1024);
        assert!(a < (1u64 << 53));
    }
}
