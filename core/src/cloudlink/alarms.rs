//! A site's alarms as the cloud knows them (issue 16): the Cloud screen
//! shows each site's standing alarms, and a cloud acknowledgement goes to
//! the agent through the cloud (`POST /agents/{id}/alarms/{alarm}/ack`).
//! The summary is the cloud's (`meterdeck_wire::alarms::summarize`); this
//! only carries it.

use meterdeck_wire::alarms::SiteAlarm;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{CloudError, CloudLink, CloudResult, check_id};

/// `GET /api/v1/agents/{id}/alarms`, as the window shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SiteAlarms {
    pub agent: String,
    /// The cloud's "agent offline" alarm stands.
    pub offline: bool,
    pub offline_changed_ms: Option<i64>,
    /// The agent's last presence: connected, gone, or none yet.
    pub connected: Option<bool>,
    /// Standing alarms first.
    pub site: Vec<SiteAlarm>,
}

/// Longest acknowledgement comment (as the cloud and the agent's journal).
pub const MAX_COMMENT_CHARS: usize = meterdeck_wire::records::MAX_TEXT_CHARS;

impl CloudLink {
    /// One site's alarms.
    pub async fn site_alarms(&self, agent: &str) -> CloudResult<SiteAlarms> {
        let agent = check_id("agent", agent)?;
        self.authed(&["agents", &agent, "alarms"], &[], "the site's alarms").await
    }

    /// Acknowledges an alarm of a site through the cloud (who: the signed-in
    /// user); the agent journals it when it gets it. Returns the site's alarms.
    pub async fn ack_site_alarm(&self, agent: &str, alarm: &str, comment: &str) -> CloudResult<SiteAlarms> {
        let agent = check_id("agent", agent)?;
        let alarm = alarm.trim();
        if alarm.is_empty() {
            return Err(CloudError::Invalid("alarm: no alarm named".into()));
        }
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(CloudError::Invalid(format!("comment: at most {MAX_COMMENT_CHARS} characters")));
        }
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, &["agents", &agent, "alarms", alarm, "ack"], &[])?;
        let body = json!({ "comment": comment.trim() });
        let r: CloudResult<serde_json::Value> =
            self.call(reqwest::Method::POST, endpoint, Some(&token), Some(body), "the acknowledgement", None).await;
        if let Err(CloudError::SignedOut) = r {
            self.drop_token(&url).await?;
            return Err(CloudError::SignedOut);
        }
        r?;
        self.site_alarms(&agent).await
    }
}
