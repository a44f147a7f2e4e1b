//! `BoardStore` on PostgreSQL: the `board` table (schema version 4).

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PgStore, all, g};
use crate::store::boards::check_order;
use crate::store::{BoardRow, BoardStore, Result, StoreError, TimeMs};

const COLS: &str = "account, id, name, position, panels, updated_ms";

fn row(r: &Row) -> Result<BoardRow> {
    Ok(BoardRow {
        account: g(r, 0)?,
        id: g(r, 1)?,
        name: g(r, 2)?,
        position: g(r, 3)?,
        panels: g(r, 4)?,
        updated_ms: g(r, 5)?,
    })
}

#[async_trait]
impl BoardStore for PgStore {
    async fn boards(&self, account: &str) -> Result<Vec<BoardRow>> {
        let rows = self
            .query(&format!("SELECT {COLS} FROM board WHERE account = $1 ORDER BY position, id"), &[&account])
            .await?;
        all(&rows, row)
    }

    async fn board(&self, account: &str, id: i64) -> Result<Option<BoardRow>> {
        self.query_opt(&format!("SELECT {COLS} FROM board WHERE account = $1 AND id = $2"), &[&account, &id])
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    async fn board_insert(&self, account: &str, name: &str, panels: &str, now: TimeMs) -> Result<BoardRow> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Two inserts at once must not take the same position: the account row serialises them.
        tx.query_opt("SELECT id FROM account WHERE id = $1 FOR UPDATE", &[&account])
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account {account}")))?;
        let r = tx
            .query_one(
                &format!(
                    "INSERT INTO board (account, name, position, panels, updated_ms)
                     VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM board WHERE account = $1), $3, $4)
                     RETURNING {COLS}"
                ),
                &[&account, &name, &panels, &now],
            )
            .await
            .map_err(|e| super::insert_err(e, format!("board {name}"), format!("account {account}")))?;
        let out = row(&r)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn board_update(&self, account: &str, id: i64, name: &str, panels: &str, now: TimeMs) -> Result<()> {
        let n = self
            .exec(
                "UPDATE board SET name = $3, panels = $4, updated_ms = $5 WHERE account = $1 AND id = $2",
                &[&account, &id, &name, &panels, &now],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("board {id}")));
        }
        Ok(())
    }

    async fn board_reorder(&self, account: &str, ids: &[i64]) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let rows = tx.query("SELECT id FROM board WHERE account = $1 FOR UPDATE", &[&account]).await?;
        let existing: Vec<i64> = rows.iter().map(|r| g(r, 0)).collect::<Result<_>>()?;
        check_order(&existing, ids)?;
        for (k, id) in ids.iter().enumerate() {
            tx.execute(
                "UPDATE board SET position = $3 WHERE account = $1 AND id = $2",
                &[&account, id, &(k as i64 + 1)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn board_delete(&self, account: &str, id: i64) -> Result<()> {
        self.delete_one("DELETE FROM board WHERE account = $1 AND id = $2", &[&account, &id], format!("board {id}"))
            .await
    }
}
