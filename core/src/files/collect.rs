//! The collector: one task per `[[files]]` source, beside the instrument's
//! poller. Each round lists the folder tree, records every matching file
//! and fetches the new ones up to the automatic limit; a larger file waits
//! for a request and its event says why. A refused login, a missing folder
//! or an unreachable server is one event with the reason (again only when
//! the reason changes) and the rounds go on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::files::{FetchProgress, FtpError, FtpSession, RemoteFile};
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::records::{self, FileRecord, FileState};
use super::source::{FileSource, MB};
use crate::model::{Event, EventKind, Text, now_ms};
use crate::notify::SecretStore;
use crate::store::{Store, StoreError, StoreOptions};

/// What a collector tells the agent: events for the journal and new files
/// for the alarm rules.
#[derive(Clone, Debug)]
pub enum FileNote {
    Event(Event),
    /// A file fetched for the first time in this version.
    NewFile {
        instrument: String,
        remote_path: String,
        size: u64,
    },
}

/// The data directory's folder for one instrument's files.
pub fn files_dir(data_dir: &Path, instrument: &str) -> PathBuf {
    data_dir.join("files").join(instrument)
}

/// Where a remote file is kept: its server path below the instrument's
/// folder, without `..` or empty parts (a hostile listing cannot escape).
pub fn local_path(data_dir: &Path, instrument: &str, remote_path: &str) -> PathBuf {
    let mut p = files_dir(data_dir, instrument);
    for part in remote_path.split(['/', '\\']) {
        if !(part.is_empty() || part == "." || part == "..") {
            p.push(part);
        }
    }
    p
}

/// Why a fetch failed: the transfer, or recording it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Ftp(#[from] FtpError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// The server or the link failed: the round stops, the next one retries.
    pub fn is_transient(&self) -> bool {
        matches!(self, FetchError::Ftp(e) if e.is_transient())
    }
}

pub struct Collector {
    pub source: FileSource,
    pub instruments: Vec<InstrumentConfig>,
    pub secrets: Arc<dyn SecretStore>,
    pub data_dir: PathBuf,
    pub store_path: PathBuf,
    pub notes: mpsc::Sender<FileNote>,
    pub shutdown: watch::Receiver<bool>,
    /// The cloud upload, when the source asks for it and `[cloud] api` is set.
    pub upload: Option<super::upload::Uploader>,
}

impl Collector {
    pub async fn run(mut self) {
        let mut store = match Store::open_with(&self.store_path, StoreOptions::default(), &[records::SCHEMA_PART]) {
            Ok(s) => s,
            Err(e) => {
                warn!("files of {}: cannot open the store: {e}", self.source.instrument);
                return;
            }
        };
        let mut last_problem: Option<String> = None;
        loop {
            let problem = self.round(&mut store).await.err();
            if problem != last_problem {
                let ev = match &problem {
                    Some(p) => Event::said(
                        now_ms(),
                        Some(self.source.instrument.clone()),
                        EventKind::Error,
                        Text::new("evt.filesProblem").arg("problem", p),
                    ),
                    None => Event::said(
                        now_ms(),
                        Some(self.source.instrument.clone()),
                        EventKind::File,
                        Text::new("evt.filesBack").arg("folder", &self.source.folder),
                    ),
                };
                // The first round without a problem is not news.
                if problem.is_some() || last_problem.is_some() {
                    self.note(FileNote::Event(ev)).await;
                }
                last_problem = problem;
            }
            let wait = tokio::time::sleep(self.source.interval);
            tokio::select! {
                _ = wait => {}
                _ = self.shutdown.changed() => {}
            }
            if *self.shutdown.borrow() {
                return;
            }
        }
    }

    async fn note(&self, n: FileNote) {
        let _ = self.notes.send(n).await;
    }

    fn event(&self, kind: EventKind, text: Text) -> FileNote {
        FileNote::Event(Event::said(now_ms(), Some(self.source.instrument.clone()), kind, text))
    }

    /// One listing and the fetches it calls for. `Err` is the reason the
    /// round could not run (login, folder, server), for the event.
    async fn round(&mut self, store: &mut Store) -> Result<(), String> {
        let src = self.source.clone();
        let login = src.login(&self.instruments, self.secrets.as_ref())?;
        let mut session = FtpSession::connect(&login).await.map_err(|e| e.to_string())?;
        let listing = session.list_tree(&src.folder, src.depth).await.map_err(|e| e.to_string());
        let listing = match listing {
            Ok(l) => l,
            Err(e) => {
                session.quit().await;
                return Err(e);
            }
        };
        let pattern = src.name_pattern();
        let now = now_ms();
        for file in listing.iter().filter(|f| pattern.matches(f.name())) {
            if *self.shutdown.borrow() {
                break;
            }
            let rec = records::upsert_seen(store.conn(), &src.instrument, &file.path, file.size, file.modified_ms, now)
                .map_err(|e| format!("store: {e}"))?;
            let settled = rec.seen_t < now;
            let due = match rec.state {
                FileState::Seen => settled,
                FileState::Partial => true,
                FileState::TooLarge | FileState::Fetched | FileState::Failed => false,
            };
            if !due {
                continue;
            }
            if file.size > src.auto_limit() {
                let why = format!(
                    "not fetched automatically: {} bytes ({:.1} MB) is over the {} MB automatic limit; \
                     fetch it on request (Files screen, or `meterdeck-agent files fetch {} {}`)",
                    file.size,
                    file.size as f64 / MB as f64,
                    src.auto_max_mb,
                    src.instrument,
                    file.path
                );
                records::set_state(store.conn(), rec.id, FileState::TooLarge, Some(&why)).map_err(|e| e.to_string())?;
                self.note(self.event(EventKind::File, file_error(&file.path, why))).await;
                continue;
            }
            match fetch_record(&mut session, store, &self.data_dir, &rec, file, src.auto_limit(), &mut |_| {}).await {
                Ok(done) => {
                    self.note(self.event(EventKind::File, fetched_message(&done))).await;
                    self.note(FileNote::NewFile {
                        instrument: src.instrument.clone(),
                        remote_path: file.path.clone(),
                        size: file.size,
                    })
                    .await;
                }
                Err(e) => {
                    self.note(self.event(EventKind::Error, file_error(&file.path, e.to_string()))).await;
                    if e.is_transient() {
                        session.quit().await;
                        return Err(e.to_string());
                    }
                }
            }
        }
        if let Some(up) = &self.upload {
            super::upload::upload_pending(up, &src, &mut session, store, &self.notes, &mut |_, _, _| {}).await;
        }
        session.quit().await;
        Ok(())
    }
}

fn fetched_message(r: &FileRecord) -> Text {
    let check = match &r.server_checksum {
        Some(c) => Text::new("evt.checkedServer").arg("checksum", c),
        None => Text::new("evt.checkedSize"),
    };
    let resumed = r.reason.as_deref().map(|m| format!("; {m}")).unwrap_or_default();
    Text::new("evt.fileFetched")
        .arg("path", &r.remote_path)
        .arg("bytes", r.size.to_string())
        .arg("sha", r.sha256.as_deref().unwrap_or("?"))
        .text_arg("check", check)
        .arg("resumed", resumed)
}

/// "file <path>: <why>".
pub(crate) fn file_error(path: &str, why: impl Into<String>) -> Text {
    Text::new("evt.fileError").arg("path", path).arg("error", why)
}

/// Fetches one listed file into the data directory and records the
/// outcome on its row.
pub async fn fetch_record(
    session: &mut FtpSession,
    store: &mut Store,
    data_dir: &Path,
    rec: &FileRecord,
    file: &RemoteFile,
    limit: u64,
    progress: &mut (dyn FnMut(FetchProgress) + Send),
) -> Result<FileRecord, FetchError> {
    let dest = local_path(data_dir, &rec.instrument, &file.path);
    debug!("fetching {} to {}", file.path, dest.display());
    match session.fetch(&file.path, &dest, limit, progress).await {
        Ok(f) => {
            let resumed =
                (f.resumed_from > 0).then(|| format!("resumed at byte {} after a cut transfer", f.resumed_from));
            records::set_fetched(
                store.conn(),
                rec.id,
                &f.path.display().to_string(),
                &f.sha256,
                f.server_checksum.as_deref(),
                resumed.as_deref(),
                now_ms(),
            )?;
            records::by_id(store.conn(), rec.id)?.ok_or_else(|| FetchError::Other("the file's row vanished".into()))
        }
        Err(e) => {
            let state = if matches!(e, FtpError::Cut { .. }) {
                FileState::Partial
            } else if e.is_transient() {
                rec.state
            } else {
                FileState::Failed
            };
            records::set_state(store.conn(), rec.id, state, Some(&e.to_string()))?;
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_stay_under_the_instrument_folder() {
        let d = Path::new("/data");
        assert_eq!(local_path(d, "l1", "/DATA/2026/W1.MEM"), PathBuf::from("/data/files/l1/DATA/2026/W1.MEM"));
        assert_eq!(local_path(d, "l1", "/../../etc/passwd"), PathBuf::from("/data/files/l1/etc/passwd"));
    }
}
