//! TLS for the MQTT link (`[cloud] tls = true`) and the PEM files both ends
//! read. Everything is built on rustls with the aws-lc-rs provider passed
//! explicitly (the one reqwest and lettre use), so no process-wide default
//! provider has to be installed and no second crypto library comes in.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::settings::CloudSettings;

/// The crypto provider of every TLS config Meterdeck builds.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS setting that cannot be used; `field` names the setting
/// (`cloud.ca_file`, `--tls-cert`, ...), the message the file and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFileError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for TlsFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for TlsFileError {}

fn read(path: &Path, field: &'static str) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|e| TlsFileError { field, message: format!("cannot read {}: {e}", path.display()) })
}

/// Every certificate in a PEM file (at least one).
pub fn load_certs(path: &Path, field: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let pem = read(path, field)?;
    let bad = |why: String| TlsFileError { field, message: format!("{}: {why}", path.display()) };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a readable PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into()));
    }
    // Parsed now, so a garbled certificate is named here and not at the first handshake.
    for (i, c) in certs.iter().enumerate() {
        webpki_check(c).map_err(|e| bad(format!("certificate {} cannot be read: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_key(path: &Path, field: &'static str) -> Result<PrivateKeyDer<'static>, TlsFileError> {
    let pem = read(path, field)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsFileError {
        field,
        message: format!("{}: no readable PEM private key in it ({e})", path.display()),
    })?;
    provider().key_provider.load_private_key(key.clone_key()).map_err(|e| TlsFileError {
        field,
        message: format!("{}: the private key cannot be used: {e}", path.display()),
    })?;
    Ok(key)
}

/// A root store of the certificates in `path`.
fn roots(path: &Path, field: &'static str) -> Result<RootCertStore, TlsFileError> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(path, field)? {
        roots.add(c).map_err(|e| TlsFileError {
            field,
            message: format!("{}: not usable as a trusted CA certificate: {e}", path.display()),
        })?;
    }
    Ok(roots)
}

fn webpki_check(c: &CertificateDer<'_>) -> Result<(), rustls::Error> {
    // The same parse a root store does; enough to tell a certificate from noise.
    let mut probe = RootCertStore::empty();
    probe.add(c.clone())
}

/// The rustls client config of the MQTT link: the CA in `ca_file` (or the
/// system's trusted roots when there is none) and, with `client_cert` and
/// `client_key`, a client certificate for brokers that ask for one.
pub fn client_config(cloud: &CloudSettings) -> Result<Arc<ClientConfig>, TlsFileError> {
    let other = |field, e: rustls::Error| TlsFileError { field, message: format!("TLS setup failed: {e}") };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| other("cloud.tls", e))?;
    let builder = match &cloud.ca_file {
        Some(path) => builder.with_root_certificates(roots(path, "cloud.ca_file")?),
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder.with_platform_verifier().map_err(|e| other("cloud.tls", e))?
        }
    };
    let config = match (&cloud.client_cert, &cloud.client_key) {
        (Some(cert), Some(key)) => {
            let certs = load_certs(cert, "cloud.client_cert")?;
            let key = load_key(key, "cloud.client_key")?;
            builder.with_client_auth_cert(certs, key).map_err(|e| TlsFileError {
                field: "cloud.client_key",
                message: format!("the key does not fit the certificate in `cloud.client_cert`: {e}"),
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => {
            return Err(TlsFileError { field: "cloud.client_key", message: "needed with `cloud.client_cert`".into() });
        }
        (None, Some(_)) => {
            return Err(TlsFileError { field: "cloud.client_cert", message: "needed with `cloud.client_key`".into() });
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_garbled_files_name_the_field_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = load_certs(&missing, "cloud.ca_file").unwrap_err();
        assert_eq!(e.field, "cloud.ca_file");
        assert!(e.message.contains("nope.pem") && e.message.contains("cannot read"), "{e}");

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello, not a certificate\n").unwrap();
        let e = load_certs(&junk, "cloud.ca_file").unwrap_err();
        assert!(e.message.contains("junk.pem") && e.message.contains("no PEM certificate"), "{e}");

        let garbled = dir.path().join("garbled.pem");
        std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = load_certs(&garbled, "cloud.ca_file").unwrap_err();
        assert!(e.message.contains("garbled.pem"), "{e}");

        let e = load_key(&junk, "cloud.client_key").unwrap_err();
        assert_eq!(e.field, "cloud.client_key");
        assert!(e.message.contains("junk.pem") && e.message.contains("private key"), "{e}");
    }

    #[test]
    fn without_a_ca_file_the_system_roots_are_used() {
        let mut c = CloudSettings::new("mqtt.example.com", 8883, "a");
        c.tls = true;
        client_config(&c).expect("the platform verifier needs no file");
        c.client_cert = Some("/nonexistent/cert.pem".into());
        assert_eq!(client_config(&c).unwrap_err().field, "cloud.client_key");
    }
}
