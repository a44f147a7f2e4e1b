//! The PostgreSQL schema, versioned in `meterdeck_schema`. Several cloud
//! processes may start at once: migrations run under an advisory lock.

pub const VERSION: i32 = 8;

/// Arbitrary, fixed: the advisory lock key of schema migrations.
pub const MIGRATION_LOCK: i64 = 0x4d44_5343_4845_4d41; // "MDSCHEMA"

pub const V1: &str = "
CREATE TABLE account (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    ip_allow TEXT[] NOT NULL,
    traffic_allowance BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE app_user (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change BOOLEAN NOT NULL,
    two_factor TEXT NOT NULL,
    totp_secret TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE team (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    members TEXT[] NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE grp (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    agents TEXT[] NOT NULL,
    users TEXT[] NOT NULL,
    teams TEXT[] NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    app_user TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    pending TEXT,
    FOREIGN KEY (account, app_user) REFERENCES app_user(account, id) ON DELETE CASCADE
);
CREATE INDEX session_by_user ON session(account, app_user);
CREATE TABLE api_token (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    app_user TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_used_ms BIGINT,
    PRIMARY KEY (account, id),
    FOREIGN KEY (account, app_user) REFERENCES app_user(account, id) ON DELETE CASCADE
);
CREATE INDEX api_token_by_user ON api_token(account, app_user);
CREATE TABLE one_time_code (
    account TEXT NOT NULL,
    app_user TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (account, app_user, purpose),
    FOREIGN KEY (account, app_user) REFERENCES app_user(account, id) ON DELETE CASCADE
);
CREATE TABLE login_failure (key TEXT NOT NULL, t_ms BIGINT NOT NULL);
CREATE INDEX login_failure_key ON login_failure(key, t_ms);
CREATE INDEX login_failure_t ON login_failure(t_ms);
-- No foreign key: failed logins name accounts that may not exist.
CREATE TABLE access_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    t_ms BIGINT NOT NULL,
    account TEXT,
    app_user TEXT,
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
    created_ms BIGINT NOT NULL,
    last_batch_ms BIGINT,
    backlog BIGINT NOT NULL DEFAULT 0,
    samples BIGINT NOT NULL DEFAULT 0,
    batches BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX agent_account ON agent(account);
CREATE TABLE traffic (
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    PRIMARY KEY (agent, month)
);
-- An agent's cache files in order of first arrival: parts sort by
-- (store number, seq_from), which is storage order across cache files.
CREATE TABLE agent_store (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    store TEXT NOT NULL,
    UNIQUE (agent, store)
);
CREATE TABLE channel (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    unit TEXT,
    samples BIGINT NOT NULL DEFAULT 0,
    t_first BIGINT,
    t_last BIGINT,
    -- Widest t_max - t_min of a part: bounds the index scan of range reads.
    max_span BIGINT NOT NULL DEFAULT 0,
    UNIQUE (agent, path)
);
CREATE TABLE part (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel BIGINT NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
    store BIGINT NOT NULL REFERENCES agent_store(id) ON DELETE CASCADE,
    seq_from BIGINT NOT NULL,
    seq_to BIGINT NOT NULL,
    count BIGINT NOT NULL,
    specials BIGINT NOT NULL,
    t_min BIGINT,
    t_max BIGINT,
    first_t BIGINT, first_v DOUBLE PRECISION,
    last_t BIGINT, last_v DOUBLE PRECISION,
    min_t BIGINT, min_v DOUBLE PRECISION,
    max_t BIGINT, max_v DOUBLE PRECISION,
    -- Summaries per run of 1024 samples (series::Chunk), read for parts a
    -- bucket edge cuts.
    chunks BYTEA NOT NULL,
    block BYTEA NOT NULL,
    UNIQUE (channel, store, seq_from)
);
-- Blocks are compressed already.
ALTER TABLE part ALTER COLUMN block SET STORAGE EXTERNAL;
CREATE INDEX part_time ON part(channel, t_min);
CREATE INDEX part_store ON part(store);
";

/// Version 2: licences (SPEC 7); see the SQLite schema for the why.
pub const V2: &str = "
CREATE TABLE licence (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE TABLE licence_event (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    at_ms BIGINT NOT NULL,
    what TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX licence_event_account ON licence_event(account, at_ms, id);
CREATE TABLE card (
    code_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    product TEXT NOT NULL,
    months BIGINT NOT NULL,
    issued_ms BIGINT NOT NULL,
    used_ms BIGINT,
    used_by TEXT
);
CREATE TABLE reminder_sent (
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (account, key)
);
-- The per-plan traffic placeholders (free/standard 1 GB, pro 5 GB) are
-- gone: gateways have their Remote plan's allowance, other agents none.
UPDATE account SET traffic_allowance = 0;
";

/// Version 3: measurement files uploaded by agents; see the SQLite schema.
pub const V3: &str = "
CREATE TABLE cloud_file (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    received BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    completed_ms BIGINT,
    UNIQUE (agent, instrument, name, sha256)
);
CREATE INDEX cloud_file_account ON cloud_file(account, completed_ms);
";

/// Version 4: dashboard boards of the web portal; see the SQLite schema.
pub const V4: &str = "
CREATE TABLE board (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    panels TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX board_account ON board(account, position);
";

/// Version 5: site records, agent presence, the account's offline
/// setting (issue 16); see the SQLite schema.
pub const V5: &str = "
CREATE TABLE site_record (
    id BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    store TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    t BIGINT NOT NULL,
    body TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    UNIQUE (agent, store, seq)
);
CREATE INDEX site_record_order ON site_record(agent, t, seq, id);
CREATE TABLE agent_presence (
    agent TEXT PRIMARY KEY REFERENCES agent(id) ON DELETE CASCADE,
    online BOOLEAN,
    status_ms BIGINT,
    offline_alarm BOOLEAN NOT NULL DEFAULT FALSE,
    alarm_ms BIGINT
);
CREATE TABLE account_watch (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    offline_after_s BIGINT NOT NULL
);
";

/// Version 6: each user's language and time zone (issue 17); see the SQLite schema.
pub const V6: &str = "
CREATE TABLE user_pref (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    language TEXT NOT NULL,
    zone TEXT NOT NULL,
    PRIMARY KEY (account, id),
    FOREIGN KEY (account, id) REFERENCES app_user(account, id) ON DELETE CASCADE
);
";

/// Version 7: acknowledgements made in the cloud; see the SQLite schema.
pub const V7: &str = "
CREATE TABLE cloud_ack (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    alarm_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    comment TEXT,
    created_ms BIGINT NOT NULL,
    sends INTEGER NOT NULL DEFAULT 0,
    last_sent_ms BIGINT,
    done_ms BIGINT
);
CREATE INDEX cloud_ack_open ON cloud_ack(agent) WHERE done_ms IS NULL;
";

/// Version 8: cloud alarms, alarm settings, expiring cloud acks; see the SQLite schema.
pub const V8: &str = "
CREATE TABLE cloud_alarm (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    kind TEXT NOT NULL,
    episode TEXT NOT NULL,
    raised_ms BIGINT NOT NULL,
    cleared_ms BIGINT,
    sends INTEGER NOT NULL DEFAULT 0,
    last_sent_ms BIGINT,
    ack_user TEXT,
    ack_ms BIGINT,
    ack_comment TEXT,
    body TEXT NOT NULL,
    UNIQUE (account, agent, kind, episode)
);
CREATE INDEX cloud_alarm_open ON cloud_alarm(account) WHERE cleared_ms IS NULL AND ack_ms IS NULL;
CREATE TABLE alarm_settings (
    account TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    sealed TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
ALTER TABLE cloud_ack ADD COLUMN expired_ms BIGINT;
";
