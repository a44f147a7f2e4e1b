//! Measurement files uploaded by agents: their metadata in the database
//! (both backends implement `FileStore`), the bytes on disk under the
//! `files_dir` (`<files_dir>/<account>/<id>`, see `api/files.rs`).

use async_trait::async_trait;

use super::{Result, TimeMs};

/// One upload, unfinished (`completed_ms` empty) or kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub id: String,
    pub account: String,
    pub agent: String,
    pub instrument: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// Bytes held on disk (durable) so far.
    pub received: u64,
    pub created_ms: TimeMs,
    pub completed_ms: Option<TimeMs>,
}

/// Which kept files a listing wants.
#[derive(Clone, Debug, Default)]
pub struct FileQuery {
    pub account: String,
    /// Only these agents (a non-admin's visible ones); `None`: all.
    pub agents: Option<Vec<String>>,
    pub agent: Option<String>,
    pub instrument: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Inserts `row`, or returns the row already there for the same
    /// (agent, instrument, name, sha256) (a resumed or repeated upload).
    async fn file_announce(&self, row: &FileRow) -> Result<FileRow>;
    async fn file(&self, id: &str) -> Result<Option<FileRow>>;
    /// The upload of the same (agent, instrument, name, sha256) as `row`.
    async fn file_by_key(&self, row: &FileRow) -> Result<Option<FileRow>>;
    /// Moves `received` from `from` to `to`; `Conflict` when it is not at
    /// `from` any more (another request wrote first).
    async fn file_received(&self, id: &str, from: u64, to: u64) -> Result<()>;
    async fn file_completed(&self, id: &str, now: TimeMs) -> Result<()>;
    /// Forgets an upload (a checksum mismatch discards it).
    async fn file_delete(&self, id: &str) -> Result<()>;
    /// Kept files, newest first.
    async fn files(&self, q: &FileQuery) -> Result<Vec<FileRow>>;
    /// Bytes the account's files take or have reserved (unfinished uploads
    /// count whole: the storage check is made when they are announced).
    async fn file_bytes(&self, account: &str) -> Result<u64>;
    /// Ids of every upload of the account's `agent` (or all agents), for
    /// removing their bytes when the agent or account goes.
    async fn file_ids(&self, account: &str, agent: Option<&str>) -> Result<Vec<String>>;
}
