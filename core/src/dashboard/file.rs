//! A board as a JSON file: its name, panels and the images they show
//! (base64), so a file made on one machine opens on another. Reading one
//! names what is wrong: not JSON, not a dashboard file, another version,
//! the field at fault (unknown panel kind, ...), a channel this agent does
//! not have, a panel off the grid or over another, an image that is not one.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Board, DashboardError, Panel, Result, check_name, check_panels, image};
use base64::Engine;
use meterdeck_wire::i18n::Text;

use meterdeck_wire::boards::BoardFile;
pub use meterdeck_wire::boards::{FORMAT_KEY, FORMAT_VERSION};

/// "dashboard file: ..." (`err-dashboard-file`) with the problem's message.
fn bad<T>(problem: Text) -> Result<T> {
    Err(DashboardError::Invalid(Text::new("err-dashboard-file").text_arg("problem", problem)))
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
    serde_json::to_string_pretty(&file)
        .map_err(|e| DashboardError::Invalid(Text::new("err-dashboard-write-board").arg("reason", e.to_string())))
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
            renamed.insert(
                old.clone(),
                image::store_bytes(data_dir, bytes, Text::new("err-dashboard-what-image").arg("name", old))?,
            );
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
        Err(e) => return bad(Text::new("err-dashboard-file-not-json").arg("reason", e.to_string())),
    };
    let Some(obj) = value.as_object() else { return bad(Text::new("err-dashboard-file-not-object")) };
    match obj.get(FORMAT_KEY) {
        None => return bad(Text::new("err-dashboard-file-no-format").arg("key", FORMAT_KEY)),
        Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
        Some(v) => {
            return bad(Text::new("err-dashboard-file-version")
                .arg("got", v.to_string())
                .arg("version", FORMAT_VERSION.to_string()));
        }
    }
    let file: BoardFile = match serde_path_to_error::deserialize(value) {
        Ok(f) => f,
        Err(e) => {
            return bad(Text::new("err-dashboard-file-field")
                .arg("field", e.path().to_string())
                .arg("reason", e.inner().to_string()));
        }
    };
    let name =
        check_name(&file.name).or_else(|e| bad(Text::new("err-dashboard-file-name").text_arg("problem", e.text())))?;
    let mut panels = file.panels;
    // Ids are the board's own business: numbered afresh.
    for (i, p) in panels.iter_mut().enumerate() {
        p.id = i as u32 + 1;
    }
    check_panels(&panels, known).or_else(|e| bad(e.text()))?;
    let mut images = Vec::new();
    for (i, p) in panels.iter().enumerate() {
        let Some(name) = &p.image else { continue };
        let Some(b64) = file.images.get(name) else {
            return bad(Text::new("err-dashboard-file-image-missing")
                .arg("panel", (i + 1).to_string())
                .arg("name", name));
        };
        let bytes = match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            Ok(b) => b,
            Err(e) => {
                return bad(Text::new("err-dashboard-file-image-base64")
                    .arg("name", name)
                    .arg("reason", e.to_string()));
            }
        };
        if image::sniff(&bytes).is_none() {
            return bad(Text::new("err-dashboard-not-image")
                .text_arg("what", Text::new("err-dashboard-what-image").arg("name", name)));
        }
        if !images.iter().any(|(n, _): &(String, Vec<u8>)| n == name) {
            images.push((name.clone(), bytes));
        }
    }
    Ok(Imported { name, panels, images })
}
