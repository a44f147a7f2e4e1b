//! The Files screen's commands (thin: `Desk` and `CloudLink` in core do the
//! work): local files, fetch on request, upload now, open the folder, the
//! cloud's files and their download; long transfers emit `file-progress`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meterdeck_core::cloudlink::CloudLink;
use meterdeck_core::desk::{Desk, DeskError, FileProgress, MAX_LOCAL_FILES};
use tauri::{AppHandle, Runtime, State};

use crate::contract::*;
use crate::error::CommandError;

type Desk_<'a> = State<'a, Arc<Desk>>;

/// `file-progress` at most every 100 ms, and always the last step.
fn throttled<R: Runtime>(app: AppHandle<R>) -> impl FnMut(FileProgress) + Send {
    let mut last: Option<Instant> = None;
    move |p: FileProgress| {
        if p.done >= p.total || last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
            last = Some(Instant::now());
            FILE_PROGRESS.emit(&app, &p);
        }
    }
}

#[tauri::command]
pub async fn files_local(desk: Desk_<'_>, a: Args<FilesLocalArgs>) -> Reply<FilesLocalArgs> {
    let desk = Arc::clone(&desk);
    let limit = a.limit.unwrap_or(MAX_LOCAL_FILES);
    let instrument = a.instrument.clone();
    Ok(tauri::async_runtime::spawn_blocking(move || desk.local_files(instrument.as_deref(), limit)).await??)
}

#[tauri::command]
pub async fn files_fetch<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    a: Args<FilesFetchArgs>,
) -> Reply<FilesFetchArgs> {
    let mut progress = throttled(app);
    desk.fetch_file(&a.instrument, &a.name, &mut progress).await.map_err(CommandError::Desk)
}

#[tauri::command]
pub async fn files_upload<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    a: Args<FilesUploadArgs>,
) -> Reply<FilesUploadArgs> {
    let mut progress = throttled(app);
    desk.upload_file(a.id, &mut progress).await.map_err(CommandError::Desk)
}

#[tauri::command]
pub async fn files_open_folder(desk: Desk_<'_>, a: Args<FilesOpenFolderArgs>) -> Reply<FilesOpenFolderArgs> {
    desk.open_files_folder(a.instrument.as_deref()).map_err(CommandError::Desk)
}

#[tauri::command]
pub async fn cloud_files(link: State<'_, Arc<CloudLink>>, a: Args<CloudFilesArgs>) -> Reply<CloudFilesArgs> {
    link.files(a.instrument.as_deref()).await.map_err(Into::into)
}

/// Into `folder`, else the data directory's `downloads`.
#[tauri::command]
pub async fn cloud_file_download<R: Runtime>(
    app: AppHandle<R>,
    desk: Desk_<'_>,
    link: State<'_, Arc<CloudLink>>,
    a: Args<CloudFileDownloadArgs>,
) -> Reply<CloudFileDownloadArgs> {
    let dir = match a.folder.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => PathBuf::from(f),
        None => {
            let d = desk.data_dir().join("downloads");
            std::fs::create_dir_all(&d)
                .map_err(|source| CommandError::Desk(DeskError::Write { path: d.clone(), source }))?;
            d
        }
    };
    let mut emit = throttled(app);
    let name = a.id.clone();
    let path = link
        .download_file(&a.id, &dir, &mut |done, total| {
            emit(FileProgress { kind: "download".into(), name: name.clone(), done, total })
        })
        .await?;
    Ok(path.display().to_string())
}
