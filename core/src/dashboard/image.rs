//! Images of image panels, copied into the data directory (so a board
//! keeps working when the original file moves) under a fresh name, and
//! handed to the window as a data URL (the webview reads no local files).

use std::path::Path;

use base64::Engine;
use meterdeck_wire::i18n::Text;
use rand::Rng;

use super::{DashboardError, Result};

/// Folder of the data directory holding the boards' images.
pub const IMAGE_DIR: &str = "dashboard-images";
/// Larger files are refused (a photo of a plant, not a film).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// The image type of `bytes` by its signature, as (extension, MIME type).
pub(super) fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("png", "image/png"))
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(("jpg", "image/jpeg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("gif", "image/gif"))
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        (head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg")))
            .then_some(("svg", "image/svg+xml"))
    }
}

/// A name this module gives: `img-<hex>.<ext>`, nothing that leaves the folder.
pub(super) fn valid_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    stem.strip_prefix("img-").is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        && ["png", "jpg", "gif", "webp", "svg"].contains(&ext)
}

/// Checks `bytes` are an image and writes them into the data directory's
/// image folder under a fresh name, which it returns. `what` names the
/// source in messages.
pub(super) fn store_bytes(data_dir: &Path, bytes: &[u8], what: Text) -> Result<String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(DashboardError::Invalid(
            Text::new("err-dashboard-image-size")
                .text_arg("what", what)
                .arg("mb", (bytes.len() / (1024 * 1024)).to_string())
                .arg("max", (MAX_IMAGE_BYTES / (1024 * 1024)).to_string()),
        ));
    }
    let Some((ext, _)) = sniff(bytes) else {
        return Err(DashboardError::Invalid(Text::new("err-dashboard-not-image").text_arg("what", what)));
    };
    let dir = data_dir.join(IMAGE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| {
        DashboardError::Invalid(
            Text::new("err-dashboard-create").arg("path", dir.display().to_string()).arg("reason", e.to_string()),
        )
    })?;
    let name = format!("img-{:016x}.{ext}", rand::rng().random::<u64>());
    let path = dir.join(&name);
    // Written aside then renamed: a crash leaves no half image under the name.
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            DashboardError::Invalid(
                Text::new("err-dashboard-write").arg("path", path.display().to_string()).arg("reason", e.to_string()),
            )
        })?;
    Ok(name)
}

/// Copies the image file at `source` into the data directory.
pub fn import_image(data_dir: &Path, source: &Path) -> Result<String> {
    let meta = std::fs::metadata(source).map_err(|e| read_error(source, &e))?;
    if !meta.is_file() {
        return Err(DashboardError::Invalid(
            Text::new("err-dashboard-not-file").arg("path", source.display().to_string()),
        ));
    }
    if meta.len() > MAX_IMAGE_BYTES as u64 {
        return Err(DashboardError::Invalid(
            Text::new("err-dashboard-image-too-large")
                .arg("path", source.display().to_string())
                .arg("max", (MAX_IMAGE_BYTES / (1024 * 1024)).to_string()),
        ));
    }
    let bytes = std::fs::read(source).map_err(|e| read_error(source, &e))?;
    store_bytes(data_dir, &bytes, Text::new("err-dashboard-what-file").arg("path", source.display().to_string()))
}

/// "cannot read image PATH: REASON" (the OS's words quoted).
fn read_error(path: &Path, e: &std::io::Error) -> DashboardError {
    DashboardError::Invalid(
        Text::new("err-dashboard-read-image").arg("path", path.display().to_string()).arg("reason", e.to_string()),
    )
}

/// The bytes of a kept image.
pub(super) fn read(data_dir: &Path, name: &str) -> Result<Vec<u8>> {
    if !valid_name(name) {
        return Err(DashboardError::Invalid(Text::new("err-dashboard-not-kept-image").arg("name", name)));
    }
    let path = data_dir.join(IMAGE_DIR).join(name);
    std::fs::read(&path).map_err(|e| read_error(&path, &e))
}

/// A kept image as `data:<mime>;base64,...`.
pub fn image_data_url(data_dir: &Path, name: &str) -> Result<String> {
    let bytes = read(data_dir, name)?;
    let (_, mime) = sniff(&bytes)
        .ok_or_else(|| DashboardError::Invalid(Text::new("err-dashboard-kept-not-image").arg("name", name)))?;
    Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}
