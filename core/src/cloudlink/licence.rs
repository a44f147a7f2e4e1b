//! The licence over the signed-in session (the licence interface): the
//! account's signed licence file and the key to pin, the licence history,
//! and applying a card (account admins). Verification and keeping are
//! `crate::licence`'s and the Desk's; this only talks to the service.

use serde::{Deserialize, Deserializer, Serialize};

use super::{CloudLink, CloudResult, check_id};

/// One entry of the account's licence history (`GET /api/v1/licence/history`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LicenceHistoryEntry {
    /// When, as the service gave it (ms since the epoch are shown as UTC time).
    #[serde(deserialize_with = "time_text")]
    pub at: String,
    pub what: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub by: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub detail: Option<String>,
}

fn text_of(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn time_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) if n.is_i64() => crate::fmt::format_time(n.as_i64().unwrap_or_default()),
        other => text_of(other),
    })
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        other => Some(text_of(other)),
    })
}

/// `GET /api/v1/licence/status`: the fields the window shows (others ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct CloudLicenceStatus {
    pub account: String,
    /// "free" | "standard" | "pro": the plan in force (Free after a lapse).
    pub plan: String,
    pub expires: Option<i64>,
    pub days_left: Option<i64>,
    pub limits: meterdeck_wire::licence::Limits,
    pub usage: CloudUsage,
}

/// What the account uses in the cloud (`usage` of the status).
#[derive(Clone, Debug, Deserialize)]
pub struct CloudUsage {
    pub users: u64,
    pub teams: u64,
    pub agents: u64,
    pub groups: u64,
    pub storage_bytes: u64,
}

/// One channel's stored bytes (`GET /api/v1/licence/storage`, largest first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct StorageChannel {
    #[serde(deserialize_with = "id_text")]
    pub channel: String,
    pub agent: String,
    pub path: String,
    pub bytes: u64,
    /// `12.3 MiB`, for the window.
    #[serde(default)]
    pub bytes_text: String,
}

fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(text_of(serde_json::Value::deserialize(d)?))
}

/// The Cloud screen's storage meter: the signed-in account's stored bytes
/// against its plan's capacity, and the channels taking the most.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct StorageMeter {
    pub account: String,
    pub plan: String,
    pub used_bytes: u64,
    pub capacity_bytes: u64,
    /// Used / capacity in percent, one decimal (over 100 when over capacity).
    pub percent: f64,
    /// `34.0`, or `< 0.1` when something is stored but rounds to nothing.
    pub percent_text: String,
    /// Over the plan's capacity: the cloud deletes the oldest data 31 days after its notice.
    pub over: bool,
    pub used_text: String,
    pub capacity_text: String,
    /// The largest channels first (at most `STORAGE_TOP`).
    pub channels: Vec<StorageChannel>,
}

/// How many channels the meter lists.
pub const STORAGE_TOP: usize = 5;

impl StorageMeter {
    pub fn new(status: &CloudLicenceStatus, mut channels: Vec<StorageChannel>) -> Self {
        let used = status.usage.storage_bytes;
        let cap = status.limits.storage_bytes;
        let percent = if cap == 0 { 0.0 } else { (used as f64 * 1000.0 / cap as f64).round() / 10.0 };
        channels.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
        channels.truncate(STORAGE_TOP);
        for c in &mut channels {
            c.bytes_text = crate::fmt::format_bytes(c.bytes);
        }
        StorageMeter {
            account: status.account.clone(),
            plan: status.plan.clone(),
            used_bytes: used,
            capacity_bytes: cap,
            percent,
            percent_text: if used > 0 && percent < 0.1 { "< 0.1".into() } else { format!("{percent:.1}") },
            over: cap > 0 && used > cap,
            used_text: crate::fmt::format_bytes(used),
            capacity_text: crate::fmt::format_bytes(cap),
            channels,
        }
    }
}

/// One of the account's cloud limits with its use (the Licence screen's
/// "in the cloud" bars, next to the agent's own limits).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CloudLimitUse {
    /// `users`, `teams`, `agents`, `groups` or `storage_bytes` (as in the API's `usage`).
    pub limit: String,
    pub used: u64,
    pub max: u64,
    /// Used / max in percent, capped at 100 (the bar's width).
    pub percent: f64,
    pub full: bool,
    /// `2 / 3`, or `6.8 KiB / 4.7 GiB` for storage.
    pub text: String,
}

/// The cloud's view of the signed-in account's licence: the plan in force
/// there and its account-wide limits with their use.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CloudUsageView {
    pub account: String,
    pub plan: String,
    pub limits: Vec<CloudLimitUse>,
}

impl CloudLicenceStatus {
    pub fn usage_view(&self) -> CloudUsageView {
        let (l, u) = (&self.limits, &self.usage);
        let bar = |limit: &str, used: u64, max: u64, text: String| CloudLimitUse {
            limit: limit.into(),
            used,
            max,
            percent: if max == 0 { 100.0 } else { (used as f64 * 100.0 / max as f64).min(100.0) },
            full: used >= max,
            text,
        };
        let count = |limit: &str, used: u64, max: u32| bar(limit, used, max.into(), format!("{used} / {max}"));
        CloudUsageView {
            account: self.account.clone(),
            plan: self.plan.clone(),
            limits: vec![
                count("users", u.users, l.users),
                count("teams", u.teams, l.teams),
                count("agents", u.agents, l.agents),
                count("groups", u.groups, l.groups),
                bar(
                    "storage_bytes",
                    u.storage_bytes,
                    l.storage_bytes,
                    format!(
                        "{} / {}",
                        crate::fmt::format_bytes(u.storage_bytes),
                        crate::fmt::format_bytes(l.storage_bytes)
                    ),
                ),
            ],
        }
    }
}

#[derive(Deserialize)]
struct KeyReply {
    key: String,
}

impl CloudLink {
    /// The account's freshly signed licence file, as text (unverified).
    pub async fn licence_text(&self) -> CloudResult<String> {
        let file: meterdeck_wire::licence::LicenceFile = self.authed(&["licence"], &[], "the licence").await?;
        serde_json::to_string_pretty(&file)
            .map_err(|e| super::CloudError::BadReply { what: "the licence".into(), reason: e.to_string() })
    }

    /// The service's licence key text (`md-ed25519:...`), to pin once.
    pub async fn licence_key(&self) -> CloudResult<String> {
        let reply: KeyReply = self.authed(&["licence", "key"], &[], "the licence key").await?;
        Ok(reply.key)
    }

    /// The signed-in account's id (the licence must name it).
    pub async fn account(&self) -> CloudResult<Option<String>> {
        Ok(self.load_prefs().await?.account)
    }

    /// The account's licence as the cloud sees it: plan in force, limits, usage.
    pub async fn licence_status(&self) -> CloudResult<CloudLicenceStatus> {
        self.authed(&["licence", "status"], &[], "the licence status").await
    }

    /// The cloud's limits and use for the Licence screen; `None` when not
    /// signed in (the screen then shows only the agent's own limits).
    pub async fn cloud_usage(&self) -> CloudResult<Option<CloudUsageView>> {
        match self.licence_status().await {
            Ok(st) => Ok(Some(st.usage_view())),
            Err(super::CloudError::NotSignedIn) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stored bytes per channel of the agents the user sees, largest first.
    pub async fn licence_storage(&self) -> CloudResult<Vec<StorageChannel>> {
        self.authed(&["licence", "storage"], &[], "the storage use").await
    }

    /// The Cloud screen's storage meter (status and storage together).
    pub async fn storage_meter(&self) -> CloudResult<StorageMeter> {
        let status = self.licence_status().await?;
        let channels = self.licence_storage().await?;
        Ok(StorageMeter::new(&status, channels))
    }

    pub async fn licence_history(&self) -> CloudResult<Vec<LicenceHistoryEntry>> {
        self.authed(&["licence", "history"], &[], "the licence history").await
    }

    /// Applies a licence card to the account (admins); the service's
    /// refusal (unknown card, not an admin) is shown as it says it.
    pub async fn licence_apply_card(&self, card: &str) -> CloudResult<()> {
        let card = check_id("card", card)?;
        let (_, url, token) = self.session().await?;
        let endpoint = Self::endpoint(&url, &["licence", "cards"], &[])?;
        let body = serde_json::json!({ "card": card });
        let _: serde_json::Value =
            self.call(reqwest::Method::POST, endpoint, Some(&token), Some(body), "the licence card", None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! What the window's fetch does (src-tauri `licence::fetch`), against a
    //! stand-in of the licence routes: the session's bearer token, the key
    //! pinned at the first fetch, the document kept by the Desk; a tampered
    //! one refused with the last good one staying; history and cards.

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use meterdeck_wire::licence::{LicenceDoc, Plan, public_key_text, sign, signing_key};

    use super::*;
    use crate::cloudlink::{CloudPrefs, MemoryPrefs, PrefStore, session_entry};
    use crate::desk::Desk;
    use crate::notify::{MemorySecrets, SecretStore};

    fn doc(serial: &str, plan: Plan) -> LicenceDoc {
        let now = crate::model::now_ms();
        LicenceDoc {
            serial: serial.into(),
            account: "acme".into(),
            plan,
            limits: plan.limits(),
            expires: Some(now + 100 * 86_400_000),
            gateways: vec![],
            issued_at: now,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_window_fetches_pins_keeps_and_refuses_licences() {
        let key = signing_key(&[8; 32]);
        let licence = Arc::new(Mutex::new(sign(&doc("L-1", Plan::Standard), &key)));
        let pk = public_key_text(&key.verifying_key());
        let served = licence.clone();
        let authed = |h: &HeaderMap| h.get("authorization").is_some_and(|v| v == "Bearer tok-1");
        let app = Router::new()
            .route(
                "/api/v1/licence/key",
                get(move || async move { axum::Json(serde_json::json!({"key": pk, "key_id": "k"})) }),
            )
            .route(
                "/api/v1/licence",
                get(move |h: HeaderMap| async move {
                    if !authed(&h) {
                        return (StatusCode::UNAUTHORIZED, r#"{"error":"sign in","code":"unauthorized"}"#.to_string());
                    }
                    (StatusCode::OK, served.lock().unwrap().clone())
                }),
            )
            .route(
                "/api/v1/licence/history",
                get(|| async {
                    axum::Json(serde_json::json!([
                        {"at": 1_800_000_000_000i64, "what": "card applied", "by": "alice", "detail": {"months": 3}},
                        {"at": "2027-01-01T00:00:00Z", "what": "plan changed", "by": null}
                    ]))
                }),
            )
            .route(
                "/api/v1/licence/cards",
                post(|body: axum::Json<serde_json::Value>| async move {
                    if body["card"] == "GOOD-CARD" {
                        (StatusCode::OK, "{}".to_string())
                    } else {
                        let e = r#"{"error":"card BAD is not known","code":"unknown_card"}"#;
                        (StatusCode::NOT_FOUND, e.to_string())
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let secrets = Arc::new(MemorySecrets::new());
        secrets.set(&session_entry(&url), "tok-1").unwrap();
        let prefs = Arc::new(MemoryPrefs::default());
        prefs
            .save(&CloudPrefs { url: Some(url.clone()), account: Some("acme".into()), user: Some("alice".into()) })
            .unwrap();
        let link = CloudLink::new(secrets, prefs).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let desk = Desk::open(dir.path(), &dir.path().join("agent.toml"), false).await.unwrap();
        assert!(!desk.licence_key_pinned());
        // The fetch as src-tauri does it.
        let text = link.licence_text().await.unwrap();
        let key_text = link.licence_key().await.unwrap();
        desk.pin_licence_key(&key_text, link.account().await.unwrap().as_deref()).unwrap();
        let screen = desk.licence_accept(&text).unwrap();
        assert_eq!((screen.licence.plan, screen.licence.serial.as_deref()), (Plan::Standard, Some("L-1")));
        assert_eq!(screen.usage.iter().find(|u| u.limit == "instruments_per_agent").map(|u| u.max), Some(8));
        // A key offered later never replaces the pinned one.
        desk.pin_licence_key(&public_key_text(&signing_key(&[9; 32]).verifying_key()), Some("acme")).unwrap();
        // Another key's document from the service: refused by name, L-1 stays.
        *licence.lock().unwrap() = sign(&doc("L-2", Plan::Pro), &signing_key(&[9; 32]));
        let e = desk.licence_accept(&link.licence_text().await.unwrap()).unwrap_err().to_string();
        assert!(e.contains("signed by key"), "{e}");
        let s = desk.licence_screen().unwrap();
        assert_eq!(
            (s.licence.serial.as_deref(), s.banner),
            (Some("L-1"), Some(crate::desk::LicenceBanner::Unverified))
        );

        let h = link.licence_history().await.unwrap();
        assert_eq!(h[0].at, "2027-01-15T08:00:00.000Z");
        assert_eq!((h[0].detail.as_deref(), h[1].by.as_deref()), (Some(r#"{"months":3}"#), None));
        link.licence_apply_card("GOOD-CARD").await.unwrap();
        let e = link.licence_apply_card("BAD").await.unwrap_err().to_string();
        assert!(e.contains("card BAD is not known"), "{e}");
        assert!(link.licence_apply_card("  ").await.unwrap_err().to_string().contains("card"));
        desk.shutdown().await.unwrap();
    }
}
