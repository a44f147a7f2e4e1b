//! The licence document (SPEC 7): what an account may do, signed by the
//! cloud (the licence authority) with ed25519 and verified offline by the
//! agent and the desktop app.
//!
//! A licence file is JSON: `{"kind": "meterdeck-licence/1", "key": KEY_ID,
//! "payload": BASE64(JSON of LicenceDoc), "signature": BASE64(ed25519 over
//! the payload's bytes)}`. The signature covers the payload's exact bytes,
//! so no canonical JSON is needed, and a verifier reads the document only
//! after the signature holds. Every way a file can be wrong has its own
//! error, so the user is told which: not a licence, cut short, altered,
//! signed by another cloud, another account's, or issued in the future.
//!
//! The plan limits of SPEC 7 live here too: the cloud writes them into each
//! document it signs, and an agent that has never seen a licence applies
//! the Free plan's.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::sample::TimeMs;

/// The `kind` of a licence file of this format.
pub const LICENCE_KIND: &str = "meterdeck-licence/1";

/// How far a document's issue time may lie ahead of the verifier's clock
/// (clocks differ) before it counts as from the future.
pub const FUTURE_SLACK_MS: TimeMs = 10 * 60 * 1000;

const GB: u64 = 1_000_000_000;

/// An account's plan (SPEC 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    Free,
    Standard,
    Pro,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Standard, Plan::Pro];

    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Standard => "Standard",
            Plan::Pro => "Pro",
        }
    }

    /// The account limits of SPEC 7's table.
    pub fn limits(self) -> Limits {
        let (storage, people, groups, alarms, calcs, panels, channels, instruments, reports) = match self {
            Plan::Free => (5 * GB, 3, 1, 3, 3, 1, 30, 3, 0),
            Plan::Standard => (50 * GB, 10, 10, 30, 30, 3, 30, 8, 3),
            Plan::Pro => (500 * GB, 100, 100, 100, 100, 10, 100, 8, 10),
        };
        let pro = self == Plan::Pro;
        Limits {
            storage_bytes: storage,
            users: people,
            teams: people,
            agents: people,
            groups,
            alarms_per_group: alarms,
            calcs_per_group: calcs,
            panels_per_group: panels,
            channels_per_instrument: channels,
            instruments_per_agent: instruments,
            report_templates_per_group: reports,
            web_api: pro,
            ip_restriction: pro,
            csv_import: pro,
            // Free keeps a year of data; paid plans are limited by capacity.
            retention_days: if self == Plan::Free { Some(365) } else { None },
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A gateway (remote) plan, licensed per agent (SPEC 7, Remote plans).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum RemotePlan {
    Basic,
    Pro,
}

impl RemotePlan {
    pub fn name(self) -> &'static str {
        match self {
            RemotePlan::Basic => "Remote Basic",
            RemotePlan::Pro => "Remote Pro",
        }
    }

    pub fn limits(self) -> RemoteLimits {
        match self {
            RemotePlan::Basic => {
                RemoteLimits { channels_per_instrument: 30, traffic_bytes_per_month: GB, instruments: 8 }
            }
            RemotePlan::Pro => {
                RemoteLimits { channels_per_instrument: 100, traffic_bytes_per_month: 5 * GB, instruments: 8 }
            }
        }
    }
}

impl fmt::Display for RemotePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an account may have (counts are per account unless named per
/// group, instrument or agent). `None` retention: kept until capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Limits {
    pub storage_bytes: u64,
    pub users: u32,
    pub teams: u32,
    pub agents: u32,
    pub groups: u32,
    pub alarms_per_group: u32,
    pub calcs_per_group: u32,
    pub panels_per_group: u32,
    pub channels_per_instrument: u32,
    pub instruments_per_agent: u32,
    pub report_templates_per_group: u32,
    pub web_api: bool,
    pub ip_restriction: bool,
    pub csv_import: bool,
    pub retention_days: Option<u32>,
}

/// What a gateway plan allows its agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemoteLimits {
    pub channels_per_instrument: u32,
    pub traffic_bytes_per_month: u64,
    pub instruments: u32,
}

/// One gateway agent's entitlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gateway {
    /// The agent id (as registered with the cloud).
    pub agent: String,
    pub plan: RemotePlan,
    pub limits: RemoteLimits,
    /// End of the licensed term (ms since the epoch, UTC).
    pub expires: TimeMs,
}

/// The signed content of a licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LicenceDoc {
    /// Unique per document the authority signs (e.g. `L-000123`).
    pub serial: String,
    pub account: String,
    /// The plan in force when the document was issued.
    pub plan: Plan,
    pub limits: Limits,
    /// End of the paid term (ms, UTC); `None` on Free. After it the account
    /// falls back to Free: see [`LicenceDoc::effective_plan`].
    pub expires: Option<TimeMs>,
    pub gateways: Vec<Gateway>,
    /// When the authority signed it (ms, UTC).
    pub issued_at: TimeMs,
}

impl LicenceDoc {
    /// The plan at `now`: a lapsed paid term is Free.
    pub fn effective_plan(&self, now: TimeMs) -> Plan {
        match self.expires {
            Some(end) if now >= end => Plan::Free,
            _ => self.plan,
        }
    }

    /// The limits at `now` (Free's once the term has lapsed).
    pub fn effective_limits(&self, now: TimeMs) -> Limits {
        if self.effective_plan(now) == self.plan { self.limits } else { Plan::Free.limits() }
    }

    /// The gateway entitlement of `agent` still in its term at `now`.
    pub fn gateway(&self, agent: &str, now: TimeMs) -> Option<&Gateway> {
        self.gateways.iter().find(|g| g.agent == agent && now < g.expires)
    }
}

/// The file around a document: what the authority writes and verifiers read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceFile {
    pub kind: String,
    /// [`key_id`] of the signing key.
    pub key: String,
    pub payload: String,
    pub signature: String,
}

/// A short name for a public key: `ed25519:` and its first 8 bytes in hex
/// (for messages and for telling keys apart; the signature is the check).
pub fn key_id(key: &VerifyingKey) -> String {
    let b = key.as_bytes();
    format!("ed25519:{}", b[..8].iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// A public key as text (pinned in the agent's configuration at registration):
/// `md-ed25519:` and the 32 bytes in base64.
pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("md-ed25519:{}", B64.encode(key.as_bytes()))
}

/// Reads what [`public_key_text`] writes.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let body = text.trim().strip_prefix("md-ed25519:").ok_or(KeyError::Prefix)?;
    let bytes = B64.decode(body).map_err(|_| KeyError::Base64)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|v: Vec<u8>| KeyError::Length(v.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotAPoint)
}

/// A licence authority's signing key from its 32 secret bytes.
pub fn signing_key(secret: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(secret)
}

/// Signs `doc`: the text of a licence file.
pub fn sign(doc: &LicenceDoc, key: &SigningKey) -> String {
    let payload = serde_json::to_vec(doc).expect("a licence document is plain data");
    let signature = key.sign(&payload);
    let file = LicenceFile {
        kind: LICENCE_KIND.to_string(),
        key: key_id(&key.verifying_key()),
        payload: B64.encode(&payload),
        signature: B64.encode(signature.to_bytes()),
    };
    serde_json::to_string_pretty(&file).expect("a licence file is plain data")
}

/// Verifies a licence file's text against the pinned public key, for
/// `account`, at `now`; the document only if every check holds.
pub fn verify(text: &str, key: &VerifyingKey, account: &str, now: TimeMs) -> Result<LicenceDoc, LicenceError> {
    let file: LicenceFile = serde_json::from_str(text)
        .map_err(|e| if e.is_eof() { LicenceError::Truncated } else { LicenceError::NotALicence(e.to_string()) })?;
    if file.kind != LICENCE_KIND {
        return Err(LicenceError::NotALicence(format!("its kind is {:?}, not {LICENCE_KIND:?}", file.kind)));
    }
    let trusted = key_id(key);
    if file.key != trusted {
        return Err(LicenceError::WrongKey { signed_by: file.key, trusted });
    }
    let payload = B64.decode(&file.payload).map_err(|_| LicenceError::Altered("payload"))?;
    let signature = B64.decode(&file.signature).map_err(|_| LicenceError::Altered("signature"))?;
    let signature: [u8; 64] = signature.try_into().map_err(|_| LicenceError::Altered("signature"))?;
    key.verify_strict(&payload, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| LicenceError::Altered("signature"))?;
    // Signed by the authority, so a document this build cannot read is a
    // newer format, not an attack.
    let doc: LicenceDoc = serde_json::from_slice(&payload).map_err(|e| LicenceError::Unreadable(e.to_string()))?;
    if doc.account != account {
        return Err(LicenceError::OtherAccount { licence: doc.account, ours: account.to_string() });
    }
    if doc.issued_at > now + FUTURE_SLACK_MS {
        return Err(LicenceError::FromTheFuture { issued_at: doc.issued_at, now });
    }
    Ok(doc)
}

/// Why a licence file was refused. Each names what is wrong and what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenceError {
    #[error("this is not a Meterdeck licence file ({0}); fetch the licence again from the cloud")]
    NotALicence(String),
    #[error("the licence file is cut short; fetch the licence again from the cloud")]
    Truncated,
    #[error(
        "the licence was signed by key {signed_by}, but this installation trusts {trusted} (the cloud it was registered with); fetch the licence from that cloud, or register again"
    )]
    WrongKey { signed_by: String, trusted: String },
    #[error("the licence file was altered (its {0} does not match); fetch the licence again from the cloud")]
    Altered(&'static str),
    #[error("the licence is signed but this version cannot read it ({0}); update Meterdeck")]
    Unreadable(String),
    #[error("the licence belongs to account {licence:?}, not to {ours:?}; fetch this account's licence")]
    OtherAccount { licence: String, ours: String },
    #[error(
        "the licence was issued at {issued_at} ms, after this computer's clock ({now} ms): check the clock, then fetch the licence again"
    )]
    FromTheFuture { issued_at: TimeMs, now: TimeMs },
}

/// A public key text that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a licence key starts with `md-ed25519:`")]
    Prefix,
    #[error("the licence key after `md-ed25519:` is not base64")]
    Base64,
    #[error("a licence key holds 32 bytes, this one {0}")]
    Length(usize),
    #[error("the licence key is not a valid ed25519 public key")]
    NotAPoint,
}

impl LicenceError {
    /// The refusal as a translatable message (keys `err-licence-*` in
    /// locales/*/core.ftl); English is the Display. What a parser said is
    /// quoted as it came.
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            LicenceError::NotALicence(why) => Text::new("err-licence-not-a-licence").arg("reason", why),
            LicenceError::Truncated => Text::new("err-licence-truncated"),
            LicenceError::WrongKey { signed_by, trusted } => {
                Text::new("err-licence-wrong-key").arg("signed_by", signed_by).arg("trusted", trusted)
            }
            LicenceError::Altered(part) => Text::new("err-licence-altered").arg("part", *part),
            LicenceError::Unreadable(why) => Text::new("err-licence-unreadable").arg("reason", why),
            LicenceError::OtherAccount { licence, ours } => Text::new("err-licence-other-account")
                .arg("licence", format!("{licence:?}"))
                .arg("ours", format!("{ours:?}")),
            LicenceError::FromTheFuture { issued_at, now } => {
                Text::new("err-licence-future").arg("issued_at", issued_at.to_string()).arg("now", now.to_string())
            }
        }
    }
}

impl KeyError {
    /// The refusal as a translatable message (keys `err-licence-key-*`).
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            KeyError::Prefix => Text::new("err-licence-key-prefix"),
            KeyError::Base64 => Text::new("err-licence-key-base64"),
            KeyError::Length(n) => Text::new("err-licence-key-length").arg("n", n.to_string()),
            KeyError::NotAPoint => Text::new("err-licence-key-point"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: TimeMs = 1_800_000_000_000;

    fn key(seed: u8) -> SigningKey {
        signing_key(&[seed; 32])
    }

    fn doc() -> LicenceDoc {
        LicenceDoc {
            serial: "L-000001".into(),
            account: "acme".into(),
            plan: Plan::Standard,
            limits: Plan::Standard.limits(),
            expires: Some(NOW + 30 * 86_400_000),
            gateways: vec![Gateway {
                agent: "a-123".into(),
                plan: RemotePlan::Pro,
                limits: RemotePlan::Pro.limits(),
                expires: NOW + 86_400_000,
            }],
            issued_at: NOW,
        }
    }

    #[test]
    fn a_signed_document_verifies_and_reads_back() {
        let k = key(1);
        let text = sign(&doc(), &k);
        assert_eq!(verify(&text, &k.verifying_key(), "acme", NOW).unwrap(), doc());
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let k = key(1);
        let text = sign(&doc(), &k);
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= 0x01;
            let Ok(t) = String::from_utf8(bytes) else { continue };
            // A flip that only changes JSON whitespace leaves the signed content as it was.
            if t.split_whitespace().collect::<String>() == text.split_whitespace().collect::<String>() {
                continue;
            }
            match verify(&t, &k.verifying_key(), "acme", NOW) {
                Err(_) => {}
                // Base64 padding bits: a flip there decodes to the same bytes.
                Ok(d) => assert_eq!(d, doc(), "byte {i} changed the document and still verified"),
            }
        }
    }

    #[test]
    fn each_refusal_says_which() {
        let k = key(1);
        let text = sign(&doc(), &k);
        let pk = k.verifying_key();
        let cut = &text[..text.len() / 2];
        assert_eq!(verify(cut, &pk, "acme", NOW), Err(LicenceError::Truncated));
        assert!(matches!(verify("hello", &pk, "acme", NOW), Err(LicenceError::NotALicence(_))));
        let other = key(2).verifying_key();
        assert!(matches!(verify(&text, &other, "acme", NOW), Err(LicenceError::WrongKey { .. })));
        assert!(matches!(verify(&text, &pk, "globex", NOW), Err(LicenceError::OtherAccount { .. })));
        let early = NOW - FUTURE_SLACK_MS - 1;
        assert!(matches!(verify(&text, &pk, "acme", early), Err(LicenceError::FromTheFuture { .. })));
        // A payload swapped for another document with the signature kept.
        let mut f: LicenceFile = serde_json::from_str(&text).unwrap();
        let mut d = doc();
        d.plan = Plan::Pro;
        f.payload = B64.encode(serde_json::to_vec(&d).unwrap());
        let forged = serde_json::to_string(&f).unwrap();
        assert_eq!(verify(&forged, &pk, "acme", NOW), Err(LicenceError::Altered("signature")));
        // Messages say what to do.
        assert!(LicenceError::Truncated.to_string().contains("fetch the licence again"));
    }

    #[test]
    fn a_lapsed_term_is_free_and_gateways_end() {
        let d = doc();
        assert_eq!(d.effective_plan(NOW), Plan::Standard);
        let later = d.expires.unwrap();
        assert_eq!(d.effective_plan(later), Plan::Free);
        assert_eq!(d.effective_limits(later), Plan::Free.limits());
        assert!(d.gateway("a-123", NOW).is_some());
        assert!(d.gateway("a-123", NOW + 86_400_000).is_none());
        assert!(d.gateway("a-999", NOW).is_none());
    }

    #[test]
    fn plan_limits_follow_the_spec_table() {
        let (f, s, p) = (Plan::Free.limits(), Plan::Standard.limits(), Plan::Pro.limits());
        assert_eq!((f.storage_bytes, s.storage_bytes, p.storage_bytes), (5 * GB, 50 * GB, 500 * GB));
        assert_eq!((f.users, s.agents, p.teams), (3, 10, 100));
        assert_eq!((f.groups, s.groups, p.groups), (1, 10, 100));
        assert_eq!((f.alarms_per_group, s.calcs_per_group, p.alarms_per_group), (3, 30, 100));
        assert_eq!((f.panels_per_group, s.panels_per_group, p.panels_per_group), (1, 3, 10));
        assert_eq!((f.channels_per_instrument, s.channels_per_instrument, p.channels_per_instrument), (30, 30, 100));
        assert_eq!((f.instruments_per_agent, s.instruments_per_agent, p.instruments_per_agent), (3, 8, 8));
        assert_eq!(
            (f.report_templates_per_group, s.report_templates_per_group, p.report_templates_per_group),
            (0, 3, 10)
        );
        assert!(!s.web_api && p.web_api && p.ip_restriction && p.csv_import && !f.csv_import);
        assert_eq!((f.retention_days, s.retention_days), (Some(365), None));
        assert_eq!(RemotePlan::Basic.limits().traffic_bytes_per_month, GB);
        assert_eq!(RemotePlan::Pro.limits().channels_per_instrument, 100);
    }

    #[test]
    fn public_keys_round_trip_as_text() {
        let pk = key(7).verifying_key();
        assert_eq!(parse_public_key(&public_key_text(&pk)).unwrap(), pk);
        assert_eq!(parse_public_key("ed25519:abc"), Err(KeyError::Prefix));
        assert_eq!(parse_public_key("md-ed25519:!!"), Err(KeyError::Base64));
        assert_eq!(parse_public_key("md-ed25519:AAAA"), Err(KeyError::Length(3)));
    }
}
