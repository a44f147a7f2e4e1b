//! The files' metadata in the store (`ftp_file`): what each instrument's
//! server holds, what was fetched (where, SHA-256, server checksum), why a
//! file was not, and its cloud copy. The bytes live in the data directory.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::model::TimeMs;
use crate::store::{SchemaPart, StoreError};

pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "ftp_files", ddl: SCHEMA, migrations: &[] };

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ftp_file (
    id              INTEGER PRIMARY KEY,
    instrument      TEXT NOT NULL,
    remote_path     TEXT NOT NULL,
    size            INTEGER NOT NULL,
    modified        INTEGER,
    state           TEXT NOT NULL,
    reason          TEXT,
    local_path      TEXT,
    sha256          TEXT,
    server_checksum TEXT,
    seen_t          INTEGER NOT NULL,
    fetched_t       INTEGER,
    uploaded_t      INTEGER,
    cloud_id        TEXT,
    remote_deleted  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (instrument, remote_path)
);
";

/// Where a file stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum FileState {
    /// Listed once; fetched when the next listing shows the same size
    /// (an instrument may still be writing it).
    Seen,
    /// Larger than the automatic limit: waits for a request.
    TooLarge,
    /// A transfer was cut; its part file resumes on the next attempt.
    Partial,
    Fetched,
    /// Refused for good (checksum mismatch, server refusal); retried when
    /// the file changes or on request.
    Failed,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Seen => "seen",
            FileState::TooLarge => "too-large",
            FileState::Partial => "partial",
            FileState::Fetched => "fetched",
            FileState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<FileState> {
        [FileState::Seen, FileState::TooLarge, FileState::Partial, FileState::Fetched, FileState::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One file of one instrument, as the CLI and the window list it.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct FileRecord {
    #[ts(type = "number")]
    pub id: i64,
    pub instrument: String,
    pub remote_path: String,
    #[ts(type = "number")]
    pub size: u64,
    #[ts(type = "number | null")]
    pub modified: Option<TimeMs>,
    pub state: FileState,
    pub reason: Option<String>,
    pub local_path: Option<String>,
    pub sha256: Option<String>,
    pub server_checksum: Option<String>,
    #[ts(type = "number")]
    pub seen_t: TimeMs,
    #[ts(type = "number | null")]
    pub fetched_t: Option<TimeMs>,
    #[ts(type = "number | null")]
    pub uploaded_t: Option<TimeMs>,
    pub cloud_id: Option<String>,
    pub remote_deleted: bool,
}

const COLUMNS: &str = "id, instrument, remote_path, size, modified, state, reason, local_path, sha256, \
                       server_checksum, seen_t, fetched_t, uploaded_t, cloud_id, remote_deleted";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRecord> {
    let state: String = r.get(5)?;
    Ok(FileRecord {
        id: r.get(0)?,
        instrument: r.get(1)?,
        remote_path: r.get(2)?,
        size: r.get::<_, i64>(3)?.max(0) as u64,
        modified: r.get(4)?,
        state: FileState::parse(&state).unwrap_or(FileState::Failed),
        reason: r.get(6)?,
        local_path: r.get(7)?,
        sha256: r.get(8)?,
        server_checksum: r.get(9)?,
        seen_t: r.get(10)?,
        fetched_t: r.get(11)?,
        uploaded_t: r.get(12)?,
        cloud_id: r.get(13)?,
        remote_deleted: r.get::<_, i64>(14)? != 0,
    })
}

/// A file this build has not opened for writing yet has no table.
fn has_table(conn: &Connection) -> Result<bool, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'ftp_file'")?
        .query_row([], |r| r.get(0))?;
    Ok(n > 0)
}

pub fn get(conn: &Connection, instrument: &str, remote_path: &str) -> Result<Option<FileRecord>, StoreError> {
    if !has_table(conn)? {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM ftp_file WHERE instrument = ?1 AND remote_path = ?2"))?
        .query_row(params![instrument, remote_path], row)
        .optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<FileRecord>, StoreError> {
    if !has_table(conn)? {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM ftp_file WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

/// Newest first; `instrument` narrows it.
pub fn list(conn: &Connection, instrument: Option<&str>, limit: usize) -> Result<Vec<FileRecord>, StoreError> {
    if !has_table(conn)? {
        return Ok(Vec::new());
    }
    let limit = limit.min(i64::MAX as usize) as i64;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM ftp_file WHERE (?1 IS NULL OR instrument = ?1)
         ORDER BY coalesce(fetched_t, seen_t) DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![instrument, limit], row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records a listing entry; a known file whose size or time changed is a
/// new version and starts over as `seen`.
pub fn upsert_seen(
    conn: &Connection,
    instrument: &str,
    remote_path: &str,
    size: u64,
    modified: Option<TimeMs>,
    now: TimeMs,
) -> Result<FileRecord, StoreError> {
    conn.prepare_cached(
        "INSERT INTO ftp_file (instrument, remote_path, size, modified, state, seen_t)
         VALUES (?1, ?2, ?3, ?4, 'seen', ?5)
         ON CONFLICT (instrument, remote_path) DO UPDATE SET
            state = CASE WHEN size = excluded.size AND modified IS excluded.modified THEN state ELSE 'seen' END,
            reason = CASE WHEN size = excluded.size AND modified IS excluded.modified THEN reason ELSE NULL END,
            seen_t = CASE WHEN size = excluded.size AND modified IS excluded.modified THEN seen_t ELSE excluded.seen_t END,
            size = excluded.size,
            modified = excluded.modified",
    )?
    .execute(params![instrument, remote_path, size as i64, modified, now])?;
    get(conn, instrument, remote_path)?.ok_or(StoreError::BadRow {
        table: "ftp_file",
        column: "remote_path",
        value: remote_path.to_string(),
    })
}

pub fn set_state(conn: &Connection, id: i64, state: FileState, reason: Option<&str>) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE ftp_file SET state = ?2, reason = ?3 WHERE id = ?1")?.execute(params![
        id,
        state.as_str(),
        reason
    ])?;
    Ok(())
}

pub fn set_fetched(
    conn: &Connection,
    id: i64,
    local_path: &str,
    sha256: &str,
    server_checksum: Option<&str>,
    reason: Option<&str>,
    now: TimeMs,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE ftp_file SET state = 'fetched', local_path = ?2, sha256 = ?3, server_checksum = ?4, reason = ?5,
         fetched_t = ?6, uploaded_t = NULL, cloud_id = NULL WHERE id = ?1",
    )?
    .execute(params![id, local_path, sha256, server_checksum, reason, now])?;
    Ok(())
}

pub fn set_uploaded(conn: &Connection, id: i64, cloud_id: &str, now: TimeMs) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE ftp_file SET uploaded_t = ?2, cloud_id = ?3 WHERE id = ?1")?
        .execute(params![id, now, cloud_id])?;
    Ok(())
}

pub fn set_remote_deleted(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE ftp_file SET remote_deleted = 1 WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// Fetched files of a source not yet in the cloud.
pub fn pending_uploads(conn: &Connection, instrument: &str) -> Result<Vec<FileRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM ftp_file WHERE instrument = ?1 AND state = 'fetched' AND uploaded_t IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([instrument], row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Files of a source the cloud confirmed that are still on the instrument.
pub fn confirmed_not_deleted(conn: &Connection, instrument: &str) -> Result<Vec<FileRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM ftp_file WHERE instrument = ?1 AND state = 'fetched' AND uploaded_t IS NOT NULL
         AND cloud_id IS NOT NULL AND remote_deleted = 0 ORDER BY id"
    ))?;
    let rows = stmt.query_map([instrument], row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreOptions};

    #[test]
    fn a_changed_file_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_with(&dir.path().join("m.db"), StoreOptions::default(), &[SCHEMA_PART]).unwrap();
        let c = s.conn();
        let r = upsert_seen(c, "l1", "/D/a.MEM", 10, Some(5), 100).unwrap();
        assert_eq!(r.state, FileState::Seen);
        set_fetched(c, r.id, "/x/a.MEM", "ab", None, None, 200).unwrap();
        let same = upsert_seen(c, "l1", "/D/a.MEM", 10, Some(5), 300).unwrap();
        assert_eq!((same.state, same.seen_t), (FileState::Fetched, 100));
        let grown = upsert_seen(c, "l1", "/D/a.MEM", 20, Some(6), 400).unwrap();
        assert_eq!((grown.state, grown.size, grown.seen_t), (FileState::Seen, 20, 400));
        assert_eq!(list(c, Some("l1"), 10).unwrap().len(), 1);
        assert!(list(c, Some("other"), 10).unwrap().is_empty());
    }
}
