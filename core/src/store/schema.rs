//! Connection settings and schema migrations: the store's own tables
//! (`PRAGMA user_version`) and the [`SchemaPart`]s other modules register
//! (versions in the `schema_part` table), all in one transaction.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::error::{Result, StoreError};
use super::types::Durability;

/// Tables another module keeps in the store's file (the alarm journal, the
/// notification centre): the owner declares them beside its code, the
/// agent's wiring registers them when it opens the store for writing
/// ([`Store::open_with`](super::Store::open_with)), and the store migrates
/// them with its own tables. The store never imports its callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaPart {
    /// Stable and unique: the version applied is recorded under it.
    pub name: &'static str,
    /// Creates the part's tables (its version 1). Idempotent
    /// (`CREATE TABLE IF NOT EXISTS`): files made before parts were
    /// registered already hold the tables of the first parts.
    pub ddl: &'static str,
    /// Later changes in order (versions 2, 3, ...). Append only.
    pub migrations: &'static [&'static str],
}

impl SchemaPart {
    /// The version this build brings the part to.
    pub const fn version(&self) -> i64 {
        1 + self.migrations.len() as i64
    }
}

/// The store's own migrations in order; `user_version` = number applied.
/// Append only. Version 3 created the alarm journal and the notification
/// centre; they are schema parts now, registered by their owners, and the
/// step stays (empty) so the numbers of existing files keep their meaning.
const MIGRATIONS: &[&[&str]] = &[&[V1], &[V2], &[], &[V4], &[V5], &[V6]];

/// Schema 6: an event's message as a translation key and arguments (JSON of
/// `meterdeck_wire::i18n::Text`), so the window shows it in its language.
/// Older rows have NULL and show their English `message`.
/// The instrument's state reason likewise (`reason` keeps its English).
const V6: &str = "ALTER TABLE event ADD COLUMN text TEXT;
ALTER TABLE instrument ADD COLUMN reason_text TEXT;";

/// Schema 5: a block's `sum` of numbers (reports' means from summaries),
/// in the summary index too. Blocks written before it have NULL and are
/// decoded when a report needs them.
const V5: &str = r#"
ALTER TABLE block ADD COLUMN sum REAL;
DROP INDEX block_summary;
CREATE INDEX block_summary ON block (channel, t_max, seq_first, t_min, count, specials,
    first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v, sum);
"#;

/// Schema 4: a failure repeating on every poll is one event row with its
/// count and first time (`t` is the last); old rows read as single events.
const V4: &str = "ALTER TABLE event ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE event ADD COLUMN first_t INTEGER;
CREATE INDEX event_by_first ON event (instrument, kind, first_t);";

/// Which version of each registered part a file holds.
const PARTS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_part (
    name    TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;";

pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema 1.
///
/// Samples of a channel carry a sequence number (`seq`, arrival order).
/// They live in `block` (compressed, summary columns; `t_min`/`t_max` bound
/// the block's timestamps) or, until a channel has a block's worth, in the
/// `tail_log` (one row per append, see `tail.rs`). `channel.next_seq`,
/// `block_seq` and `latest_*` are written when a channel flushes into
/// blocks; newer values are derived from the tail log. The outbox
/// references sample ranges `[seq_from, seq_to)` instead of copying them;
/// `seq_to = 9223372036854775807` marks a channel's open batch, which
/// extends to its newest sample.
const V1: &str = r#"
CREATE TABLE instrument (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL,
    family    TEXT NOT NULL,
    target    TEXT NOT NULL,
    state     TEXT NOT NULL DEFAULT 'stopped',
    reason    TEXT,
    last_poll INTEGER,
    updated   INTEGER NOT NULL
);
CREATE TABLE channel (
    id          INTEGER PRIMARY KEY,
    instrument  TEXT NOT NULL REFERENCES instrument(id),
    name        TEXT NOT NULL,
    unit        TEXT,
    next_seq    INTEGER NOT NULL DEFAULT 0,
    block_seq   INTEGER NOT NULL DEFAULT 0,
    latest_t    INTEGER,
    latest_v    REAL,
    latest_code INTEGER,
    UNIQUE (instrument, name)
);
CREATE TABLE block (
    id        INTEGER PRIMARY KEY,
    channel   INTEGER NOT NULL REFERENCES channel(id),
    seq_first INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    specials  INTEGER NOT NULL,
    t_min     INTEGER NOT NULL,
    t_max     INTEGER NOT NULL,
    first_t INTEGER, first_v REAL,
    last_t  INTEGER, last_v  REAL,
    min_t   INTEGER, min_v   REAL,
    max_t   INTEGER, max_v   REAL,
    data      BLOB NOT NULL
);
-- One index per channel position only: every per-channel index costs a
-- page write per channel per append. seq_first rides along so seq lookups
-- (outbox) scan the channel's index entries without reading blocks.
CREATE INDEX block_by_time ON block (channel, t_max, seq_first);
-- Global time order grows at the end: cheap, and retention's oldest-first.
CREATE INDEX block_by_age ON block (t_max);
CREATE TABLE tail_log (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE outbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    channel  INTEGER NOT NULL REFERENCES channel(id),
    seq_from INTEGER NOT NULL,
    seq_to   INTEGER NOT NULL,
    t_min    INTEGER NOT NULL
);
CREATE TABLE event (
    id         INTEGER PRIMARY KEY,
    t          INTEGER NOT NULL,
    instrument TEXT,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX event_by_time ON event (t);
CREATE INDEX event_by_instrument ON event (instrument, t);
CREATE TABLE setting (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// Schema 2: the per-channel block index carries the block summaries, so
/// count and M4 over a long range read only the index (30k blocks for a
/// year of 1 s data: ~100 bytes each instead of ~1 KB rows fetched by id);
/// blobs are read only for edge blocks. Still one per-channel index.
const V2: &str = r#"
CREATE INDEX block_summary ON block (channel, t_max, seq_first, t_min, count, specials,
    first_t, first_v, last_t, last_v, min_t, min_v, max_t, max_v);
DROP INDEX block_by_time;
"#;

/// Settings for the writer's connection. WAL lets readers (the CLI) run
/// while the agent writes; NORMAL survives kill -9, FULL survives power loss.
pub(crate) fn configure_writer(conn: &mut Connection, durability: Durability) -> rusqlite::Result<()> {
    common(conn)?;
    // Only takes effect on a new, empty database: lets retention give pages
    // back to the file system with `incremental_vacuum`.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("journal_mode WAL refused (got {mode})")),
        ));
    }
    let sync = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
    // Writers take the lock up front: a deferred transaction that upgrades
    // to a write can fail with SQLITE_BUSY without waiting.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    Ok(())
}

pub(crate) fn configure_reader(conn: &mut Connection) -> rusqlite::Result<()> {
    common(conn)
}

fn common(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Without the query planner stability guarantee, the bundled SQLite
    // (STAT4) re-prepares some statements with bound parameters on indexed
    // columns on every new binding: ~20 us per execution.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Brings the store's tables to `SCHEMA_VERSION` and each part to its
/// version, all in one transaction.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, parts: &[SchemaPart]) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    for batches in &MIGRATIONS[found.max(0) as usize..] {
        for sql in *batches {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    if !parts.is_empty() {
        tx.execute_batch(PARTS_TABLE)?;
    }
    for (i, part) in parts.iter().enumerate() {
        debug_assert!(parts[..i].iter().all(|p| p.name != part.name), "schema part {} registered twice", part.name);
        migrate_part(&tx, path, part)?;
    }
    tx.commit()?;
    Ok(())
}

fn migrate_part(conn: &Connection, path: &Path, part: &SchemaPart) -> Result<()> {
    let found: i64 = conn
        .query_row("SELECT version FROM schema_part WHERE name = ?1", [part.name], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let supported = part.version();
    if found > supported {
        return Err(StoreError::PartTooNew { path: path.to_path_buf(), part: part.name, found, supported });
    }
    if found == supported {
        return Ok(());
    }
    if found < 1 {
        conn.execute_batch(part.ddl)?;
    }
    for sql in &part.migrations[(found.max(1) - 1) as usize..] {
        conn.execute_batch(sql)?;
    }
    conn.execute(
        "INSERT INTO schema_part (name, version) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version",
        rusqlite::params![part.name, supported],
    )?;
    Ok(())
}

/// A reader cannot migrate; it needs exactly this build's schema.
pub(crate) fn check_version(conn: &Connection, path: &Path) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    if found != SCHEMA_VERSION {
        return Err(StoreError::SchemaMismatch { path: path.to_path_buf(), found, expected: SCHEMA_VERSION });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        configure_writer(&mut conn, Durability::Normal).unwrap();
        migrate(&mut conn, &path, &[]).unwrap();
        migrate(&mut conn, &path, &[]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let av: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).unwrap();
        assert_eq!(av, 2, "incremental auto_vacuum");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let e = migrate(&mut conn, &path, &[]).unwrap_err();
        assert!(e.to_string().contains("s.db"), "{e}");
    }

    const NOTES_V1: SchemaPart = SchemaPart {
        name: "notes",
        ddl: "CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
        migrations: &[],
    };
    const NOTES_V2: SchemaPart =
        SchemaPart { migrations: &["ALTER TABLE note ADD COLUMN read INTEGER NOT NULL DEFAULT 0;"], ..NOTES_V1 };

    fn writer(path: &Path) -> Connection {
        let mut conn = Connection::open(path).unwrap();
        configure_writer(&mut conn, Durability::Normal).unwrap();
        conn
    }

    fn part_version(conn: &Connection, name: &str) -> Option<i64> {
        conn.query_row("SELECT version FROM schema_part WHERE name = ?1", [name], |r| r.get(0)).optional().unwrap()
    }

    #[test]
    fn parts_are_created_then_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = writer(&path);
        migrate(&mut conn, &path, &[NOTES_V1]).unwrap();
        conn.execute("INSERT INTO note (text) VALUES ('kept')", []).unwrap();
        assert_eq!(part_version(&conn, "notes"), Some(1));
        migrate(&mut conn, &path, &[NOTES_V2]).unwrap();
        migrate(&mut conn, &path, &[NOTES_V2]).unwrap();
        assert_eq!(part_version(&conn, "notes"), Some(2));
        let (text, read): (String, i64) =
            conn.query_row("SELECT text, read FROM note", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((text.as_str(), read), ("kept", 0));
        // An older build (knowing version 1) refuses the newer part by name.
        let e = migrate(&mut conn, &path, &[NOTES_V1]).unwrap_err().to_string();
        assert!(e.contains("s.db") && e.contains("notes") && e.contains("version 2"), "{e}");
        // A part not registered this time is left as it is.
        migrate(&mut conn, &path, &[]).unwrap();
        assert_eq!(part_version(&conn, "notes"), Some(2));
    }

    /// Files of schema 3 made before parts existed: the journal's and the
    /// centre's tables are there without a `schema_part` row.
    #[test]
    fn a_file_from_before_parts_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut conn = writer(&path);
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(V2).unwrap();
        conn.execute_batch(NOTES_V1.ddl).unwrap();
        conn.execute("INSERT INTO note (text) VALUES ('from before')", []).unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        migrate(&mut conn, &path, &[NOTES_V2]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(part_version(&conn, "notes"), Some(2));
        let n: i64 = conn.query_row("SELECT count(*) FROM note WHERE read = 0", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }
}
