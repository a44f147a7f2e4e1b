//! Relays the desk's live updates to the window: `live` for each update
//! and `instrument-state` for state changes, flushed at most every 200 ms
//! so a burst of polls costs the webview one wake-up; state changes also
//! refresh the tray tooltip.

use std::sync::Arc;
use std::time::Duration;

use meterdeck_core::desk::{Desk, LiveEvent};
use tauri::{AppHandle, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::contract::{ALARM, INSTRUMENT_STATE, LIVE, NOTIFICATION};

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
                                ALARM.emit(&app, &*alarm);
                                continue;
                            }
                            LiveEvent::Notification { note } => {
                                state_changed = true; // the tray shows the unread count
                                NOTIFICATION.emit(&app, &*note);
                                continue;
                            }
                            _ => {}
                        }
                        if let Some(s) = ev.as_state() {
                            state_changed = true;
                            INSTRUMENT_STATE.emit(&app, &s);
                        }
                        LIVE.emit(&app, &ev);
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
