//! The dashboard board document (SPEC 4.3, issue 15): what a panel is
//! (its kind, where it sits on the grid, what it shows), the board file
//! the desktop exports and the portal imports, and the checks that need
//! nothing but the document: grid bounds, sizes, titles, names, channel
//! counts, which kinds need channels, images, placements or rules.
//!
//! Both ends add their own checks around these: the desktop (meterdeck-core
//! `dashboard`) that channels are this agent's (`instrument/channel`) and
//! images are files of its data directory; the cloud (`api::boards`) that
//! channels are `<agent>/<instrument>/<channel>` of the account, the kinds
//! the portal offers, and what the caller may do. Messages are returned as
//! text; `what` names the panel at fault (see [`Panel::describe`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::Text;

/// The key naming the board file format, and the version written and read.
pub const FORMAT_KEY: &str = "meterdeck_dashboard";
pub const FORMAT_VERSION: u64 = 1;
/// Columns of the grid panels sit on.
pub const GRID_COLS: u32 = 12;
/// Rows a board may use (the window scrolls past the first screenful).
pub const GRID_ROWS: u32 = 48;
/// Channels one graph or value panel shows.
pub const MAX_PANEL_CHANNELS: usize = 8;
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_TITLE_CHARS: usize = 80;

/// What a panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Graph and value panels show at least one channel.
    pub fn needs_channels(self) -> bool {
        matches!(self, PanelKind::GraphValue | PanelKind::Graph | PanelKind::Value)
    }
    /// The kind as its JSON spells it (`graph-value`).
    pub fn name(self) -> &'static str {
        match self {
            PanelKind::GraphValue => "graph-value",
            PanelKind::Graph => "graph",
            PanelKind::Value => "value",
            PanelKind::ImageValues => "image-values",
            PanelKind::Image => "image",
            PanelKind::AlarmList => "alarm-list",
        }
    }
}

/// The time window of a graph panel, ending now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// `instrument/channel`.
    pub channel: String,
    pub x: f64,
    pub y: f64,
}

/// One panel: its kind, where it sits on the grid and what it shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Unique within its board (given by the desktop's `add_panel` or by the cloud).
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
    /// `instrument/channel` paths on the desktop, `<agent>/<instrument>/<channel>`
    /// in the web portal (graph and value panels, values on an image; an
    /// alarm list's filter, empty = every channel).
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub window: GraphWindow,
    /// The image's file name in the desktop data directory's `dashboard-images`.
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub placements: Vec<Placement>,
    /// An alarm list's rules (empty = every rule, or those of `channels`).
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A board file as the desktop exports it and the portal imports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BoardFile {
    /// The format version: 1.
    pub meterdeck_dashboard: u64,
    pub name: String,
    pub panels: Vec<Panel>,
    /// Image file name (as the panels name it) -> its bytes in base64
    /// (the portal keeps none).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
}

/// A board name as kept: trimmed, 1..=[`MAX_NAME_CHARS`] characters.
/// The refusals here are keyed (`err-board-*` in locales/*/core.ftl);
/// their English is as the code words it.
pub fn check_name(name: &str) -> Result<String, Text> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Text::new("err-board-no-name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Text::new("err-board-name-length").arg("max", MAX_NAME_CHARS.to_string()));
    }
    Ok(name.to_string())
}

impl Panel {
    /// `label` with the kind and title: `panel 2 (value "Boiler")`.
    pub fn describe(&self, label: &str) -> String {
        if self.title.is_empty() {
            format!("{label} ({})", self.kind.name())
        } else {
            format!("{label} ({} \"{}\")", self.kind.name(), self.title)
        }
    }

    /// Size at least one cell, inside the grid, title not too long.
    pub fn check_cells(&self, what: &str) -> Result<(), Text> {
        let t = |key: &str| Text::new(key).arg("what", what);
        if self.w == 0 || self.h == 0 {
            return Err(t("err-board-panel-size").arg("w", self.w.to_string()).arg("h", self.h.to_string()));
        }
        if self.x.saturating_add(self.w) > GRID_COLS || self.y.saturating_add(self.h) > GRID_ROWS {
            return Err(t("err-board-panel-off-grid")
                .arg("x", self.x.to_string())
                .arg("y", self.y.to_string())
                .arg("w", self.w.to_string())
                .arg("h", self.h.to_string())
                .arg("cols", GRID_COLS.to_string())
                .arg("rows", GRID_ROWS.to_string()));
        }
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(t("err-board-panel-title").arg("max", MAX_TITLE_CHARS.to_string()));
        }
        Ok(())
    }

    /// The first channel listed a second time, if any.
    pub fn repeated_channel(&self) -> Option<&str> {
        self.channels.iter().enumerate().find(|(i, c)| self.channels[..*i].contains(c)).map(|(_, c)| c.as_str())
    }

    /// Graph and value panels show 1..=[`MAX_PANEL_CHANNELS`] channels
    /// (an alarm list filters on any number).
    pub fn check_channel_count(&self, what: &str) -> Result<(), Text> {
        if self.kind.needs_channels() && self.channels.is_empty() {
            return Err(Text::new("err-board-panel-no-channel").arg("what", what));
        }
        if self.channels.len() > MAX_PANEL_CHANNELS && self.kind != PanelKind::AlarmList {
            return Err(Text::new("err-board-panel-channels")
                .arg("what", what)
                .arg("max", MAX_PANEL_CHANNELS.to_string()));
        }
        Ok(())
    }

    /// What only some kinds have: channels not on image-only panels, an
    /// image exactly on image panels (`image_ok` says whether its name is
    /// one), placements on image-values panels inside the image and on
    /// the panel's channels, rules on alarm lists.
    pub fn check_kind_fields(&self, what: &str, image_ok: &dyn Fn(&str) -> bool) -> Result<(), Text> {
        let t = |key: &str| Text::new(key).arg("what", what);
        if self.kind == PanelKind::Image && !self.channels.is_empty() {
            return Err(t("err-board-image-no-channels"));
        }
        match (&self.image, self.kind.has_image()) {
            (None, true) => return Err(t("err-board-choose-image")),
            (Some(_), false) => return Err(t("err-board-image-only")),
            (Some(name), true) if !image_ok(name) => {
                return Err(t("err-board-image-name").arg("name", name));
            }
            _ => {}
        }
        if !self.placements.is_empty() && self.kind != PanelKind::ImageValues {
            return Err(t("err-board-placements-kind"));
        }
        for pl in &self.placements {
            if !self.channels.contains(&pl.channel) {
                return Err(t("err-board-placement-channel").arg("channel", &pl.channel));
            }
            if !(0.0..=1.0).contains(&pl.x) || !(0.0..=1.0).contains(&pl.y) {
                return Err(t("err-board-placement-outside")
                    .arg("channel", &pl.channel)
                    .arg("x", pl.x.to_string())
                    .arg("y", pl.y.to_string()));
            }
        }
        if !self.rules.is_empty() && self.kind != PanelKind::AlarmList {
            return Err(t("err-board-rules-kind"));
        }
        Ok(())
    }

    /// Whether the two share a grid cell.
    pub fn overlaps(&self, other: &Panel) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// The first of `panels[..i]` that `panels[i]` overlaps, with its index.
pub fn first_overlap(panels: &[Panel], i: usize) -> Option<(usize, &Panel)> {
    panels[..i].iter().enumerate().find(|(_, q)| panels[i].overlaps(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panel as a file gives it: every field left out takes its default.
    fn panel(kind: PanelKind, x: u32, y: u32, w: u32, h: u32, channels: &[&str]) -> Panel {
        let v = serde_json::json!({"kind": kind, "x": x, "y": y, "w": w, "h": h, "channels": channels});
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_document_reads_and_writes_the_desktops_json() {
        let text = r#"{"kind":"graph-value","x":0,"y":0,"w":6,"h":4,"channels":["logger/ch1"]}"#;
        let p: Panel = serde_json::from_str(text).unwrap();
        assert_eq!(p, panel(PanelKind::GraphValue, 0, 0, 6, 4, &["logger/ch1"]));
        assert_eq!((p.id, p.title.as_str(), p.window, &p.image), (0, "", GraphWindow::Hour, &None));
        assert!(p.placements.is_empty() && p.rules.is_empty());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["window"], "hour");
        assert_eq!(v["image"], serde_json::Value::Null);
        let e = serde_json::from_str::<Panel>(r#"{"kind":"pie","x":0,"y":0,"w":1,"h":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `pie`"), "{e}");
        let e = serde_json::from_str::<Panel>(r#"{"kind":"graph","x":0,"y":0,"w":1,"h":1,"colour":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `colour`"), "{e}");
        for k in [
            PanelKind::GraphValue,
            PanelKind::Graph,
            PanelKind::Value,
            PanelKind::ImageValues,
            PanelKind::Image,
            PanelKind::AlarmList,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        assert_eq!(GraphWindow::Week.millis(), 7 * GraphWindow::Day.millis());
    }

    #[test]
    fn shape_checks_name_the_panel_and_what_is_wrong() {
        let ok = panel(PanelKind::Value, 6, 0, 6, 4, &["a/b"]);
        ok.check_cells("p").unwrap();
        ok.check_channel_count("p").unwrap();
        ok.check_kind_fields("p", &|_| true).unwrap();
        let with = |f: fn(&mut Panel)| {
            let mut p = ok.clone();
            f(&mut p);
            p
        };
        assert_eq!(
            with(|p| p.x = 7).check_cells("panel 2 (value)").unwrap_err().to_string(),
            "panel 2 (value): at column 7, row 0 with size 6x4 it leaves the 12x48 grid"
        );
        assert!(with(|p| p.h = 0).check_cells("p").unwrap_err().to_string().contains("at least 1 cell (got 6x0)"));
        assert!(with(|p| p.y = u32::MAX).check_cells("p").unwrap_err().to_string().contains("leaves"));
        assert!(with(|p| p.title = "t".repeat(81)).check_cells("p").unwrap_err().to_string().contains("at most 80"));
        assert_eq!(
            with(|p| p.channels.clear()).check_channel_count("p").unwrap_err().to_string(),
            "p: choose at least one channel"
        );
        let nine = with(|p| p.channels = (0..9).map(|i| format!("a/{i}")).collect());
        assert!(nine.check_channel_count("p").unwrap_err().to_string().contains("at most 8 channels"));
        let mut list = nine.clone();
        list.kind = PanelKind::AlarmList;
        list.check_channel_count("p").unwrap();
        assert_eq!(
            with(|p| p.channels = vec!["a/b".into(), "a/c".into(), "a/b".into()]).repeated_channel(),
            Some("a/b")
        );
        assert_eq!(ok.repeated_channel(), None);

        let mut img = panel(PanelKind::ImageValues, 0, 0, 4, 4, &["a/b"]);
        assert_eq!(img.check_kind_fields("p", &|_| true).unwrap_err().to_string(), "p: choose an image");
        img.image = Some("x.png".into());
        assert!(
            img.check_kind_fields("p", &|_| false)
                .unwrap_err()
                .to_string()
                .contains("image `x.png` is not an image file")
        );
        img.placements = vec![Placement { channel: "a/b".into(), x: 0.5, y: 1.5 }];
        assert!(img.check_kind_fields("p", &|_| true).unwrap_err().to_string().contains("outside the image (0..1)"));
        img.placements[0].channel = "a/z".into();
        assert!(
            img.check_kind_fields("p", &|_| true).unwrap_err().to_string().contains("not one of the panel's channels")
        );
        assert!(with(|p| p.image = Some("x.png".into())).check_kind_fields("p", &|_| true).is_err());
        assert!(
            with(|p| p.rules = vec!["r".into()])
                .check_kind_fields("p", &|_| true)
                .unwrap_err()
                .to_string()
                .contains("rules")
        );
        let mut only = panel(PanelKind::Image, 0, 0, 4, 4, &["a/b"]);
        only.image = Some("x.png".into());
        assert!(only.check_kind_fields("p", &|_| true).unwrap_err().to_string().contains("(use image-values)"));
    }

    #[test]
    fn overlaps_names_and_board_names() {
        let panels = vec![
            panel(PanelKind::GraphValue, 0, 0, 6, 4, &["a/b"]),
            panel(PanelKind::Value, 6, 0, 6, 4, &["a/b"]),
            panel(PanelKind::Value, 5, 3, 2, 2, &["a/b"]),
        ];
        assert!(first_overlap(&panels, 1).is_none());
        let (j, q) = first_overlap(&panels, 2).unwrap();
        assert_eq!((j, q.describe("panel 1")), (0, "panel 1 (graph-value)".to_string()));
        let mut t = panels[1].clone();
        t.title = "Boiler".into();
        assert_eq!(t.describe("panels[1]"), "panels[1] (value \"Boiler\")");
        assert_eq!(check_name("  Hall  ").unwrap(), "Hall");
        assert_eq!(check_name(" ").unwrap_err().to_string(), "enter a name for the board");
        assert!(check_name(&"n".repeat(61)).unwrap_err().to_string().contains("at most 60"));
    }
}
