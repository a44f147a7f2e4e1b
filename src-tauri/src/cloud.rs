//! The Cloud screen's commands: thin over `meterdeck_core::cloudlink`
//! (sign-in, agents, channels, series) and the Desk's local sync state.

use std::sync::Arc;

use meterdeck_core::cloudlink::{AgentView, CloudChannelView, CloudLink, CloudSeries, CloudStatus, LocalSyncView};
use meterdeck_core::desk::Desk;
use tauri::State;

use crate::error::CommandError;

type Link<'a> = State<'a, Arc<CloudLink>>;
type Res<T> = Result<T, CommandError>;

fn msg(e: impl Into<CommandError>) -> CommandError {
    e.into()
}

#[tauri::command]
pub async fn cloud_sign_in(
    link: Link<'_>,
    url: String,
    account: String,
    user: String,
    password: String,
) -> Res<CloudStatus> {
    link.sign_in(&url, &account, &user, &password).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_code(link: Link<'_>, code: String) -> Res<CloudStatus> {
    link.submit_code(&code).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_change_password(link: Link<'_>, current: String, new: String) -> Res<CloudStatus> {
    link.change_password(&current, &new).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_sign_out(link: Link<'_>) -> Res<CloudStatus> {
    link.sign_out().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_status(link: Link<'_>) -> Res<CloudStatus> {
    link.status().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_agents(link: Link<'_>) -> Res<Vec<AgentView>> {
    link.agents().await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_channels(link: Link<'_>, agent: String) -> Res<Vec<CloudChannelView>> {
    link.channels(&agent).await.map_err(msg)
}

#[tauri::command]
pub async fn cloud_series(link: Link<'_>, channel: String, from: i64, to: i64, buckets: u32) -> Res<CloudSeries> {
    link.series(&channel, from, to, buckets).await.map_err(msg)
}

/// This agent's own sync (backlog, last acknowledgement, traffic): the
/// Desk's `SyncStatus` fields plus `traffic_percent` and `traffic_warning`.
#[tauri::command]
pub async fn sync_status(desk: State<'_, Arc<Desk>>) -> Res<LocalSyncView> {
    let desk = Arc::clone(&desk);
    Ok(tauri::async_runtime::spawn_blocking(move || desk.sync_status()).await??.into())
}
