//! Cloud sync state for the window: the same picture as
//! `meterdeck-agent cloud status`, read through the desk's read-only store
//! connection (the agent persists its live part every few seconds).

use super::Desk;
use super::error::DeskResult;
use crate::agent::now_ms;
use crate::sync::SyncStatus;

impl Desk {
    /// Link state, backlog, last acknowledgement and the month's traffic.
    /// `enabled`, agent and broker follow the current configuration.
    pub fn sync_status(&self) -> DeskResult<SyncStatus> {
        let cfg = self.config();
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(SyncStatus::read(&reader, Some(&cfg), now_ms())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sync_status_without_a_cloud_section_is_off() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Desk::open(dir.path(), &dir.path().join("agent.toml"), false).await.unwrap();
        let s = desk.sync_status().unwrap();
        assert!(!s.enabled && !s.connected);
        assert_eq!(s.backlog_samples, 0);
        assert_eq!(s.month.len(), 7);
        desk.shutdown().await.unwrap();
    }
}
