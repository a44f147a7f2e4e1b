//! The SQLite schema, versioned by `PRAGMA user_version`.

use rusqlite::Connection;

pub const VERSION: i64 = 8;

/// Version 1. Grants and team members are JSON lists (small, read whole);
/// time series are one row per batch part (see `store/mod.rs`).
const V1: &str = "
CREATE TABLE account (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    ip_allow TEXT NOT NULL,
    traffic_allowance INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE user (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change INTEGER NOT NULL,
    two_factor TEXT NOT NULL,
    totp_secret TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE team (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    members TEXT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE grp (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    agents TEXT NOT NULL,
    users TEXT NOT NULL,
    teams TEXT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    user TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    pending TEXT,
    FOREIGN KEY (account, user) REFERENCES user(account, id) ON DELETE CASCADE
);
CREATE INDEX session_user ON session(account, user);
CREATE TABLE api_token (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_used_ms INTEGER,
    PRIMARY KEY (account, id),
    FOREIGN KEY (account, user) REFERENCES user(account, id) ON DELETE CASCADE
);
CREATE INDEX api_token_user ON api_token(account, user);
CREATE TABLE one_time_code (
    account TEXT NOT NULL,
    user TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (account, user, purpose),
    FOREIGN KEY (account, user) REFERENCES user(account, id) ON DELETE CASCADE
);
CREATE TABLE login_failure (key TEXT NOT NULL, t_ms INTEGER NOT NULL);
CREATE INDEX login_failure_key ON login_failure(key, t_ms);
CREATE INDEX login_failure_t ON login_failure(t_ms);
-- No foreign key: failed logins name accounts that may not exist.
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t_ms INTEGER NOT NULL,
    account TEXT,
    user TEXT,
    ip TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL
);
CREATE INDEX access_log_account ON access_log(account, t_ms, id);
CREATE TABLE agent (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    broker_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_batch_ms INTEGER,
    backlog INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL DEFAULT 0,
    batches INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX agent_account ON agent(account);
CREATE TABLE traffic (
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (agent, month)
) WITHOUT ROWID;
-- An agent's cache files in order of first arrival: parts sort by
-- (store number, seq_from), which is storage order across cache files.
CREATE TABLE agent_store (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    store TEXT NOT NULL,
    UNIQUE (agent, store)
);
CREATE TABLE channel (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    unit TEXT,
    samples INTEGER NOT NULL DEFAULT 0,
    t_first INTEGER,
    t_last INTEGER,
    -- Widest t_max - t_min of a part: bounds the index scan of range reads.
    max_span INTEGER NOT NULL DEFAULT 0,
    UNIQUE (agent, path)
);
CREATE TABLE part (
    id INTEGER PRIMARY KEY,
    channel INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
    store INTEGER NOT NULL REFERENCES agent_store(id) ON DELETE CASCADE,
    seq_from INTEGER NOT NULL,
    seq_to INTEGER NOT NULL,
    count INTEGER NOT NULL,
    specials INTEGER NOT NULL,
    t_min INTEGER,
    t_max INTEGER,
    first_t INTEGER, first_v REAL,
    last_t INTEGER, last_v REAL,
    min_t INTEGER, min_v REAL,
    max_t INTEGER, max_v REAL,
    -- Summaries per run of 1024 samples (series::Chunk), read for parts a
    -- bucket edge cuts; then the block. Last, so summary reads never touch
    -- their overflow pages.
    chunks BLOB NOT NULL,
    block BLOB NOT NULL,
    UNIQUE (channel, store, seq_from)
);
CREATE INDEX part_time ON part(channel, t_min);
CREATE INDEX part_store ON part(store);
";

/// Version 2: licences (SPEC 7). The state is one JSON document per
/// account with a version for compare-and-swap; cards are kept by the
/// SHA-256 of their code; sent reminders are remembered so each goes once.
const V2: &str = "
CREATE TABLE licence (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE licence_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    what TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX licence_event_account ON licence_event(account, at_ms, id);
CREATE TABLE card (
    code_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    product TEXT NOT NULL,
    months INTEGER NOT NULL,
    issued_ms INTEGER NOT NULL,
    used_ms INTEGER,
    used_by TEXT
);
CREATE TABLE reminder_sent (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (account, key)
);
-- The per-plan traffic placeholders (free/standard 1 GB, pro 5 GB) are
-- gone: gateways have their Remote plan's allowance, other agents none.
UPDATE account SET traffic_allowance = 0;
";

/// Version 3: measurement files uploaded by agents (issue 14). The bytes
/// are files on disk (`files_dir`); a row is an upload, kept once
/// `completed_ms` is set (the SHA-256 was confirmed).
const V3: &str = "
CREATE TABLE cloud_file (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    received INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    completed_ms INTEGER,
    UNIQUE (agent, instrument, name, sha256)
);
CREATE INDEX cloud_file_account ON cloud_file(account, completed_ms);
";

/// Version 4: dashboard boards of the web portal (issue 15). A board's
/// panels are one JSON document (the desktop's board file shape, checked by
/// the API before it is written), read and written whole.
const V4: &str = "
CREATE TABLE board (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    panels TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX board_account ON board(account, position);
";

/// Version 5: site records (issue 16): the alarm journal entries and
/// events agents sync, keyed by (agent, store, seq) so a resend stores
/// nothing, and the cloud's own agent offline/online alarms (store
/// `cloud`); the agents' presence (their last presence message, the
/// offline alarm standing); the account's offline setting.
const V5: &str = "
CREATE TABLE site_record (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    store TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    t INTEGER NOT NULL,
    body TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    UNIQUE (agent, store, seq)
);
CREATE INDEX site_record_order ON site_record(agent, t, seq, id);
CREATE TABLE agent_presence (
    agent TEXT PRIMARY KEY REFERENCES agent(id) ON DELETE CASCADE,
    online INTEGER,
    status_ms INTEGER,
    offline_alarm INTEGER NOT NULL DEFAULT 0,
    alarm_ms INTEGER
);
CREATE TABLE account_watch (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    offline_after_s INTEGER NOT NULL
);
";

/// Version 6: each user's language and time zone for the mails the cloud
/// sends on its own (issue 17).
const V6: &str = "
CREATE TABLE user_pref (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    language TEXT NOT NULL,
    zone TEXT NOT NULL,
    PRIMARY KEY (account, id),
    FOREIGN KEY (account, id) REFERENCES user(account, id) ON DELETE CASCADE
);
";

/// Version 7: acknowledgements made in the cloud (issue 16), kept until
/// the agent's journal shows them applied; published to the agent
/// meanwhile.
const V7: &str = "
CREATE TABLE cloud_ack (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    alarm_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    comment TEXT,
    created_ms INTEGER NOT NULL,
    sends INTEGER NOT NULL DEFAULT 0,
    last_sent_ms INTEGER,
    done_ms INTEGER
);
CREATE INDEX cloud_ack_open ON cloud_ack(agent) WHERE done_ms IS NULL;
";

/// Version 8: the cloud's own alarms, one row per episode (issue 16:
/// offline, traffic 90 % / 100 %, storage over the plan) with their sends
/// and acknowledgement; each account's alarm settings, sealed (webhook URLs
/// are credentials); cloud acknowledgements of agent alarms expire.
const V8: &str = "
CREATE TABLE cloud_alarm (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    kind TEXT NOT NULL,
    episode TEXT NOT NULL,
    raised_ms INTEGER NOT NULL,
    cleared_ms INTEGER,
    sends INTEGER NOT NULL DEFAULT 0,
    last_sent_ms INTEGER,
    ack_user TEXT,
    ack_ms INTEGER,
    ack_comment TEXT,
    body TEXT NOT NULL,
    UNIQUE (account, agent, kind, episode)
);
CREATE INDEX cloud_alarm_open ON cloud_alarm(account) WHERE cleared_ms IS NULL AND ack_ms IS NULL;
CREATE TABLE alarm_settings (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    sealed TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
ALTER TABLE cloud_ack ADD COLUMN expired_ms INTEGER;
";

/// A schema this program cannot use, or SQLite failing to set it up.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the database has schema version {0}; this meterdeck-cloud knows up to {VERSION}")]
    TooNew(i64),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Creates or upgrades the schema; refuses a newer one.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v > VERSION {
        return Err(SchemaError::TooNew(v));
    }
    if v < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(V1)?;
        tx.execute_batch("PRAGMA user_version = 1")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 2 {
        let tx = conn.transaction()?;
        tx.execute_batch(V2)?;
        tx.execute_batch("PRAGMA user_version = 2")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 3 {
        let tx = conn.transaction()?;
        tx.execute_batch(V3)?;
        tx.execute_batch("PRAGMA user_version = 3")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 4 {
        let tx = conn.transaction()?;
        tx.execute_batch(V4)?;
        tx.execute_batch("PRAGMA user_version = 4")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 5 {
        let tx = conn.transaction()?;
        tx.execute_batch(V5)?;
        tx.execute_batch("PRAGMA user_version = 5")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 6 {
        let tx = conn.transaction()?;
        tx.execute_batch(V6)?;
        tx.execute_batch("PRAGMA user_version = 6")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 7 {
        let tx = conn.transaction()?;
        tx.execute_batch(V7)?;
        tx.execute_batch("PRAGMA user_version = 7")?;
        tx.commit()?;
    }
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v < 8 {
        let tx = conn.transaction()?;
        tx.execute_batch(V8)?;
        tx.execute_batch("PRAGMA user_version = 8")?;
        tx.commit()?;
    }
    Ok(())
}
