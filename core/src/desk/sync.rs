//! Cloud sync state for the window: the same picture as
//! `meterdeck-agent cloud status`, read through the desk's read-only store
//! connection (the agent persists its live part every few seconds).

use super::Desk;
use super::error::DeskResult;
use crate::model::now_ms;
use crate::sync::SyncStatus;

impl Desk {
    /// Link state, backlog, last acknowledgement and the month's traffic.
    /// `enabled`, agent and broker follow the current configuration.
    pub fn sync_status(&self) -> DeskResult<SyncStatus> {
        let cfg = self.config();
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(SyncStatus::read(&reader, Some(cfg.cloud.as_ref()), now_ms())?)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sync_status_follows_the_cloud_section() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("agent.toml");
        std::fs::write(&cfg, "[cloud]\nhost = \"127.0.0.1\"\nport = 1\nagent = \"desk-1\"\n").unwrap();
        let opts = crate::agent::AgentOptions {
            secrets: std::sync::Arc::new(crate::notify::MemorySecrets::new()),
            ..Default::default()
        };
        let desk = Desk::open_with(dir.path(), &cfg, false, opts).await.unwrap();
        let s = desk.sync_status().unwrap();
        assert!(s.enabled && !s.connected);
        assert_eq!((s.agent.as_deref(), s.broker.as_deref()), (Some("desk-1"), Some("127.0.0.1:1")));
        // No secret stored: the agent says so in the status.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !desk.sync_status().unwrap().last_error.is_some_and(|e| e.contains("cloud login")) {
            assert!(std::time::Instant::now() < deadline, "{:?}", desk.sync_status().unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // An edit in the window rewrites the file: [cloud] stays.
        let inst = crate::config::AgentConfig::parse(
            "[[instrument]]\nid = \"m\"\nfamily = \"scpi\"\nenabled = false\ntransport = { kind = \"tcp\", host = \"127.0.0.1\", port = 5025 }\n",
            "x",
        )
        .unwrap()
        .instruments
        .remove(0);
        desk.save_instrument(inst, None).await.unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        let again = crate::config::AgentConfig::parse(&text, "agent.toml").unwrap();
        assert_eq!(again.cloud.map(|c| c.agent), Some("desk-1".to_string()), "{text}");
        assert!(desk.sync_status().unwrap().enabled);
        desk.shutdown().await.unwrap();
    }
}
