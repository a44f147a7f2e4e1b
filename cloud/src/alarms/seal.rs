//! The key that seals each account's alarm settings at rest: webhook URLs
//! embed their token, so the database never holds them in clear (a backup
//! or a copy of the database alone does not give them away). XChaCha20-
//! Poly1305 with a random nonce per sealing and the account id as
//! associated data (a sealed blob moved to another account does not open).
//! The key is a file beside `view-link.key` (`crate::keyfile`); every
//! process of one cloud must use the same one.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

const PREFIX: &str = "md-alarm-secrets:";
/// What a sealed text starts with (the format's version).
const SEALED: &str = "v1.";

/// `<data>/alarm-secrets.key`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("alarm-secrets.key")
}

#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SealKey {
        SealKey(bytes)
    }

    /// A key of this process only (tests, the API without `serve`).
    pub fn random() -> SealKey {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        SealKey(b)
    }

    pub fn load_or_create(path: &Path) -> anyhow::Result<SealKey> {
        crate::keyfile::load_or_create(path, PREFIX, "alarm secrets key").map(SealKey)
    }

    /// `plain` sealed for `account`: `v1.<base64 of nonce and ciphertext>`.
    pub fn seal(&self, account: &str, plain: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce cannot fail for these sizes.
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: account.as_bytes() })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SEALED}{}", B64.encode(out))
    }

    /// Opens what [`seal`](Self::seal) made for `account`; the error says
    /// why not (never what it holds).
    pub fn open(&self, account: &str, sealed: &str) -> Result<Vec<u8>, String> {
        let body = sealed.strip_prefix(SEALED).ok_or("not a sealed text of a known version")?;
        let raw = B64.decode(body).map_err(|_| "the sealed text is not base64".to_string())?;
        if raw.len() < 24 + 16 {
            return Err("the sealed text is too short".into());
        }
        let (nonce, ct) = raw.split_at(24);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: account.as_bytes() })
            .map_err(|_| "the sealed text does not open with this key (another cloud's key file?)".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_account() {
        let k = SealKey::from_bytes([7; 32]);
        let s = k.seal("acme", b"https://hooks.example/secret-token");
        assert!(s.starts_with("v1.") && !s.contains("secret-token"), "{s}");
        assert_ne!(s, k.seal("acme", b"https://hooks.example/secret-token"), "a fresh nonce each time");
        assert_eq!(k.open("acme", &s).unwrap(), b"https://hooks.example/secret-token");
        assert!(k.open("other", &s).is_err(), "bound to the account");
        assert!(SealKey::from_bytes([8; 32]).open("acme", &s).is_err());
        let mut bad = s.clone();
        bad.pop();
        bad.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert!(k.open("acme", &bad).is_err());
        assert!(k.open("acme", "v1.xx").is_err() && k.open("acme", "plain").is_err());
    }
}
