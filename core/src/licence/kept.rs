//! The licence kept in the store's file: the last good document's text
//! (one row) and the log of checks (fetches and offline verifications),
//! which `licence show` and the window's Licence screen list.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{LicenceDoc, Source};
use crate::model::TimeMs;
use crate::store::{SchemaPart, StoreError};

/// The licence's tables in the store's file.
pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "licence", ddl: SCHEMA, migrations: &[] };

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS licence_kept (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    text       TEXT NOT NULL,
    serial     TEXT NOT NULL,
    account    TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    kept_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS licence_check (
    id      INTEGER PRIMARY KEY,
    t       INTEGER NOT NULL,
    source  TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    message TEXT NOT NULL
);
";

/// Checks kept in the log (older ones are dropped).
const CHECKS_KEPT: i64 = 200;

/// One fetch or verification and its result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Check {
    pub t: TimeMs,
    /// `start`, `daily`, `cloud` or `file`.
    pub source: String,
    pub ok: bool,
    pub message: String,
}

pub(super) struct Row {
    pub text: String,
    pub account: String,
    pub issued_at: TimeMs,
}

/// A file this build has not opened for writing yet (read-only readers)
/// has no licence tables: no licence kept, no checks.
fn has_tables(conn: &Connection) -> Result<bool, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'licence_kept'")?
        .query_row([], |r| r.get(0))?;
    Ok(n > 0)
}

pub(super) fn load_row(conn: &Connection) -> Result<Option<Row>, StoreError> {
    if !has_tables(conn)? {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached("SELECT text, account, issued_at FROM licence_kept WHERE id = 1")?
        .query_row([], |r| Ok(Row { text: r.get(0)?, account: r.get(1)?, issued_at: r.get(2)? }))
        .optional()?)
}

/// The kept document's issue time (for "is the new one newer").
pub(super) fn load(conn: &Connection) -> Result<Option<Kept>, StoreError> {
    Ok(load_row(conn)?.map(|r| Kept { issued_at: r.issued_at }))
}

pub(super) struct Kept {
    pub issued_at: TimeMs,
}

pub(super) fn save(conn: &Connection, text: &str, doc: &LicenceDoc, now: TimeMs) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO licence_kept (id, text, serial, account, issued_at, kept_at) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET text = ?1, serial = ?2, account = ?3, issued_at = ?4, kept_at = ?5",
    )?
    .execute(params![text, doc.serial, doc.account, doc.issued_at, now])?;
    Ok(())
}

pub(super) fn record(conn: &Connection, t: TimeMs, source: Source, ok: bool, message: &str) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO licence_check (t, source, ok, message) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![t, source.as_str(), ok, message])?;
    conn.prepare_cached("DELETE FROM licence_check WHERE id <= (SELECT MAX(id) FROM licence_check) - ?1")?
        .execute([CHECKS_KEPT])?;
    Ok(())
}

pub(super) fn checks(conn: &Connection, limit: usize) -> Result<Vec<Check>, StoreError> {
    if !has_tables(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached("SELECT t, source, ok, message FROM licence_check ORDER BY id DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(Check { t: r.get(0)?, source: r.get(1)?, ok: r.get(2)?, message: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
