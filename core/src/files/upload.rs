//! Uploading fetched files to the cloud's Web API (docs/api.md, "Files"):
//! announced with their size and SHA-256, sent in chunks at the offset the
//! cloud says it holds (so a cut upload resumes), then completed: the cloud
//! checks the SHA-256 and only then is the file counted as uploaded, and
//! only then may it be deleted on the instrument.

use std::path::Path;
use std::time::Duration;

use meterdeck_drivers::files::FtpSession;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use super::collect::FileNote;
use super::records::{self, FileRecord};
use super::source::FileSource;
use crate::licence::fetch::Auth;
use crate::model::{Event, EventKind, now_ms};
use crate::store::Store;

/// Bytes per `PUT`: large enough to keep a LAN busy, small enough that a
/// cut costs little.
pub const CHUNK: usize = 4 * 1024 * 1024;

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

/// `POST /api/v1/files/uploads`.
#[derive(Serialize)]
struct Announce<'a> {
    instrument: &'a str,
    name: &'a str,
    size: u64,
    sha256: &'a str,
}

/// The cloud's view of an upload.
#[derive(Clone, Debug, Deserialize)]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub size: u64,
    pub complete: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

impl Uploader {
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
    ) -> Result<String, UploadError> {
        let disk = |source: std::io::Error| UploadError::Disk { path: path.to_path_buf(), source };
        let announce = Announce { instrument, name, size, sha256 };
        let mut state: UploadState =
            self.send(name, self.http.post(self.url("/files/uploads")).json(&announce)).await?;
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
            state = self.send(name, req).await?;
        }
        progress(size, size);
        if !state.complete {
            let req = self.http.post(self.url(&format!("/files/uploads/{}/complete", state.id)));
            state = self.send(name, req).await?;
        }
        Ok(state.id)
    }
}

/// Uploads the source's fetched files not yet in the cloud; with
/// `delete_after_upload`, deletes each on the instrument once the cloud
/// confirmed it. Failures are events; the next round tries again.
pub async fn upload_pending(
    up: &Uploader,
    src: &FileSource,
    session: &mut FtpSession,
    store: &mut Store,
    notes: &mpsc::Sender<FileNote>,
) {
    let event =
        |kind, message: String| FileNote::Event(Event::new(now_ms(), Some(src.instrument.clone()), kind, message));
    let pending = match records::pending_uploads(store.conn(), &src.instrument) {
        Ok(p) => p,
        Err(e) => {
            let _ = notes.send(event(EventKind::Error, format!("files: store: {e}"))).await;
            return;
        }
    };
    for rec in pending {
        match upload_record(up, store, &rec).await {
            Ok(id) => {
                let _ = notes
                    .send(event(
                        EventKind::File,
                        format!("file {} uploaded to the cloud (id {id}, SHA-256 confirmed)", rec.remote_path),
                    ))
                    .await;
                if src.delete_after_upload && !rec.remote_deleted {
                    match session.delete(&rec.remote_path).await {
                        Ok(()) => {
                            let _ = records::set_remote_deleted(store.conn(), rec.id);
                            let _ = notes
                                .send(event(
                                    EventKind::File,
                                    format!(
                                        "file {} deleted on the instrument after the cloud confirmed it",
                                        rec.remote_path
                                    ),
                                ))
                                .await;
                        }
                        Err(e) => {
                            let _ = notes
                                .send(event(
                                    EventKind::Error,
                                    format!("file {}: not deleted on the instrument: {e}", rec.remote_path),
                                ))
                                .await;
                        }
                    }
                }
            }
            Err(e) => {
                let _ = notes.send(event(EventKind::Error, format!("file {}: upload: {e}", rec.remote_path))).await;
                if matches!(e, UploadError::Unreachable { .. }) {
                    return;
                }
            }
        }
    }
}

/// Uploads one recorded file and marks it uploaded.
pub async fn upload_record(up: &Uploader, store: &mut Store, rec: &FileRecord) -> Result<String, UploadError> {
    let (Some(local), Some(sha)) = (&rec.local_path, &rec.sha256) else {
        return Err(UploadError::NoCopy(rec.remote_path.clone()));
    };
    let id = up.upload(&rec.instrument, &rec.remote_path, Path::new(local), rec.size, sha, &mut |_, _| {}).await?;
    if let Err(e) = records::set_uploaded(store.conn(), rec.id, &id, now_ms()) {
        tracing::warn!("cannot record the upload of {}: {e}", rec.remote_path);
    }
    Ok(id)
}

/// Longest a chunk may take.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(120);
