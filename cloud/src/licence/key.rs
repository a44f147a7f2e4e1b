//! The authority's ed25519 signing key. On a server the OS keychain is not
//! there to hold it, so it is a file only its owner may read (0600) in the
//! data directory, outside any repository (`--licence-key` names another
//! place, e.g. a secrets mount shared by several API processes: every
//! process of one cloud must sign with the same key, since agents pin its
//! public half). Created on first use; a file others may read is refused.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

/// What the file holds before the 32 secret bytes in base64.
const PREFIX: &str = "md-ed25519-secret:";

/// The default place: `<data>/licence-signing.key`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("licence-signing.key")
}

/// Reads the key at `path`, creating it (0600) when there is none.
pub fn load_or_create(path: &Path) -> anyhow::Result<SigningKey> {
    let secret = crate::keyfile::load_or_create(path, PREFIX, "licence signing key")?;
    Ok(meterdeck_wire::licence::signing_key(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

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
