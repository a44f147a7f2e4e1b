//! The cloud as licence authority (SPEC 7): cards issued and applied, plan
//! changes, the signed licence document agents and desktops verify
//! offline, and the plan limits the API enforces where things are
//! created. The rules live in `terms` (plain values, no clock); this module
//! reads and writes them through `Storage` (compare-and-swap on the
//! account's licence row, so concurrent processes never lose a card).

pub mod cli;
pub mod key;
pub mod limits;
pub mod sweep;
pub mod terms;
pub mod traffic;

use ed25519_dalek::SigningKey;
use meterdeck_wire::licence::{Gateway, LicenceDoc, Plan, RemotePlan};
use rand::RngCore as _;

use crate::store::{Card, CardProduct, LicenceEvent, LicenceState, Storage, StoreError, TimeMs};
pub use terms::TermError;

/// `by` of what the admin command (the authority itself) did.
pub const BY_AUTHORITY: &str = "authority";
/// `by` of what the service did by itself (expiry, reminders, deletion).
pub const BY_SERVICE: &str = "service";

#[derive(Debug, thiserror::Error)]
pub enum LicenceOpError {
    #[error(transparent)]
    Term(#[from] TermError),
    #[error("account {0:?} does not exist")]
    NoAccount(String),
    /// Never says whether the code exists for another account.
    #[error("no card with this code for this account; check the code (letters and digits as printed)")]
    UnknownCard,
    #[error("this card was applied on {0}; a card works once")]
    CardUsed(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type OpResult<T> = Result<T, LicenceOpError>;

/// Parses `free|standard|pro`.
pub fn parse_plan(s: &str) -> Option<Plan> {
    match s.trim().to_ascii_lowercase().as_str() {
        "free" => Some(Plan::Free),
        "standard" => Some(Plan::Standard),
        "pro" => Some(Plan::Pro),
        _ => None,
    }
}

/// Parses `basic|pro` (also `remote-basic`, `remote-pro`).
pub fn parse_remote_plan(s: &str) -> Option<RemotePlan> {
    match s.trim().to_ascii_lowercase().trim_start_matches("remote-") {
        "basic" => Some(RemotePlan::Basic),
        "pro" => Some(RemotePlan::Pro),
        _ => None,
    }
}

/// The account's licence and its version (0: none stored yet: the plan
/// the account was created with, without a term).
pub async fn state(store: &dyn Storage, account: &str) -> OpResult<(LicenceState, i64)> {
    if let Some(found) = store.licence(account).await? {
        return Ok(found);
    }
    let a = store.account(account).await?.ok_or_else(|| LicenceOpError::NoAccount(account.into()))?;
    let plan = parse_plan(&a.plan).unwrap_or(Plan::Free);
    Ok((
        LicenceState {
            account: account.into(),
            plan,
            expires: None,
            plan_changed: None,
            gateways: vec![],
            over_capacity_since: None,
            time_zone: None,
        },
        0,
    ))
}

/// Runs `change` on the current state and stores it with `event`, again
/// from the start when another writer got there first.
pub(crate) async fn update(
    store: &dyn Storage,
    account: &str,
    card: Option<&str>,
    what: &str,
    by: &str,
    now: TimeMs,
    change: impl Fn(&mut LicenceState) -> Result<String, TermError>,
) -> OpResult<LicenceState> {
    let mut attempts = 0;
    loop {
        let (mut st, version) = state(store, account).await?;
        let detail = change(&mut st)?;
        let event = LicenceEvent { account: account.into(), at: now, what: what.into(), by: by.into(), detail };
        match store.save_licence(&st, version, card, &event).await {
            Ok(()) => return Ok(st),
            Err(StoreError::Conflict(_)) if attempts < 5 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A new card code: `MDC-` and 4 groups of 4 (80 random bits, Crockford base32).
pub fn new_card_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut b = [0u8; 10];
    rand::rng().fill_bytes(&mut b);
    let bits = b.iter().fold(0u128, |acc, x| (acc << 8) | u128::from(*x));
    let chars: Vec<char> = (0..16).map(|i| ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize] as char).collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    format!("MDC-{}", groups.join("-"))
}

/// The stored form of a code: SHA-256 of it upper-cased without spaces or
/// dashes (typed codes need not match the printed spacing).
pub fn card_hash(code: &str) -> String {
    let norm: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    crate::auth::secret::sha256_hex(&norm)
}

/// Issues a card for `account` (the authority's command); returns its code,
/// shown once.
pub async fn issue_card(
    store: &dyn Storage,
    account: &str,
    product: CardProduct,
    months: u32,
    now: TimeMs,
) -> OpResult<String> {
    if !terms::CARD_MONTHS.contains(&months) {
        return Err(LicenceOpError::Invalid(format!("cards run 1, 3 or 12 months, not {months}")));
    }
    store.account(account).await?.ok_or_else(|| LicenceOpError::NoAccount(account.into()))?;
    let what = match &product {
        CardProduct::Plan { plan: Plan::Free } => {
            return Err(LicenceOpError::Invalid("there are no Free cards: Free needs none".into()));
        }
        CardProduct::Plan { plan } => format!("{months}-month {} card", plan.name()),
        CardProduct::Remote { plan, agent } => {
            match store.agent(agent).await? {
                Some(a) if a.account == account => {}
                _ => {
                    return Err(LicenceOpError::Invalid(format!(
                        "account {account} has no agent {agent:?} (meterdeck-cloud agent list --account {account})"
                    )));
                }
            }
            format!("{months}-month {} card for agent {agent}", plan.name())
        }
    };
    let code = new_card_code();
    let card = Card {
        code_hash: card_hash(&code),
        account: account.into(),
        product,
        months,
        issued_ms: now,
        used_ms: None,
        used_by: None,
    };
    store.insert_card(&card).await?;
    store
        .licence_event(&LicenceEvent {
            account: account.into(),
            at: now,
            what: "card-issued".into(),
            by: BY_AUTHORITY.into(),
            detail: format!("{what} issued"),
        })
        .await?;
    Ok(code)
}

/// Applies the card `code` to `account` at `now` on behalf of `by`.
pub async fn apply_card(
    store: &dyn Storage,
    account: &str,
    code: &str,
    by: &str,
    now: TimeMs,
) -> OpResult<LicenceState> {
    let hash = card_hash(code);
    let card = store.card(&hash).await?.filter(|c| c.account == account).ok_or(LicenceOpError::UnknownCard)?;
    if let Some(t) = card.used_ms {
        return Err(LicenceOpError::CardUsed(terms::utc(t)));
    }
    let res =
        update(store, account, Some(&hash), "card-applied", by, now, |st| terms::apply_card(st, &card, now)).await;
    match res {
        // Lost to a concurrent apply of the same card.
        Err(LicenceOpError::Store(StoreError::Refused(_))) => Err(LicenceOpError::CardUsed(terms::utc(now))),
        other => other,
    }
}

pub async fn change_plan(
    store: &dyn Storage,
    account: &str,
    to: Plan,
    by: &str,
    now: TimeMs,
) -> OpResult<LicenceState> {
    update(store, account, None, "plan-changed", by, now, |st| terms::change_plan(st, to, now)).await
}

pub async fn change_gateway_plan(
    store: &dyn Storage,
    account: &str,
    agent: &str,
    to: RemotePlan,
    by: &str,
    now: TimeMs,
) -> OpResult<LicenceState> {
    update(store, account, None, "plan-changed", by, now, |st| terms::change_gateway_plan(st, agent, to, now)).await
}

/// Sets the IANA time zone the account's reminders go out in.
pub async fn set_time_zone(
    store: &dyn Storage,
    account: &str,
    tz: &str,
    by: &str,
    now: TimeMs,
) -> OpResult<LicenceState> {
    if tz.parse::<chrono_tz::Tz>().is_err() {
        return Err(LicenceOpError::Invalid(format!(
            "{tz:?} is not an IANA time zone (like Asia/Tokyo or Europe/Paris)"
        )));
    }
    let tz = tz.to_string();
    update(store, account, None, "time-zone", by, now, move |s| {
        s.time_zone = Some(tz.clone());
        Ok(format!("reminders go out at 09:00 {tz}"))
    })
    .await
}

/// The document for `state` at `now` (the plan in force: Free after a lapse).
pub fn document_of(state: &LicenceState, now: TimeMs) -> LicenceDoc {
    let (plan, expires) = terms::effective(state, now);
    let mut serial = [0u8; 6];
    rand::rng().fill_bytes(&mut serial);
    LicenceDoc {
        serial: format!("L-{now}-{}", hex::encode(serial)),
        account: state.account.clone(),
        plan,
        limits: plan.limits(),
        expires,
        gateways: state
            .gateways
            .iter()
            .map(|g| Gateway { agent: g.agent.clone(), plan: g.plan, limits: g.plan.limits(), expires: g.expires })
            .collect(),
        issued_at: now,
    }
}

/// The account's licence file, freshly signed (issued now, a new serial).
pub async fn signed_document(store: &dyn Storage, key: &SigningKey, account: &str, now: TimeMs) -> OpResult<String> {
    let (st, _) = state(store, account).await?;
    Ok(meterdeck_wire::licence::sign(&document_of(&st, now), key))
}

/// The public key as agents pin it, and its short id.
pub fn public_key(key: &SigningKey) -> (String, String) {
    let pk = key.verifying_key();
    (meterdeck_wire::licence::public_key_text(&pk), meterdeck_wire::licence::key_id(&pk))
}
