//! Connection settings and schema migrations (`PRAGMA user_version`).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::error::{Result, StoreError};
use super::types::Durability;

/// Migrations in order; `user_version` = number applied. Append only.
/// Each migration is one or more SQL batches; the alarm journal and the
/// notification centre own their DDL beside their code.
const MIGRATIONS: &[&[&str]] = &[&[V1], &[V2], &[crate::alarm::journal::SCHEMA, crate::notify::centre::SCHEMA]];

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

/// Brings the schema to `SCHEMA_VERSION`, all in one transaction.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
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
    tx.commit()?;
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
        migrate(&mut conn, &path).unwrap();
        migrate(&mut conn, &path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let av: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).unwrap();
        assert_eq!(av, 2, "incremental auto_vacuum");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let e = migrate(&mut conn, &path).unwrap_err();
        assert!(e.to_string().contains("s.db"), "{e}");
    }
}
