//! Login throttling, counted in storage so every API process shares the
//! counts: per account+user and per client address, failures within a
//! window; past the limit a login answers 429 with Retry-After.

use std::net::IpAddr;

use crate::store::{Result, Storage, TimeMs};

pub const WINDOW_MS: TimeMs = 15 * 60 * 1000;
/// Failures per account+user within the window.
pub const USER_LIMIT: u32 = 5;
/// Failures per address (higher: several people behind one NAT).
pub const IP_LIMIT: u32 = 20;

pub fn user_key(account: &str, user: &str) -> String {
    format!("user:{account}/{user}")
}

pub fn ip_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_string(),
    }
}

/// `Some(message)` when either key is over its limit now.
pub async fn blocked(
    store: &dyn Storage,
    account: &str,
    user: &str,
    ip: Option<IpAddr>,
    now: TimeMs,
) -> Result<Option<String>> {
    let since = now - WINDOW_MS;
    if store.login_failures(&user_key(account, user), since).await? >= USER_LIMIT {
        return Ok(Some(format!(
            "too many failed logins for this user ({USER_LIMIT} within 15 minutes); wait 15 minutes or reset the password"
        )));
    }
    if store.login_failures(&ip_key(ip), since).await? >= IP_LIMIT {
        return Ok(Some(format!(
            "too many failed logins from your address ({IP_LIMIT} within 15 minutes); wait 15 minutes"
        )));
    }
    Ok(None)
}

pub async fn failed(store: &dyn Storage, account: &str, user: &str, ip: Option<IpAddr>, now: TimeMs) -> Result<()> {
    let since = now - WINDOW_MS;
    store.login_failed(&user_key(account, user), now, since).await?;
    store.login_failed(&ip_key(ip), now, since).await?;
    Ok(())
}

/// After a good login the user's count starts again (the address's stays:
/// one valid account must not launder guesses at others).
pub async fn succeeded(store: &dyn Storage, account: &str, user: &str) -> Result<()> {
    store.clear_login_failures(&user_key(account, user)).await
}
