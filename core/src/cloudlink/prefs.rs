//! What the desktop remembers of its cloud sign-in: the service URL, the
//! account and the user, in the Desk store's settings table. Never the token
//! (that lives in the OS keychain) nor the password.

use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, StoreOptions};

/// Settings key holding [`CloudPrefs`] as JSON.
pub const CLOUD_PREFS_KEY: &str = "desk.cloud";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudPrefs {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

impl CloudPrefs {
    /// Damaged stored JSON counts as nothing remembered (the user signs in again).
    pub fn parse(text: Option<&str>) -> CloudPrefs {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }
}

/// Where the preferences live. Calls may touch SQLite: async code runs them
/// on a blocking thread.
pub trait PrefStore: Send + Sync {
    fn load(&self) -> Result<CloudPrefs, PrefsError>;
    fn save(&self, prefs: &CloudPrefs) -> Result<(), PrefsError>;
}

/// The preferences could not be read or kept (the store's message names
/// the file).
#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    #[error("cloud settings: {0}")]
    Store(#[from] StoreError),
    #[error("cloud settings: {0}")]
    Json(#[from] serde_json::Error),
}

/// The Desk's store (`meterdeck.db` in the data directory); a short-lived
/// writable connection per save, as the Desk's own settings do.
pub struct StorePrefs {
    path: PathBuf,
}

impl StorePrefs {
    pub fn new(store_file: PathBuf) -> StorePrefs {
        StorePrefs { path: store_file }
    }
}

impl PrefStore for StorePrefs {
    fn load(&self) -> Result<CloudPrefs, PrefsError> {
        let store = Store::open_readonly(&self.path)?;
        let text = store.setting(CLOUD_PREFS_KEY)?;
        Ok(CloudPrefs::parse(text.as_deref()))
    }

    fn save(&self, prefs: &CloudPrefs) -> Result<(), PrefsError> {
        let json = serde_json::to_string(prefs)?;
        let mut store = Store::open_with(&self.path, StoreOptions::default(), crate::agent::STORE_PARTS)?;
        Ok(store.set_setting(CLOUD_PREFS_KEY, &json)?)
    }
}

/// Preferences in memory (unit tests, windows without a store).
#[derive(Default)]
pub struct MemoryPrefs(Mutex<CloudPrefs>);

impl PrefStore for MemoryPrefs {
    fn load(&self) -> Result<CloudPrefs, PrefsError> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    fn save(&self, prefs: &CloudPrefs) -> Result<(), PrefsError> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = prefs.clone();
        Ok(())
    }
}
