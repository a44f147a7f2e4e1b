//! View-only links under alarm messages (issue 16, SPEC 5.5): the agent
//! asks the cloud for one (`POST /api/v1/agents/{id}/links`, with the
//! agent's own credentials as for file uploads) just before a message goes
//! out. The dispatcher bounds the wait; offline or refused, the message
//! goes without a link.

use super::message::LinkAsk;

/// Gives a view-only link (its URL) for an alarm.
#[async_trait::async_trait]
pub trait ViewLinks: Send + Sync + 'static {
    /// The link's URL, or why there is none (for the log only).
    async fn link(&self, ask: &LinkAsk) -> Result<String, String>;
}
