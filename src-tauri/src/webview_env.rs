//! Environment WebKitGTK reads at start, set first thing in `main` (before
//! any other thread exists).

/// Without a GPU (no DRM render node) WebKitGTK composites every frame
/// through Mesa's software rasteriser. Measured under Xvfb (`scripts/figures-desktop
/// --only dashboard`): a board of 20 panels updating once a second kept the
/// web process at 33 % of a core, 64 % of it in `swrast_dri.so`; painting
/// without compositing, 7 %. So with no render node the window paints
/// without compositing. `MD_WEBKIT_COMPOSITING` overrides: `on` (the window
/// tests: WebKitWebDriver's screenshots need compositing) or `off`.
pub fn compositing_fix() {
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some() {
        return; // the user's own choice
    }
    let choice = std::env::var("MD_WEBKIT_COMPOSITING").unwrap_or_default();
    if compositing_off(&choice, has_render_node()) {
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

fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::compositing_off;

    #[test]
    fn compositing_is_off_only_without_a_gpu_unless_overridden() {
        assert!(!compositing_off("", true));
        assert!(compositing_off("", false));
        assert!(compositing_off("auto", false));
        assert!(!compositing_off("on", false));
        assert!(compositing_off("off", true));
    }
}
