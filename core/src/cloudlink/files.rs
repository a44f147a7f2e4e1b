//! The signed-in account's measurement files (docs/api.md, "Files"): the
//! list the Files screen shows and a download streamed to disk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use meterdeck_wire::files::CloudFile;
use tokio::io::AsyncWriteExt;

use super::{CloudError, CloudLink, CloudResult, check_id, error_message, unreachable_error};

/// Longest a download may take (1 GB over a slow link).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
/// Files listed at most.
pub const MAX_CLOUD_FILES: u32 = 1000;

impl CloudLink {
    /// The files of the agents this user sees, newest first; `instrument`
    /// narrows it.
    pub async fn files(&self, instrument: Option<&str>) -> CloudResult<Vec<CloudFile>> {
        let mut query = vec![("limit", MAX_CLOUD_FILES.to_string())];
        if let Some(i) = instrument.filter(|i| !i.trim().is_empty()) {
            query.push(("instrument", check_id("instrument", i)?));
        }
        self.authed(&["files"], &query, "the file list").await
    }

    /// Downloads file `id` into folder `dir` (under its own name), streamed,
    /// through a `.part` file renamed only once the size and SHA-256 match;
    /// answers the path written.
    pub async fn download_file(
        &self,
        id: &str,
        dir: &Path,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> CloudResult<PathBuf> {
        let id = check_id("file", id)?;
        if !dir.is_dir() {
            return Err(CloudError::Invalid(format!("folder {} does not exist", dir.display())));
        }
        let meta: CloudFile = self.authed(&["files", &id], &[], "the file").await?;
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, &["files", &id, "content"], &[])?;
        let origin = endpoint.origin().ascii_serialization();
        let mut resp = self
            .http
            .get(endpoint)
            .bearer_auth(&token)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable_error(&origin, e))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.bytes().await.unwrap_or_default();
            return Err(match status.as_u16() {
                401 => CloudError::SignedOut,
                400..=499 => CloudError::Refused(error_message(&body, status)),
                s => CloudError::Server { status: s, message: error_message(&body, status) },
            });
        }
        let dest = dir.join(meterdeck_wire::files::base_name(&meta.name));
        let part = dest.with_extension(format!(
            "{}part",
            dest.extension().map(|e| format!("{}.", e.to_string_lossy())).unwrap_or_default()
        ));
        let disk = |e: std::io::Error| CloudError::Settings(format!("cannot write {}: {e}", part.display()));
        let mut out = tokio::fs::File::create(&part).await.map_err(disk)?;
        let mut hash = meterdeck_drivers::files::Digests::new(None);
        let mut done = 0u64;
        progress(0, meta.size);
        let result = async {
            while let Some(chunk) = resp.chunk().await.map_err(|e| unreachable_error(&origin, e))? {
                hash.update(&chunk);
                out.write_all(&chunk).await.map_err(disk)?;
                done += chunk.len() as u64;
                progress(done, meta.size);
            }
            out.flush().await.map_err(disk)?;
            out.sync_all().await.map_err(disk)?;
            let sha = hash.sha256_hex();
            if done != meta.size || sha != meta.sha256 {
                return Err(CloudError::BadReply {
                    what: format!("the download of {}", meta.name),
                    reason: format!(
                        "{done} bytes with SHA-256 {sha} arrived, the cloud lists {} bytes with {}",
                        meta.size, meta.sha256
                    ),
                });
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, &dest)
            .await
            .map_err(|e| CloudError::Settings(format!("cannot write {}: {e}", dest.display())))?;
        Ok(dest)
    }
}
