//! Credentials of destinations (SMTP passwords, webhook URLs) live only in
//! the OS keychain: service `meterdeck`, entries `smtp:<id>` and
//! `webhook:<id>`. Errors name the entry, never the secret.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SERVICE: &str = "meterdeck";

/// Keychain entry of an email destination's SMTP password.
pub fn smtp_entry(dest_id: &str) -> String {
    format!("smtp:{dest_id}")
}

/// Keychain entry of a webhook destination's URL.
pub fn webhook_entry(dest_id: &str) -> String {
    format!("webhook:{dest_id}")
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("keychain entry {entry}: {message}")]
pub struct SecretError {
    pub entry: String,
    pub message: String,
}

/// Where secrets are kept. Calls may block (D-Bus round trips): async code
/// calls them on a blocking thread.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// Deleting an entry that does not exist is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

/// The OS keychain through keyring: Secret Service (gnome-keyring, KWallet)
/// on Linux, Keychain on macOS, Credential Manager on Windows. Without the
/// `keychain` feature every call fails, naming the feature.
#[cfg(feature = "keychain")]
pub struct KeyringSecrets {
    /// `None` = the platform's store, chosen by keyring on first use.
    store: Option<Arc<keyring_core::CredentialStore>>,
}

#[cfg(feature = "keychain")]
impl KeyringSecrets {
    /// The platform keychain. Nothing is contacted until the first call.
    pub fn new() -> KeyringSecrets {
        KeyringSecrets { store: None }
    }

    /// A given keyring-core store (its mock store in tests).
    pub fn with_store(store: Arc<keyring_core::CredentialStore>) -> KeyringSecrets {
        KeyringSecrets { store: Some(store) }
    }

    fn entry(&self, name: &str) -> Result<keyring_core::Entry, SecretError> {
        let r = match &self.store {
            Some(store) => keyring_core::Entry::new_in_store(store, SERVICE, name),
            None => keyring::Entry::new(SERVICE, name).map(|e| e.inner),
        };
        r.map_err(|e| secret_error(name, e))
    }
}

impl Default for KeyringSecrets {
    fn default() -> Self {
        KeyringSecrets::new()
    }
}

/// keyring errors as text without any secret bytes (BadEncoding and
/// BadDataFormat carry the raw secret; their Display does not print it).
#[cfg(feature = "keychain")]
fn secret_error(name: &str, e: keyring_core::Error) -> SecretError {
    use keyring_core::Error as E;
    let message = match e {
        E::NoDefaultStore => "no OS keychain available (on Linux: is a Secret Service such as gnome-keyring running on the session D-Bus?)".to_string(),
        E::NoStorageAccess(err) => format!("the keychain refused access (locked?): {err}"),
        E::PlatformFailure(err) => format!("keychain failure: {err}"),
        E::BadEncoding(_) => "the stored value is not UTF-8 text".to_string(),
        E::BadDataFormat(_, _) => "the stored value is malformed".to_string(),
        E::Ambiguous(items) => format!("{} matching keychain items; delete the extras", items.len()),
        other => other.to_string(),
    };
    SecretError { entry: name.to_string(), message }
}

#[cfg(feature = "keychain")]
impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(secret_error(name, e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.entry(name)?.set_password(value).map_err(|e| secret_error(name, e))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(secret_error(name, e)),
        }
    }
}

#[cfg(not(feature = "keychain"))]
pub struct KeyringSecrets;

#[cfg(not(feature = "keychain"))]
impl KeyringSecrets {
    /// A keychain that answers every call with the missing feature.
    pub fn new() -> KeyringSecrets {
        KeyringSecrets
    }

    fn absent(name: &str) -> SecretError {
        SecretError { entry: name.to_string(), message: super::not_in_this_build("the OS keychain", "keychain") }
    }
}

#[cfg(not(feature = "keychain"))]
impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        Err(KeyringSecrets::absent(name))
    }
    fn set(&self, name: &str, _value: &str) -> Result<(), SecretError> {
        Err(KeyringSecrets::absent(name))
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        Err(KeyringSecrets::absent(name))
    }
}

/// In-memory secrets for tests and for running without a keychain.
#[derive(Default)]
pub struct MemorySecrets {
    map: Mutex<HashMap<String, String>>,
}

impl MemorySecrets {
    pub fn new() -> MemorySecrets {
        MemorySecrets::default()
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        Ok(self.map.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned())
    }
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), value.to_string());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
        Ok(())
    }
}

/// The secret a destination needs, read on a blocking thread.
pub(crate) async fn read_secret(store: &Arc<dyn SecretStore>, name: String) -> Result<Option<String>, SecretError> {
    let store = Arc::clone(store);
    let entry = name.clone();
    tokio::task::spawn_blocking(move || store.get(&name))
        .await
        .unwrap_or_else(|e| Err(SecretError { entry, message: format!("keychain lookup aborted: {e}") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "keychain")]
    fn mock() -> KeyringSecrets {
        KeyringSecrets::with_store(keyring_core::mock::Store::new().unwrap())
    }

    #[test]
    fn entry_names_follow_the_contract() {
        assert_eq!(smtp_entry("ops-mail"), "smtp:ops-mail");
        assert_eq!(webhook_entry("ops-slack"), "webhook:ops-slack");
    }

    #[cfg(feature = "keychain")]
    #[test]
    fn keyring_round_trip_on_the_mock_store() {
        let s = mock();
        assert_eq!(s.get("smtp:a").unwrap(), None);
        s.set("smtp:a", "pässwörd").unwrap();
        s.set("webhook:a", "https://hooks.example/x").unwrap();
        assert_eq!(s.get("smtp:a").unwrap().as_deref(), Some("pässwörd"));
        assert_eq!(s.get("webhook:a").unwrap().as_deref(), Some("https://hooks.example/x"));
        s.delete("smtp:a").unwrap();
        assert_eq!(s.get("smtp:a").unwrap(), None);
        s.delete("smtp:a").unwrap();
    }

    #[cfg(feature = "keychain")]
    #[test]
    fn keyring_errors_name_the_entry_not_the_secret() {
        let store = keyring_core::mock::Store::new().unwrap();
        let s = KeyringSecrets::with_store(store.clone());
        s.set("smtp:b", "hunter2").unwrap();
        let entry =
            keyring_core::Entry::new_in_store(&(store as Arc<keyring_core::CredentialStore>), SERVICE, "smtp:b")
                .unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::BadEncoding(b"hunter2".to_vec()));
        let e = s.get("smtp:b").unwrap_err();
        assert_eq!(e.entry, "smtp:b");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[cfg(not(feature = "keychain"))]
    #[test]
    fn without_the_feature_the_keychain_names_it() {
        let e = KeyringSecrets::new().get("smtp:a").unwrap_err();
        assert_eq!(e.entry, "smtp:a");
        assert!(e.message.contains("`keychain`"), "{e}");
        assert!(KeyringSecrets::new().set("smtp:a", "x").is_err());
    }

    #[test]
    fn memory_store_round_trip() {
        let s = MemorySecrets::new();
        s.set("webhook:x", "u").unwrap();
        assert_eq!(s.get("webhook:x").unwrap().as_deref(), Some("u"));
        s.delete("webhook:x").unwrap();
        assert_eq!(s.get("webhook:x").unwrap(), None);
    }
}
