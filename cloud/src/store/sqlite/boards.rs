//! `BoardStore` on SQLite: the `board` table (schema version 4).

use async_trait::async_trait;
use rusqlite::{Row, TransactionBehavior, params};

use super::{SqliteStore, all, one};
use crate::store::boards::check_order;
use crate::store::{BoardRow, BoardStore, Result, StoreError, TimeMs};

const COLS: &str = "account, id, name, position, panels, updated_ms";

fn row(r: &Row) -> Result<BoardRow> {
    Ok(BoardRow {
        account: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        position: r.get(3)?,
        panels: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

#[async_trait]
impl BoardStore for SqliteStore {
    async fn boards(&self, account: &str) -> Result<Vec<BoardRow>> {
        let account = account.to_owned();
        self.read(move |c| {
            all(c, &format!("SELECT {COLS} FROM board WHERE account = ?1 ORDER BY position, id"), [&account], row)
        })
        .await
    }

    async fn board(&self, account: &str, id: i64) -> Result<Option<BoardRow>> {
        let account = account.to_owned();
        self.read(move |c| {
            one(c, &format!("SELECT {COLS} FROM board WHERE account = ?1 AND id = ?2"), params![account, id], row)
        })
        .await
    }

    async fn board_insert(&self, account: &str, name: &str, panels: &str, now: TimeMs) -> Result<BoardRow> {
        let (account, name, panels) = (account.to_owned(), name.to_owned(), panels.to_owned());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO board (account, name, position, panels, updated_ms)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM board WHERE account = ?1), ?3, ?4)",
                params![account, name, panels, now],
            )
            .map_err(|e| super::insert_err(e, format!("board {name}"), format!("account {account}")))?;
            let id = tx.last_insert_rowid();
            let out = one(&tx, &format!("SELECT {COLS} FROM board WHERE id = ?1"), [id], row)?
                .ok_or_else(|| StoreError::NotFound(format!("board {id}")))?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn board_update(&self, account: &str, id: i64, name: &str, panels: &str, now: TimeMs) -> Result<()> {
        let (account, name, panels) = (account.to_owned(), name.to_owned(), panels.to_owned());
        self.write(move |c| {
            let n = c.execute(
                "UPDATE board SET name = ?3, panels = ?4, updated_ms = ?5 WHERE account = ?1 AND id = ?2",
                params![account, id, name, panels, now],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("board {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn board_reorder(&self, account: &str, ids: &[i64]) -> Result<()> {
        let (account, ids) = (account.to_owned(), ids.to_vec());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing: Vec<i64> =
                all(&tx, "SELECT id FROM board WHERE account = ?1", [&account], |r| Ok(r.get(0)?))?;
            check_order(&existing, &ids)?;
            for (k, id) in ids.iter().enumerate() {
                tx.execute(
                    "UPDATE board SET position = ?3 WHERE account = ?1 AND id = ?2",
                    params![account, id, k as i64 + 1],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn board_delete(&self, account: &str, id: i64) -> Result<()> {
        let account = account.to_owned();
        self.write(move |c| {
            let n = c.execute("DELETE FROM board WHERE account = ?1 AND id = ?2", params![account, id])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("board {id}")));
            }
            Ok(())
        })
        .await
    }
}
