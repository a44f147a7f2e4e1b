//! The Reports screen's commands (thin: `Desk` in core does the work):
//! templates, generate now with `report-progress`, runs, open, save as.

use std::sync::Arc;

use meterdeck_core::desk::{Desk, DeskError};
use tauri::{AppHandle, Runtime, State};

use crate::contract::*;
use crate::error::CommandError;

type Desk_<'a> = State<'a, Arc<Desk>>;

/// Store and file work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DeskError> + Send + 'static,
) -> Result<T, CommandError> {
    Ok(tauri::async_runtime::spawn_blocking(f).await??)
}

#[tauri::command]
pub async fn report_templates(desk: Desk_<'_>, _a: Args<ReportTemplatesArgs>) -> Reply<ReportTemplatesArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_templates()).await
}

#[tauri::command]
pub async fn report_template_save(desk: Desk_<'_>, a: Args<ReportTemplateSaveArgs>) -> Reply<ReportTemplateSaveArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_template_save(&a.saved, a.replace.as_deref())).await
}

#[tauri::command]
pub async fn report_template_delete(
    desk: Desk_<'_>,
    a: Args<ReportTemplateDeleteArgs>,
) -> Reply<ReportTemplateDeleteArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_template_delete(&a.name)).await
}

#[tauri::command]
pub async fn report_runs(desk: Desk_<'_>, a: Args<ReportRunsArgs>) -> Reply<ReportRunsArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_runs(a.limit.unwrap_or(200))).await
}

#[tauri::command]
pub async fn report_generate<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    a: Args<ReportGenerateArgs>,
) -> Reply<ReportGenerateArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_generate(&a.name, &mut |p| REPORT_PROGRESS.emit(&app, &p))).await
}

#[tauri::command]
pub async fn report_open(desk: Desk_<'_>, a: Args<ReportOpenArgs>) -> Reply<ReportOpenArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_open(a.run)).await
}

#[tauri::command]
pub async fn report_save_as(desk: Desk_<'_>, a: Args<ReportSaveAsArgs>) -> Reply<ReportSaveAsArgs> {
    let desk = Arc::clone(&desk);
    blocking(move || desk.report_save_as(a.run, &a.path)).await
}
