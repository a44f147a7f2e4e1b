//! What the `meterdeck-cloud` admin commands (and the API) call: create an
//! account with its first admin, register an agent, and the Mosquitto
//! password-file hash of an agent's secret.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use meterdeck_wire::now_ms;
use rand::RngCore;
use sha2::Sha512;

use crate::auth::password;
use crate::state::BrokerAdmin;
use crate::store::{Account, Agent, AgentSync, Role, Storage, StoreError, TimeMs, TwoFactor, User};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Broker(String),
    /// Over a plan limit; nothing was created.
    #[error(transparent)]
    Limit(#[from] crate::licence::limits::PlanLimit),
}

/// An id of the wrong form; the message names the id and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// `what` ("user id", "team id", ...) and the id.
    #[error("{0} {1:?} must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")]
    Id(String, String),
    #[error("account id {0:?} must be 3 to 32 of a-z, 0-9 and '-'")]
    Account(String),
}

/// Ids of users, teams, groups: 1-64 of `a-z 0-9 . _ -`, starting with a
/// letter or digit.
pub fn check_id(what: &str, id: &str) -> Result<(), IdError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(()) } else { Err(IdError::Id(what.to_string(), id.to_string())) }
}

/// Account ids: `[a-z0-9-]`, 3 to 32 characters.
pub fn check_account_id(id: &str) -> Result<(), IdError> {
    let ok =
        (3..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok { Ok(()) } else { Err(IdError::Account(id.to_string())) }
}

/// Whether `plan` names an account plan.
pub fn known_plan(plan: &str) -> bool {
    matches!(plan, "free" | "standard" | "pro")
}

/// Creates the account and its first admin; returns the admin's temporary
/// password (shown once; must be changed at first login).
pub async fn create_account(
    store: &dyn Storage,
    id: &str,
    name: &str,
    plan: &str,
    admin_user_id: &str,
    admin_email: &str,
) -> Result<String, AdminError> {
    check_account_id(id).map_err(|e| AdminError::Invalid(e.to_string()))?;
    check_id("user id", admin_user_id).map_err(|e| AdminError::Invalid(e.to_string()))?;
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid("the account name must have 1 to 100 characters".into()));
    }
    if !known_plan(plan) {
        return Err(AdminError::Invalid(format!("plan {plan:?} is not one of free, standard, pro")));
    }
    if !admin_email.is_empty() && admin_email.parse::<lettre::Address>().is_err() {
        return Err(AdminError::Invalid(format!("{admin_email:?} is not an email address")));
    }
    let now = now_ms();
    let temp = password::temporary_password();
    let account = Account {
        id: id.into(),
        name: name.into(),
        plan: plan.into(),
        ip_allow: vec![],
        // Traffic allowances are the gateways' Remote plans' (licence::traffic);
        // an operator may set one for the account's other agents.
        traffic_allowance: 0,
        created_ms: now,
    };
    let admin = User {
        account: id.into(),
        id: admin_user_id.into(),
        name: admin_user_id.into(),
        email: admin_email.into(),
        role: Role::Admin,
        password_hash: password::hash_password_async(temp.clone()).await,
        must_change: true,
        two_factor: TwoFactor::None,
        totp_secret: None,
        created_ms: now,
    };
    store.create_account(&account, &admin).await?;
    Ok(temp)
}

/// Gives a user a new temporary password (must be changed at the next
/// login), for a user who lost theirs and mail cannot help; returns the user
/// and the password (shown once). The reason may be a leak: every session of
/// the user ends (API tokens are held back by `must_change` until the
/// password is changed), and the login throttle is cleared.
pub async fn reset_to_temporary(store: &dyn Storage, account: &str, user: &str) -> Result<(User, String), AdminError> {
    let mut u = store
        .user(account, user)
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("user {user:?} of account {account:?} does not exist")))?;
    let temp = password::temporary_password();
    u.password_hash = password::hash_password_async(temp.clone()).await;
    u.must_change = true;
    store.update_user(&u).await?;
    store.delete_sessions_of(account, user, None).await?;
    crate::auth::throttle::reset(store, account, user).await?;
    Ok((u, temp))
}

/// Whether the agent may log in: a gateway lapsed more than 31 days keeps
/// its row and data but loses its registration (hashes starting with `!`),
/// and no longer counts towards the plan's agents.
pub fn is_registered(a: &Agent) -> bool {
    !a.broker_hash.starts_with('!')
}

/// `a-` + 16 hex digits.
pub fn new_agent_id() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    format!("a-{}", hex::encode(b))
}

/// 32 random bytes, base64url: the agent's password at the broker and API.
pub fn new_agent_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Registers an agent of `account`; returns it and its secret (shown once).
/// Tells the broker; if that fails the agent still exists (the broker
/// learns it at its next update) and the failure is logged.
pub async fn register_agent(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    account: &str,
    name: &str,
) -> Result<(Agent, String), AdminError> {
    register_agent_at(store, broker, account, name, now_ms()).await
}

pub async fn register_agent_at(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    account: &str,
    name: &str,
    now: TimeMs,
) -> Result<(Agent, String), AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid("the agent name must have 1 to 100 characters".into()));
    }
    if store.account(account).await?.is_none() {
        return Err(AdminError::Invalid(format!("account {account:?} does not exist")));
    }
    let (plan, limits) = crate::licence::limits::in_force(store, account, now).await.map_err(|e| match e {
        crate::licence::LicenceOpError::Store(s) => AdminError::Store(s),
        other => AdminError::Invalid(other.to_string()),
    })?;
    let count = store.agents(account).await?.iter().filter(|a| is_registered(a)).count() as u64;
    crate::licence::limits::check_count(account, plan, &limits, "agents", count)?;
    let (secret, secret_hash, broker_hash) = new_secret_with_hashes().await;
    let agent = Agent {
        id: new_agent_id(),
        account: account.into(),
        name: name.into(),
        secret_hash,
        broker_hash,
        created_ms: now,
        sync: AgentSync::default(),
    };
    store.insert_agent(&agent).await?;
    tell_broker(broker, &agent.id).await;
    Ok((agent, secret))
}

/// Gives agent `id` of `account` a new secret (returned, shown once): for a
/// lost or reinstalled machine. The old secret stops working at the
/// broker's reload (seconds).
pub async fn rotate_agent_secret(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    account: &str,
    id: &str,
) -> Result<String, AdminError> {
    if store.account(account).await?.is_none() {
        return Err(AdminError::Invalid(format!("account {account:?} does not exist")));
    }
    let (secret, secret_hash, broker_hash) = new_secret_with_hashes().await;
    store.set_agent_secret(account, id, &secret_hash, &broker_hash).await?;
    tell_broker(broker, id).await;
    Ok(secret)
}

/// A new secret with its API (argon2) and broker (`$7$`) hashes.
async fn new_secret_with_hashes() -> (String, String, String) {
    let secret = new_agent_secret();
    let secret_hash = password::hash_password_async(secret.clone()).await;
    let broker_hash = mosquitto_hash(&secret);
    (secret, secret_hash, broker_hash)
}

/// A failure is logged, not returned: the broker learns the change at its
/// next update (serve's watcher polls the logins).
async fn tell_broker(broker: &dyn BrokerAdmin, agent: &str) {
    if let Err(e) = broker.agents_changed().await {
        tracing::warn!(error = %e, agent, "broker not told of the agent change");
    }
}

pub const MOSQUITTO_ITERATIONS: u32 = 101;

/// A Mosquitto 2.0 password-file hash: `$7$101$<b64 salt>$<b64 hash>`,
/// PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, 64-byte key,
/// standard base64 with padding (as mosquitto_passwd writes it).
pub fn mosquitto_hash(secret: &str) -> String {
    let mut salt = [0u8; 12];
    rand::rng().fill_bytes(&mut salt);
    mosquitto_hash_with(secret, &salt, MOSQUITTO_ITERATIONS)
}

fn mosquitto_hash_with(secret: &str, salt: &[u8], iterations: u32) -> String {
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(secret.as_bytes(), salt, iterations, &mut key);
    format!("$7${iterations}${}${}", STANDARD.encode(salt), STANDARD.encode(key))
}

/// Checks a secret against a `$7$` hash (tests; the broker does it itself).
pub fn verify_mosquitto_hash(secret: &str, hash: &str) -> bool {
    let parts: Vec<&str> = hash.split('$').collect();
    let ["", "7", iter, salt, _] = parts.as_slice() else { return false };
    let (Ok(iter), Ok(salt)) = (iter.parse::<u32>(), STANDARD.decode(salt)) else { return false };
    crate::auth::secret::ct_eq(&mosquitto_hash_with(secret, &salt, iter), hash)
}

/// Whether `hash` has the form `mosquitto_hash` writes (12-byte salt,
/// 64-byte key, 101 iterations).
pub fn is_mosquitto_hash(hash: &str) -> bool {
    let parts: Vec<&str> = hash.split('$').collect();
    matches!(parts.as_slice(), ["", "7", "101", salt, key]
        if STANDARD.decode(salt).map(|s| s.len() == 12).unwrap_or(false)
        && STANDARD.decode(key).map(|k| k.len() == 64).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(check_id("user id", "ann.b-1_x").is_ok());
        assert!(check_id("user id", "Ann").unwrap_err().to_string().contains("\"Ann\""));
        assert!(check_id("user id", "").is_err());
        assert!(check_id("user id", "-x").is_err());
        assert!(check_account_id("acme-1").is_ok());
        assert!(check_account_id("ab").is_err());
        assert!(check_account_id("a_b_c").is_err());
        let id = new_agent_id();
        assert!(id.len() == 18 && meterdeck_wire::sync::valid_agent_id(&id), "{id}");
    }

    #[test]
    fn mosquitto_hash_format_and_known_answer() {
        let h = mosquitto_hash("s3cret");
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts[..3], ["", "7", "101"]);
        assert_eq!(STANDARD.decode(parts[3]).unwrap().len(), 12);
        assert_eq!(STANDARD.decode(parts[4]).unwrap().len(), 64);
        assert!(verify_mosquitto_hash("s3cret", &h));
        assert!(!verify_mosquitto_hash("s3creT", &h));
        // PBKDF2-HMAC-SHA512 test vector (P="password", S="salt", c=1).
        let kat = mosquitto_hash_with("password", b"salt", 1);
        let key = STANDARD.decode(kat.rsplit('$').next().unwrap()).unwrap();
        assert_eq!(hex::encode(&key[..16]), "867f70cf1ade02cff3752599a3a53dc4");
    }
}
