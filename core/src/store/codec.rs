//! The sample block codec. It lives in meterdeck-wire because the cloud
//! decodes the very blocks the agent stores; re-exported here so the store
//! keeps its short paths. Only the SQLite side (reading a blob column) is
//! the store's own.

pub use meterdeck_wire::codec::*;

/// The bytes of a blob column; anything else is corrupt.
pub fn blob(v: rusqlite::types::ValueRef<'_>) -> Result<&[u8], CodecError> {
    match v {
        rusqlite::types::ValueRef::Blob(b) => Ok(b),
        other => Err(CodecError(format!("expected a blob, found {:?}", other.data_type()))),
    }
}
