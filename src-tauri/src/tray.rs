//! The tray icon: tooltip with the instruments' connection states (also
//! shown as the menu's first line, since Linux trays show no tooltips),
//! "Show window" and "Quit".

use meterdeck_core::desk::Desk;
use meterdeck_wire::i18n::tr;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

pub const TRAY_ID: &str = "meterdeck";

/// Managed state: the tray and its status line.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    status: MenuItem<R>,
    show: MenuItem<R>,
    quit: MenuItem<R>,
}

pub fn create<R: Runtime>(app: &AppHandle<R>, desk: &Desk) -> tauri::Result<()> {
    let tooltip = desk.tray_tooltip().unwrap_or_else(|e| format!("Meterdeck: {e}"));
    let lang = language(desk);
    let status = MenuItem::with_id(app, "status", first_line(&tooltip), false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", tr(&lang, "tray-show", &[]), true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", tr(&lang, "tray-quit", &[]), true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &sep, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID).tooltip(&tooltip).menu(&menu).on_menu_event(|app, event| {
        match event.id().as_ref() {
            "show" => {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.show();
                    let _ = w.set_focus();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(Tray { icon, status, show, quit });
    Ok(())
}

/// The window's language (the menu follows the settings).
fn language(desk: &Desk) -> String {
    desk.settings().map(|s| s.language).unwrap_or_else(|_| "en".into())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Re-reads the instruments' states into the tooltip and status line.
pub fn refresh<R: Runtime>(app: &AppHandle<R>, desk: &Desk) {
    let Some(tray) = app.try_state::<Tray<R>>() else {
        return;
    };
    let text = desk.tray_tooltip().unwrap_or_else(|e| format!("Meterdeck: {e}"));
    let _ = tray.icon.set_tooltip(Some(&text));
    let _ = tray.status.set_text(first_line(&text));
    let lang = language(desk);
    let _ = tray.show.set_text(tr(&lang, "tray-show", &[]));
    let _ = tray.quit.set_text(tr(&lang, "tray-quit", &[]));
}
