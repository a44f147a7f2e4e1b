//! The cloud's view-only links for alarm messages (issue 16): the
//! notify module's [`ViewLinks`] asked of the cloud's Web API with the
//! agent's own credentials (the client file uploads use). It lives with the
//! agent's wiring because `notify` sits below `files`.

use serde::Deserialize;
use serde_json::json;

use crate::files::upload::Uploader;
use crate::licence::fetch::Auth;
use crate::notify::{LinkAsk, ViewLinks};

/// The cloud's links, asked for with the agent's credentials.
pub struct CloudViewLinks {
    api: Uploader,
}

impl CloudViewLinks {
    /// With the agent's Web API client (`[cloud] api` and its secret).
    pub fn new(api: Uploader) -> CloudViewLinks {
        CloudViewLinks { api }
    }
}

#[derive(Deserialize)]
struct Issued {
    url: Option<String>,
    path: String,
}

#[async_trait::async_trait]
impl ViewLinks for CloudViewLinks {
    async fn link(&self, ask: &LinkAsk) -> Result<String, String> {
        let Auth::Agent { id, secret } = &self.api.auth else {
            return Err("view links are asked for with the agent's credentials".into());
        };
        if ask.channels.is_empty() {
            return Err("the alarm names no channel".into());
        }
        let base = self.api.api.trim_end_matches('/');
        let url = format!("{base}/api/v1/agents/{id}/links");
        let body =
            json!({"alarm_id": ask.alarm_id, "alarm_name": ask.alarm_name, "at": ask.at, "channels": ask.channels});
        let resp = self
            .api
            .http
            .post(&url)
            .basic_auth(id, Some(secret))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("cannot reach the cloud's Web API at {base}: {}", e.without_url()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("the cloud's answer broke off: {}", e.without_url()))?;
        if !status.is_success() {
            return Err(format!("the cloud refused (HTTP {}): {text}", status.as_u16()));
        }
        let issued: Issued =
            serde_json::from_str(&text).map_err(|e| format!("unreadable answer from the cloud: {e}"))?;
        // Without a public URL of its own the cloud answers the path: the
        // page is at the address this agent reaches it by.
        Ok(issued.url.unwrap_or_else(|| format!("{base}{}", issued.path)))
    }
}
