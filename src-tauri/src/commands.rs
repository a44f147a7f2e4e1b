//! The window's commands: parse arguments, call `Desk`, turn errors into
//! the message the window shows. No logic lives here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_core::alarm::{AlarmRule, AlarmView, JournalEntry};
use meterdeck_core::calc::CalcConfig;
use meterdeck_core::config::SectionError;
use meterdeck_core::desk::DestinationView;
use meterdeck_core::desk::{
    AppState, Desk, DeskError, ExportProgress, ExportView, IdentifyView, InstrumentView, LatestView, SeriesView,
    TableView, TimeRange, UiSettings,
};
use meterdeck_core::model::{ChannelId, ChannelRecord, Event, TimeMs};
use meterdeck_core::notify::Note;
use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::discovery::Found;
use meterdeck_drivers::transport::SerialPortInfo;
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::CommandError;

/// Event carrying `ExportProgress { done, total }`.
pub const EXPORT_PROGRESS_EVENT: &str = "export-progress";

type Desk_<'a> = State<'a, Arc<Desk>>;
type Res<T> = Result<T, CommandError>;

/// Field errors go to the window as JSON (`{field, message, position?}`)
/// so it can show them beside the field; the rest as text (see `error.rs`).
fn msg(e: DeskError) -> CommandError {
    CommandError::Desk(e)
}

/// Runs store work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, DeskError> + Send + 'static) -> Res<T> {
    Ok(tauri::async_runtime::spawn_blocking(f).await??)
}

// ------------------------------------------------------------- alarms

#[tauri::command]
pub async fn alarms_list(desk: Desk_<'_>) -> Res<Vec<AlarmView>> {
    desk.alarms().await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_ack(desk: Desk_<'_>, alarm_id: String, user: String, comment: Option<String>) -> Res<()> {
    desk.alarm_ack(&alarm_id, &user, comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_shelve(
    desk: Desk_<'_>,
    alarm_id: String,
    minutes: u32,
    user: String,
    comment: Option<String>,
) -> Res<()> {
    desk.alarm_shelve(&alarm_id, minutes, &user, comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_unshelve(desk: Desk_<'_>, alarm_id: String, user: String) -> Res<()> {
    desk.alarm_unshelve(&alarm_id, &user).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_out_of_service(
    desk: Desk_<'_>,
    alarm_id: String,
    on: bool,
    user: String,
    comment: Option<String>,
) -> Res<()> {
    desk.alarm_out_of_service(&alarm_id, on, &user, comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn rules_list(desk: Desk_<'_>) -> Res<Vec<AlarmRule>> {
    Ok(desk.rules())
}

#[tauri::command]
pub async fn rule_check(desk: Desk_<'_>, rule: serde_json::Value) -> Res<Option<SectionError>> {
    Ok(desk.rule_check(&rule))
}

#[tauri::command]
pub async fn rule_save(desk: Desk_<'_>, rule: serde_json::Value) -> Res<()> {
    desk.rule_save(&rule).await.map_err(msg)
}

#[tauri::command]
pub async fn rule_delete(desk: Desk_<'_>, id: String) -> Res<()> {
    desk.rule_delete(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn rule_set_enabled(desk: Desk_<'_>, id: String, enabled: bool) -> Res<()> {
    desk.rule_set_enabled(&id, enabled).await.map_err(msg)
}

#[tauri::command]
pub async fn calcs_list(desk: Desk_<'_>) -> Res<Vec<CalcConfig>> {
    Ok(desk.calcs())
}

#[tauri::command]
pub async fn calc_check(desk: Desk_<'_>, calc: serde_json::Value) -> Res<Option<SectionError>> {
    Ok(desk.calc_check(&calc))
}

#[tauri::command]
pub async fn calc_save(desk: Desk_<'_>, calc: serde_json::Value) -> Res<()> {
    desk.calc_save(&calc).await.map_err(msg)
}

#[tauri::command]
pub async fn calc_delete(desk: Desk_<'_>, id: String) -> Res<()> {
    desk.calc_delete(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn destinations_list(desk: Desk_<'_>) -> Res<Vec<DestinationView>> {
    let desk = Arc::clone(&desk);
    // The keychain is asked whether each secret exists: off the async workers.
    blocking(move || Ok(desk.destinations())).await
}

#[tauri::command]
pub async fn destination_save(desk: Desk_<'_>, destination: serde_json::Value, secret: Option<String>) -> Res<()> {
    desk.destination_save(&destination, secret.as_deref()).await.map_err(msg)
}

#[tauri::command]
pub async fn destination_delete(desk: Desk_<'_>, id: String) -> Res<()> {
    desk.destination_delete(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn destination_test(desk: Desk_<'_>, id: String) -> Res<()> {
    desk.destination_test(&id).await.map_err(msg)
}

#[tauri::command]
pub async fn journal_query(
    desk: Desk_<'_>,
    from: Option<TimeMs>,
    to: Option<TimeMs>,
    alarm_id: Option<String>,
    action: Option<String>,
    limit: Option<usize>,
) -> Res<Vec<JournalEntry>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.journal(from, to, alarm_id, action.as_deref(), limit)).await
}

#[tauri::command]
pub async fn notifications_list(desk: Desk_<'_>, unread_only: bool, limit: Option<usize>) -> Res<Vec<Note>> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.notifications(unread_only, limit)).await
}

#[tauri::command]
pub async fn notifications_unread_count(desk: Desk_<'_>) -> Res<u64> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.unread_count()).await
}

#[tauri::command]
pub async fn notification_mark_read<R: Runtime>(app: AppHandle<R>, desk: Desk_<'_>, id: String) -> Res<()> {
    desk.mark_read(&id).await.map_err(msg)?;
    refresh_tray(app, Arc::clone(&desk));
    Ok(())
}

#[tauri::command]
pub async fn notifications_mark_all_read<R: Runtime>(app: AppHandle<R>, desk: Desk_<'_>) -> Res<()> {
    desk.mark_all_read().await.map_err(msg)?;
    refresh_tray(app, Arc::clone(&desk));
    Ok(())
}

/// The tray shows the unread count: refresh it after marking.
fn refresh_tray<R: Runtime>(app: AppHandle<R>, desk: Arc<Desk>) {
    tauri::async_runtime::spawn_blocking(move || crate::tray::refresh(&app, &desk));
}

// ------------------------------------------------------------- the rest

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
        alarms_list,
        alarm_ack,
        alarm_shelve,
        alarm_unshelve,
        alarm_out_of_service,
        rules_list,
        rule_check,
        rule_save,
        rule_delete,
        rule_set_enabled,
        calcs_list,
        calc_check,
        calc_save,
        calc_delete,
        destinations_list,
        destination_save,
        destination_delete,
        destination_test,
        journal_query,
        notifications_list,
        notifications_unread_count,
        notification_mark_read,
        notifications_mark_all_read,
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
        crate::cloud::cloud_sign_in,
        crate::cloud::cloud_code,
        crate::cloud::cloud_change_password,
        crate::cloud::cloud_sign_out,
        crate::cloud::cloud_status,
        crate::cloud::cloud_agents,
        crate::cloud::cloud_channels,
        crate::cloud::cloud_series,
        crate::cloud::sync_status,
    ])
}
