//! `FileStore` on PostgreSQL: the `cloud_file` table (schema version 3).
//! The bytes are on the API process's disk (`files_dir`): several API
//! processes on one database must share that directory (docs/api.md).

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PgStore, all, g, i, u};
use crate::store::{FileQuery, FileRow, FileStore, Result, StoreError, TimeMs};

const COLS: &str = "id, account, agent, instrument, name, size, sha256, received, created_ms, completed_ms";

fn row(r: &Row) -> Result<FileRow> {
    Ok(FileRow {
        id: g(r, 0)?,
        account: g(r, 1)?,
        agent: g(r, 2)?,
        instrument: g(r, 3)?,
        name: g(r, 4)?,
        size: u(g(r, 5)?),
        sha256: g(r, 6)?,
        received: u(g(r, 7)?),
        created_ms: g(r, 8)?,
        completed_ms: g(r, 9)?,
    })
}

#[async_trait]
impl FileStore for PgStore {
    async fn file_announce(&self, new: &FileRow) -> Result<FileRow> {
        self.insert(
            "INSERT INTO cloud_file (id, account, agent, instrument, name, size, sha256, received, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)
             ON CONFLICT (agent, instrument, name, sha256) DO NOTHING",
            &[
                &new.id,
                &new.account,
                &new.agent,
                &new.instrument,
                &new.name,
                &i(new.size),
                &new.sha256,
                &new.created_ms,
            ],
            format!("file {}", new.id),
            format!("agent {}", new.agent),
        )
        .await?;
        self.file_by_key(new).await?.ok_or_else(|| StoreError::NotFound(format!("file {}", new.id)))
    }

    async fn file(&self, id: &str) -> Result<Option<FileRow>> {
        self.query_opt(&format!("SELECT {COLS} FROM cloud_file WHERE id = $1"), &[&id])
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    async fn file_by_key(&self, k: &FileRow) -> Result<Option<FileRow>> {
        self.query_opt(
            &format!(
                "SELECT {COLS} FROM cloud_file WHERE agent = $1 AND instrument = $2 AND name = $3 AND sha256 = $4"
            ),
            &[&k.agent, &k.instrument, &k.name, &k.sha256],
        )
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    async fn file_received(&self, id: &str, from: u64, to: u64) -> Result<()> {
        let n = self
            .exec(
                "UPDATE cloud_file SET received = $3 WHERE id = $1 AND received = $2 AND completed_ms IS NULL",
                &[&id, &i(from), &i(to)],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("upload {id} is no longer at byte {from}")));
        }
        Ok(())
    }

    async fn file_completed(&self, id: &str, now: TimeMs) -> Result<()> {
        let n = self
            .exec("UPDATE cloud_file SET completed_ms = $2 WHERE id = $1 AND received = size", &[&id, &now])
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("upload {id}")));
        }
        Ok(())
    }

    async fn file_delete(&self, id: &str) -> Result<()> {
        self.exec("DELETE FROM cloud_file WHERE id = $1", &[&id]).await?;
        Ok(())
    }

    async fn files(&self, q: &FileQuery) -> Result<Vec<FileRow>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {COLS} FROM cloud_file
                     WHERE account = $1 AND completed_ms IS NOT NULL
                       AND ($2::text[] IS NULL OR agent = ANY($2))
                       AND ($3::text IS NULL OR agent = $3) AND ($4::text IS NULL OR instrument = $4)
                     ORDER BY completed_ms DESC, id LIMIT $5 OFFSET $6"
                ),
                &[&q.account, &q.agents, &q.agent, &q.instrument, &i(q.limit), &i(q.offset)],
            )
            .await?;
        all(&rows, row)
    }

    async fn file_bytes(&self, account: &str) -> Result<u64> {
        let r = self
            .query_opt("SELECT COALESCE(SUM(size), 0)::BIGINT FROM cloud_file WHERE account = $1", &[&account])
            .await?;
        Ok(r.as_ref().map(|r| g::<i64>(r, 0)).transpose()?.map_or(0, u))
    }

    async fn file_ids(&self, account: &str, agent: Option<&str>) -> Result<Vec<String>> {
        let rows = self
            .query(
                "SELECT id FROM cloud_file WHERE account = $1 AND ($2::text IS NULL OR agent = $2)",
                &[&account, &agent],
            )
            .await?;
        rows.iter().map(|r| g(r, 0)).collect()
    }
}
