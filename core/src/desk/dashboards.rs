//! The Dashboard screen's operations: boards created, renamed, reordered,
//! deleted; panels added, moved, resized, edited, removed; boards exported
//! to and imported from a JSON file; images copied into the data
//! directory. Each edit is checked (grid, overlap, channels, the plan's
//! panel limit) and then written in one transaction; it answers every
//! board as now kept, so the window never holds a state the store lacks.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use super::error::{DeskError, DeskResult};
use super::{Desk, expand_home};
use crate::agent::STORE_PARTS;
use crate::config::STORE_FILE;
use crate::dashboard::{self as dash, Board, Dashboards, Panel};
use crate::licence::Counts;
use crate::model::{Text, now_ms};
use crate::store::{Store, StoreOptions};

/// Serialises read-check-write of boards (two edits from the window at
/// once must not lose one).
static EDIT: Mutex<()> = Mutex::new(());

impl Desk {
    fn dash_store(&self) -> DeskResult<Store> {
        Ok(Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?)
    }

    fn all_boards(&self, store: &Store) -> DeskResult<Dashboards> {
        let boards = dash::list_boards(store.conn())?;
        let last = store.setting(dash::LAST_BOARD_KEY)?.and_then(|v| v.parse::<i64>().ok());
        let last_board = last.filter(|id| boards.iter().any(|b| b.id == *id)).or(boards.first().map(|b| b.id));
        Ok(Dashboards { boards, last_board })
    }

    /// Paths of the channels this agent has: stored, configured, calculated.
    fn known_channels(&self) -> DeskResult<HashSet<String>> {
        let mut known: HashSet<String> = self.channels()?.iter().map(|c| c.path()).collect();
        let cfg = self.config();
        for inst in &cfg.instruments {
            known.extend(inst.channels.iter().map(|c| format!("{}/{}", inst.id, c.id)));
        }
        known.extend(cfg.calcs.iter().map(|c| format!("{}/{}", crate::calc::OUTPUT_INSTRUMENT, c.id)));
        Ok(known)
    }

    /// Refuses growing the panels on all boards from `before` to `after`
    /// past the plan's `panels_per_group` (what exists stays allowed).
    fn check_panel_limit(&self, before: u32, after: u32) -> DeskResult<()> {
        if !self.agent_opts.enforce_limits || after <= before {
            return Ok(());
        }
        let cfg = self.config();
        let limits = self.licence_in_force()?.agent_limits(cfg.cloud.as_ref().map(|c| c.agent.as_str()), now_ms());
        let counts = cfg.counts();
        limits.check(&Counts { panels: after, ..counts.clone() }, Some(&Counts { panels: before, ..counts }))?;
        Ok(())
    }

    /// Panels on all boards (the Licence screen's use of the limit).
    pub fn panel_count(&self) -> DeskResult<u32> {
        Ok(dash::panel_count(self.dash_store()?.conn())?)
    }

    /// Every board in order, and the one to open (the last used).
    pub fn dashboards(&self) -> DeskResult<Dashboards> {
        self.all_boards(&self.dash_store()?)
    }

    /// A new empty board at the end; it becomes the one to open.
    pub fn board_create(&self, name: &str) -> DeskResult<Dashboards> {
        let name = dash::check_name(name)?;
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = self.dash_store()?;
        let id = dash::create_board(store.conn(), &name, &[])?;
        store.set_setting(dash::LAST_BOARD_KEY, &id.to_string())?;
        self.all_boards(&store)
    }

    pub fn board_rename(&self, id: i64, name: &str) -> DeskResult<Dashboards> {
        let name = dash::check_name(name)?;
        let store = self.dash_store()?;
        dash::rename_board(store.conn(), id, &name)?;
        self.all_boards(&store)
    }

    /// `ids`: every board once, in the new order.
    pub fn board_reorder(&self, ids: &[i64]) -> DeskResult<Dashboards> {
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.dash_store()?;
        dash::reorder_boards(store.conn(), ids)?;
        self.all_boards(&store)
    }

    /// Deletes a board and its panels (its images stay: another board or
    /// an undo may show them).
    pub fn board_delete(&self, id: i64) -> DeskResult<Dashboards> {
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.dash_store()?;
        dash::delete_board(store.conn(), id)?;
        self.all_boards(&store)
    }

    /// Remembers the board shown, so the app opens there next time.
    pub fn board_open(&self, id: i64) -> DeskResult<()> {
        let mut store = self.dash_store()?;
        dash::board(store.conn(), id)?;
        store.set_setting(dash::LAST_BOARD_KEY, &id.to_string())?;
        Ok(())
    }

    /// Checks `panels` as board `board`'s new content and writes them.
    fn write_panels(&self, store: &Store, board: &Board, panels: Vec<Panel>) -> DeskResult<Dashboards> {
        let known = self.known_channels()?;
        dash::check_panels(&panels, &|c| known.contains(c))?;
        let before = dash::panel_count(store.conn())?;
        let after = before - board.panels.len() as u32 + panels.len() as u32;
        self.check_panel_limit(before, after)?;
        dash::set_panels(store.conn(), board.id, &panels)?;
        self.all_boards(store)
    }

    /// Adds `panel` (its id is given here) to board `board`.
    pub fn panel_add(&self, board: i64, panel: Panel) -> DeskResult<Dashboards> {
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.dash_store()?;
        let b = dash::board(store.conn(), board)?;
        let panels = dash::add_panel(&b, panel);
        self.write_panels(&store, &b, panels)
    }

    /// Replaces the panel with `panel.id` (moved, resized or edited).
    pub fn panel_update(&self, board: i64, panel: Panel) -> DeskResult<Dashboards> {
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.dash_store()?;
        let b = dash::board(store.conn(), board)?;
        let panels = dash::replace_panel(&b, panel)?;
        self.write_panels(&store, &b, panels)
    }

    pub fn panel_remove(&self, board: i64, panel: u32) -> DeskResult<Dashboards> {
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.dash_store()?;
        let b = dash::board(store.conn(), board)?;
        let panels = dash::remove_panel(&b, panel)?;
        dash::set_panels(store.conn(), b.id, &panels)?;
        self.all_boards(&store)
    }

    /// Writes board `id` with its images to `path` (absolute, `.json`);
    /// answers the path written.
    pub fn board_export(&self, id: i64, path: &str) -> DeskResult<String> {
        let out = json_path(path, "err-desk-no-board-file-export")?;
        if let Some(dir) = out.parent().filter(|d| !d.is_dir()) {
            return Err(DeskError::Invalid(Text::new("err-desk-no-folder").arg("path", dir.display().to_string())));
        }
        let board = dash::board(self.dash_store()?.conn(), id)?;
        let text = dash::export_json(&self.data_dir, &board)?;
        super::write_atomic(&out, &text)?;
        Ok(out.display().to_string())
    }

    /// Reads a board file into a new board (the one to open); a bad file
    /// is refused naming what is wrong and changes nothing.
    pub fn board_import(&self, path: &str) -> DeskResult<Dashboards> {
        let src = json_path(path, "err-desk-no-board-file-import")?;
        let text = std::fs::read_to_string(&src).map_err(|e| DeskError::Invalid(super::read_error(&src, &e)))?;
        let known = self.known_channels()?;
        let imported = dash::parse_import(&text, &|c| known.contains(c)).map_err(|e| {
            DeskError::Invalid(
                Text::new("err-desk-in-file").arg("path", src.display().to_string()).text_arg("reason", e.text()),
            )
        })?;
        let _g = EDIT.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = self.dash_store()?;
        let before = dash::panel_count(store.conn())?;
        self.check_panel_limit(before, before + imported.panels.len() as u32)?;
        let (name, panels) = imported.keep_images(&self.data_dir)?;
        let id = dash::create_board(store.conn(), &name, &panels)?;
        store.set_setting(dash::LAST_BOARD_KEY, &id.to_string())?;
        self.all_boards(&store)
    }

    /// Copies an image file into the data directory; answers the name an
    /// image panel keeps.
    pub fn dashboard_image_import(&self, path: &str) -> DeskResult<String> {
        let path = path.trim();
        if path.is_empty() {
            return Err(DeskError::Invalid(Text::new("err-desk-no-image-path")));
        }
        let src = expand_home(path);
        if !src.is_absolute() {
            return Err(DeskError::Invalid(Text::new("err-desk-image-path-absolute").arg("path", path)));
        }
        Ok(dash::import_image(&self.data_dir, &src)?)
    }

    /// A kept image as a data URL for the window.
    pub fn dashboard_image(&self, name: &str) -> DeskResult<String> {
        Ok(dash::image_data_url(&self.data_dir, name)?)
    }
}

/// An absolute `.json` path the user entered.
/// `empty_key`: the refusal of an empty path (it names what the file is for).
fn json_path(path: &str, empty_key: &str) -> DeskResult<std::path::PathBuf> {
    let path = path.trim();
    if path.is_empty() {
        return Err(DeskError::Invalid(Text::new(empty_key)));
    }
    let p = expand_home(path);
    if !p.is_absolute() {
        return Err(DeskError::Invalid(Text::new("err-desk-board-path-absolute").arg("path", path)));
    }
    if Path::new(&p).extension().is_none_or(|e| !e.eq_ignore_ascii_case("json")) {
        return Err(DeskError::Invalid(Text::new("err-desk-board-path-json").arg("path", path)));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::{GraphWindow, PanelKind};

    fn value_panel(x: u32) -> Panel {
        Panel {
            id: 0,
            kind: PanelKind::Value,
            title: "Voltage".into(),
            x,
            y: 0,
            w: 3,
            h: 2,
            channels: vec!["meter/v".into()],
            window: GraphWindow::Hour,
            image: None,
            placements: vec![],
            rules: vec![],
        }
    }

    const CONFIG: &str = "[[instrument]]\nid = \"meter\"\nfamily = \"scpi\"\nenabled = false\n\
        transport = { kind = \"tcp\", host = \"127.0.0.1\", port = 9 }\n\
        [[instrument.channel]]\nid = \"v\"\nquery = \"MEAS:VOLT?\"\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn boards_persist_across_restarts_and_the_free_plan_allows_one_panel() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("agent.toml");
        std::fs::write(&cfg, CONFIG).unwrap();
        let opts = crate::agent::AgentOptions {
            secrets: std::sync::Arc::new(crate::notify::MemorySecrets::new()),
            ..Default::default()
        };
        let desk = Desk::open_with(dir.path(), &cfg, false, opts.clone()).await.unwrap();
        assert_eq!(desk.dashboards().unwrap(), Dashboards { boards: vec![], last_board: None });
        let first = desk.board_create("Plant").unwrap().boards[0].id;
        let second = desk.board_create("Boiler").unwrap();
        assert_eq!(second.last_board, Some(second.boards[1].id), "a new board is the one to open");
        let d = desk.panel_add(first, value_panel(0)).unwrap();
        assert_eq!(d.boards[0].panels[0].id, 1);

        let e = desk.panel_add(second.boards[1].id, value_panel(0)).unwrap_err();
        assert!(matches!(&e, DeskError::Limit(l) if l.limit == "panels_per_group" && l.count == 1), "{e}");
        assert!(e.to_string().contains("Free plan allows 1 dashboard panels per agent"), "{e}");
        let e = desk.panel_add(first, Panel { channels: vec!["meter/x".into()], ..value_panel(4) }).unwrap_err();
        assert!(e.to_string().contains("channel `meter/x` is not a channel of this agent"), "{e}");

        // Moving is no new panel; overlapping is refused.
        let mut moved = d.boards[0].panels[0].clone();
        moved.x = 9;
        desk.panel_update(first, moved).unwrap();
        let usage = desk.licence_screen().unwrap().usage;
        assert!(usage.iter().any(|u| u.limit == "panels_per_group" && u.used == 1 && u.max == 1), "{usage:?}");

        // Export, then import: one more panel than the plan allows, so refused and nothing changes.
        let file = dir.path().join("plant.json");
        desk.board_export(first, file.to_str().unwrap()).unwrap();
        let e = desk.board_import(file.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("Free plan allows 1 dashboard panels"), "{e}");
        assert_eq!(desk.dashboards().unwrap().boards.len(), 2);
        let bad = dir.path().join("bad.json");
        std::fs::write(
            &bad,
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "dial", "x": 0, "y": 0, "w": 1, "h": 1}]}"#,
        )
        .unwrap();
        let e = desk.board_import(bad.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("bad.json: dashboard file: `panels[0].kind`: unknown variant `dial`"), "{e}");
        assert!(desk.board_export(first, "relative.json").is_err());

        desk.board_open(first).unwrap();
        desk.board_rename(first, "Plant room").unwrap();
        desk.shutdown().await.unwrap();
        drop(desk);

        let desk = Desk::open_with(dir.path(), &cfg, false, opts).await.unwrap();
        let d = desk.dashboards().unwrap();
        assert_eq!(d.last_board, Some(first), "the app reopens on the last board used");
        assert_eq!(d.boards[0].name, "Plant room");
        assert_eq!((d.boards[0].panels[0].x, d.boards[0].panels.len()), (9, 1));
        desk.panel_remove(first, 1).unwrap();
        let d = desk.board_delete(first).unwrap();
        assert_eq!(d.boards.len(), 1);
        desk.shutdown().await.unwrap();
    }
}
