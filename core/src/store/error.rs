//! Errors of the store. Every message names what was wrong: the database
//! path, the channel, the block.

use std::path::PathBuf;

use crate::model::ChannelId;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the directory of store {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A database error, with the store's path and the operation that failed.
    #[error("store {path}: {op} failed: {source}")]
    Database {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// A database error inside the store's modules; the public methods turn
    /// it into [`StoreError::Database`] with the path attached.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "store {path} has schema version {found}, this build knows versions up to {supported}; use a newer meterdeck"
    )]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },
    #[error(
        "store {path} has schema version {found}, expected {expected}; open it once read-write (start the agent) to migrate it"
    )]
    SchemaMismatch { path: PathBuf, found: i64, expected: i64 },
    #[error(
        "store {path} holds the {part} tables at version {found}, this build knows versions up to {supported}; use a newer meterdeck"
    )]
    PartTooNew { path: PathBuf, part: &'static str, found: i64, supported: i64 },
    /// A stored blob that does not decode. `location` is e.g. `block 12` or
    /// `tail fragment at seq 4096`.
    #[error("corrupt data in channel {channel}, {location}: {detail}")]
    Corrupt { channel: ChannelId, location: String, detail: String },
    /// A tail row (recent samples of many channels) that does not decode.
    #[error("corrupt tail row {row}: {detail}")]
    CorruptTail { row: i64, detail: String },
    /// Older samples that cannot go below the channel's (see `Store::backfill`).
    #[error("channel {channel}: {detail}")]
    Backfill { channel: ChannelId, detail: String },
    #[error("unknown channel id {0} (call ensure_channel first)")]
    UnknownChannel(ChannelId),
    #[error("unknown instrument '{0}' (call upsert_instrument first)")]
    UnknownInstrument(String),
    #[error("channel path '{0}' is not of the form instrument/channel")]
    BadChannelPath(String),
    /// A row holding a value this build cannot interpret (e.g. an unknown
    /// event kind written by a newer version).
    #[error("table {table}, column {column}: unexpected value '{value}'")]
    BadRow { table: &'static str, column: &'static str, value: String },
}

impl StoreError {
    /// The error as a translatable message: the sentences a person acts on
    /// (a store that cannot be opened, one of another version) are keyed
    /// (`err-store-*` in locales/*/core.ftl); what SQLite or the OS said,
    /// and the internal faults, are quoted as they came. English is the
    /// Display.
    pub fn text(&self) -> crate::model::Text {
        use crate::model::Text;
        let path = |p: &PathBuf| p.display().to_string();
        match self {
            StoreError::Open { path: p, source } => {
                Text::new("err-store-open").arg("path", path(p)).arg("reason", source.to_string())
            }
            StoreError::CreateDir { path: p, source } => {
                Text::new("err-store-create-dir").arg("path", path(p)).arg("reason", source.to_string())
            }
            StoreError::Database { path: p, op, source } => {
                Text::new("err-store-database").arg("path", path(p)).arg("op", *op).arg("reason", source.to_string())
            }
            StoreError::Sqlite(e) => Text::new("err-store-sqlite").arg("reason", e.to_string()),
            StoreError::SchemaTooNew { path: p, found, supported } => Text::new("err-store-schema-too-new")
                .arg("path", path(p))
                .arg("found", found.to_string())
                .arg("supported", supported.to_string()),
            StoreError::SchemaMismatch { path: p, found, expected } => Text::new("err-store-schema-mismatch")
                .arg("path", path(p))
                .arg("found", found.to_string())
                .arg("expected", expected.to_string()),
            StoreError::PartTooNew { path: p, part, found, supported } => Text::new("err-store-part-too-new")
                .arg("path", path(p))
                .arg("part", *part)
                .arg("found", found.to_string())
                .arg("supported", supported.to_string()),
            e => Text::plain(e.to_string()),
        }
    }

    /// Attaches the store path and the operation to a bare SQLite error.
    pub(crate) fn at(self, path: &std::path::Path, op: &'static str) -> StoreError {
        match self {
            StoreError::Sqlite(source) => StoreError::Database { path: path.to_path_buf(), op, source },
            other => other,
        }
    }
}
