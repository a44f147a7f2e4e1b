//! The PEM files of `serve --tls-cert/--tls-key` and the crypto provider of
//! every TLS config the cloud builds: rustls on aws-lc-rs, handed to each
//! config explicitly (no process-wide default), the PEM parsing rustls'
//! own (`rustls::pki_types::pem::PemObject`). The agent's MQTT client has
//! its own counterpart in meterdeck-core; the cloud does not depend on it.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The crypto provider of every TLS config the cloud builds.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A certificate or key file that cannot be used: `option` names the
/// setting (`--tls-cert`, `--tls-key`), `message` the file and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{option}`: {message}")]
pub struct TlsFileError {
    pub option: &'static str,
    pub message: String,
}

fn read(path: &Path, option: &'static str) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|e| TlsFileError { option, message: format!("cannot read {}: {e}", path.display()) })
}

/// Every certificate in a PEM file (at least one), each checked to parse.
pub fn load_certs(path: &Path, option: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let pem = read(path, option)?;
    let bad = |why: String| TlsFileError { option, message: format!("{}: {why}", path.display()) };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a readable PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into()));
    }
    // Parsed now (the same parse a root store does), so a garbled
    // certificate is named at start-up and not at the first handshake.
    for (i, c) in certs.iter().enumerate() {
        RootCertStore::empty().add(c.clone()).map_err(|e| bad(format!("certificate {} cannot be read: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file, checked
/// to be usable by the provider.
pub fn load_key(path: &Path, option: &'static str) -> Result<PrivateKeyDer<'static>, TlsFileError> {
    let pem = read(path, option)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsFileError {
        option,
        message: format!("{}: no readable PEM private key in it ({e})", path.display()),
    })?;
    provider().key_provider.load_private_key(key.clone_key()).map_err(|e| TlsFileError {
        option,
        message: format!("{}: the private key cannot be used: {e}", path.display()),
    })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_junk_and_garbled_files_name_the_option_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_certs(&dir.path().join("nope.pem"), "--tls-cert").unwrap_err();
        assert_eq!(e.option, "--tls-cert");
        assert!(e.message.contains("nope.pem") && e.message.contains("cannot read"), "{e}");

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello, not a certificate\n").unwrap();
        let e = load_certs(&junk, "--tls-cert").unwrap_err();
        assert!(e.message.contains("junk.pem") && e.message.contains("no PEM certificate"), "{e}");
        let e = load_key(&junk, "--tls-key").unwrap_err();
        assert_eq!(e.option, "--tls-key");
        assert!(e.message.contains("junk.pem") && e.message.contains("private key"), "{e}");

        let garbled = dir.path().join("garbled.pem");
        std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = load_certs(&garbled, "--tls-cert").unwrap_err();
        assert!(e.message.contains("garbled.pem"), "{e}");
    }

    #[test]
    fn a_generated_certificate_and_key_load() {
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        assert_eq!(load_certs(&cert, "--tls-cert").unwrap().len(), 1);
        load_key(&key, "--tls-key").unwrap();
        // A certificate is not a key.
        assert!(load_key(&cert, "--tls-key").is_err());
    }
}
