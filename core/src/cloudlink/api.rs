//! The cloud Web API's JSON shapes (the `/api/v1` contract) as the desktop
//! reads them. Ids may arrive as numbers or strings; both become text.

use serde::{Deserialize, Deserializer, Serialize};

/// A JSON number or string as text (ids the desktop only passes back).
pub(crate) fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("an id must be a number or a string, got {other}"))),
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct LoginBody<'a> {
    pub account: &'a str,
    pub user: &'a str,
    pub password: &'a str,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct LoginReply {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub must_change_password: bool,
    #[serde(default = "none_factor")]
    pub second_factor: String,
}

fn none_factor() -> String {
    "none".into()
}

/// Who is signed in, as the window shows it (flattened from `GET /api/v1/me`).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct Me {
    pub account: String,
    pub user: String,
    pub name: Option<String>,
    pub role: String,
}

/// `GET /api/v1/me`: `{"account": {"id", "name", ...}, "user": {"id", "name", "role", ...}, "via"}`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct MeReply {
    pub account: MeAccount,
    pub user: MeUser,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct MeAccount {
    pub id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct MeUser {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: String,
}

impl From<MeReply> for Me {
    fn from(r: MeReply) -> Me {
        // A display name that is empty or only repeats the id is none (the
        // window then names the user once).
        let name = r.user.name.filter(|n| !n.trim().is_empty() && n.trim() != r.user.id);
        Me { account: r.account.id, user: r.user.id, name, role: r.user.role }
    }
}

/// An agent's sync figures as the cloud sees them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AgentSync {
    #[serde(default)]
    pub last_batch_ms: Option<i64>,
    #[serde(default)]
    pub backlog: Option<u64>,
    #[serde(default)]
    pub samples: u64,
    #[serde(default)]
    pub batches: u64,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AgentReply {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub online: bool,
    #[serde(default)]
    pub sync: AgentSync,
    #[serde(default)]
    #[serde(alias = "traffic_bytes")]
    pub traffic_month_bytes: u64,
    #[serde(default)]
    pub traffic_allowance: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ChannelReply {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(deserialize_with = "id_text")]
    pub agent: String,
    pub path: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub samples: u64,
    #[serde(default)]
    pub t_first: Option<i64>,
    #[serde(default)]
    pub t_last: Option<i64>,
}

/// A sample; `v` is null for a special value (over range, no data …).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub(crate) struct Point {
    pub t: i64,
    #[serde(default)]
    pub v: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Bucket {
    pub t_start: i64,
    #[allow(dead_code)]
    pub t_end: i64,
    pub count: u64,
    pub min: Option<Point>,
    pub max: Option<Point>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ErrorReply {
    pub error: String,
}

/// `GET /api/v1/channels/{id}/minmax`: the buckets inside the reply object.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct MinMaxReply {
    pub buckets: Vec<Bucket>,
}
