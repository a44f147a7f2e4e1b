// PLACEHOLDER: replaced by the sync branch at merge
//! This agent's sync state as the window and `meterdeck-agent status` show it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SyncStatus {
    pub enabled: bool,
    pub connected: bool,
    pub agent: Option<String>,
    pub broker: Option<String>,
    pub backlog_samples: u64,
    pub backlog_batches: u64,
    pub oldest_ms: Option<i64>,
    pub last_ack_ms: Option<i64>,
    pub month: String,
    pub month_bytes: u64,
    pub allowance_bytes: u64,
    pub last_error: Option<String>,
}
