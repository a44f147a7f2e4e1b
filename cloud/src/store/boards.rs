//! Dashboard boards of the web portal (issue 15): one row per board of an
//! account, its panels as the JSON the desktop's board files hold (checked
//! by `api/boards.rs` before it is written), kept in order by `position`.
//! Both backends implement `BoardStore`.

use async_trait::async_trait;

use super::{Result, TimeMs};

/// One board as kept. `panels` is a JSON array of panels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardRow {
    pub account: String,
    pub id: i64,
    pub name: String,
    pub position: i64,
    pub panels: String,
    pub updated_ms: TimeMs,
}

#[async_trait]
pub trait BoardStore: Send + Sync {
    /// The account's boards in order.
    async fn boards(&self, account: &str) -> Result<Vec<BoardRow>>;
    async fn board(&self, account: &str, id: i64) -> Result<Option<BoardRow>>;
    /// A new board after the others; returns it. `NotFound` for an unknown account.
    async fn board_insert(&self, account: &str, name: &str, panels: &str, now: TimeMs) -> Result<BoardRow>;
    /// Replaces name and panels; `NotFound` when the account has no board `id`.
    async fn board_update(&self, account: &str, id: i64, name: &str, panels: &str, now: TimeMs) -> Result<()>;
    /// `ids`: every board of the account once, in the new order; anything
    /// else is `Refused` (naming what is missing or extra) and changes nothing.
    async fn board_reorder(&self, account: &str, ids: &[i64]) -> Result<()>;
    /// `NotFound` when the account has no board `id`.
    async fn board_delete(&self, account: &str, id: i64) -> Result<()>;
}

/// Checks `ids` against the account's `existing` board ids (the reorder's rule).
pub(crate) fn check_order(existing: &[i64], ids: &[i64]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !existing.contains(id) {
            return Err(super::StoreError::Refused(format!("ids: there is no board {id}")));
        }
        if !seen.insert(*id) {
            return Err(super::StoreError::Refused(format!("ids: board {id} is listed twice")));
        }
    }
    if let Some(missing) = existing.iter().find(|id| !seen.contains(*id)) {
        return Err(super::StoreError::Refused(format!("ids: board {missing} is missing (list every board once)")));
    }
    Ok(())
}
