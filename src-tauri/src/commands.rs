//! The window's commands: take the contract's arguments, call `Desk`, turn
//! errors into the message the window shows. No logic lives here; names,
//! arguments and results are in `contract::args`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_core::desk::{Desk, DeskError, ExportProgress};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::contract::*;
use crate::error::CommandError;

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
pub async fn alarms_list(desk: Desk_<'_>, _a: Args<AlarmsListArgs>) -> Reply<AlarmsListArgs> {
    desk.alarms().await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_ack(desk: Desk_<'_>, a: Args<AlarmAckArgs>) -> Reply<AlarmAckArgs> {
    desk.alarm_ack(&a.alarm_id, &a.user, a.comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_shelve(desk: Desk_<'_>, a: Args<AlarmShelveArgs>) -> Reply<AlarmShelveArgs> {
    desk.alarm_shelve(&a.alarm_id, a.minutes, &a.user, a.comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_unshelve(desk: Desk_<'_>, a: Args<AlarmUnshelveArgs>) -> Reply<AlarmUnshelveArgs> {
    desk.alarm_unshelve(&a.alarm_id, &a.user).await.map_err(msg)
}

#[tauri::command]
pub async fn alarm_out_of_service(desk: Desk_<'_>, a: Args<AlarmOutOfServiceArgs>) -> Reply<AlarmOutOfServiceArgs> {
    desk.alarm_out_of_service(&a.alarm_id, a.on, &a.user, a.comment.as_deref().unwrap_or("")).await.map_err(msg)
}

#[tauri::command]
pub async fn rules_list(desk: Desk_<'_>, _a: Args<RulesListArgs>) -> Reply<RulesListArgs> {
    Ok(desk.rules())
}

#[tauri::command]
pub async fn rule_check(desk: Desk_<'_>, a: Args<RuleCheckArgs>) -> Reply<RuleCheckArgs> {
    Ok(desk.rule_check(&a.rule).map(crate::error::in_window_language))
}

#[tauri::command]
pub async fn rule_save(desk: Desk_<'_>, a: Args<RuleSaveArgs>) -> Reply<RuleSaveArgs> {
    desk.rule_save(&a.rule).await.map_err(msg)
}

#[tauri::command]
pub async fn rule_delete(desk: Desk_<'_>, a: Args<RuleDeleteArgs>) -> Reply<RuleDeleteArgs> {
    desk.rule_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn rule_set_enabled(desk: Desk_<'_>, a: Args<RuleSetEnabledArgs>) -> Reply<RuleSetEnabledArgs> {
    desk.rule_set_enabled(&a.id, a.enabled).await.map_err(msg)
}

#[tauri::command]
pub async fn calcs_list(desk: Desk_<'_>, _a: Args<CalcsListArgs>) -> Reply<CalcsListArgs> {
    Ok(desk.calcs())
}

#[tauri::command]
pub async fn calc_check(desk: Desk_<'_>, a: Args<CalcCheckArgs>) -> Reply<CalcCheckArgs> {
    Ok(desk.calc_check(&a.calc).map(crate::error::in_window_language))
}

#[tauri::command]
pub async fn calc_save(desk: Desk_<'_>, a: Args<CalcSaveArgs>) -> Reply<CalcSaveArgs> {
    desk.calc_save(&a.calc).await.map_err(msg)
}

#[tauri::command]
pub async fn calc_delete(desk: Desk_<'_>, a: Args<CalcDeleteArgs>) -> Reply<CalcDeleteArgs> {
    desk.calc_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn destinations_list(desk: Desk_<'_>, _a: Args<DestinationsListArgs>) -> Reply<DestinationsListArgs> {
    let desk = Arc::clone(&desk);
    // The keychain is asked whether each secret exists: off the async workers.
    blocking(move || Ok(desk.destinations())).await
}

#[tauri::command]
pub async fn destination_save(desk: Desk_<'_>, a: Args<DestinationSaveArgs>) -> Reply<DestinationSaveArgs> {
    desk.destination_save(&a.destination, a.secret.as_deref()).await.map_err(msg)
}

#[tauri::command]
pub async fn destination_delete(desk: Desk_<'_>, a: Args<DestinationDeleteArgs>) -> Reply<DestinationDeleteArgs> {
    desk.destination_delete(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn destination_test(desk: Desk_<'_>, a: Args<DestinationTestArgs>) -> Reply<DestinationTestArgs> {
    desk.destination_test(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn journal_query(desk: Desk_<'_>, a: Args<JournalQueryArgs>) -> Reply<JournalQueryArgs> {
    let desk = Arc::clone(&desk);
    let JournalQueryArgs { from, to, alarm_id, action, limit } = a.0;
    blocking(move || desk.journal(from, to, alarm_id, action.as_deref(), limit)).await
}

#[tauri::command]
pub async fn notifications_list(desk: Desk_<'_>, a: Args<NotificationsListArgs>) -> Reply<NotificationsListArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.notifications(a.unread_only, a.limit)).await
}

#[tauri::command]
pub async fn notifications_unread_count(
    desk: Desk_<'_>,
    _a: Args<NotificationsUnreadCountArgs>,
) -> Reply<NotificationsUnreadCountArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.unread_count()).await
}

#[tauri::command]
pub async fn notification_mark_read<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    a: Args<NotificationMarkReadArgs>,
) -> Reply<NotificationMarkReadArgs> {
    desk.mark_read(&a.id).await.map_err(msg)?;
    refresh_tray(app, Arc::clone(&desk));
    Ok(())
}

#[tauri::command]
pub async fn notifications_mark_all_read<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    _a: Args<NotificationsMarkAllReadArgs>,
) -> Reply<NotificationsMarkAllReadArgs> {
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
pub async fn app_state(desk: Desk_<'_>, _a: Args<AppStateArgs>) -> Reply<AppStateArgs> {
    desk.app_state().map_err(msg)
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    link: State<'_, Arc<meterdeck_core::cloudlink::CloudLink>>,
    a: Args<SaveSettingsArgs>,
) -> Reply<SaveSettingsArgs> {
    desk.save_settings(&a.settings).map_err(msg)?;
    // Mails the cloud sends at the window's request follow its language.
    link.set_language(&a.settings.language);
    link.set_zone(&a.settings.timezone);
    let shared = Arc::clone(link.inner());
    tauri::async_runtime::spawn(async move { shared.share_locale().await });
    // Process-wide (one window per process); the unit tests share one
    // process and check English texts, so only the app sets it.
    #[cfg(not(test))]
    crate::error::set_language(&a.settings.language);
    // The tray's words follow the language.
    refresh_tray(app, Arc::clone(&desk));
    Ok(())
}

/// The instrument families and their fields (the window builds its family
/// list and instrument form from this).
#[tauri::command]
pub async fn families(_a: Args<FamiliesArgs>) -> Reply<FamiliesArgs> {
    Ok(meterdeck_core::desk::families())
}

#[tauri::command]
pub async fn list_instruments(desk: Desk_<'_>, _a: Args<ListInstrumentsArgs>) -> Reply<ListInstrumentsArgs> {
    desk.list_instruments().map_err(msg)
}

#[tauri::command]
pub async fn save_instrument(desk: Desk_<'_>, a: Args<SaveInstrumentArgs>) -> Reply<SaveInstrumentArgs> {
    let SaveInstrumentArgs { config, replace_id } = a.0;
    desk.save_instrument(config, replace_id.as_deref()).await.map_err(msg)
}

#[tauri::command]
pub async fn remove_instrument(desk: Desk_<'_>, a: Args<RemoveInstrumentArgs>) -> Reply<RemoveInstrumentArgs> {
    desk.remove_instrument(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn identify(desk: Desk_<'_>, a: Args<IdentifyArgs>) -> Reply<IdentifyArgs> {
    desk.identify(&a.id).await.map_err(msg)
}

#[tauri::command]
pub async fn discover_lan(desk: Desk_<'_>, a: Args<DiscoverLanArgs>) -> Reply<DiscoverLanArgs> {
    desk.discover_lan(&a.hosts, &a.ports, a.timeout_ms).await.map_err(msg)
}

#[tauri::command]
pub async fn list_serial_ports(desk: Desk_<'_>, _a: Args<ListSerialPortsArgs>) -> Reply<ListSerialPortsArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.list_serial_ports()).await
}

#[tauri::command]
pub async fn probe_serial(desk: Desk_<'_>, a: Args<ProbeSerialArgs>) -> Reply<ProbeSerialArgs> {
    desk.probe_serial(&a.paths, a.baud).await.map_err(msg)
}

#[tauri::command]
pub async fn set_fast_monitor(desk: Desk_<'_>, a: Args<SetFastMonitorArgs>) -> Reply<SetFastMonitorArgs> {
    desk.set_fast_monitor(&a.id, a.on).await.map_err(msg)
}

#[tauri::command]
pub async fn latest(desk: Desk_<'_>, _a: Args<LatestArgs>) -> Reply<LatestArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.latest()).await
}

#[tauri::command]
pub async fn channels(desk: Desk_<'_>, _a: Args<ChannelsArgs>) -> Reply<ChannelsArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.channels()).await
}

#[tauri::command]
pub async fn series(desk: Desk_<'_>, a: Args<SeriesArgs>) -> Reply<SeriesArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.series(&a.channel_ids, a.from, a.to, a.width)).await
}

/// Answers raw bytes, not `Reply<SeriesFrameArgs>`: a `Serialize` reply
/// would go out as JSON (an array of a million byte values).
#[tauri::command]
pub async fn series_frame(desk: Desk_<'_>, a: Args<SeriesFrameArgs>) -> Res<tauri::ipc::Response> {
    let desk = Arc::clone(&desk);
    let bytes = blocking(move || desk.series_frame(&a.channel_ids, a.from, a.to, a.width)).await?;
    Ok(SeriesFrame(bytes).into())
}

/// Waits for the Desk when the window started before it was open (a demo
/// writing its history: see `startup`).
#[tauri::command]
pub async fn start_view<R: Runtime>(
    app: AppHandle<R>,
    ready: State<'_, crate::startup::DeskReady>,
    _a: Args<StartViewArgs>,
) -> Reply<StartViewArgs> {
    ready.wait().await.map_err(|e| DeskError::Invalid(meterdeck_wire::i18n::Text::plain(e)))?;
    let desk = Arc::clone(app.state::<Arc<Desk>>().inner());
    blocking(move || desk.start_view()).await
}

#[tauri::command]
pub async fn series_extent(desk: Desk_<'_>, a: Args<SeriesExtentArgs>) -> Reply<SeriesExtentArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.extent(&a.channel_ids)).await
}

#[tauri::command]
pub async fn table(desk: Desk_<'_>, a: Args<TableArgs>) -> Reply<TableArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.table(&a.channel_ids, a.from, a.to, a.limit)).await
}

/// Writes the file and emits `export-progress` (at most every 100 ms, and
/// once at the end).
#[tauri::command]
pub async fn export<R: Runtime>(app: AppHandle<R>, desk: Desk_<'_>, a: Args<ExportArgs>) -> Reply<ExportArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || {
        let mut last: Option<Instant> = None;
        let mut progress = |done: u64, total: u64| {
            if done >= total || last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                last = Some(Instant::now());
                EXPORT_PROGRESS.emit(&app, &ExportProgress { done, total });
            }
        };
        let view = desk.export(&a.channel_ids, a.from, a.to, &a.path, &mut progress)?;
        EXPORT_PROGRESS.emit(&app, &ExportProgress { done: view.samples, total: view.samples });
        Ok(view)
    })
    .await
}

#[tauri::command]
pub async fn console_acquire(desk: Desk_<'_>, a: Args<ConsoleAcquireArgs>) -> Reply<ConsoleAcquireArgs> {
    desk.console_acquire(&a.instrument, &a.operator).map_err(msg)
}

#[tauri::command]
pub async fn console_send(desk: Desk_<'_>, a: Args<ConsoleSendArgs>) -> Reply<ConsoleSendArgs> {
    desk.console_send(&a.instrument, &a.operator, &a.command).await.map_err(msg)
}

#[tauri::command]
pub async fn console_release(desk: Desk_<'_>, a: Args<ConsoleReleaseArgs>) -> Reply<ConsoleReleaseArgs> {
    desk.console_release(&a.instrument, &a.operator).map_err(msg)
}

#[tauri::command]
pub async fn events(desk: Desk_<'_>, a: Args<EventsArgs>) -> Reply<EventsArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.events(a.instrument.as_deref(), a.kind.as_deref(), a.limit)).await
}

// ------------------------------------------------------ Bluetooth LE (issue 14)

#[tauri::command]
pub async fn discover_ble(desk: Desk_<'_>, a: Args<DiscoverBleArgs>) -> Reply<DiscoverBleArgs> {
    desk.discover_ble(a.seconds).await.map_err(msg)
}
