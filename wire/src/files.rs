//! Measurement files from the agents to the cloud (docs/api.md, "Files"):
//! what an agent announces before it uploads a file, the upload's state the
//! cloud answers (the offset it holds, so a cut upload resumes), and a
//! stored file as the cloud lists it. The limits both ends enforce.

use serde::{Deserialize, Serialize};

/// Most bytes one `PUT /files/uploads/{id}` may carry.
pub const MAX_CHUNK: usize = 4 * 1024 * 1024;
/// The largest file the cloud takes (the agent fetches up to 1 GB).
pub const MAX_FILE: u64 = 1024 * 1024 * 1024;
/// Longest instrument id and file name (the name is the server path).
pub const MAX_NAME: usize = 512;

/// `POST /api/v1/files/uploads`: the file the agent is about to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadAnnounce {
    /// The instrument (agent config id) the file came from.
    pub instrument: String,
    /// Its path on the instrument's FTP server.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the whole file, 64 lowercase hex digits.
    pub sha256: String,
}

impl UploadAnnounce {
    /// What is wrong with it, naming the field.
    pub fn check(&self) -> Result<(), String> {
        text_field("instrument", &self.instrument)?;
        text_field("name", &self.name)?;
        if self.size == 0 {
            return Err("`size` must be at least 1 byte (an empty file has nothing to keep)".into());
        }
        if self.size > MAX_FILE {
            return Err(format!("`size` {} is over the {MAX_FILE} bytes (1 GB) a file may have", self.size));
        }
        if !is_sha256_hex(&self.sha256) {
            return Err("`sha256` must be 64 lowercase hex digits (the SHA-256 of the whole file)".into());
        }
        Ok(())
    }
}

fn text_field(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("`{field}` must not be empty"));
    }
    if v.len() > MAX_NAME {
        return Err(format!("`{field}` is {} bytes long; at most {MAX_NAME}", v.len()));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("`{field}` must not hold control characters"));
    }
    Ok(())
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The cloud's view of one upload: `offset` bytes are held; once
/// `complete`, the SHA-256 was confirmed and the file is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub size: u64,
    pub complete: bool,
}

/// A file kept by the cloud (`GET /api/v1/files`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudFile {
    pub id: String,
    pub agent: String,
    pub instrument: String,
    /// The path on the instrument's server.
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    pub sha256: String,
    /// When the upload was confirmed, ms since 1970 UTC.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub uploaded_ms: i64,
}

/// The last part of a server path, for a download's file name.
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).find(|p| !p.is_empty()).unwrap_or("file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> UploadAnnounce {
        UploadAnnounce { instrument: "logger1".into(), name: "/DATA/W1.MEM".into(), size: 10, sha256: "a".repeat(64) }
    }

    #[test]
    fn announce_checks_name_the_field() {
        assert!(ok().check().is_ok());
        let e = |f: fn(&mut UploadAnnounce)| {
            let mut a = ok();
            f(&mut a);
            a.check().unwrap_err()
        };
        assert!(e(|a| a.instrument = " ".into()).contains("`instrument`"));
        assert!(e(|a| a.name = "a\nb".into()).contains("control"));
        assert!(e(|a| a.size = 0).contains("`size`"));
        assert!(e(|a| a.size = MAX_FILE + 1).contains("1 GB"));
        assert!(e(|a| a.sha256 = "A".repeat(64)).contains("`sha256`"));
        assert_eq!(base_name("/DATA/2026/W1.MEM"), "W1.MEM");
        assert_eq!(base_name("/"), "file");
    }
}
