//! Plain data the cloud storage takes and returns. Secrets never appear
//! here in the clear: passwords as argon2 PHC strings, tokens, sessions and
//! one-time codes as SHA-256 hex of the secret.

use serde::{Deserialize, Serialize};

pub type TimeMs = i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
    /// Higher is more rights: admin > member > viewer.
    pub fn rank(self) -> u8 {
        match self {
            Role::Admin => 2,
            Role::Member => 1,
            Role::Viewer => 0,
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TwoFactor {
    None,
    Email,
    Totp,
}

impl TwoFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            TwoFactor::None => "none",
            TwoFactor::Email => "email",
            TwoFactor::Totp => "totp",
        }
    }
    pub fn parse(s: &str) -> Option<TwoFactor> {
        match s {
            "none" => Some(TwoFactor::None),
            "email" => Some(TwoFactor::Email),
            "totp" => Some(TwoFactor::Totp),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// What users type at login; `[a-z0-9-]`, 3-32 characters.
    pub id: String,
    pub name: String,
    /// free | standard | pro
    pub plan: String,
    /// CIDRs the API accepts this account's callers from; empty = anywhere.
    pub ip_allow: Vec<String>,
    /// Monthly sync traffic allowance of the agents without a Remote
    /// (gateway) plan, bytes; 0: none (the default). Gateways have their
    /// Remote plan's (`licence::traffic`).
    pub traffic_allowance: u64,
    pub created_ms: TimeMs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub account: String,
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// argon2 PHC string.
    pub password_hash: String,
    /// A temporary password: must be changed at the next login.
    pub must_change: bool,
    pub two_factor: TwoFactor,
    /// Base32 TOTP secret when `two_factor` is Totp. Stored as given: the
    /// server must be able to compute codes (like every TOTP server).
    pub totp_secret: Option<String>,
    pub created_ms: TimeMs,
}

/// A user's language and time zone: mails the cloud sends on its own (alarms,
/// notices, licence reminders) are written in them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPrefs {
    /// `en`, `ja` or `de`.
    pub language: String,
    /// An IANA time zone such as `Asia/Tokyo`, or `UTC`.
    pub zone: String,
}

impl Default for UserPrefs {
    fn default() -> Self {
        UserPrefs { language: "en".into(), zone: "UTC".into() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    pub account: String,
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// A measurement group: agents, and who may see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    pub account: String,
    pub id: String,
    pub name: String,
    pub agents: Vec<String>,
    /// Users granted directly.
    pub users: Vec<String>,
    /// Teams granted (all their members).
    pub teams: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 hex of the bearer token.
    pub token_hash: String,
    pub account: String,
    pub user: String,
    pub created_ms: TimeMs,
    pub last_seen_ms: TimeMs,
    /// Logged in fully (password changed, second factor given); a pending
    /// session may only change the password or give the code.
    pub pending: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub token_hash: String,
    pub account: String,
    /// The user the token acts as (its role and grants).
    pub user: String,
    pub name: String,
    pub created_ms: TimeMs,
    pub last_used_ms: Option<TimeMs>,
}

/// Email second-factor codes and password-reset links.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneTimeCode {
    pub account: String,
    pub user: String,
    /// "login" | "reset"
    pub purpose: String,
    pub code_hash: String,
    pub expires_ms: TimeMs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub t_ms: TimeMs,
    pub account: Option<String>,
    pub user: Option<String>,
    pub ip: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A filtered page of an account's access log, run in the database (so
/// every entry can be found, not only recent ones). Newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only this user's entries.
    pub user: Option<String>,
    /// Only entries whose "METHOD path" contains this text, ASCII
    /// case-insensitive (matched lower-cased in SQL).
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub from: Option<TimeMs>,
    /// Only entries before this time.
    pub to: Option<TimeMs>,
    /// Skip this many matching entries.
    pub offset: u64,
    pub limit: u64,
}

impl AccessQuery {
    /// The action text as the SQL compares it (lower-cased ASCII).
    pub fn action_needle(&self) -> Option<String> {
        self.action.as_deref().map(str::to_ascii_lowercase)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Also the broker login and the topic prefix `md/v1/<id>`.
    pub id: String,
    pub account: String,
    pub name: String,
    /// argon2 PHC string of the agent's secret (API logins).
    pub secret_hash: String,
    /// Mosquitto password-file line hash of the same secret (broker logins).
    pub broker_hash: String,
    pub created_ms: TimeMs,
    pub sync: AgentSync,
}

/// What the cloud knows of an agent's sync, updated by ingest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentSync {
    pub last_batch_ms: Option<TimeMs>,
    /// Samples the agent said were still waiting after its last batch.
    pub backlog: u64,
    pub samples: u64,
    pub batches: u64,
    /// Payloads refused (malformed, oversized, wrong version).
    pub rejected: u64,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CloudChannel {
    pub id: i64,
    pub agent: String,
    /// `instrument/channel`.
    pub path: String,
    pub unit: Option<String>,
    pub samples: u64,
    pub t_first: Option<TimeMs>,
    pub t_last: Option<TimeMs>,
}

/// What one batch did to storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// Samples newly stored.
    pub stored: u64,
    /// Parts already present (a resend).
    pub duplicate_parts: u64,
    /// The agent's traffic this month, this payload counted.
    pub traffic: MonthTraffic,
}

/// An agent's sync traffic in the UTC month of a payload, counted in the
/// same transaction as the payload (so "this payload crossed 90 %" is seen
/// by exactly one ingest worker, in whichever process).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTraffic {
    /// Bytes this month, this payload included.
    pub bytes: u64,
    /// The account's monthly allowance per agent.
    pub allowance: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Point {
    pub t: TimeMs,
    /// `None` for a special value (no data, over range...).
    pub v: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MinMax {
    pub t_start: TimeMs,
    pub t_end: TimeMs,
    pub count: u64,
    pub min: Option<Point>,
    pub max: Option<Point>,
}

// ---- licences (SPEC 7) -------------------------------------------------------

pub use meterdeck_wire::licence::{Plan, RemotePlan};

/// An account's licence as the authority keeps it. Stored whole (one row
/// per account, versioned: writers compare and swap, so two processes
/// applying cards at once cannot lose one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceState {
    pub account: String,
    /// The paid plan of the term (Free when there is none).
    pub plan: Plan,
    /// End of the paid term (ms, UTC). `None` on Free, or for a paid plan
    /// granted without a term (`account create --plan`: self-hosted installs).
    pub expires: Option<TimeMs>,
    /// The last plan change (at most one a month).
    pub plan_changed: Option<TimeMs>,
    /// Remote (gateway) entitlements, one per agent.
    pub gateways: Vec<GatewayTerm>,
    /// When the over-capacity notice was sent (deletion 31 days later unless reduced).
    #[serde(default)]
    pub over_capacity_since: Option<TimeMs>,
    /// IANA time zone of the account's reminders (`Asia/Tokyo`); UTC when unset.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// One gateway agent's Remote plan term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayTerm {
    pub agent: String,
    pub plan: RemotePlan,
    pub expires: TimeMs,
    pub plan_changed: Option<TimeMs>,
    /// When its registration was removed (31 days after the term ended; the data stays).
    #[serde(default)]
    pub removed: Option<TimeMs>,
}

/// One line of an account's licence history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LicenceEvent {
    pub account: String,
    /// ms since the epoch, UTC.
    pub at: TimeMs,
    /// card-issued | card-applied | plan-changed | expired | reminder | ...
    pub what: String,
    /// Who: a user id, `authority` (the admin command) or `service`.
    pub by: String,
    pub detail: String,
}

/// What a licence card gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CardProduct {
    /// Standard or Pro for the account.
    Plan { plan: Plan },
    /// Remote Basic or Pro for one gateway agent of the account.
    Remote { plan: RemotePlan, agent: String },
}

/// A licence card issued by the authority. Its code is a bearer secret:
/// only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub code_hash: String,
    pub account: String,
    pub product: CardProduct,
    /// 1, 3 or 12.
    pub months: u32,
    pub issued_ms: TimeMs,
    pub used_ms: Option<TimeMs>,
    pub used_by: Option<String>,
}

/// Storage one channel takes in the cloud.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelBytes {
    pub channel: i64,
    pub agent: String,
    pub path: String,
    pub bytes: u64,
}

/// What to delete of an account's data, oldest first (by a part's newest sample).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prune {
    /// Every part whose samples are all older than this (Free keeps a year).
    OlderThan(TimeMs),
    /// The oldest parts until the account holds at most this many bytes
    /// (over capacity). Measured in the same transaction, so two sweeps
    /// running at once do not delete twice.
    DownTo(u64),
}

/// What a prune deleted (journaled and mailed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    pub bytes: u64,
    pub parts: u64,
    pub samples: u64,
    /// Time span of the deleted samples.
    pub t_from: Option<TimeMs>,
    pub t_to: Option<TimeMs>,
    /// `agent/instrument/channel` of each channel that lost data.
    pub channels: Vec<String>,
}
