//! The Cloud screen's commands: thin over `meterdeck_core::cloudlink`
//! (sign-in, agents, channels, series) and the Desk's local sync state.

use std::sync::Arc;

use meterdeck_core::cloudlink::CloudLink;
use meterdeck_core::desk::Desk;
use tauri::State;

use crate::contract::*;
use crate::error::CommandError;

type Link<'a> = State<'a, Arc<CloudLink>>;

fn msg(e: impl Into<CommandError>) -> CommandError {
    e.into()
}

#[tauri::command]
pub async fn cloud_sign_in(link: Link<'_>, a: Args<CloudSignInArgs>) -> Reply<CloudSignInArgs> {
    link.sign_in(&a.url, &a.account, &a.user, &a.password).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_code(link: Link<'_>, a: Args<CloudCodeArgs>) -> Reply<CloudCodeArgs> {
    link.submit_code(&a.code).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_change_password(link: Link<'_>, a: Args<CloudChangePasswordArgs>) -> Reply<CloudChangePasswordArgs> {
    link.change_password(&a.current, &a.new).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_sign_out(link: Link<'_>, _a: Args<CloudSignOutArgs>) -> Reply<CloudSignOutArgs> {
    link.sign_out().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_status(link: Link<'_>, _a: Args<CloudStatusArgs>) -> Reply<CloudStatusArgs> {
    link.status().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_agents(link: Link<'_>, _a: Args<CloudAgentsArgs>) -> Reply<CloudAgentsArgs> {
    link.agents().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_channels(link: Link<'_>, a: Args<CloudChannelsArgs>) -> Reply<CloudChannelsArgs> {
    link.channels(&a.agent).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_series(link: Link<'_>, a: Args<CloudSeriesArgs>) -> Reply<CloudSeriesArgs> {
    link.series(&a.channel, a.from, a.to, a.buckets).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_storage(link: Link<'_>, _a: Args<CloudStorageArgs>) -> Reply<CloudStorageArgs> {
    link.storage_meter().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_site_alarms(link: Link<'_>, a: Args<CloudSiteAlarmsArgs>) -> Reply<CloudSiteAlarmsArgs> {
    link.site_alarms(&a.agent).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_alarm_ack(link: Link<'_>, a: Args<CloudAlarmAckArgs>) -> Reply<CloudAlarmAckArgs> {
    link.ack_site_alarm(&a.agent, &a.alarm, &a.comment).await.map_err(msg)
}

/// This agent's own sync (backlog, last acknowledgement, traffic): the
/// Desk's `SyncStatus` fields plus `traffic_percent` and `traffic_warning`.
#[tauri::command]
pub async fn sync_status(desk: State<'_, Arc<Desk>>, _a: Args<SyncStatusArgs>) -> Reply<SyncStatusArgs> {
    let desk = Arc::clone(&desk);
    Ok(tauri::async_runtime::spawn_blocking(move || desk.sync_status()).await??.into())
}
