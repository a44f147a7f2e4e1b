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

use serde::{Deserialize, Serialize};

pub use file::{FORMAT_KEY, FORMAT_VERSION, Imported, export_json, parse_import};
pub use image::{IMAGE_DIR, MAX_IMAGE_BYTES, image_data_url, import_image};
pub use kept::{
    LAST_BOARD_KEY, SCHEMA_PART, board, create_board, delete_board, list_boards, panel_count, rename_board,
    reorder_boards, set_panels,
};

/// Columns of the grid panels sit on.
pub const GRID_COLS: u32 = 12;
/// Rows a board may use (the window scrolls past the first screenful).
pub const GRID_ROWS: u32 = 48;
/// Channels one graph or value panel shows.
pub const MAX_PANEL_CHANNELS: usize = 8;
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_TITLE_CHARS: usize = 80;

/// What a panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum PanelKind {
    GraphValue,
    Graph,
    Value,
    ImageValues,
    Image,
    AlarmList,
}

impl PanelKind {
    pub fn has_graph(self) -> bool {
        matches!(self, PanelKind::GraphValue | PanelKind::Graph)
    }
    pub fn has_image(self) -> bool {
        matches!(self, PanelKind::ImageValues | PanelKind::Image)
    }
}

/// The time window of a graph panel, ending now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum GraphWindow {
    #[default]
    Hour,
    Day,
    Week,
}

impl GraphWindow {
    pub fn millis(self) -> i64 {
        match self {
            GraphWindow::Hour => 3_600_000,
            GraphWindow::Day => 86_400_000,
            GraphWindow::Week => 7 * 86_400_000,
        }
    }
}

/// Where a value sits on an image panel: relative coordinates of the
/// image (0..1 from its left and top edges), so it survives a resize.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// `instrument/channel`.
    pub channel: String,
    pub x: f64,
    pub y: f64,
}

/// One panel: its kind, where it sits on the grid and what it shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Unique within its board (given by [`add_panel`]).
    #[serde(default)]
    pub id: u32,
    pub kind: PanelKind,
    #[serde(default)]
    pub title: String,
    /// Grid column and row of the top-left cell, width and height in cells.
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// `instrument/channel` paths (graph and value panels, values on an
    /// image; an alarm list's filter, empty = every channel).
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub window: GraphWindow,
    /// The image's file name in the data directory's [`IMAGE_DIR`].
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub placements: Vec<Placement>,
    /// An alarm list's rules (empty = every rule, or those of `channels`).
    #[serde(default)]
    pub rules: Vec<String>,
}

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
    /// A refused edit or file: the message names what is wrong.
    #[error("{0}")]
    Invalid(String),
    #[error("no dashboard board with id {0}")]
    UnknownBoard(i64),
    #[error("board {board} has no panel {panel}")]
    UnknownPanel { board: i64, panel: u32 },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

pub type Result<T> = std::result::Result<T, DashboardError>;

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(DashboardError::Invalid(msg.into()))
}

/// A board name as kept: trimmed, 1..=[`MAX_NAME_CHARS`] characters.
pub fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return invalid("enter a name for the board");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return invalid(format!("a board name has at most {MAX_NAME_CHARS} characters"));
    }
    Ok(name.to_string())
}

/// `instrument/channel` with both parts non-empty.
fn well_formed(path: &str) -> bool {
    matches!(path.split_once('/'), Some((i, c)) if !i.is_empty() && !c.is_empty() && !c.contains('/'))
}

/// Checks one panel on its own: kind-specific fields, grid bounds,
/// channels (`known` says whether a path names a channel of this agent),
/// placements. `what` names the panel in messages.
pub fn check_panel(p: &Panel, what: &str, known: &dyn Fn(&str) -> bool) -> Result<()> {
    if p.w == 0 || p.h == 0 {
        return invalid(format!("{what}: width and height must be at least 1 cell (got {}x{})", p.w, p.h));
    }
    if p.x.saturating_add(p.w) > GRID_COLS || p.y.saturating_add(p.h) > GRID_ROWS {
        return invalid(format!(
            "{what}: at column {}, row {} with size {}x{} it leaves the {GRID_COLS}x{GRID_ROWS} grid",
            p.x, p.y, p.w, p.h
        ));
    }
    if p.title.chars().count() > MAX_TITLE_CHARS {
        return invalid(format!("{what}: a title has at most {MAX_TITLE_CHARS} characters"));
    }
    for c in &p.channels {
        if !well_formed(c) {
            return invalid(format!("{what}: channel `{c}` is not of the form instrument/channel"));
        }
        if !known(c) {
            return invalid(format!("{what}: channel `{c}` is not a channel of this agent"));
        }
    }
    if let Some(dup) = p.channels.iter().enumerate().find(|(i, c)| p.channels[..*i].contains(c)) {
        return invalid(format!("{what}: channel `{}` is listed twice", dup.1));
    }
    let needs_channels = matches!(p.kind, PanelKind::GraphValue | PanelKind::Graph | PanelKind::Value);
    if needs_channels && p.channels.is_empty() {
        return invalid(format!("{what}: choose at least one channel"));
    }
    if p.channels.len() > MAX_PANEL_CHANNELS && p.kind != PanelKind::AlarmList {
        return invalid(format!("{what}: a panel shows at most {MAX_PANEL_CHANNELS} channels"));
    }
    if p.kind == PanelKind::Image && !p.channels.is_empty() {
        return invalid(format!("{what}: an image-only panel shows no channels (use image-values)"));
    }
    match (&p.image, p.kind.has_image()) {
        (None, true) => return invalid(format!("{what}: choose an image")),
        (Some(_), false) => return invalid(format!("{what}: only image panels have an image")),
        (Some(name), true) if !image::valid_name(name) => {
            return invalid(format!("{what}: image `{name}` is not an image file name of the data directory"));
        }
        _ => {}
    }
    if !p.placements.is_empty() && p.kind != PanelKind::ImageValues {
        return invalid(format!("{what}: only image-values panels place values"));
    }
    for pl in &p.placements {
        if !p.channels.contains(&pl.channel) {
            return invalid(format!("{what}: placed channel `{}` is not one of the panel's channels", pl.channel));
        }
        if !(0.0..=1.0).contains(&pl.x) || !(0.0..=1.0).contains(&pl.y) {
            return invalid(format!(
                "{what}: placement of `{}` at ({}, {}) is outside the image (0..1)",
                pl.channel, pl.x, pl.y
            ));
        }
    }
    if !p.rules.is_empty() && p.kind != PanelKind::AlarmList {
        return invalid(format!("{what}: only alarm lists choose rules"));
    }
    Ok(())
}

fn overlaps(a: &Panel, b: &Panel) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

/// Checks a board's panels: each on its own, then that no two overlap
/// and ids are unique.
pub fn check_panels(panels: &[Panel], known: &dyn Fn(&str) -> bool) -> Result<()> {
    for (i, p) in panels.iter().enumerate() {
        let what = panel_name(p, i);
        check_panel(p, &what, known)?;
        if let Some((j, q)) = panels[..i].iter().enumerate().find(|(_, q)| overlaps(p, q)) {
            return invalid(format!("{what} overlaps {}", panel_name(q, j)));
        }
        if panels[..i].iter().any(|q| q.id == p.id) {
            return invalid(format!("{what}: panel id {} is used twice", p.id));
        }
    }
    Ok(())
}

fn panel_name(p: &Panel, index: usize) -> String {
    let kind = serde_json::to_value(p.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    if p.title.is_empty() {
        format!("panel {} ({kind})", index + 1)
    } else {
        format!("panel {} ({kind} \"{}\")", index + 1, p.title)
    }
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
