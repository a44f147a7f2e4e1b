//! Relays the desk's live updates to the window: `live` for each update
//! and `instrument-state` for state changes, flushed at most every 200 ms
//! so a burst of polls costs the webview one wake-up; state changes also
//! refresh the tray tooltip.

use std::sync::Arc;
use std::time::Duration;

use meterdeck_core::desk::{Desk, LiveEvent};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;

pub const LIVE_EVENT: &str = "live";
pub const INSTRUMENT_STATE_EVENT: &str = "instrument-state";
/// An `AlarmView` on every alarm change.
pub const ALARM_EVENT: &str = "alarm";
/// A `Note` for every new notification-centre entry.
pub const NOTIFICATION_EVENT: &str = "notification";
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

pub fn spawn<R: Runtime>(app: AppHandle<R>, desk: Arc<Desk>) {
    let mut rx = desk.subscribe();
    tauri::async_runtime::spawn(async move {
        let mut pending: Vec<LiveEvent> = Vec::new();
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Ok(ev) => pending.push(ev),
                    Err(RecvError::Lagged(n)) => tracing::warn!("window fell {n} live updates behind"),
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if pending.is_empty() {
                        continue;
                    }
                    let mut state_changed = false;
                    for ev in pending.drain(..) {
                        match ev {
                            LiveEvent::Alarm { alarm } => {
                                let _ = app.emit(ALARM_EVENT, alarm);
                                continue;
                            }
                            LiveEvent::Notification { note } => {
                                state_changed = true; // the tray shows the unread count
                                let _ = app.emit(NOTIFICATION_EVENT, note);
                                continue;
                            }
                            _ => {}
                        }
                        if let Some(s) = ev.as_state() {
                            state_changed = true;
                            let _ = app.emit(INSTRUMENT_STATE_EVENT, s);
                        }
                        let _ = app.emit(LIVE_EVENT, ev);
                    }
                    if state_changed {
                        // Reads the store; keep it off the async workers.
                        let (app, desk) = (app.clone(), desk.clone());
                        tauri::async_runtime::spawn_blocking(move || crate::tray::refresh(&app, &desk));
                    }
                }
            }
        }
    });
}
