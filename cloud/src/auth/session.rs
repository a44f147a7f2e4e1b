//! Sessions and API tokens: the bearer secret goes to the client once;
//! storage keeps its SHA-256. A session ends after 24 h without activity;
//! a pending session (temporary password, second factor) may only finish
//! the login.

use crate::auth::secret::{self, API_TOKEN_PREFIX, SESSION_PREFIX};
use crate::store::{ApiToken, Session, Storage, StoreError, TimeMs};

pub const IDLE_MS: TimeMs = 24 * 60 * 60 * 1000;
/// Pending: the second factor is still to be given (POST login/code).
pub const PENDING_CODE: &str = "code";
/// Pending: the temporary password is still to be changed (POST password).
pub const PENDING_CHANGE: &str = "change_password";
/// A login left half-way (code, temporary password) must be finished within this.
pub const PENDING_MS: TimeMs = 15 * 60 * 1000;
/// last_seen is rewritten at most this often (fewer writes per request).
const TOUCH_EVERY_MS: TimeMs = 30_000;

/// Opens a session; returns the bearer token (only ever shown here).
pub async fn open(
    store: &dyn Storage,
    account: &str,
    user: &str,
    pending: Option<&str>,
    now: TimeMs,
) -> Result<String, StoreError> {
    let token = secret::new_token(SESSION_PREFIX);
    store
        .insert_session(&Session {
            token_hash: secret::sha256_hex(&token),
            account: account.to_string(),
            user: user.to_string(),
            created_ms: now,
            last_seen_ms: now,
            pending: pending.map(str::to_string),
        })
        .await?;
    Ok(token)
}

#[derive(Clone, Debug)]
pub enum Bearer {
    Session(Session),
    Token(ApiToken),
}

impl Bearer {
    pub fn account(&self) -> &str {
        match self {
            Bearer::Session(s) => &s.account,
            Bearer::Token(t) => &t.account,
        }
    }
    pub fn user(&self) -> &str {
        match self {
            Bearer::Session(s) => &s.user,
            Bearer::Token(t) => &t.user,
        }
    }
    pub fn pending(&self) -> Option<&str> {
        match self {
            Bearer::Session(s) => s.pending.as_deref(),
            Bearer::Token(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    #[error("{}", meterdeck_wire::i18n::Text::new("cloud-bearer-malformed"))]
    Malformed,
    #[error("{}", meterdeck_wire::i18n::Text::new("cloud-bearer-unknown"))]
    Unknown,
    #[error("{}", meterdeck_wire::i18n::Text::new("cloud-bearer-expired"))]
    Expired,
    #[error("{}", meterdeck_wire::i18n::Text::new("cloud-bearer-pending-expired"))]
    PendingExpired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves an `Authorization` header value; touches the session or token.
pub async fn resolve(store: &dyn Storage, header: &str, now: TimeMs) -> Result<Bearer, BearerError> {
    let token = header.strip_prefix("Bearer ").map(str::trim).ok_or(BearerError::Malformed)?;
    let hash = secret::sha256_hex(token);
    if token.starts_with(SESSION_PREFIX) {
        let mut s = store.session(&hash).await?.ok_or(BearerError::Unknown)?;
        if now - s.last_seen_ms > IDLE_MS {
            store.delete_session(&hash).await?;
            return Err(BearerError::Expired);
        }
        if s.pending.is_some() && now - s.created_ms > PENDING_MS {
            store.delete_session(&hash).await?;
            return Err(BearerError::PendingExpired);
        }
        if now - s.last_seen_ms >= TOUCH_EVERY_MS {
            s.last_seen_ms = now;
            store.update_session(&s).await?;
        }
        Ok(Bearer::Session(s))
    } else if token.starts_with(API_TOKEN_PREFIX) {
        let t = store.token(&hash).await?.ok_or(BearerError::Unknown)?;
        store.touch_token(&hash, now).await?;
        Ok(Bearer::Token(t))
    } else {
        Err(BearerError::Malformed)
    }
}
