//! Authenticator-app codes (RFC 6238: SHA-1, 6 digits, 30 s, one step of
//! clock skew either way), via totp-rs.

use totp_rs::{Algorithm, Secret, TOTP};

pub const ISSUER: &str = "Meterdeck";

/// A stored authenticator secret that cannot make codes.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the stored authenticator secret is not base32: {0}")]
    NotBase32(String),
    #[error("authenticator secret: {0}")]
    Secret(String),
}

fn totp(secret_b32: &str, account: &str, user: &str) -> Result<TOTP, TotpError> {
    let bytes =
        Secret::Encoded(secret_b32.to_string()).to_bytes().map_err(|e| TotpError::NotBase32(format!("{e:?}")))?;
    // ':' separates issuer and label in the otpauth URL; neither id has one.
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(ISSUER.to_string()), format!("{user}@{account}"))
        .map_err(|e| TotpError::Secret(e.to_string()))
}

/// A fresh secret (160 bits), base32.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    match Secret::Raw(bytes).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded returns Encoded"),
    }
}

/// The `otpauth://` URL for the app (usually shown as a QR code).
pub fn otpauth_url(secret_b32: &str, account: &str, user: &str) -> Result<String, TotpError> {
    Ok(totp(secret_b32, account, user)?.get_url())
}

pub fn check(secret_b32: &str, code: &str, now_ms: i64) -> bool {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match totp(secret_b32, "a", "u") {
        Ok(t) => t.check(code, (now_ms / 1000).max(0) as u64),
        Err(_) => false,
    }
}

/// The 30-second step the code belongs to (now, or one step either way),
/// so a server can refuse a code used before (replay).
pub fn matched_step(secret_b32: &str, code: &str, now_ms: i64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "a", "u").ok()?;
    let now_step = (now_ms / 1000).max(0) as u64 / 30;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .find(|step| crate::auth::secret::ct_eq(&t.generate(step * 30), code))
}

/// The code at `now_ms` (tests, and the admin's "what should it show").
pub fn code_at(secret_b32: &str, now_ms: i64) -> Result<String, TotpError> {
    Ok(totp(secret_b32, "a", "u")?.generate((now_ms / 1000).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_check_within_one_step() {
        let s = new_secret();
        let now = 1_800_000_000_000;
        let c = code_at(&s, now).unwrap();
        assert!(check(&s, &c, now));
        assert!(check(&s, &c, now + 30_000));
        assert!(!check(&s, &c, now + 95_000));
        assert!(!check(&s, "12345", now));
        assert_eq!(matched_step(&s, &c, now), Some(now as u64 / 1000 / 30));
        assert_eq!(matched_step(&s, &c, now + 30_000), Some(now as u64 / 1000 / 30));
        assert_eq!(matched_step(&s, &c, now + 95_000), None);
        let url = otpauth_url(&s, "acme", "ann").unwrap();
        assert!(url.starts_with("otpauth://totp/Meterdeck:ann%40acme?"), "{url}");
        assert!(url.contains(&format!("secret={s}")), "{url}");
    }
}
