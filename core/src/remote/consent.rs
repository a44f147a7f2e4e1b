//! The owner's consent to remote access, per instrument, off by default,
//! and the console holds of remote operators (what the window shows).

use crate::control::ConsoleHold;
use crate::model::TimeMs;
use crate::store::{Store, StoreError};

/// Settings key: a JSON list of the instrument ids the owner allowed
/// remote access to (`*`: adding instruments).
pub const CONSENT_KEY: &str = "remote.consent";
/// Settings key: a JSON list of [`ConsoleHold`]s of remote operators.
pub const REMOTE_HOLDS_KEY: &str = "remote.console_holds";

fn list(text: Option<&str>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// Whether the owner allowed remote access to `instrument`.
pub fn has_consent(text: Option<&str>, instrument: &str) -> bool {
    list(text).iter().any(|i| i == instrument)
}

/// The instruments with consent.
pub fn consents(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(list(store.setting(CONSENT_KEY)?.as_deref()))
}

/// Turns the consent for `instrument` on or off (local user only: the
/// window and the command line call this; no remote command does).
pub fn set_consent(store: &mut Store, instrument: &str, on: bool) -> Result<(), StoreError> {
    let mut all = list(store.setting(CONSENT_KEY)?.as_deref());
    all.retain(|i| i != instrument);
    if on {
        all.push(instrument.to_string());
        all.sort();
    }
    store.set_setting(CONSENT_KEY, &serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()))
}

/// The remote operator of `instrument`'s console now, if any.
pub fn remote_holder(text: Option<&str>, instrument: &str, now: TimeMs) -> Option<ConsoleHold> {
    let holds: Vec<ConsoleHold> = text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    holds
        .into_iter()
        .find(|h| h.instrument == instrument && now - h.last_used < crate::control::requests::CONSOLE_IDLE_MS)
}
