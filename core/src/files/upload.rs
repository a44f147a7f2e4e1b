//! Uploading fetched files to the cloud's Web API (docs/api.md, "Files"):
//! announced with their size and SHA-256, sent in chunks at the offset the
//! cloud says it holds (so a cut upload resumes), then completed: the cloud
//! checks the SHA-256 and only then is the file counted as uploaded, and
//! only then may it be deleted on the instrument.

use std::path::Path;
use std::time::Duration;

use meterdeck_drivers::files::FtpSession;
use meterdeck_wire::files::UploadAnnounce;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use super::collect::FileNote;
use super::records::{self, FileRecord};
use super::source::FileSource;
use crate::licence::fetch::Auth;
use crate::model::{Event, EventKind, Text, now_ms};
use crate::notify::SecretStore;
use crate::store::Store;

/// Bytes per `PUT`: large enough to keep a LAN busy, small enough that a
/// cut costs little; the most the cloud takes in one.
pub const CHUNK: usize = meterdeck_wire::files::MAX_CHUNK;

#[derive(Clone)]
pub struct Uploader {
    pub http: reqwest::Client,
    /// `http(s)://host:port` of the Web API (`[cloud] api`).
    pub api: String,
    pub auth: Auth,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("cannot reach the cloud's Web API at {api}: {reason}")]
    Unreachable { api: String, reason: String },
    #[error("the cloud refused the upload of {name} (HTTP {status}): {message}")]
    Refused { name: String, status: u16, message: String },
    #[error("{}: {source}", path.display())]
    Disk { path: std::path::PathBuf, source: std::io::Error },
    #[error("{0} has no local copy")]
    NoCopy(String),
}

pub use meterdeck_wire::files::UploadState;

/// A finished upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The cloud's id of the file.
    pub id: String,
    /// Bytes the cloud already held when this upload started (a cut one resumed).
    pub resumed_from: u64,
    /// The cloud had the whole file already: nothing was sent.
    pub already: bool,
}

impl Uploaded {
    /// How the event tells it.
    pub fn describe(&self) -> String {
        if self.already {
            format!("id {}, the cloud held it already, SHA-256 confirmed", self.id)
        } else if self.resumed_from > 0 {
            format!("id {}, SHA-256 confirmed; resumed at byte {} after a cut", self.id, self.resumed_from)
        } else {
            format!("id {}, SHA-256 confirmed", self.id)
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

impl Uploader {
    /// The agent's own upload client: `[cloud] api` with the agent's secret
    /// from the keychain; `Err` says what is missing.
    pub fn for_agent(cloud: &crate::sync::CloudSettings, secrets: &dyn SecretStore) -> Result<Uploader, String> {
        let api = cloud.api.clone().ok_or("[cloud] has no `api` (the cloud's Web API URL)")?;
        let secret =
            secrets.get(&crate::sync::secret_entry(&cloud.agent)).map_err(|e| e.to_string())?.ok_or_else(|| {
                format!("no secret of agent {} in the OS keychain (meterdeck-agent cloud login)", cloud.agent)
            })?;
        let http = crate::licence::fetch::client(cloud.ca_file.as_deref()).map_err(|e| e.to_string())?;
        Ok(Uploader { http, api, auth: Auth::Agent { id: cloud.agent.clone(), secret } })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.api.trim_end_matches('/'))
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::Agent { id, secret } => req.basic_auth(id, Some(secret)),
            Auth::Bearer(t) => req.bearer_auth(t),
        }
    }

    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        name: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, UploadError> {
        let unreachable =
            |e: reqwest::Error| UploadError::Unreachable { api: self.api.clone(), reason: e.without_url().to_string() };
        let resp = self.authed(req).send().await.map_err(unreachable)?;
        let status = resp.status();
        let text = resp.text().await.map_err(unreachable)?;
        if !status.is_success() {
            let message = serde_json::from_str::<ErrorBody>(&text).map(|b| b.error).unwrap_or(text);
            return Err(UploadError::Refused { name: name.to_string(), status: status.as_u16(), message });
        }
        serde_json::from_str(&text).map_err(|e| UploadError::Refused {
            name: name.to_string(),
            status: status.as_u16(),
            message: format!("unreadable reply: {e}"),
        })
    }

    /// Uploads one local file; returns the cloud's id once it confirmed the
    /// SHA-256. A file the cloud already holds (same name and SHA-256) is
    /// not sent again.
    pub async fn upload(
        &self,
        instrument: &str,
        name: &str,
        path: &Path,
        size: u64,
        sha256: &str,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Uploaded, UploadError> {
        let disk = |source: std::io::Error| UploadError::Disk { path: path.to_path_buf(), source };
        let announce = UploadAnnounce {
            instrument: instrument.to_string(),
            name: name.to_string(),
            size,
            sha256: sha256.to_string(),
        };
        let announce_req = || self.http.post(self.url("/files/uploads")).json(&announce);
        let mut state: UploadState = self.send(name, announce_req()).await?;
        let (resumed_from, already) = (if state.complete { 0 } else { state.offset }, state.complete);
        let mut realigned = false;
        let mut file = tokio::fs::File::open(path).await.map_err(disk)?;
        let mut buf = vec![0u8; CHUNK];
        while !state.complete && state.offset < size {
            progress(state.offset, size);
            file.seek(std::io::SeekFrom::Start(state.offset)).await.map_err(disk)?;
            let want = usize::try_from((size - state.offset).min(CHUNK as u64)).unwrap_or(CHUNK);
            file.read_exact(&mut buf[..want]).await.map_err(disk)?;
            let req = self
                .http
                .put(self.url(&format!("/files/uploads/{}?offset={}", state.id, state.offset)))
                .timeout(CHUNK_TIMEOUT)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(buf[..want].to_vec());
            state = match self.send(name, req).await {
                Ok(s) => {
                    realigned = false;
                    s
                }
                // A chunk stored whose answer was lost: ask where the cloud stands (once in a row).
                Err(UploadError::Refused { status: 409, .. }) if !realigned => {
                    realigned = true;
                    self.send(name, announce_req()).await?
                }
                Err(e) => return Err(e),
            };
        }
        progress(size, size);
        if !state.complete {
            let req = self.http.post(self.url(&format!("/files/uploads/{}/complete", state.id)));
            state = self.send(name, req).await?;
        }
        Ok(Uploaded { id: state.id, resumed_from, already })
    }
}

/// Uploads the source's fetched files not yet in the cloud; with
/// `delete_after_upload`, deletes each on the instrument once the cloud
/// confirmed it (also those whose deletion failed in an earlier round).
/// Failures are events; the next round tries again.
pub async fn upload_pending(
    up: &Uploader,
    src: &FileSource,
    session: &mut FtpSession,
    store: &mut Store,
    notes: &mpsc::Sender<FileNote>,
    progress: &mut (dyn FnMut(&FileRecord, u64, u64) + Send),
) {
    let event = |kind, text: Text| FileNote::Event(Event::said(now_ms(), Some(src.instrument.clone()), kind, text));
    let pending = match records::pending_uploads(store.conn(), &src.instrument) {
        Ok(p) => p,
        Err(e) => {
            let _ = notes
                .send(event(EventKind::Error, Text::new("evt.filesProblem").arg("problem", format!("store: {e}"))))
                .await;
            return;
        }
    };
    for rec in pending {
        match upload_record(up, store, &rec, &mut |done, total| progress(&rec, done, total)).await {
            Ok(up) => {
                let _ = notes
                    .send(event(
                        EventKind::File,
                        Text::new("evt.fileUploaded").arg("path", &rec.remote_path).arg("how", up.describe()),
                    ))
                    .await;
            }
            Err(e) => {
                let _ = notes
                    .send(event(EventKind::Error, super::collect::file_error(&rec.remote_path, format!("upload: {e}"))))
                    .await;
                if matches!(e, UploadError::Unreachable { .. }) {
                    return;
                }
            }
        }
    }
    if !src.delete_after_upload {
        return;
    }
    // Only what the cloud confirmed (`uploaded_t` is set on confirmation).
    let confirmed = match records::confirmed_not_deleted(store.conn(), &src.instrument) {
        Ok(c) => c,
        Err(e) => {
            let _ = notes
                .send(event(EventKind::Error, Text::new("evt.filesProblem").arg("problem", format!("store: {e}"))))
                .await;
            return;
        }
    };
    for rec in confirmed {
        let note = match session.delete(&rec.remote_path).await {
            Ok(()) => {
                if let Err(e) = records::set_remote_deleted(store.conn(), rec.id) {
                    tracing::warn!("cannot record the deletion of {}: {e}", rec.remote_path);
                }
                event(
                    EventKind::File,
                    Text::new("evt.fileDeleted")
                        .arg("path", &rec.remote_path)
                        .arg("id", rec.cloud_id.as_deref().unwrap_or("?")),
                )
            }
            Err(e) => event(
                EventKind::Error,
                Text::new("evt.fileNotDeleted").arg("path", &rec.remote_path).arg("error", e.to_string()),
            ),
        };
        let _ = notes.send(note).await;
    }
}

/// Uploads one recorded file and marks it uploaded.
pub async fn upload_record(
    up: &Uploader,
    store: &mut Store,
    rec: &FileRecord,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Uploaded, UploadError> {
    let (Some(local), Some(sha)) = (&rec.local_path, &rec.sha256) else {
        return Err(UploadError::NoCopy(rec.remote_path.clone()));
    };
    let done = up.upload(&rec.instrument, &rec.remote_path, Path::new(local), rec.size, sha, progress).await?;
    if let Err(e) = records::set_uploaded(store.conn(), rec.id, &done.id, now_ms()) {
        tracing::warn!("cannot record the upload of {}: {e}", rec.remote_path);
    }
    Ok(done)
}

/// Longest a chunk may take.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(120);
