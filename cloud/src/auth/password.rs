//! Passwords: argon2id hashes (PHC strings), the policy, temporary
//! passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use meterdeck_wire::i18n::Text;
use rand::Rng;

/// Hashes with argon2id and a fresh salt (the crate's default parameters).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        // Only fails for parameter/salt errors, which the defaults exclude.
        .expect("argon2 with default parameters")
        .to_string()
}

/// Whether `password` matches the PHC string; a malformed stored hash
/// never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so a wrong user
/// id costs as much time as a wrong password (no user enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("Dummy-password-1"))
}

/// Argon2 takes ~19 MiB and tens of ms per call: run it off the async
/// workers, and only a few at once, so a flood of logins cannot exhaust
/// memory or threads (they queue instead).
fn argon2_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        tokio::sync::Semaphore::new((cpus * 2).max(2))
    })
}

pub async fn verify_password_async(password: String, phc: String) -> bool {
    let Ok(_slot) = argon2_slots().acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify_password(&password, &phc)).await.unwrap_or(false)
}

pub async fn hash_password_async(password: String) -> String {
    let _slot = argon2_slots().acquire().await;
    match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(h) => h,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;

/// A password the policy refuses; the message names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{}", self.text())]
    TooLong(usize),
    /// What is missing, e.g. "a digit" (keyed, locales/*/cloud.ftl).
    #[error("{}", self.text())]
    Missing(Vec<Text>),
}

impl PolicyError {
    /// The refusal by key, for an answer in the caller's language.
    pub fn text(&self) -> Text {
        match self {
            PolicyError::TooLong(n) => {
                Text::new("cloud-password-too-long").arg("chars", n.to_string()).arg("max", MAX_LEN.to_string())
            }
            PolicyError::Missing(what) => Text::new("cloud-password-needs").text_arg("what", join_and(what)),
        }
    }
}

/// The password policy: at least 8 characters with a digit, an upper- and
/// a lower-case letter. The error names everything that is missing.
pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    let mut missing = Vec::new();
    let chars = password.chars().count();
    if chars > MAX_LEN {
        return Err(PolicyError::TooLong(chars));
    }
    if chars < MIN_LEN {
        missing.push(
            Text::new("cloud-password-needs-length").arg("min", MIN_LEN.to_string()).arg("chars", chars.to_string()),
        );
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push(Text::new("cloud-password-needs-digit"));
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        missing.push(Text::new("cloud-password-needs-upper"));
    }
    if !password.chars().any(|c| c.is_lowercase()) {
        missing.push(Text::new("cloud-password-needs-lower"));
    }
    if missing.is_empty() { Ok(()) } else { Err(PolicyError::Missing(missing)) }
}

/// "a, b and c" in each language.
fn join_and(items: &[Text]) -> Text {
    match items {
        [] => Text::plain(""),
        [one] => one.clone(),
        [init @ .., last] => {
            let mut list = init[0].clone();
            for next in &init[1..] {
                list = Text::new("cloud-list-comma").text_arg("a", list).text_arg("b", next.clone());
            }
            Text::new("cloud-list-and").text_arg("a", list).text_arg("b", last.clone())
        }
    }
}

/// A random temporary password that passes the policy (16 characters,
/// unambiguous alphabet), to be changed at first login.
pub fn temporary_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    loop {
        let all: Vec<u8> = [LOWER, UPPER, DIGIT].concat();
        let pw: String = (0..16).map(|_| all[rng.random_range(0..all.len())] as char).collect();
        if check_policy(&pw).is_ok() {
            return pw;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash_password("Secret-pass1");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Secret-pass1", &h));
        assert!(!verify_password("Secret-pass2", &h));
        assert!(!verify_password("Secret-pass1", "not a hash"));
    }

    #[test]
    fn policy_names_what_is_missing() {
        assert!(check_policy("Abcdefg1").is_ok());
        let e = check_policy("abc").unwrap_err().to_string();
        assert!(e.contains("at least 8 characters"), "{e}");
        assert!(e.contains("a digit"), "{e}");
        assert!(e.contains("an upper-case letter"), "{e}");
        assert!(!e.contains("lower-case"), "{e}");
        assert_eq!(check_policy("ABCDEFGH1").unwrap_err().to_string(), "the password needs a lower-case letter");
        assert!(check_policy(&"Aa1".repeat(100)).unwrap_err().to_string().contains("too long"));
    }

    #[test]
    fn temporary_passwords_pass_the_policy_and_differ() {
        let a = temporary_password();
        assert!(check_policy(&a).is_ok());
        assert_ne!(a, temporary_password());
    }
}
