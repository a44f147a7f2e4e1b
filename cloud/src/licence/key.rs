//! The authority's ed25519 signing key. On a server the OS keychain is not
//! there to hold it, so it is a file only its owner may read (0600) in the
//! data directory, outside any repository (`--licence-key` names another
//! place, e.g. a secrets mount shared by several API processes: every
//! process of one cloud must sign with the same key, since agents pin its
//! public half). Created on first use; a file others may read is refused.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use rand::RngCore as _;

/// What the file holds before the 32 secret bytes in base64.
const PREFIX: &str = "md-ed25519-secret:";

/// The default place: `<data>/licence-signing.key`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("licence-signing.key")
}

/// Reads the key at `path`, creating it (0600) when there is none.
pub fn load_or_create(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::metadata(path) {
        Ok(_) => load(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path).or_else(|e| {
            // Another process created it first: use theirs.
            if path.exists() { load(path) } else { Err(e) }
        }),
        Err(e) => Err(e).with_context(|| format!("licence signing key {}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<SigningKey> {
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
        .with_context(|| format!("creating the licence signing key {}", path.display()))?;
    f.write_all(format!("{PREFIX}{}\n", B64.encode(secret)).as_bytes())?;
    f.sync_all()?;
    tracing::info!(path = %path.display(), "created the licence signing key");
    Ok(meterdeck_wire::licence::signing_key(&secret))
}

fn load(path: &Path) -> anyhow::Result<SigningKey> {
    let meta = std::fs::metadata(path).with_context(|| format!("licence signing key {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the licence signing key {} may be read by others (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .with_context(|| format!("{} is not a licence signing key (it starts with {PREFIX})", path.display()))?;
    let bytes = B64.decode(body).with_context(|| format!("{}: the key is not base64", path.display()))?;
    let secret: [u8; 32] = bytes
        .try_into()
        .map_err(|v: Vec<u8>| anyhow::anyhow!("{}: a key has 32 bytes, this one {}", path.display(), v.len()))?;
    Ok(meterdeck_wire::licence::signing_key(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_path(dir.path());
        let k = load_or_create(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_or_create(&p).unwrap().to_bytes(), k.to_bytes());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(&p).unwrap_err().to_string().contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&p, "junk").unwrap();
        assert!(load_or_create(&p).unwrap_err().to_string().contains("not a licence signing key"));
    }
}
