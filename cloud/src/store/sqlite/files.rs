//! `FileStore` on SQLite: the `cloud_file` table (schema version 3).

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::{SqliteStore, all, i, one, u};
use crate::store::{FileQuery, FileRow, FileStore, Result, StoreError, TimeMs};

const COLS: &str = "id, account, agent, instrument, name, size, sha256, received, created_ms, completed_ms";

fn row(r: &Row) -> Result<FileRow> {
    Ok(FileRow {
        id: r.get(0)?,
        account: r.get(1)?,
        agent: r.get(2)?,
        instrument: r.get(3)?,
        name: r.get(4)?,
        size: u(r.get(5)?),
        sha256: r.get(6)?,
        received: u(r.get(7)?),
        created_ms: r.get(8)?,
        completed_ms: r.get(9)?,
    })
}

fn by_key(c: &rusqlite::Connection, k: &FileRow) -> Result<Option<FileRow>> {
    one(
        c,
        &format!("SELECT {COLS} FROM cloud_file WHERE agent = ?1 AND instrument = ?2 AND name = ?3 AND sha256 = ?4"),
        params![k.agent, k.instrument, k.name, k.sha256],
        row,
    )
}

#[async_trait]
impl FileStore for SqliteStore {
    async fn file_announce(&self, new: &FileRow) -> Result<FileRow> {
        let new = new.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO cloud_file (id, account, agent, instrument, name, size, sha256, received, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)
                 ON CONFLICT (agent, instrument, name, sha256) DO NOTHING",
                params![
                    new.id,
                    new.account,
                    new.agent,
                    new.instrument,
                    new.name,
                    i(new.size),
                    new.sha256,
                    new.created_ms
                ],
            )
            .map_err(|e| super::insert_err(e, format!("file {}", new.id), format!("agent {}", new.agent)))?;
            by_key(c, &new)?.ok_or_else(|| StoreError::NotFound(format!("file {}", new.id)))
        })
        .await
    }

    async fn file(&self, id: &str) -> Result<Option<FileRow>> {
        let id = id.to_owned();
        self.read(move |c| one(c, &format!("SELECT {COLS} FROM cloud_file WHERE id = ?1"), [&id], row)).await
    }

    async fn file_by_key(&self, key: &FileRow) -> Result<Option<FileRow>> {
        let key = key.clone();
        self.read(move |c| by_key(c, &key)).await
    }

    async fn file_received(&self, id: &str, from: u64, to: u64) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE cloud_file SET received = ?3 WHERE id = ?1 AND received = ?2 AND completed_ms IS NULL",
                params![id, i(from), i(to)],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict(format!("upload {id} is no longer at byte {from}")));
            }
            Ok(())
        })
        .await
    }

    async fn file_completed(&self, id: &str, now: TimeMs) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE cloud_file SET completed_ms = ?2 WHERE id = ?1 AND received = size",
                params![id, now],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("upload {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn file_delete(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM cloud_file WHERE id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn files(&self, q: &FileQuery) -> Result<Vec<FileRow>> {
        let q = q.clone();
        self.read(move |c| {
            let agents = q.agents.as_ref().map(|a| serde_json::to_string(a).unwrap_or_else(|_| "[]".into()));
            all(
                c,
                &format!(
                    "SELECT {COLS} FROM cloud_file
                     WHERE account = ?1 AND completed_ms IS NOT NULL
                       AND (?2 IS NULL OR agent IN (SELECT value FROM json_each(?2)))
                       AND (?3 IS NULL OR agent = ?3) AND (?4 IS NULL OR instrument = ?4)
                     ORDER BY completed_ms DESC, id LIMIT ?5 OFFSET ?6"
                ),
                params![q.account, agents, q.agent, q.instrument, i(q.limit), i(q.offset)],
                row,
            )
        })
        .await
    }

    async fn file_bytes(&self, account: &str) -> Result<u64> {
        let account = account.to_owned();
        self.read(move |c| {
            let n: i64 =
                c.query_row("SELECT COALESCE(SUM(size), 0) FROM cloud_file WHERE account = ?1", [&account], |r| {
                    r.get(0)
                })?;
            Ok(u(n))
        })
        .await
    }

    async fn file_ids(&self, account: &str, agent: Option<&str>) -> Result<Vec<String>> {
        let (account, agent) = (account.to_owned(), agent.map(str::to_owned));
        self.read(move |c| {
            all(
                c,
                "SELECT id FROM cloud_file WHERE account = ?1 AND (?2 IS NULL OR agent = ?2)",
                params![account, agent],
                |r| Ok(r.get(0)?),
            )
        })
        .await
    }
}
