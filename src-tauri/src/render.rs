//! How WebKitGTK draws the window (issue 17).
//!
//! Without a GPU render node, WebKitGTK's DMA-BUF renderer composites
//! through software GL. Measured under Xvfb (no /dev/dri): the first frame
//! with data came 4.5-5 s after the page started instead of 0.7-1.0 s with
//! the shared-memory path, and a Viewer redraw took 0.8-2.4 s instead of
//! 0.1-0.3 s, nearly all of it waiting for frames. So without a render
//! node the older path is chosen; a machine with a GPU keeps WebKit's
//! default, and a user's own `WEBKIT_DISABLE_DMABUF_RENDERER` always wins.

use std::path::Path;

const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";

pub fn prefer_shm_without_gpu() {
    if std::env::var_os(VAR).is_some() || has_render_node(Path::new("/dev/dri")) {
        return;
    }
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe { std::env::set_var(VAR, "1") };
}

/// A `renderD*` node in `dri`: a GPU that can render off-screen.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// Without a GPU WebKitGTK also composites every frame through Mesa's
/// software rasteriser. Measured under Xvfb (`scripts/figures-desktop
/// --only dashboard`): a board of 20 panels updating once a second kept the
/// web process at 33 % of a core, 64 % of it in `swrast_dri.so`; painting
/// without compositing, 7 %. So with no render node the window paints
/// without compositing. `MD_WEBKIT_COMPOSITING` overrides: `on` (the window
/// tests: WebKitWebDriver's screenshots need compositing) or `off`; a
/// user's own `WEBKIT_DISABLE_COMPOSITING_MODE` always wins.
pub fn compositing_without_gpu() {
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some() {
        return;
    }
    let choice = std::env::var("MD_WEBKIT_COMPOSITING").unwrap_or_default();
    if compositing_off(&choice, has_render_node(Path::new("/dev/dri"))) {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
    }
}

fn compositing_off(choice: &str, render_node: bool) -> bool {
    match choice {
        "on" => false,
        "off" => true,
        _ => !render_node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_is_off_only_without_a_gpu_unless_overridden() {
        assert!(!compositing_off("", true));
        assert!(compositing_off("", false));
        assert!(compositing_off("auto", false));
        assert!(!compositing_off("on", false));
        assert!(compositing_off("off", true));
    }

    #[test]
    fn a_render_node_is_a_gpu() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dir.path().join("missing")));
        std::fs::write(dir.path().join("card0"), "").unwrap();
        assert!(!has_render_node(dir.path()), "a display card alone renders no off-screen buffers");
        std::fs::write(dir.path().join("renderD128"), "").unwrap();
        assert!(has_render_node(dir.path()));
    }
}
