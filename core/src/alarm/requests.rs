//! Operator actions on alarms from the headless command line: the CLI
//! writes a request into a settings key of the store and the running agent
//! applies it within about a second (as with fast monitor requests), so the
//! journal keeps one writer.

use serde::{Deserialize, Serialize};

use super::stage::AlarmCommand;
use crate::model::TimeMs;

/// Settings key holding a JSON list of [`AlarmRequest`]s.
pub const ALARM_REQUESTS_KEY: &str = "agent.alarm_requests";
/// Requests older than this are dropped when a new one is added.
const KEEP_MS: TimeMs = 3_600_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmRequest {
    /// When the CLI wrote it (ms); the agent applies each request once.
    pub at: TimeMs,
    pub alarm_id: String,
    /// `ack`, `shelve`, `unshelve`, `out_of_service` or `in_service`.
    pub action: String,
    pub user: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// For `shelve`.
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// A request the command line wrote that names no action the stage knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("shelve needs 1 to 10080 minutes")]
    ShelveMinutes,
    #[error("unknown alarm action `{0}`")]
    UnknownAction(String),
}

impl AlarmRequest {
    pub fn command(&self) -> Result<AlarmCommand, RequestError> {
        let (alarm_id, user, comment) = (self.alarm_id.clone(), self.user.clone(), self.comment.clone());
        Ok(match self.action.as_str() {
            "ack" => AlarmCommand::Ack { alarm_id, user, comment },
            "shelve" => {
                let minutes =
                    self.minutes.filter(|m| (1..=7 * 24 * 60).contains(m)).ok_or(RequestError::ShelveMinutes)?;
                AlarmCommand::Shelve { alarm_id, until: self.at + i64::from(minutes) * 60_000, user, comment }
            }
            "unshelve" => AlarmCommand::Unshelve { alarm_id, user },
            "out_of_service" => AlarmCommand::OutOfService { alarm_id, on: true, user, comment },
            "in_service" => AlarmCommand::OutOfService { alarm_id, on: false, user, comment },
            other => return Err(RequestError::UnknownAction(other.to_string())),
        })
    }
}

/// Reads the settings value; a damaged value counts as no requests.
pub fn parse_alarm_requests(text: Option<&str>) -> Vec<AlarmRequest> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// The settings value after adding `req` (what the CLI writes).
pub fn add_alarm_request(existing: Option<&str>, req: AlarmRequest) -> String {
    let mut all = parse_alarm_requests(existing);
    all.retain(|r| r.at > req.at - KEEP_MS);
    all.push(req);
    serde_json::to_string(&all).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(at: TimeMs, action: &str) -> AlarmRequest {
        AlarmRequest {
            at,
            alarm_id: "hot".into(),
            action: action.into(),
            user: "u".into(),
            comment: None,
            minutes: Some(15),
        }
    }

    #[test]
    fn requests_round_trip_and_old_ones_are_dropped() {
        let one = add_alarm_request(None, req(1_000, "ack"));
        let two = add_alarm_request(Some(&one), req(1_000 + KEEP_MS + 1, "shelve"));
        let all = parse_alarm_requests(Some(&two));
        assert_eq!(all.len(), 1);
        assert!(
            matches!(all[0].command(), Ok(AlarmCommand::Shelve { until, .. }) if until == 1_000 + KEEP_MS + 1 + 900_000)
        );
        assert!(parse_alarm_requests(Some("not json")).is_empty());
        assert!(req(1, "dance").command().is_err());
        assert!(AlarmRequest { minutes: None, ..req(1, "shelve") }.command().is_err());
    }
}
