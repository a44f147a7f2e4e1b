//! Login throttling, counted in storage so every API process shares the
//! counts. Failures within a window are counted three ways, so that an
//! attacker cannot lock the owner out from elsewhere:
//!
//! - per user and address: a handful of guesses at one user from one
//!   address, then that address is refused for that user only;
//! - per address: guesses spread over many users from one address;
//! - per user from anywhere: a much higher ceiling, against guessing
//!   spread over many addresses (a botnet can still reach it; that is the
//!   price of not letting one address lock anyone out).
//!
//! Past a limit a login answers 429 with Retry-After. Behind a proxy the
//! address is the one `serve --trusted-proxy` takes from X-Forwarded-For.

use std::net::IpAddr;

use meterdeck_wire::i18n::Text;

use crate::store::{Result, Storage, TimeMs};

pub const WINDOW_MS: TimeMs = 15 * 60 * 1000;
/// Failures per user from one address within the window.
pub const USER_IP_LIMIT: u32 = 5;
/// Failures per address (higher: several people behind one NAT).
pub const IP_LIMIT: u32 = 20;
/// Failures per user from all addresses together.
pub const USER_LIMIT: u32 = 100;

pub fn user_key(account: &str, user: &str) -> String {
    format!("user:{account}/{user}")
}

fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

pub fn ip_key(ip: Option<IpAddr>) -> String {
    format!("ip:{}", ip_text(ip))
}

pub fn user_ip_key(account: &str, user: &str, ip: Option<IpAddr>) -> String {
    format!("userip:{account}/{user}@{}", ip_text(ip))
}

/// `Some(message)` when a count is over its limit now.
pub async fn blocked(
    store: &dyn Storage,
    account: &str,
    user: &str,
    ip: Option<IpAddr>,
    now: TimeMs,
) -> Result<Option<Text>> {
    let since = now - WINDOW_MS;
    if store.login_failures(&user_ip_key(account, user, ip), since).await? >= USER_IP_LIMIT {
        return Ok(Some(Text::new("cloud-throttle-user-ip").arg("n", USER_IP_LIMIT.to_string())));
    }
    if store.login_failures(&ip_key(ip), since).await? >= IP_LIMIT {
        return Ok(Some(Text::new("cloud-throttle-ip").arg("n", IP_LIMIT.to_string())));
    }
    if store.login_failures(&user_key(account, user), since).await? >= USER_LIMIT {
        return Ok(Some(Text::new("cloud-throttle-user").arg("n", USER_LIMIT.to_string())));
    }
    Ok(None)
}

pub async fn failed(store: &dyn Storage, account: &str, user: &str, ip: Option<IpAddr>, now: TimeMs) -> Result<()> {
    let since = now - WINDOW_MS;
    store.login_failed(&user_ip_key(account, user, ip), now, since).await?;
    store.login_failed(&ip_key(ip), now, since).await?;
    store.login_failed(&user_key(account, user), now, since).await?;
    Ok(())
}

/// After a good login from `ip` the user's counts start again there and
/// overall (the address's own count stays: one valid account must not
/// launder guesses at others; other addresses' counts for the user stay).
pub async fn succeeded(store: &dyn Storage, account: &str, user: &str, ip: Option<IpAddr>) -> Result<()> {
    store.clear_login_failures(&user_ip_key(account, user, ip)).await?;
    store.clear_login_failures(&user_key(account, user)).await
}

/// A reset of the user's password (link, admin, CLI): every count of the
/// user ends, from every address.
pub async fn reset(store: &dyn Storage, account: &str, user: &str) -> Result<()> {
    store.clear_login_failures(&user_key(account, user)).await?;
    store.clear_login_failures_prefix(&format!("userip:{account}/{user}@")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_address_cannot_lock_the_user_out_but_many_can() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::open(&format!("sqlite:{}/c.db", dir.path().display())).await.unwrap();
        let s = &*store;
        let ip = |i: u8| Some(IpAddr::from([198, 51, 100, i]));
        let now = 1_800_000_000_000;
        for _ in 0..USER_IP_LIMIT {
            failed(s, "acme", "ann", ip(1), now).await.unwrap();
        }
        let msg = blocked(s, "acme", "ann", ip(1), now).await.unwrap().unwrap().to_string();
        assert!(msg.contains("from your address"), "{msg}");
        assert_eq!(blocked(s, "acme", "ann", ip(2), now).await.unwrap(), None, "another address still logs in");
        assert_eq!(blocked(s, "acme", "bob", ip(1), now).await.unwrap(), None, "another user from there too");
        // Guesses from many addresses add up to the much higher ceiling.
        for i in 0..(USER_LIMIT - USER_IP_LIMIT) {
            failed(s, "acme", "ann", Some(IpAddr::from([203, 0, (i / 250) as u8, (i % 250) as u8])), now)
                .await
                .unwrap();
        }
        let msg = blocked(s, "acme", "ann", ip(3), now).await.unwrap().unwrap().to_string();
        assert!(msg.contains("many addresses"), "{msg}");
        // A good login (e.g. the owner's, before the ceiling) clears the user's
        // counts there; a reset clears every address's.
        succeeded(s, "acme", "ann", ip(3)).await.unwrap();
        assert_eq!(blocked(s, "acme", "ann", ip(3), now).await.unwrap(), None);
        assert!(blocked(s, "acme", "ann", ip(1), now).await.unwrap().is_some(), "the guessing address stays blocked");
        reset(s, "acme", "ann").await.unwrap();
        assert_eq!(blocked(s, "acme", "ann", ip(1), now).await.unwrap(), None);
        // After the window everything counts again from zero.
        assert_eq!(blocked(s, "acme", "ann", ip(1), now + WINDOW_MS + 1).await.unwrap(), None);
    }
}
