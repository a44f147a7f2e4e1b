//! Cloud storage behind one trait, two implementations: embedded SQLite
//! (the default: one command starts everything) and PostgreSQL (several
//! stateless API processes on one database). `conformance` is the one test
//! suite both must pass.
//!
//! Time series are stored as the agent sends them: one row per batch part,
//! keyed by (agent, store, channel, seq_from) so a resend writes nothing,
//! holding the part's compressed block (the agent cache's codec) and its
//! summary columns, so downsampling reads summaries and decodes only edges.

pub mod alarms;
pub mod boards;
pub mod files;
pub mod model;
mod open;
pub mod postgres;
pub mod records;
mod rows;
pub mod series;
pub mod sqlite;

#[cfg(test)]
mod conformance;
#[doc(hidden)]
pub mod testdb;

use async_trait::async_trait;
pub use boards::{BoardRow, BoardStore};
pub use files::{FileQuery, FileRow, FileStore};
pub use model::*;
pub use open::open;
pub use series::{IngestBatch, SampleKey};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already taken (account id, user id, ...).
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("database: {0}")]
    Db(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Input over a limit (channels per agent); the message names the limit.
    #[error("{0}")]
    Refused(String),
    /// A compare-and-swap lost to another writer (the licence): retry.
    #[error("{0}")]
    Conflict(String),
}

/// Channels one agent may have unless `serve --max-channels-per-agent` says
/// otherwise (the licence plans will set it per account later).
pub const DEFAULT_MAX_CHANNELS_PER_AGENT: u64 = 1_000;

/// Limits ingest enforces in its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngestLimits {
    /// A batch that would give its agent more channels is refused whole.
    pub max_channels_per_agent: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits { max_channels_per_agent: DEFAULT_MAX_CHANNELS_PER_AGENT }
    }
}

/// The refusal of a batch that would take `agent` to `would` channels.
pub(crate) fn too_many_channels(agent: &str, would: u64, cap: u64) -> StoreError {
    StoreError::Refused(format!(
        "this batch would give agent {agent} {would} channels; an agent may have at most {cap} \
         (meterdeck-cloud serve --max-channels-per-agent); nothing of it was stored"
    ))
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One part as a prune sees it: id, channel, bytes, samples, t_min, t_max, label.
pub(crate) type PruneRow = (i64, i64, u64, u64, Option<TimeMs>, Option<TimeMs>, String);

/// Which of `rows` (oldest first) `prune` takes, and the summary of them.
pub(crate) fn select_prune(rows: &[PruneRow], prune: Prune) -> (Vec<i64>, Vec<i64>, Pruned) {
    let mut out = Pruned::default();
    let (mut ids, mut channels) = (Vec::new(), Vec::new());
    let total: u64 = rows.iter().map(|r| r.2).sum();
    for (id, ch, bytes, samples, t_min, t_max, label) in rows {
        let take = match prune {
            Prune::OlderThan(t) => t_max.or(*t_min).unwrap_or(TimeMs::MIN) < t,
            Prune::DownTo(cap) => total - out.bytes > cap,
        };
        if !take {
            if matches!(prune, Prune::DownTo(_)) {
                break;
            }
            continue;
        }
        ids.push(*id);
        if !channels.contains(ch) {
            channels.push(*ch);
            out.channels.push(label.clone());
        }
        out.bytes += bytes;
        out.parts += 1;
        out.samples += samples;
        out.t_from = [out.t_from, *t_min].into_iter().flatten().min();
        out.t_to = [out.t_to, *t_max].into_iter().flatten().max();
    }
    (ids, channels, out)
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// "sqlite" or "postgres" (health, logs).
    fn kind(&self) -> &'static str;
    /// Cheap round trip to the database.
    async fn ping(&self) -> Result<()>;

    // ---- accounts -------------------------------------------------------
    async fn create_account(&self, account: &Account, first_admin: &User) -> Result<()>;
    async fn account(&self, id: &str) -> Result<Option<Account>>;
    async fn update_account(&self, account: &Account) -> Result<()>;
    /// Deletes the account and everything of it: users, teams, groups,
    /// sessions, tokens, codes, agents, channels, samples, traffic, log.
    async fn delete_account(&self, id: &str) -> Result<()>;

    // ---- users, teams, groups ------------------------------------------
    async fn insert_user(&self, user: &User) -> Result<()>;
    async fn update_user(&self, user: &User) -> Result<()>;
    async fn user(&self, account: &str, id: &str) -> Result<Option<User>>;
    async fn users(&self, account: &str) -> Result<Vec<User>>;
    /// Also ends the user's sessions and tokens and drops their grants.
    async fn delete_user(&self, account: &str, id: &str) -> Result<()>;
    /// The user's language and zone (`None`: never set); they go with the user.
    async fn user_prefs(&self, account: &str, id: &str) -> Result<Option<UserPrefs>>;
    /// `NotFound` for an unknown user.
    async fn set_user_prefs(&self, account: &str, id: &str, prefs: &UserPrefs) -> Result<()>;

    async fn put_team(&self, team: &Team) -> Result<()>;
    async fn teams(&self, account: &str) -> Result<Vec<Team>>;
    async fn delete_team(&self, account: &str, id: &str) -> Result<()>;

    async fn put_group(&self, group: &Group) -> Result<()>;
    async fn groups(&self, account: &str) -> Result<Vec<Group>>;
    async fn delete_group(&self, account: &str, id: &str) -> Result<()>;

    // ---- sessions, tokens, one-time codes -------------------------------
    async fn insert_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn update_session(&self, session: &Session) -> Result<()>;
    /// Idempotent: deleting an unknown session is not an error.
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every session of the user but `keep` (a token hash: the
    /// caller's own, on a self-service password change); returns how many
    /// ended. Password changes, resets and lowered roles call it, so a
    /// leaked session does not outlive the remedy.
    async fn delete_sessions_of(&self, account: &str, user: &str, keep: Option<&str>) -> Result<u64>;

    async fn insert_token(&self, token: &ApiToken) -> Result<()>;
    async fn token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    async fn tokens(&self, account: &str) -> Result<Vec<ApiToken>>;
    async fn touch_token(&self, token_hash: &str, now: TimeMs) -> Result<()>;
    async fn delete_token(&self, account: &str, id: &str) -> Result<()>;

    /// Replaces any code of the same (account, user, purpose).
    async fn put_code(&self, code: &OneTimeCode) -> Result<()>;
    /// Removes and returns the code, so it works once.
    async fn take_code(&self, account: &str, user: &str, purpose: &str) -> Result<Option<OneTimeCode>>;

    // ---- login throttling and the access log ----------------------------
    /// Records a failed login under `key` and returns the failures since `since`.
    async fn login_failed(&self, key: &str, now: TimeMs, since: TimeMs) -> Result<u32>;
    async fn login_failures(&self, key: &str, since: TimeMs) -> Result<u32>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;
    /// Clears every key that starts with `prefix` (taken literally).
    async fn clear_login_failures_prefix(&self, prefix: &str) -> Result<()>;

    async fn log_access(&self, entry: &AccessEntry) -> Result<()>;
    /// Newest first.
    async fn access_log(&self, account: &str, limit: usize) -> Result<Vec<AccessEntry>>;
    /// The entries matching `q`, newest first, filtered and paged in the query.
    async fn access_log_query(&self, account: &str, q: &AccessQuery) -> Result<Vec<AccessEntry>>;

    // ---- agents -----------------------------------------------------------
    async fn insert_agent(&self, agent: &Agent) -> Result<()>;
    async fn agent(&self, id: &str) -> Result<Option<Agent>>;
    async fn agents(&self, account: &str) -> Result<Vec<Agent>>;
    /// Also deletes its channels and samples.
    async fn delete_agent(&self, account: &str, id: &str) -> Result<()>;
    /// Replaces the agent's secret (both hashes); `NotFound` when `account`
    /// has no agent `id`. The old secret stops working at the broker's
    /// next reload.
    async fn set_agent_secret(&self, account: &str, id: &str, secret_hash: &str, broker_hash: &str) -> Result<()>;
    /// Every agent's broker login, for the broker's password file.
    async fn broker_logins(&self) -> Result<Vec<(String, String)>>;

    // ---- time series --------------------------------------------------
    /// Stores a checked batch of `agent` in one transaction. Idempotent:
    /// parts already stored (same agent, store, channel, seq_from) are
    /// skipped. Updates the agent's sync state and this month's traffic by
    /// `payload_bytes`. Only returns once the data is durable. `NotFound`
    /// for an unknown agent (nothing is stored or counted then).
    async fn ingest(&self, agent: &str, batch: &IngestBatch, payload_bytes: u64, now: TimeMs) -> Result<IngestOutcome> {
        self.ingest_limited(agent, batch, payload_bytes, now, IngestLimits::default()).await
    }
    /// [`Storage::ingest`] with `limits`: a batch over one is refused
    /// (`Refused`, naming the limit) and changes nothing.
    async fn ingest_limited(
        &self,
        agent: &str,
        batch: &IngestBatch,
        payload_bytes: u64,
        now: TimeMs,
        limits: IngestLimits,
    ) -> Result<IngestOutcome>;
    /// Counts a refused payload of a known agent.
    async fn ingest_refused(&self, agent: &str, error: &str, payload_bytes: u64, now: TimeMs) -> Result<MonthTraffic>;
    /// Payload bytes received from the agent in the UTC month `YYYY-MM`.
    async fn traffic(&self, agent: &str, month: &str) -> Result<u64>;

    async fn channels(&self, agent: &str) -> Result<Vec<CloudChannel>>;
    async fn channel(&self, id: i64) -> Result<Option<CloudChannel>>;
    /// Samples with `from <= t < to`, in store order (per seq), at most `limit`.
    /// Across the agent's cache files (`store` ids), in order of their first
    /// arrival. `NotFound` for an unknown channel (also `minmax`, `latest`).
    async fn raw(&self, channel: i64, from: TimeMs, to: TimeMs, limit: usize) -> Result<Vec<Point>>;
    /// Samples with `from <= t < to` in time order (ties: storage order),
    /// strictly after `after`, at most `limit`, each with its key: the last
    /// key is the `after` of the next page. Every stored sample comes in
    /// exactly one page, however it was stored. `NotFound` for an unknown
    /// channel.
    async fn raw_page(
        &self,
        channel: i64,
        from: TimeMs,
        to: TimeMs,
        after: Option<SampleKey>,
        limit: usize,
    ) -> Result<Vec<(SampleKey, Point)>>;
    /// Numeric min/max per bucket of `[from, to)` split into `buckets`
    /// equal spans; reads summaries, decodes only blocks cut by a bucket edge.
    /// `count` includes special values, min/max are numeric (ties: the
    /// earlier sample). Empty for `buckets == 0` or `to <= from`; more than
    /// 100,000 buckets is refused (`Db` error naming the limit).
    async fn minmax(&self, channel: i64, from: TimeMs, to: TimeMs, buckets: usize) -> Result<Vec<MinMax>>;
    async fn latest(&self, channel: i64) -> Result<Option<Point>>;

    // ---- licences (SPEC 7) ----------------------------------------------
    /// The account's stored licence and its version; `None` when none was
    /// stored yet (the account's plan applies, without a term).
    async fn licence(&self, account: &str) -> Result<Option<(LicenceState, i64)>>;
    /// Writes `state` if the stored version is still `version` (0: none
    /// stored), with `event` in the history and, when `card` (a code hash)
    /// is given, that card marked used by `event.by`, all in one
    /// transaction. `Refused` when the version moved (retry) or the card
    /// was used already; `NotFound` for an unknown account or card.
    async fn save_licence(
        &self,
        state: &LicenceState,
        version: i64,
        card: Option<&str>,
        event: &LicenceEvent,
    ) -> Result<()>;
    /// Appends to the history alone (reminders, notices).
    async fn licence_event(&self, event: &LicenceEvent) -> Result<()>;
    /// Newest first.
    async fn licence_history(&self, account: &str, limit: usize) -> Result<Vec<LicenceEvent>>;
    /// Bytes stored per channel of the account's agents (compressed blocks
    /// and their summaries), largest first.
    async fn storage_used(&self, account: &str) -> Result<Vec<ChannelBytes>>;
    /// Deletes the account's data `prune` names, oldest first, in one
    /// transaction; the channels' counts and time spans follow.
    async fn prune(&self, account: &str, prune: Prune) -> Result<Pruned>;
    /// Every account's id (the licence sweep's list).
    async fn account_ids(&self) -> Result<Vec<String>>;
    async fn insert_card(&self, card: &Card) -> Result<()>;
    async fn card(&self, code_hash: &str) -> Result<Option<Card>>;
    /// Records that reminder `key` of `account` was sent; false when it
    /// was recorded before (each reminder goes out once, across restarts
    /// and processes).
    async fn record_reminder(&self, account: &str, key: &str, at: TimeMs) -> Result<bool>;
    /// Forgets a reminder record (a mail that could not be sent is retried).
    async fn forget_reminder(&self, account: &str, key: &str) -> Result<()>;

    // ---- operations ---------------------------------------------------------
    /// A consistent copy of the whole database at `dest` (SQLite: the online
    /// backup API). PostgreSQL deployments back up with their own tools and
    /// return an error naming them.
    async fn backup_to(&self, dest: &std::path::Path) -> Result<()>;

    /// Uploaded measurement files (their own module in each backend).
    fn files(&self) -> &dyn FileStore;

    /// Dashboard boards of the web portal (their own module in each backend).
    fn boards(&self) -> &dyn BoardStore;
    /// Site records, agent presence, offline alarms (issue 16; their own
    /// module in each backend).
    fn records(&self) -> &dyn records::RecordStore;
    /// The cloud's own alarms, the account's alarm settings, expiring
    /// cloud acknowledgements (schema v8; their own module in each backend).
    fn alarms(&self) -> &dyn alarms::AlarmStore;
}
