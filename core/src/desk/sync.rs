// PLACEHOLDER: replaced by the sync branch at merge
//! The window's view of this agent's store-and-forward sync.

use super::{Desk, DeskError};
use crate::sync::status::SyncStatus;

impl Desk {
    /// Placeholder: sync is not wired here yet, so it reports disabled.
    pub fn sync_status(&self) -> Result<SyncStatus, DeskError> {
        Ok(SyncStatus { month: chrono::Utc::now().format("%Y-%m").to_string(), ..SyncStatus::default() })
    }
}
