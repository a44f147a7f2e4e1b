//! The cloud's own secret keys (the licence authority's, the view-link
//! key): on a server the OS keychain is not there to hold them, so each is
//! a file only its owner may read (0600) in the data directory, outside any
//! repository; a flag names another place (a secrets mount shared by several
//! API processes: every process of one cloud must use the same key).
//! Created on first use; a file others may read is refused. The key never
//! reaches a log.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore as _;

/// The 32 secret bytes of the key file at `path` (`prefix` + base64),
/// created when there is none; `what` names the key in errors and the log.
pub fn load_or_create(path: &Path, prefix: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    match std::fs::metadata(path) {
        Ok(_) => load(path, prefix, what),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, prefix, what).or_else(|e| {
            // Another process created it first: use theirs.
            if path.exists() { load(path, prefix, what) } else { Err(e) }
        }),
        Err(e) => Err(e).with_context(|| format!("{what} {}", path.display())),
    }
}

fn create(path: &Path, prefix: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the {what} {}", path.display()))?;
    f.write_all(format!("{prefix}{}\n", B64.encode(secret)).as_bytes())?;
    f.sync_all()?;
    tracing::info!(path = %path.display(), "created the {what}");
    Ok(secret)
}

fn load(path: &Path, prefix: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let meta = std::fs::metadata(path).with_context(|| format!("{what} {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the {what} {} may be read by others (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let body = text
        .trim()
        .strip_prefix(prefix)
        .with_context(|| format!("{} is not a {what} (it starts with {prefix})", path.display()))?;
    let bytes = B64.decode(body).with_context(|| format!("{}: the key is not base64", path.display()))?;
    bytes
        .try_into()
        .map_err(|v: Vec<u8>| anyhow::anyhow!("{}: a key has 32 bytes, this one {}", path.display(), v.len()))
}
