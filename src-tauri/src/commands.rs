//! The window's commands: parse arguments, call `Desk`, turn errors into
//! the message the window shows. No logic lives here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_core::desk::{
    AppState, Desk, DeskError, ExportProgress, ExportView, IdentifyView, InstrumentView, LatestView, SeriesView,
    TableView, TimeRange, UiSettings,
};
use meterdeck_core::model::{ChannelId, ChannelRecord, Event, TimeMs};
use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::discovery::Found;
use meterdeck_drivers::transport::SerialPortInfo;
use tauri::{AppHandle, Emitter, Runtime, State};

/// Event carrying `ExportProgress { done, total }`.
pub const EXPORT_PROGRESS_EVENT: &str = "export-progress";

type Desk_<'a> = State<'a, Arc<Desk>>;
type Res<T> = Result<T, String>;

fn msg(e: DeskError) -> String {
    e.to_string()
}

/// Runs store work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, DeskError> + Send + 'static) -> Res<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| format!("internal error: {e}"))?.map_err(msg)
}

#[tauri::command]
pub async fn app_state(desk: Desk_<'_>) -> Res<AppState> {
    desk.app_state().map_err(msg)
}

#[tauri::command]
pub async fn save_settings(desk: Desk_<'_>, settings: UiSettings) -> Res<()> {
    desk.save_settings(&settings).map_err(msg)
}

#[tauri::command]
pub async fn list_instruments(desk: Desk_<'_>) -> Res<Vec<InstrumentView>> {
    desk.list_instruments().map_err(msg)
}

#[tauri::command]
pub async fn save_instrument(
    desk: Desk_<'_>,
    config: InstrumentConfig,
    replace_id: Option<String>,
) -> Res<InstrumentView> {
    desk.save_instrument(config, replace_id.as_deref()).await.map_err(msg)
}

#[tauri::command]
pub async fn remove_instrument(desk: Desk_<'_>, id: String) -> Res<()> {
    desk.remove_instrument(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn identify(desk: Desk_<'_>, id: String) -> Res<IdentifyView> {
    desk.identify(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn discover_lan(desk: Desk_<'_>, hosts: String, ports: Vec<u16>, timeout_ms: u64) -> Res<Vec<Found>> {
    desk.discover_lan(&hosts, &ports, timeout_ms).await.map_err(msg)
}

#[tauri::command]
pub async fn list_serial_ports(desk: Desk_<'_>) -> Res<Vec<SerialPortInfo>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.list_serial_ports()).await
}

#[tauri::command]
pub async fn probe_serial(desk: Desk_<'_>, paths: Vec<String>, baud: u32) -> Res<Vec<Found>> {
    desk.probe_serial(&paths, baud).await.map_err(msg)
}

#[tauri::command]
pub async fn set_fast_monitor(desk: Desk_<'_>, id: String, on: bool) -> Res<Option<TimeMs>> {
    desk.set_fast_monitor(&id, on).await.map_err(msg)
}

#[tauri::command]
pub async fn latest(desk: Desk_<'_>) -> Res<Vec<LatestView>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.latest()).await
}

#[tauri::command]
pub async fn channels(desk: Desk_<'_>) -> Res<Vec<ChannelRecord>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.channels()).await
}

#[tauri::command]
pub async fn series(
    desk: Desk_<'_>,
    channel_ids: Vec<ChannelId>,
    from: TimeMs,
    to: TimeMs,
    width: u32,
) -> Res<Vec<SeriesView>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.series(&channel_ids, from, to, width)).await
}

/// The span holding all samples of the channels (the Viewer's "all").
#[tauri::command]
pub async fn series_extent(desk: Desk_<'_>, channel_ids: Vec<ChannelId>) -> Res<Option<TimeRange>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.extent(&channel_ids)).await
}

#[tauri::command]
pub async fn table(
    desk: Desk_<'_>,
    channel_ids: Vec<ChannelId>,
    from: TimeMs,
    to: TimeMs,
    limit: u32,
) -> Res<TableView> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.table(&channel_ids, from, to, limit)).await
}

/// Writes the file and emits `export-progress` (at most every 100 ms, and
/// once at the end).
#[tauri::command]
pub async fn export<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    channel_ids: Vec<ChannelId>,
    from: TimeMs,
    to: TimeMs,
    path: String,
) -> Res<ExportView> {
    let desk = Arc::clone(&desk);
    blocking(move || {
        let mut last: Option<Instant> = None;
        let mut progress = |done: u64, total: u64| {
            if done >= total || last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                last = Some(Instant::now());
                let _ = app.emit(EXPORT_PROGRESS_EVENT, ExportProgress { done, total });
            }
        };
        let view = desk.export(&channel_ids, from, to, &path, &mut progress)?;
        let _ = app.emit(EXPORT_PROGRESS_EVENT, ExportProgress { done: view.samples, total: view.samples });
        Ok(view)
    })
    .await
}

#[tauri::command]
pub async fn console_acquire(desk: Desk_<'_>, instrument: String, operator: String) -> Res<()> {
    desk.console_acquire(&instrument, &operator).map_err(msg)
}

#[tauri::command]
pub async fn console_send(
    desk: Desk_<'_>,
    instrument: String,
    operator: String,
    command: String,
) -> Res<Option<String>> {
    desk.console_send(&instrument, &operator, &command).await.map_err(msg)
}

#[tauri::command]
pub async fn console_release(desk: Desk_<'_>, instrument: String, operator: String) -> Res<()> {
    desk.console_release(&instrument, &operator).map_err(msg)
}

#[tauri::command]
pub async fn events(desk: Desk_<'_>, instrument: Option<String>, kind: Option<String>, limit: u32) -> Res<Vec<Event>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.events(instrument.as_deref(), kind.as_deref(), limit)).await
}

/// Registers every command on a builder (the app and the tests use it).
pub fn register<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        app_state,
        save_settings,
        list_instruments,
        save_instrument,
        remove_instrument,
        identify,
        discover_lan,
        list_serial_ports,
        probe_serial,
        set_fast_monitor,
        latest,
        channels,
        series,
        series_extent,
        table,
        export,
        console_acquire,
        console_send,
        console_release,
        events,
    ])
}
