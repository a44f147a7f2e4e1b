//! A board as a JSON file: its name, panels and the images they show
//! (base64), so a file made on one machine opens on another. Reading one
//! names what is wrong: not JSON, not a dashboard file, another version,
//! the field at fault (unknown panel kind, ...), a channel this agent does
//! not have, a panel off the grid or over another, an image that is not one.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Board, DashboardError, Panel, Result, check_name, check_panels, image};
use base64::Engine;

use meterdeck_wire::boards::BoardFile;
pub use meterdeck_wire::boards::{FORMAT_KEY, FORMAT_VERSION};

fn bad<T>(msg: String) -> Result<T> {
    Err(DashboardError::Invalid(format!("dashboard file: {msg}")))
}

/// The board as the file's text, with the images its panels show.
pub fn export_json(data_dir: &Path, board: &Board) -> Result<String> {
    let mut images = BTreeMap::new();
    for name in board.panels.iter().filter_map(|p| p.image.as_ref()) {
        let bytes = image::read(data_dir, name)?;
        images.insert(name.clone(), base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let file = BoardFile {
        meterdeck_dashboard: FORMAT_VERSION,
        name: board.name.clone(),
        panels: board.panels.clone(),
        images,
    };
    serde_json::to_string_pretty(&file).map_err(|e| DashboardError::Invalid(format!("cannot write the board: {e}")))
}

/// A board read from a file and checked, its images not yet kept.
#[derive(Debug)]
pub struct Imported {
    pub name: String,
    pub panels: Vec<Panel>,
    images: Vec<(String, Vec<u8>)>,
}

impl Imported {
    /// Keeps the images in the data directory under fresh names and
    /// returns the panels pointing at them.
    pub fn keep_images(self, data_dir: &Path) -> Result<(String, Vec<Panel>)> {
        let mut renamed = BTreeMap::new();
        for (old, bytes) in &self.images {
            renamed.insert(old.clone(), image::store_bytes(data_dir, bytes, &format!("image `{old}`"))?);
        }
        let mut panels = self.panels;
        for p in &mut panels {
            if let Some(new) = p.image.as_ref().and_then(|i| renamed.get(i)) {
                p.image = Some(new.clone());
            }
        }
        Ok((self.name, panels))
    }
}

/// Reads and checks a dashboard file's text. `known` says whether a
/// channel path names a channel of this agent.
pub fn parse_import(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Imported> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return bad(format!("not JSON ({e})")),
    };
    let Some(obj) = value.as_object() else { return bad("not a JSON object".into()) };
    match obj.get(FORMAT_KEY) {
        None => return bad(format!("not a Meterdeck dashboard (no `{FORMAT_KEY}` key)")),
        Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
        Some(v) => {
            return bad(format!("version {v} is not one this Meterdeck reads (it reads version {FORMAT_VERSION})"));
        }
    }
    let file: BoardFile = match serde_path_to_error::deserialize(value) {
        Ok(f) => f,
        Err(e) => return bad(format!("`{}`: {}", e.path(), e.inner())),
    };
    let name = check_name(&file.name).or_else(|e| bad(format!("name: {e}")))?;
    let mut panels = file.panels;
    // Ids are the board's own business: numbered afresh.
    for (i, p) in panels.iter_mut().enumerate() {
        p.id = i as u32 + 1;
    }
    check_panels(&panels, known).or_else(|e| bad(e.to_string()))?;
    let mut images = Vec::new();
    for (i, p) in panels.iter().enumerate() {
        let Some(name) = &p.image else { continue };
        let Some(b64) = file.images.get(name) else {
            return bad(format!("panel {}: image `{name}` is not in the file's `images`", i + 1));
        };
        let bytes = match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            Ok(b) => b,
            Err(e) => return bad(format!("image `{name}` is not base64 ({e})")),
        };
        if image::sniff(&bytes).is_none() {
            return bad(format!("image `{name}` is not a PNG, JPEG, GIF, WebP or SVG image"));
        }
        if !images.iter().any(|(n, _): &(String, Vec<u8>)| n == name) {
            images.push((name.clone(), bytes));
        }
    }
    Ok(Imported { name, panels, images })
}
