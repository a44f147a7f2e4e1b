//! A site's alarms as the cloud shows them (issue 16), and the cloud's
//! acknowledgement of an agent's alarm on its way down to the agent
//! (docs/protocol.md, "Alarm acknowledgements from the cloud").
//!
//! The cloud knows an alarm only from the journal entries the agent synced:
//! its state is the latest transition's `to_state`, it was raised at its
//! latest `raise`, and acknowledged by its latest `ack` (who, when,
//! comment). [`summarize`] derives that once, for the API, the desktop and
//! the portal alike.
//!
//! An acknowledgement made in the cloud is published (QoS 1) on
//! [`alarm_ack_topic`] until the agent's journal shows the alarm
//! acknowledged; the agent applies each ack id once, as `<user>@cloud`.
//! Not `down/ack`: that topic carries the batch acknowledgements.

use serde::{Deserialize, Serialize};

use crate::records::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::sync::WireError;

/// Where the cloud sends acknowledgements made in the cloud (QoS 1; the
/// broker's ACL lets an agent read `md/v1/<agent>/down/#`).
pub fn alarm_ack_topic(agent: &str) -> String {
    format!("md/v1/{agent}/down/alarm-ack")
}

/// The suffix of the user an agent journals a cloud acknowledgement as.
pub const CLOUD_USER_SUFFIX: &str = "@cloud";

/// What the cloud publishes on [`alarm_ack_topic`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudAck {
    pub v: u32,
    /// The cloud's id of this acknowledgement: the agent applies each once.
    pub id: String,
    pub alarm_id: String,
    /// The cloud user who acknowledged (the agent journals `<user>@cloud`).
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was made in the cloud (ms since 1970, UTC).
    pub t: i64,
}

impl CloudAck {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    /// Parses and checks a received acknowledgement; the error names the field.
    pub fn parse(payload: &[u8]) -> Result<CloudAck, WireError> {
        let a: CloudAck = serde_json::from_slice(payload)
            .map_err(|e| WireError(format!("not an alarm acknowledgement from the cloud: {e}")))?;
        if a.v != 1 {
            return Err(WireError(format!("alarm acknowledgement version {} (this agent reads 1)", a.v)));
        }
        for (name, v) in [("id", &a.id), ("alarm_id", &a.alarm_id), ("user", &a.user)] {
            if v.trim().is_empty() || v.chars().count() > MAX_NAME_CHARS {
                return Err(WireError(format!(
                    "alarm acknowledgement: {name} must be 1 to {MAX_NAME_CHARS} characters"
                )));
            }
        }
        if a.comment.as_ref().is_some_and(|c| c.chars().count() > MAX_TEXT_CHARS) {
            return Err(WireError(format!(
                "alarm acknowledgement: comment is longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        Ok(a)
    }
    /// The user the agent journals: `alice@cloud`.
    pub fn agent_user(&self) -> String {
        format!("{}{CLOUD_USER_SUFFIX}", self.user)
    }
}

/// Who acknowledged an alarm, when, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckMark {
    pub user: Option<String>,
    pub t: i64,
    pub comment: Option<String>,
}

/// An acknowledgement made in the cloud that the agent has not journaled yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingAck {
    pub id: String,
    pub alarm_id: String,
    pub user: String,
    pub comment: Option<String>,
    pub created_ms: i64,
    /// How often it was published so far.
    pub sends: u32,
    /// The agent never applied it and the cloud stopped publishing it at
    /// this time (`ACK_EXPIRY_MS`); acknowledge again if the alarm still waits.
    #[serde(default)]
    pub expired_ms: Option<i64>,
}

/// A cloud acknowledgement the agent has not applied after this long
/// expires: it is shown as expired and no longer published.
pub const ACK_EXPIRY_MS: i64 = 24 * 60 * 60 * 1000;

/// One alarm of a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteAlarm {
    pub alarm_id: String,
    pub name: String,
    /// low | medium | high | critical
    pub severity: String,
    /// The agent's state label: NORM, UNACK, ACKED, RTNUN (with /SHELVED or /OOS).
    pub state: String,
    /// The condition holds (UNACK or ACKED).
    pub active: bool,
    /// Waiting for an acknowledgement (UNACK or RTNUN).
    pub unacked: bool,
    /// When the state last changed.
    pub changed_ms: i64,
    /// When it was last raised.
    pub since_ms: Option<i64>,
    /// The latest acknowledgement (null when none since the last raise).
    pub ack: Option<AckMark>,
    /// An acknowledgement made in the cloud, on its way to the agent.
    pub pending_ack: Option<PendingAck>,
}

impl SiteAlarm {
    /// Shown among a site's active alarms: the condition holds or it waits
    /// for an acknowledgement.
    pub fn is_standing(&self) -> bool {
        self.active || self.unacked
    }
}

/// The base phase of a state label (`UNACK/SHELVED` -> `UNACK`).
pub fn phase(state: &str) -> &str {
    state.split('/').next().unwrap_or(state)
}

/// The fields of a journal entry the summary reads (a stored record's body).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JournalFields {
    #[serde(default)]
    pub alarm_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub to_state: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The alarms of a site from each alarm's latest state change (`states`),
/// its latest `raise` and `ack` entries (`marks`), each with its time, and
/// the pending cloud acknowledgements. Standing alarms first (unacked, then
/// by severity), then by id.
pub fn summarize(
    states: &[(i64, JournalFields)],
    marks: &[(i64, JournalFields)],
    pending: &[PendingAck],
) -> Vec<SiteAlarm> {
    let mut out: Vec<SiteAlarm> = states
        .iter()
        .map(|(t, s)| {
            let p = phase(&s.to_state);
            let raised =
                marks.iter().filter(|(_, m)| m.alarm_id == s.alarm_id && m.action == "raise").map(|(t, _)| *t).max();
            let ack = marks
                .iter()
                .filter(|(at, m)| m.alarm_id == s.alarm_id && m.action == "ack" && raised.is_none_or(|r| *at >= r))
                .max_by_key(|(t, _)| *t)
                .map(|(t, m)| AckMark { user: m.user.clone(), t: *t, comment: m.comment.clone() });
            let unacked = p == "UNACK" || p == "RTNUN";
            SiteAlarm {
                alarm_id: s.alarm_id.clone(),
                name: s.name.clone(),
                severity: s.severity.clone(),
                state: s.to_state.clone(),
                active: p == "UNACK" || p == "ACKED",
                unacked,
                changed_ms: *t,
                since_ms: raised,
                ack,
                pending_ack: pending.iter().rev().find(|a| a.alarm_id == s.alarm_id && unacked).cloned(),
            }
        })
        .collect();
    let rank = |s: &str| match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    };
    out.sort_by(|a, b| {
        (!a.is_standing(), !a.unacked, rank(&a.severity), &a.alarm_id).cmp(&(
            !b.is_standing(),
            !b.unacked,
            rank(&b.severity),
            &b.alarm_id,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(alarm: &str, action: &str, to: &str, user: Option<&str>) -> JournalFields {
        JournalFields {
            alarm_id: alarm.into(),
            name: format!("{alarm} name"),
            severity: if alarm == "hot" { "critical".into() } else { "low".into() },
            action: action.into(),
            to_state: to.into(),
            user: user.map(Into::into),
            comment: user.map(|_| "seen".into()),
        }
    }

    #[test]
    fn the_summary_names_state_raise_and_ack() {
        let states = vec![
            (50, j("cold", "ack", "ACKED", Some("ann"))),
            (40, j("hot", "raise", "UNACK", None)),
            (9, j("old", "return", "NORM", None)),
        ];
        let marks = vec![
            (10, j("hot", "ack", "ACKED", Some("bob"))),
            (40, j("hot", "raise", "UNACK", None)),
            (30, j("cold", "raise", "UNACK", None)),
            (50, j("cold", "ack", "ACKED", Some("ann"))),
        ];
        let pending = vec![PendingAck {
            id: "p1".into(),
            alarm_id: "hot".into(),
            user: "carol".into(),
            comment: None,
            created_ms: 45,
            sends: 1,
            expired_ms: None,
        }];
        let s = summarize(&states, &marks, &pending);
        let ids: Vec<&str> = s.iter().map(|a| a.alarm_id.as_str()).collect();
        assert_eq!(ids, ["hot", "cold", "old"]);
        // The ack before the latest raise is not this raise's.
        assert_eq!((s[0].since_ms, s[0].ack.as_ref(), s[0].unacked, s[0].active), (Some(40), None, true, true));
        assert_eq!(s[0].pending_ack.as_ref().unwrap().user, "carol");
        assert_eq!(s[1].ack, Some(AckMark { user: Some("ann".into()), t: 50, comment: Some("seen".into()) }));
        assert!(s[1].pending_ack.is_none() && s[1].active && !s[1].unacked);
        assert!(!s[2].is_standing());
    }

    #[test]
    fn cloud_acks_parse_and_name_bad_fields() {
        let a = CloudAck {
            v: 1,
            id: "k".into(),
            alarm_id: "hot".into(),
            user: "ann".into(),
            comment: Some("ok".into()),
            t: 5,
        };
        assert_eq!(CloudAck::parse(&a.to_json()).unwrap(), a);
        assert_eq!(a.agent_user(), "ann@cloud");
        assert!(CloudAck::parse(b"{\"v\":1}").unwrap_err().0.contains("not an alarm acknowledgement"));
        let bad = CloudAck { user: " ".into(), ..a.clone() };
        assert!(CloudAck::parse(&bad.to_json()).unwrap_err().0.contains("user must be"));
        let v2 = CloudAck { v: 2, ..a };
        assert!(CloudAck::parse(&v2.to_json()).unwrap_err().0.contains("version 2"));
        assert_eq!(alarm_ack_topic("a1"), "md/v1/a1/down/alarm-ack");
    }
}
