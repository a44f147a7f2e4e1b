//! The Dashboard screen's commands: thin calls of `Desk`'s dashboard
//! methods off the async workers (they read and write the store).

use std::sync::Arc;

use meterdeck_core::desk::{Desk, DeskError};
use tauri::State;

use crate::contract::*;
use crate::error::CommandError;

type Desk_<'a> = State<'a, Arc<Desk>>;

async fn blocking<T: Send + 'static>(
    desk: &Desk_<'_>,
    f: impl FnOnce(&Desk) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, CommandError> {
    let desk = Arc::clone(desk);
    Ok(tauri::async_runtime::spawn_blocking(move || f(&desk)).await??)
}

#[tauri::command]
pub async fn dashboards_list(desk: Desk_<'_>, _a: Args<DashboardsListArgs>) -> Reply<DashboardsListArgs> {
    blocking(&desk, |d| d.dashboards()).await
}

#[tauri::command]
pub async fn board_create(desk: Desk_<'_>, a: Args<BoardCreateArgs>) -> Reply<BoardCreateArgs> {
    let name = a.0.name;
    blocking(&desk, move |d| d.board_create(&name)).await
}

#[tauri::command]
pub async fn board_rename(desk: Desk_<'_>, a: Args<BoardRenameArgs>) -> Reply<BoardRenameArgs> {
    let BoardRenameArgs { id, name } = a.0;
    blocking(&desk, move |d| d.board_rename(id, &name)).await
}

#[tauri::command]
pub async fn board_reorder(desk: Desk_<'_>, a: Args<BoardReorderArgs>) -> Reply<BoardReorderArgs> {
    let ids = a.0.ids;
    blocking(&desk, move |d| d.board_reorder(&ids)).await
}

#[tauri::command]
pub async fn board_delete(desk: Desk_<'_>, a: Args<BoardDeleteArgs>) -> Reply<BoardDeleteArgs> {
    let id = a.id;
    blocking(&desk, move |d| d.board_delete(id)).await
}

#[tauri::command]
pub async fn board_open(desk: Desk_<'_>, a: Args<BoardOpenArgs>) -> Reply<BoardOpenArgs> {
    let id = a.id;
    blocking(&desk, move |d| d.board_open(id)).await
}

#[tauri::command]
pub async fn panel_add(desk: Desk_<'_>, a: Args<PanelAddArgs>) -> Reply<PanelAddArgs> {
    let PanelAddArgs { board, panel } = a.0;
    blocking(&desk, move |d| d.panel_add(board, panel)).await
}

#[tauri::command]
pub async fn panel_update(desk: Desk_<'_>, a: Args<PanelUpdateArgs>) -> Reply<PanelUpdateArgs> {
    let PanelUpdateArgs { board, panel } = a.0;
    blocking(&desk, move |d| d.panel_update(board, panel)).await
}

#[tauri::command]
pub async fn panel_remove(desk: Desk_<'_>, a: Args<PanelRemoveArgs>) -> Reply<PanelRemoveArgs> {
    let PanelRemoveArgs { board, panel } = a.0;
    blocking(&desk, move |d| d.panel_remove(board, panel)).await
}

#[tauri::command]
pub async fn board_export(desk: Desk_<'_>, a: Args<BoardExportArgs>) -> Reply<BoardExportArgs> {
    let BoardExportArgs { id, path } = a.0;
    blocking(&desk, move |d| d.board_export(id, &path)).await
}

#[tauri::command]
pub async fn board_import(desk: Desk_<'_>, a: Args<BoardImportArgs>) -> Reply<BoardImportArgs> {
    let path = a.0.path;
    blocking(&desk, move |d| d.board_import(&path)).await
}

#[tauri::command]
pub async fn dashboard_image_import(
    desk: Desk_<'_>,
    a: Args<DashboardImageImportArgs>,
) -> Reply<DashboardImageImportArgs> {
    let path = a.0.path;
    blocking(&desk, move |d| d.dashboard_image_import(&path)).await
}

#[tauri::command]
pub async fn dashboard_image(desk: Desk_<'_>, a: Args<DashboardImageArgs>) -> Reply<DashboardImageArgs> {
    let name = a.0.name;
    blocking(&desk, move |d| d.dashboard_image(&name)).await
}
