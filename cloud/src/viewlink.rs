//! View-only alarm links (issue 16, SPEC 5.5): a token that names one
//! agent, one alarm (its id and name), the channels of that alarm, the time
//! window around it and its expiry, signed with the cloud's link key
//! (HMAC-SHA256). Whoever holds the token may see exactly that, without
//! signing in, for 30 minutes; nothing is stored, so every API process of
//! the cloud verifies it alike once they share the key file.
//!
//! A token is `<terms>.<mac>`, both base64url: the terms as JSON and the
//! HMAC of the terms' text. Verification checks the MAC before anything
//! else, so a changed expiry reads as altered, never as expired.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::store::TimeMs;

/// How long a link works after it was issued.
pub const VALID_MS: i64 = 30 * 60 * 1000;
/// The window shown: from this long before the alarm...
pub const BEFORE_MS: i64 = 30 * 60 * 1000;
/// ...to this long after it.
pub const AFTER_MS: i64 = 10 * 60 * 1000;
/// Channels one link may name (a URL stays short enough for every mailer).
pub const MAX_CHANNELS: usize = 16;
/// Longest token taken at all (anything longer is not one of ours).
pub const MAX_TOKEN: usize = 4096;

const PREFIX: &str = "md-view-link-hmac:";

/// The default key file: `<data>/view-link.key`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("view-link.key")
}

/// What a link lets one see. Short field names keep the URL short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTerms {
    /// The agent.
    #[serde(rename = "ag")]
    pub agent: String,
    /// The alarm's id (the agent's alarm id, or the cloud's `agent_offline`).
    #[serde(rename = "id")]
    pub alarm_id: String,
    #[serde(rename = "nm")]
    pub alarm_name: String,
    /// When the alarm happened.
    #[serde(rename = "at")]
    pub at: TimeMs,
    /// The window shown, `[from, to)`.
    #[serde(rename = "fr")]
    pub from: TimeMs,
    #[serde(rename = "to")]
    pub to: TimeMs,
    /// The channels (`instrument/channel` of the agent); `None`: all of the
    /// agent's (an alarm about the whole agent, e.g. offline).
    #[serde(rename = "ch", default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<String>>,
    #[serde(rename = "ia")]
    pub issued: TimeMs,
    #[serde(rename = "ex")]
    pub expires: TimeMs,
}

impl LinkTerms {
    /// The terms of a link issued `now` for an alarm at `at`.
    pub fn around(
        agent: &str,
        alarm_id: &str,
        alarm_name: &str,
        at: TimeMs,
        channels: Option<Vec<String>>,
        now: TimeMs,
    ) -> LinkTerms {
        LinkTerms {
            agent: agent.to_string(),
            alarm_id: alarm_id.to_string(),
            alarm_name: alarm_name.to_string(),
            at,
            from: at.saturating_sub(BEFORE_MS),
            to: at.saturating_add(AFTER_MS),
            channels,
            issued: now,
            expires: now.saturating_add(VALID_MS),
        }
    }

    /// Whether the link shows channel `path`.
    pub fn allows(&self, path: &str) -> bool {
        self.channels.as_ref().is_none_or(|c| c.iter().any(|p| p == path))
    }
}

/// Why a token does not open.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "this view link was changed or is not a Meterdeck link; open the link from the alarm message as it was sent"
    )]
    Altered,
    #[error(
        "this view link expired at {at} (links work for 30 minutes); ask for the alarm's data in the portal or wait for the next message"
    )]
    Expired { at: String },
}

/// The cloud's link key. Its bytes never leave this type (no Debug of them).
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    pub fn from_bytes(bytes: [u8; 32]) -> LinkKey {
        LinkKey(bytes)
    }

    /// A key of this process only (tests, or a cloud started without its
    /// data directory): its links open nowhere else.
    pub fn random() -> LinkKey {
        use rand::RngCore as _;
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        LinkKey(b)
    }

    /// The key file at `path`, created (0600) on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<LinkKey> {
        crate::keyfile::load_or_create(path, PREFIX, "view-link key").map(LinkKey)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    pub fn sign(&self, terms: &LinkTerms) -> String {
        let body = B64.encode(serde_json::to_vec(terms).expect("terms serialise"));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The terms of `token` if it is ours, unchanged and not expired at `now`.
    pub fn verify(&self, token: &str, now: TimeMs) -> Result<LinkTerms, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::Altered);
        }
        let (body, sig) = token.split_once('.').ok_or(LinkError::Altered)?;
        let sig = B64.decode(sig).map_err(|_| LinkError::Altered)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Constant time (hmac's verify).
        mac.verify_slice(&sig).map_err(|_| LinkError::Altered)?;
        let json = B64.decode(body).map_err(|_| LinkError::Altered)?;
        let terms: LinkTerms = serde_json::from_slice(&json).map_err(|_| LinkError::Altered)?;
        if now > terms.expires {
            let at = chrono::DateTime::from_timestamp_millis(terms.expires)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| terms.expires.to_string());
            return Err(LinkError::Expired { at });
        }
        Ok(terms)
    }
}

/// The portal page of `token` under the cloud's public URL.
pub fn page_url(public_url: &str, token: &str) -> String {
    format!("{}/v/{token}", public_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> LinkTerms {
        LinkTerms::around("a-1", "hot", "Boiler hot", 10_000_000, Some(vec!["dev/temp".into()]), 10_000_000)
    }

    #[test]
    fn a_link_opens_until_it_expires_and_not_after_any_change() {
        let key = LinkKey::from_bytes([7; 32]);
        let t = terms();
        let token = key.sign(&t);
        assert!(token.len() < 400, "{} chars", token.len());
        assert_eq!(key.verify(&token, t.issued), Ok(t.clone()));
        assert_eq!(key.verify(&token, t.issued + VALID_MS), Ok(t.clone()), "30 min exactly still works");
        assert!(matches!(key.verify(&token, t.issued + VALID_MS + 1000), Err(LinkError::Expired { .. })));
        // Every single changed character is refused as altered, even long after expiry.
        for i in 0..token.len() {
            let mut b = token.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(b).unwrap();
            if changed == token {
                continue;
            }
            assert_eq!(key.verify(&changed, t.issued), Err(LinkError::Altered), "char {i}");
            assert_eq!(key.verify(&changed, t.issued + 10 * VALID_MS), Err(LinkError::Altered), "char {i}");
        }
        // Another cloud's key, garbage, or nothing.
        assert_eq!(LinkKey::from_bytes([8; 32]).verify(&token, t.issued), Err(LinkError::Altered));
        for junk in ["", ".", "abc", "a.b", &"x".repeat(MAX_TOKEN + 1)] {
            assert_eq!(key.verify(junk, t.issued), Err(LinkError::Altered), "{junk:?}");
        }
        assert_eq!(format!("{key:?}"), "LinkKey(..)");
    }

    #[test]
    fn the_window_is_around_the_alarm_and_names_its_channels() {
        let t = terms();
        assert_eq!((t.from, t.to, t.expires), (10_000_000 - BEFORE_MS, 10_000_000 + AFTER_MS, 10_000_000 + VALID_MS));
        assert!(t.allows("dev/temp") && !t.allows("dev/other"));
        let all = LinkTerms { channels: None, ..t };
        assert!(all.allows("anything/at-all"));
        assert_eq!(page_url("https://c.test/", "tok"), "https://c.test/v/tok");
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_path(dir.path());
        let k = LinkKey::load_or_create(&p).unwrap();
        let again = LinkKey::load_or_create(&p).unwrap();
        let token = k.sign(&terms());
        assert!(again.verify(&token, terms().issued).is_ok(), "the same key after a restart");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with(PREFIX));
    }
}
