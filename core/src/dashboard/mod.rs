//! Dashboards (SPEC 4.3): boards of panels on a grid, kept in the store's
//! file (one row per board, its panels as JSON, every edit one
//! transaction), exported and imported as a JSON file with the images it
//! shows, and the images the user picks copied into the data directory.
//!
//! What a panel shows (latest values, series, alarms) is the window's
//! business; here is only what a board is and what makes one valid.

mod file;
mod image;
mod kept;
#[cfg(test)]
mod tests;

use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};

pub use file::{FORMAT_KEY, FORMAT_VERSION, Imported, export_json, parse_import};
pub use image::{IMAGE_DIR, MAX_IMAGE_BYTES, image_data_url, import_image};
pub use kept::{
    LAST_BOARD_KEY, SCHEMA_PART, board, create_board, delete_board, list_boards, panel_count, rename_board,
    reorder_boards, set_panels,
};

pub use meterdeck_wire::boards::{
    GRID_COLS, GRID_ROWS, GraphWindow, MAX_NAME_CHARS, MAX_PANEL_CHANNELS, MAX_TITLE_CHARS, Panel, PanelKind, Placement,
};

/// A board and its panels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Board {
    pub id: i64,
    pub name: String,
    pub panels: Vec<Panel>,
}

/// Every board in order and the one used last.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Dashboards {
    pub boards: Vec<Board>,
    pub last_board: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// A refused edit or file: the message names what is wrong (keys
    /// `err-dashboard-*` in locales/*/core.ftl).
    #[error("{0}")]
    Invalid(Text),
    #[error("no dashboard board with id {0}")]
    UnknownBoard(i64),
    #[error("board {board} has no panel {panel}")]
    UnknownPanel { board: i64, panel: u32 },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

pub type Result<T> = std::result::Result<T, DashboardError>;

impl DashboardError {
    /// The refusal as a translatable message; English is the Display. What
    /// the store said is quoted as it came.
    pub fn text(&self) -> Text {
        match self {
            DashboardError::Invalid(t) => t.clone(),
            DashboardError::UnknownBoard(id) => Text::new("err-dashboard-unknown-board").arg("id", id.to_string()),
            DashboardError::UnknownPanel { board, panel } => {
                Text::new("err-dashboard-unknown-panel").arg("board", board.to_string()).arg("panel", panel.to_string())
            }
            DashboardError::Store(e) => e.text(),
        }
    }
}

fn invalid<T>(msg: Text) -> Result<T> {
    Err(DashboardError::Invalid(msg))
}

/// A refusal of the board and panel checks of `meterdeck_wire::boards`.
fn worded(msg: Text) -> DashboardError {
    DashboardError::Invalid(msg)
}

/// A board name as kept: trimmed, 1..=[`MAX_NAME_CHARS`] characters.
pub fn check_name(name: &str) -> Result<String> {
    meterdeck_wire::boards::check_name(name).map_err(worded)
}

/// `instrument/channel` with both parts non-empty.
fn well_formed(path: &str) -> bool {
    matches!(path.split_once('/'), Some((i, c)) if !i.is_empty() && !c.is_empty() && !c.contains('/'))
}

/// Checks one panel on its own: kind-specific fields, grid bounds,
/// channels (`known` says whether a path names a channel of this agent),
/// placements. `what` names the panel in messages.
pub fn check_panel(p: &Panel, what: &str, known: &dyn Fn(&str) -> bool) -> Result<()> {
    p.check_cells(what).map_err(worded)?;
    for c in &p.channels {
        if !well_formed(c) {
            return invalid(Text::new("err-dashboard-channel-form").arg("what", what).arg("channel", c));
        }
        if !known(c) {
            return invalid(Text::new("err-dashboard-channel-unknown").arg("what", what).arg("channel", c));
        }
    }
    if let Some(dup) = p.repeated_channel() {
        return invalid(Text::new("err-dashboard-channel-twice").arg("what", what).arg("channel", dup));
    }
    p.check_channel_count(what).map_err(worded)?;
    p.check_kind_fields(what, &image::valid_name).map_err(worded)
}

/// Checks a board's panels: each on its own, then that no two overlap
/// and ids are unique.
pub fn check_panels(panels: &[Panel], known: &dyn Fn(&str) -> bool) -> Result<()> {
    for (i, p) in panels.iter().enumerate() {
        let what = panel_name(p, i);
        check_panel(p, &what, known)?;
        if let Some((j, q)) = meterdeck_wire::boards::first_overlap(panels, i) {
            return invalid(Text::new("err-dashboard-overlap").arg("what", &what).arg("other", panel_name(q, j)));
        }
        if panels[..i].iter().any(|q| q.id == p.id) {
            return invalid(Text::new("err-dashboard-panel-id-twice").arg("what", &what).arg("id", p.id.to_string()));
        }
    }
    Ok(())
}

fn panel_name(p: &Panel, index: usize) -> String {
    p.describe(&format!("panel {}", index + 1))
}

/// `board` with `panel` added under a fresh id.
pub fn add_panel(board: &Board, mut panel: Panel) -> Vec<Panel> {
    panel.id = board.panels.iter().map(|p| p.id).max().unwrap_or(0) + 1;
    let mut panels = board.panels.clone();
    panels.push(panel);
    panels
}

/// `board` with the panel of the same id replaced by `panel`.
pub fn replace_panel(board: &Board, panel: Panel) -> Result<Vec<Panel>> {
    let mut panels = board.panels.clone();
    let slot = panels
        .iter_mut()
        .find(|p| p.id == panel.id)
        .ok_or(DashboardError::UnknownPanel { board: board.id, panel: panel.id })?;
    *slot = panel;
    Ok(panels)
}

/// `board` without panel `id`.
pub fn remove_panel(board: &Board, id: u32) -> Result<Vec<Panel>> {
    if !board.panels.iter().any(|p| p.id == id) {
        return Err(DashboardError::UnknownPanel { board: board.id, panel: id });
    }
    Ok(board.panels.iter().filter(|p| p.id != id).cloned().collect())
}
