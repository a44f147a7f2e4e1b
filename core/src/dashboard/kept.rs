//! The boards in the store's file: one row per board with its panels as
//! JSON, so every edit (a panel moved, a board renamed) is one statement
//! in one transaction and a crash loses nothing that was answered.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Board, DashboardError, Panel, Result};
use crate::model::{Text, now_ms};
use crate::store::{SchemaPart, StoreError};

pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "dashboard", ddl: SCHEMA, migrations: &[] };

/// Settings key of the board the window showed last (it opens there).
pub const LAST_BOARD_KEY: &str = "dashboard.last_board";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dashboard_board (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    panels     TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);
";

fn immediate(conn: &Connection) -> Result<rusqlite::Transaction<'_>> {
    Ok(rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(StoreError::from)?)
}

fn parse_panels(id: i64, text: &str) -> Result<Vec<Panel>> {
    serde_json::from_str(text).map_err(|e| {
        DashboardError::Invalid(
            Text::new("err-dashboard-board-damaged").arg("id", id.to_string()).arg("reason", e.to_string()),
        )
    })
}

/// Every board in order.
pub fn list_boards(conn: &Connection) -> Result<Vec<Board>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, panels FROM dashboard_board ORDER BY position, id")
        .map_err(StoreError::from)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .map_err(StoreError::from)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(StoreError::from)?;
    rows.into_iter().map(|(id, name, panels)| Ok(Board { id, name, panels: parse_panels(id, &panels)? })).collect()
}

/// One board.
pub fn board(conn: &Connection, id: i64) -> Result<Board> {
    let row = conn
        .prepare_cached("SELECT name, panels FROM dashboard_board WHERE id = ?1")
        .map_err(StoreError::from)?
        .query_row([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .optional()
        .map_err(StoreError::from)?;
    let (name, panels) = row.ok_or(DashboardError::UnknownBoard(id))?;
    Ok(Board { id, name, panels: parse_panels(id, &panels)? })
}

/// Panels on every board (the plan limit counts them all).
pub fn panel_count(conn: &Connection) -> Result<u32> {
    Ok(list_boards(conn)?.iter().map(|b| b.panels.len() as u32).sum())
}

/// A new board at the end, with `panels`; returns its id.
pub fn create_board(conn: &Connection, name: &str, panels: &[Panel]) -> Result<i64> {
    let json = serde_json::to_string(panels).map_err(|e| DashboardError::Invalid(Text::plain(e.to_string())))?;
    let tx = immediate(conn)?;
    tx.execute(
        "INSERT INTO dashboard_board (name, position, panels, updated_at)
         VALUES (?1, (SELECT COALESCE(MAX(position), -1) + 1 FROM dashboard_board), ?2, ?3)",
        params![name, json, now_ms()],
    )
    .map_err(StoreError::from)?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(StoreError::from)?;
    Ok(id)
}

pub fn rename_board(conn: &Connection, id: i64, name: &str) -> Result<()> {
    let n = conn
        .execute("UPDATE dashboard_board SET name = ?2, updated_at = ?3 WHERE id = ?1", params![id, name, now_ms()])
        .map_err(StoreError::from)?;
    if n == 0 {
        return Err(DashboardError::UnknownBoard(id));
    }
    Ok(())
}

/// Puts the boards in the order of `ids`, which must name each board once.
pub fn reorder_boards(conn: &Connection, ids: &[i64]) -> Result<()> {
    let tx = immediate(conn)?;
    let mut have: Vec<i64> = list_boards(&tx)?.iter().map(|b| b.id).collect();
    let mut want = ids.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    if have != want {
        return Err(DashboardError::Invalid(
            Text::new("err-dashboard-order").arg("have", format!("{have:?}")).arg("ids", format!("{ids:?}")),
        ));
    }
    for (pos, id) in ids.iter().enumerate() {
        tx.execute("UPDATE dashboard_board SET position = ?2 WHERE id = ?1", params![id, pos as i64])
            .map_err(StoreError::from)?;
    }
    tx.commit().map_err(StoreError::from)?;
    Ok(())
}

pub fn delete_board(conn: &Connection, id: i64) -> Result<()> {
    let n = conn.execute("DELETE FROM dashboard_board WHERE id = ?1", [id]).map_err(StoreError::from)?;
    if n == 0 {
        return Err(DashboardError::UnknownBoard(id));
    }
    Ok(())
}

/// Replaces a board's panels (the caller has checked them).
pub fn set_panels(conn: &Connection, id: i64, panels: &[Panel]) -> Result<()> {
    let json = serde_json::to_string(panels).map_err(|e| DashboardError::Invalid(Text::plain(e.to_string())))?;
    let n = conn
        .execute("UPDATE dashboard_board SET panels = ?2, updated_at = ?3 WHERE id = ?1", params![id, json, now_ms()])
        .map_err(StoreError::from)?;
    if n == 0 {
        return Err(DashboardError::UnknownBoard(id));
    }
    Ok(())
}
