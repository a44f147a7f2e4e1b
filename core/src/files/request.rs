//! What the CLI and the window ask for by hand: the server's listing, a
//! fetch of one file up to 1 GB (over the automatic limit), an upload now.

use std::path::Path;

use meterdeck_drivers::InstrumentConfig;
use meterdeck_drivers::files::{FetchProgress, FtpSession, RemoteFile};

use super::collect::fetch_record;
use super::records::{self, FileRecord};
use super::source::{FileSource, MB, REQUEST_LIMIT_MB};
use crate::model::now_ms;
use crate::notify::SecretStore;
use crate::store::Store;

/// The matching files on the instrument's server now.
pub async fn list_remote(
    src: &FileSource,
    instruments: &[InstrumentConfig],
    secrets: &dyn SecretStore,
) -> Result<Vec<RemoteFile>, String> {
    let login = src.login(instruments, secrets)?;
    let mut s = FtpSession::connect(&login).await.map_err(|e| e.to_string())?;
    let list = s.list_tree(&src.folder, src.depth).await.map_err(|e| e.to_string());
    s.quit().await;
    let pattern = src.name_pattern();
    Ok(list?.into_iter().filter(|f| pattern.matches(f.name())).collect())
}

/// Fetches `remote_path` now (up to 1 GB), resuming a cut transfer.
pub async fn fetch_now(
    src: &FileSource,
    instruments: &[InstrumentConfig],
    secrets: &dyn SecretStore,
    data_dir: &Path,
    store: &mut Store,
    remote_path: &str,
    progress: &mut (dyn FnMut(FetchProgress) + Send),
) -> Result<FileRecord, String> {
    let login = src.login(instruments, secrets)?;
    let mut s = FtpSession::connect(&login).await.map_err(|e| e.to_string())?;
    let result = async {
        let size = s.size(remote_path).await.map_err(|e| e.to_string())?;
        let limit = REQUEST_LIMIT_MB * MB;
        if size > limit {
            return Err(format!("{remote_path}: {size} bytes is more than the 1 GB a fetch may take"));
        }
        let known = records::get(store.conn(), &src.instrument, remote_path).map_err(|e| e.to_string())?;
        let modified = known.as_ref().filter(|k| k.size == size).and_then(|k| k.modified);
        let rec = records::upsert_seen(store.conn(), &src.instrument, remote_path, size, modified, now_ms())
            .map_err(|e| e.to_string())?;
        let file = RemoteFile { path: remote_path.to_string(), size, modified_ms: modified };
        fetch_record(&mut s, store, data_dir, &rec, &file, limit, progress).await.map_err(|e| e.to_string())
    }
    .await;
    s.quit().await;
    result
}
