//! The Files screen: the measurement files this agent collected (with
//! where each stands: fetched, uploaded, deleted on the instrument, too
//! large for automatic collection ...), a fetch on request of a file over
//! the automatic limit, an upload now, and opening the local folder. The
//! cloud's files are `CloudLink::files` (the signed-in account's).

use serde::Serialize;

use super::{Desk, DeskError, DeskResult};
use crate::agent::STORE_PARTS;
use crate::config::STORE_FILE;
use crate::files::{self, FileRecord, FileState, Uploader, request};
use crate::model::Text;
use crate::store::{Store, StoreOptions};

/// Where a local file stands, as the window shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum LocalFileStatus {
    /// Listed; fetched when the next listing shows the same size.
    Seen,
    /// Over the automatic limit: fetched on request.
    TooLarge,
    /// A cut transfer; resumes on the next attempt.
    Partial,
    Failed,
    Fetched,
    /// In the cloud, its SHA-256 confirmed.
    Uploaded,
    /// Uploaded, then deleted on the instrument.
    DeletedOnInstrument,
}

/// One file of the Files screen's local list.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalFileView {
    #[ts(type = "number")]
    pub id: i64,
    pub instrument: String,
    /// Its path on the instrument's FTP server.
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    /// When it was fetched (else first seen), ms UTC.
    #[ts(type = "number")]
    pub time: i64,
    pub status: LocalFileStatus,
    /// Why it was not fetched, or how it was (resumed after a cut).
    pub reason: Option<String>,
    pub sha256: Option<String>,
    pub cloud_id: Option<String>,
    /// A fetch on request may take it (too large, cut or failed).
    pub fetchable: bool,
    /// An upload now may send it (fetched, not in the cloud, a cloud configured).
    pub uploadable: bool,
}

/// Progress of a fetch, upload or download started from the Files screen
/// (the `file-progress` event).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FileProgress {
    /// `fetch`, `upload` or `download`.
    pub kind: String,
    pub name: String,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

fn status_of(r: &FileRecord) -> LocalFileStatus {
    match r.state {
        FileState::Seen => LocalFileStatus::Seen,
        FileState::TooLarge => LocalFileStatus::TooLarge,
        FileState::Partial => LocalFileStatus::Partial,
        FileState::Failed => LocalFileStatus::Failed,
        FileState::Fetched if r.remote_deleted => LocalFileStatus::DeletedOnInstrument,
        FileState::Fetched if r.cloud_id.is_some() => LocalFileStatus::Uploaded,
        FileState::Fetched => LocalFileStatus::Fetched,
    }
}

fn view(r: FileRecord, cloud: bool) -> LocalFileView {
    let status = status_of(&r);
    LocalFileView {
        fetchable: matches!(status, LocalFileStatus::TooLarge | LocalFileStatus::Partial | LocalFileStatus::Failed),
        uploadable: cloud && status == LocalFileStatus::Fetched,
        id: r.id,
        instrument: r.instrument,
        name: r.remote_path,
        size: r.size,
        time: r.fetched_t.unwrap_or(r.seen_t),
        status,
        reason: r.reason,
        sha256: r.sha256,
        cloud_id: r.cloud_id,
    }
}

/// Files listed at most.
pub const MAX_LOCAL_FILES: usize = 5_000;

impl Desk {
    fn file_source(&self, instrument: &str) -> DeskResult<files::FileSource> {
        self.config()
            .files
            .iter()
            .find(|f| f.instrument == instrument)
            .cloned()
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-files-section").arg("instrument", instrument)))
    }

    /// The collected files, newest first; `instrument` narrows it.
    pub fn local_files(&self, instrument: Option<&str>, limit: usize) -> DeskResult<Vec<LocalFileView>> {
        let cloud = self.uploader().is_some();
        let rows = files::records::list(
            self.reader.lock().unwrap_or_else(|e| e.into_inner()).conn(),
            instrument.filter(|i| !i.is_empty()),
            limit.clamp(1, MAX_LOCAL_FILES),
        )?;
        Ok(rows.into_iter().map(|r| view(r, cloud)).collect())
    }

    /// Fetches `name` from the instrument now (up to 1 GB, over the
    /// automatic limit too), resuming a cut transfer.
    pub async fn fetch_file(
        &self,
        instrument: &str,
        name: &str,
        progress: &mut (dyn FnMut(FileProgress) + Send),
    ) -> DeskResult<LocalFileView> {
        let src = self.file_source(instrument)?;
        let cfg = self.config();
        let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        let rec = request::fetch_now(
            &src,
            &cfg.instruments,
            self.agent_opts.secrets.as_ref(),
            &self.data_dir,
            &mut store,
            name,
            &mut |p| {
                progress(FileProgress { kind: "fetch".into(), name: name.to_string(), done: p.done, total: p.total })
            },
        )
        .await
        .map_err(|e| DeskError::Device(Text::plain(format!("{instrument}: {e}"))))?;
        Ok(view(rec, self.uploader().is_some()))
    }

    /// Uploads local file `id` to the cloud now (`[cloud] api`).
    pub async fn upload_file(
        &self,
        id: i64,
        progress: &mut (dyn FnMut(FileProgress) + Send),
    ) -> DeskResult<LocalFileView> {
        let up = self.uploader().ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-upload-cloud")))?;
        let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        let rec = files::records::by_id(store.conn(), id)?
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-local-file").arg("id", id.to_string())))?;
        let name = rec.remote_path.clone();
        files::upload::upload_record(&up, &mut store, &rec, &mut |done, total| {
            progress(FileProgress { kind: "upload".into(), name: name.clone(), done, total })
        })
        .await
        .map_err(|e| DeskError::Device(Text::plain(e.to_string())))?;
        let rec = files::records::by_id(store.conn(), id)?
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-local-file").arg("id", id.to_string())))?;
        Ok(view(rec, true))
    }

    /// Opens the folder the files are kept in (of one instrument, or all)
    /// in the desktop's file manager; answers its path.
    pub fn open_files_folder(&self, instrument: Option<&str>) -> DeskResult<String> {
        let dir = match instrument.filter(|i| !i.is_empty()) {
            Some(i) => {
                self.instrument(i)?;
                files::files_dir(&self.data_dir, i)
            }
            None => self.data_dir.join("files"),
        };
        std::fs::create_dir_all(&dir).map_err(|source| DeskError::Write { path: dir.clone(), source })?;
        crate::report::deliver::open_file(&dir);
        Ok(dir.display().to_string())
    }

    /// The agent's own upload client, when the config names a cloud API
    /// and the keychain holds the agent's secret.
    fn uploader(&self) -> Option<Uploader> {
        Uploader::for_agent(self.config().cloud.as_ref()?, self.agent_opts.secrets.as_ref()).ok()
    }
}
