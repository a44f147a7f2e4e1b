//! The cloud link against a small stand-in of the `/api/v1` Web API served
//! by axum inside the test (mock only here, in unit tests).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::*;
use crate::notify::MemorySecrets;

#[derive(Default)]
struct Mock {
    passwords: HashMap<String, String>,
    must_change: HashSet<String>,
    totp: HashSet<String>,
    /// token → (user, full?)
    tokens: HashMap<String, (String, bool)>,
    next: u32,
    last_query: Option<HashMap<String, String>>,
    /// `Accept-Language` of the last sign-in (the cloud mails codes in it).
    login_language: Option<String>,
}

type S = Arc<Mutex<Mock>>;

fn err(code: StatusCode, msg: &str) -> Response {
    (code, Json(json!({ "error": msg }))).into_response()
}

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_string)
}

/// The user of a full (or, with `pending`, a pending) token.
#[allow(clippy::result_large_err)] // the refusal is the handler's reply
fn who(s: &S, h: &HeaderMap, pending: bool) -> Result<String, Response> {
    let m = s.lock().unwrap();
    match bearer(h).and_then(|t| m.tokens.get(&t).cloned()) {
        Some((u, full)) if full || pending => Ok(u),
        _ => Err(err(StatusCode::UNAUTHORIZED, "session expired")),
    }
}

fn issue(m: &mut Mock, user: &str) -> Value {
    m.next += 1;
    let token = format!("tok-{}", m.next);
    let change = m.must_change.contains(user);
    let factor = if m.totp.contains(user) { "totp" } else { "none" };
    let full = !change && factor == "none";
    m.tokens.insert(token.clone(), (user.to_string(), full));
    json!({ "token": token, "must_change_password": change, "second_factor": factor })
}

async fn login(State(s): State<S>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    let lang = h.get("accept-language").and_then(|v| v.to_str().ok()).map(str::to_string);
    s.lock().unwrap().login_language = lang;
    let user = b["user"].as_str().unwrap_or("").to_string();
    if user == "throttled" {
        return err(StatusCode::TOO_MANY_REQUESTS, "too many sign-in attempts: try again in 60 s");
    }
    let mut m = s.lock().unwrap();
    if b["account"] != "acme" || m.passwords.get(&user).map(String::as_str) != b["password"].as_str() {
        return err(StatusCode::UNAUTHORIZED, "wrong account, user or password");
    }
    Json(issue(&mut m, &user)).into_response()
}

async fn code(State(s): State<S>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    let user = match who(&s, &h, true) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if b["code"] != "123456" {
        return err(StatusCode::UNAUTHORIZED, "wrong code");
    }
    let mut m = s.lock().unwrap();
    m.totp.remove(&user);
    let reply = issue(&mut m, &user);
    m.totp.insert(user);
    Json(reply).into_response()
}

async fn password(State(s): State<S>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    let user = match who(&s, &h, true) {
        Ok(u) => u,
        Err(r) => return r,
    };
    // As the service (cloud/src/api/login.rs): 403 for a wrong current
    // password, and the pending session becomes a full one.
    let new = b["new"].as_str().unwrap_or("");
    if s.lock().unwrap().passwords.get(&user).map(String::as_str) != b["current"].as_str() {
        return err(StatusCode::FORBIDDEN, "the current password is wrong");
    }
    if !new.chars().any(|c| c.is_ascii_digit()) {
        return err(StatusCode::BAD_REQUEST, "the new password needs a digit");
    }
    let mut m = s.lock().unwrap();
    m.passwords.insert(user.clone(), new.to_string());
    m.must_change.remove(&user);
    if let Some(t) = bearer(&h) {
        m.tokens.insert(t, (user, true));
    }
    Json(json!({ "pending": null })).into_response()
}

async fn logout(State(s): State<S>, h: HeaderMap) -> Response {
    if let Some(t) = bearer(&h) {
        s.lock().unwrap().tokens.remove(&t);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn me(State(s): State<S>, h: HeaderMap) -> Response {
    match who(&s, &h, false) {
        // The service's shape (cloud/src/api/login.rs `me`).
        Ok(u) => Json(json!({
            "account": {"id": "acme", "name": "Acme", "plan": "standard"},
            "user": {"id": u, "name": "Alice Doe", "email": "alice@acme.test", "role": "admin",
                     "two_factor": "none", "must_change": false, "created_ms": 0},
            "via": "session",
        }))
        .into_response(),
        Err(r) => r,
    }
}

async fn agents(State(s): State<S>, h: HeaderMap) -> Response {
    if let Err(r) = who(&s, &h, false) {
        return r;
    }
    Json(json!([
        {"id": 1, "name": "osaka-line1", "online": true,
         "sync": {"last_batch_ms": now_ms() - 5000, "backlog": 12, "samples": 1000, "batches": 10, "rejected": 0, "last_error": null},
         "traffic_bytes": 950, "traffic_allowance": 1000},
        {"id": "b2", "name": "kyoto-lab", "online": false,
         "sync": {"last_batch_ms": null, "backlog": null, "samples": 0, "batches": 0, "rejected": 1, "last_error": "oversized batch"},
         "traffic_bytes": 10, "traffic_allowance": 0}
    ]))
    .into_response()
}

async fn channels(State(s): State<S>, h: HeaderMap, Path(agent): Path<String>) -> Response {
    if let Err(r) = who(&s, &h, false) {
        return r;
    }
    if agent == "b2" {
        return Json(json!("not a list")).into_response();
    }
    Json(json!([{"id": 7, "agent": 1, "path": "logger1/CH1_1", "unit": "°C", "samples": 100, "t_first": 1000, "t_last": 2000}]))
        .into_response()
}

async fn minmax(
    State(s): State<S>,
    h: HeaderMap,
    Path(ch): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = who(&s, &h, false) {
        return r;
    }
    s.lock().unwrap().last_query = Some(q);
    match ch.as_str() {
        "7" => Json(json!({"channel": 7, "buckets": [
            {"t_start": 2000, "t_end": 3000, "count": 5, "min": {"t": 2100, "v": 1.0}, "max": {"t": 2900, "v": 3.0}},
            {"t_start": 1000, "t_end": 2000, "count": 3, "min": {"t": 1500, "v": 0.5}, "max": {"t": 1600, "v": 2.0}},
            {"t_start": 3000, "t_end": 4000, "count": 0, "min": null, "max": null}
        ]}))
        .into_response(),
        "8" => Json(json!({"channel": 8, "buckets": [
            {"t_start": 0, "t_end": 10, "count": 1, "min": {"t": 4, "v": 9.5}, "max": {"t": 4, "v": 9.5}},
            {"t_start": 10, "t_end": 20, "count": 0, "min": null, "max": null}
        ]}))
        .into_response(),
        "99" => err(StatusCode::FORBIDDEN, "no access to channel 99"),
        _ => err(StatusCode::INTERNAL_SERVER_ERROR, "database unavailable"),
    }
}

async fn serve() -> (String, S) {
    let mut m = Mock::default();
    m.passwords.insert("alice".into(), "Secret1x".into());
    m.passwords.insert("bob".into(), "Temp1234".into());
    m.must_change.insert("bob".into());
    m.passwords.insert("carol".into(), "Carol123".into());
    m.totp.insert("carol".into());
    let s: S = Arc::new(Mutex::new(m));
    let app = Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/login/code", post(code))
        .route("/api/v1/password", post(password))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/agents/{id}/channels", get(channels))
        .route("/api/v1/channels/{id}/minmax", get(minmax))
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), s)
}

fn link() -> (CloudLink, Arc<MemorySecrets>, Arc<MemoryPrefs>) {
    let secrets = Arc::new(MemorySecrets::new());
    let prefs = Arc::new(MemoryPrefs::default());
    (CloudLink::new(secrets.clone(), prefs.clone()).unwrap(), secrets, prefs)
}

#[test]
fn urls_are_normalised_or_refused_with_the_reason() {
    assert_eq!(normalize_url(" https://cloud.example.com/ ").unwrap(), "https://cloud.example.com");
    assert_eq!(normalize_url("http://10.0.0.5:8080/md/").unwrap(), "http://10.0.0.5:8080/md");
    for (bad, why) in [
        ("", "enter"),
        ("cloud.example.com", "not a URL"),
        ("ftp://x.example", "https://"),
        ("https://u:p@x.example", "user name"),
        ("https://x.example/?a=1", "query"),
    ] {
        let e = normalize_url(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
    assert_eq!(session_entry("https://c.example"), "cloud-session:https://c.example");
}

#[test]
fn traffic_is_flagged_from_ninety_percent_of_the_allowance() {
    assert_eq!(traffic_share(899, 1000), (Some(89.9), false));
    assert_eq!(traffic_share(900, 1000), (Some(90.0), true));
    assert_eq!(traffic_share(5, 0), (None, false));
    // Every field named: the sync branch's struct need not derive Default.
    let v = LocalSyncView::from(SyncStatus {
        enabled: true,
        connected: false,
        agent: None,
        broker: None,
        backlog_samples: 0,
        backlog_batches: 0,
        oldest_ms: None,
        last_ack_ms: None,
        month: "2026-11".into(),
        month_bytes: 95,
        allowance_bytes: 100,
        allowance_plan: None,
        paused: None,
        last_error: None,
    });
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!((j["traffic_warning"].as_bool(), j["month_bytes"].as_u64()), (Some(true), Some(95)));
}

#[tokio::test]
async fn sign_in_keeps_the_token_in_the_keychain_and_lists_the_account() {
    let (url, mock) = serve().await;
    let (link, secrets, prefs) = link();
    assert_eq!(link.status().await.unwrap(), CloudStatus::default());
    assert!(matches!(link.agents().await, Err(CloudError::NotSignedIn)));

    let st = link.sign_in(&format!("{url}/"), " acme ", "alice", "Secret1x").await.unwrap();
    assert!(st.signed_in && st.step.is_none() && st.error.is_none(), "{st:?}");
    assert_eq!(st.me.as_ref().unwrap().role, "admin");
    assert_eq!(st.url.as_deref(), Some(url.as_str()));
    let token = secrets.get(&session_entry(&url)).unwrap().expect("token in the keychain");
    // The remembered settings hold no token and no password.
    let remembered = serde_json::to_string(&prefs.load().unwrap()).unwrap();
    assert!(!remembered.contains(&token) && !remembered.contains("Secret1x"), "{remembered}");
    assert_eq!(prefs.load().unwrap().account.as_deref(), Some("acme"));

    let agents = link.agents().await.unwrap();
    // By name, not in the service's (id) order.
    assert_eq!(agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["kyoto-lab", "osaka-line1"]);
    let (kyoto, osaka) = (&agents[0], &agents[1]);
    assert_eq!(osaka.id, "1");
    assert!(osaka.traffic_warning);
    assert_eq!(osaka.traffic_percent, Some(95.0));
    assert!(osaka.last_batch_age_ms.unwrap() >= 5000);
    assert_eq!(
        agent_view(
            serde_json::from_value(json!({"id": 3, "name": "x", "sync": {"last_batch_ms": i64::MIN}})).unwrap(),
            i64::MAX
        )
        .last_batch_age_ms,
        Some(i64::MAX)
    );
    assert_eq!((kyoto.traffic_allowance, kyoto.traffic_warning), (None, false));
    assert_eq!(kyoto.sync.last_error.as_deref(), Some("oversized batch"));

    let chans = link.channels("1").await.unwrap();
    assert_eq!(chans[0].label, "acme/osaka-line1 · logger1/CH1_1");
    assert_eq!(chans[0].site, "acme/osaka-line1");
    assert_eq!((chans[0].id.as_str(), chans[0].agent.as_str()), ("7", "1"));
    let e = link.channels("b2").await.unwrap_err().to_string();
    assert!(e.starts_with("unexpected reply from the cloud service to the channel list"), "{e}");

    let s = link.series("7", 1000, 4000, 3).await.unwrap();
    assert!(!s.raw);
    assert_eq!(s.t, vec![1000, 2000, 3000]);
    assert_eq!(s.min, vec![Some(0.5), Some(1.0), None]);
    assert_eq!(s.max, vec![Some(2.0), Some(3.0), None]);
    let q = mock.lock().unwrap().last_query.clone().unwrap();
    assert_eq!((q["from"].as_str(), q["to"].as_str(), q["buckets"].as_str()), ("1000", "4000", "3"));
    let raw = link.series("8", 0, 20, 2).await.unwrap();
    assert_eq!((raw.raw, raw.t, raw.min), (true, vec![4], vec![Some(9.5)]));

    let e = link.series("99", 0, 10, 5).await.unwrap_err().to_string();
    assert_eq!(e, "no access to channel 99");
    let e = link.series("500", 0, 10, 5).await.unwrap_err().to_string();
    assert_eq!(e, "the cloud service failed (HTTP 500): database unavailable");
    assert!(link.series("7", 10, 10, 5).await.unwrap_err().to_string().contains("empty time range"));
    assert!(link.series("7", 0, 10, 0).await.unwrap_err().to_string().contains("plot width"));

    let st = link.sign_out().await.unwrap();
    assert!(!st.signed_in);
    assert_eq!(st.account.as_deref(), Some("acme"), "account and user are remembered");
    assert_eq!(secrets.get(&session_entry(&url)).unwrap(), None);
    assert!(mock.lock().unwrap().tokens.values().all(|(u, _)| u != "alice"), "logged out at the service");
}

#[test]
fn common_errors_read_in_the_windows_language() {
    let e = CloudError::Unreachable { url: "https://c.test".into(), reason: "connection refused".into() };
    assert_eq!(e.text_in("en"), e.to_string());
    assert_eq!(
        meterdeck_wire::i18n::tr(
            "en",
            "err-cloud-unreachable",
            &[("url", "https://c.test"), ("reason", "connection refused")]
        ),
        e.to_string()
    );
    assert_eq!(e.text_in("de"), "der Cloud-Dienst unter https://c.test ist nicht erreichbar: connection refused");
    for e in [CloudError::NotSignedIn, CloudError::SignedOut, CloudError::Server { status: 500, message: "x".into() }] {
        assert_eq!(e.text_in("en"), e.to_string());
        assert_ne!(e.text_in("ja"), e.to_string());
    }
    assert_eq!(meterdeck_wire::i18n::tr("en", "err-cloud-not-signed-in", &[]), CloudError::NotSignedIn.to_string());
    assert_eq!(meterdeck_wire::i18n::tr("en", "err-cloud-signed-out", &[]), CloudError::SignedOut.to_string());
}

#[tokio::test]
async fn requests_carry_the_windows_language() {
    let (url, mock) = serve().await;
    let (link, _, _) = link();
    link.sign_in(&url, "acme", "alice", "Secret1x").await.unwrap();
    assert_eq!(mock.lock().unwrap().login_language.as_deref(), Some("en"));
    link.set_language("de");
    link.sign_in(&url, "acme", "alice", "Secret1x").await.unwrap();
    assert_eq!(mock.lock().unwrap().login_language.as_deref(), Some("de"));
    // One Meterdeck has not: English.
    link.set_language("fr-FR");
    link.sign_in(&url, "acme", "alice", "Secret1x").await.unwrap();
    assert_eq!(mock.lock().unwrap().login_language.as_deref(), Some("en"));
}

#[tokio::test]
async fn an_expired_session_says_sign_in_again_and_forgets_the_token() {
    let (url, mock) = serve().await;
    let (link, secrets, _) = link();
    link.sign_in(&url, "acme", "alice", "Secret1x").await.unwrap();
    mock.lock().unwrap().tokens.clear();
    let e = link.agents().await.unwrap_err();
    assert_eq!(e.to_string(), "signed out: sign in again");
    assert_eq!(secrets.get(&session_entry(&url)).unwrap(), None);
    let st = link.status().await.unwrap();
    assert!(!st.signed_in && st.me.is_none());
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_before_the_session_starts() {
    let (url, _mock) = serve().await;
    let (link, secrets, _) = link();
    let st = link.sign_in(&url, "acme", "bob", "Temp1234").await.unwrap();
    assert_eq!((st.signed_in, st.step.as_deref()), (false, Some("password")));
    assert_eq!(secrets.get(&session_entry(&url)).unwrap(), None, "a pending token never reaches the keychain");
    assert!(matches!(link.agents().await, Err(CloudError::NotSignedIn)));
    let e = link.submit_code("123456").await.unwrap_err().to_string();
    assert!(e.contains("no sign-in is waiting for a code"), "{e}");
    let e = link.change_password("Temp1234", "nodigits").await.unwrap_err().to_string();
    assert_eq!(e, "the new password needs a digit");
    let e = link.change_password("nope", "Better123").await.unwrap_err().to_string();
    assert_eq!(e, "password change refused: the current password is wrong");
    let st = link.change_password("Temp1234", "Better123").await.unwrap();
    assert!(st.signed_in && st.step.is_none(), "{st:?}");
    assert_eq!(st.me.unwrap().user, "bob");
    // A voluntary change while signed in keeps the session, also after a typo.
    let e = link.change_password("wrong", "Best12345").await.unwrap_err().to_string();
    assert_eq!(e, "password change refused: the current password is wrong");
    assert!(secrets.get(&session_entry(&url)).unwrap().is_some());
    let st = link.change_password("Better123", "Best12345").await.unwrap();
    assert!(st.signed_in);
    link.sign_out().await.unwrap();
    assert!(link.sign_in(&url, "acme", "bob", "Best12345").await.unwrap().signed_in);
}

#[tokio::test]
async fn a_second_factor_code_completes_the_sign_in() {
    let (url, _mock) = serve().await;
    let (link, secrets, _) = link();
    let st = link.sign_in(&url, "acme", "carol", "Carol123").await.unwrap();
    assert_eq!((st.step.as_deref(), st.second_factor.as_deref()), (Some("code"), Some("totp")));
    assert_eq!(
        link.submit_code("  ").await.unwrap_err().to_string(),
        "code: enter the code you received (at most 32 characters)"
    );
    assert_eq!(link.submit_code("000000").await.unwrap_err().to_string(), "sign-in refused: wrong code");
    let st = link.submit_code("123 456").await.unwrap();
    assert!(st.signed_in, "{st:?}");
    assert!(secrets.get(&session_entry(&url)).unwrap().is_some());
}

#[tokio::test]
async fn refusals_and_unreachable_services_are_named() {
    let (url, _mock) = serve().await;
    let (link, _, prefs) = link();
    let e = link.sign_in(&url, "acme", "alice", "wrong").await.unwrap_err().to_string();
    assert_eq!(e, "sign-in refused: wrong account, user or password");
    assert_eq!(prefs.load().unwrap(), CloudPrefs::default(), "nothing remembered after a refusal");
    let e = link.sign_in(&url, "acme", "throttled", "x").await.unwrap_err().to_string();
    assert_eq!(e, "too many sign-in attempts: try again in 60 s");
    let e = link.sign_in(&url, "", "alice", "x").await.unwrap_err().to_string();
    assert!(e.starts_with("account ID"), "{e}");
    let e = link.sign_in(&url, "acme", "alice", "").await.unwrap_err().to_string();
    assert!(e.starts_with("password"), "{e}");

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let e = link.sign_in(&format!("http://127.0.0.1:{port}"), "acme", "alice", "Secret1x").await.unwrap_err();
    assert!(matches!(e, CloudError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("http://127.0.0.1:{port}")) && e.to_string().contains("refused"), "{e}");
}

#[test]
fn a_plan_limit_refusal_is_shown_as_the_service_words_it() {
    // The body the cloud answers (docs/api.md "Licences"): the message names
    // plan, limit, count and how to lift it; the extra fields are for programs.
    let body = json!({
        "error": "the Free plan allows 3 users and account acme has 3; nothing was created: apply a Standard licence card (it allows 10) or remove one first",
        "code": "plan_limit", "limit": "users", "plan": "free", "max": 3, "count": 3
    });
    let m = error_message(body.to_string().as_bytes(), reqwest::StatusCode::FORBIDDEN);
    assert!(m.starts_with("the Free plan allows 3 users and account acme has 3"), "{m}");
    assert!(m.contains("Standard licence card"), "{m}");
}

#[test]
fn the_storage_meter_lists_the_largest_channels_against_the_capacity() {
    let limits = meterdeck_wire::licence::Plan::Free.limits();
    let status = CloudLicenceStatus {
        account: "acme".into(),
        plan: "free".into(),
        expires: None,
        days_left: None,
        limits,
        usage: CloudUsage { users: 1, teams: 0, agents: 1, groups: 0, storage_bytes: limits.storage_bytes / 4 },
    };
    let ch = |id: &str, bytes: u64| StorageChannel {
        channel: id.into(),
        agent: "a-1".into(),
        path: format!("dev/{id}"),
        bytes,
        bytes_text: String::new(),
    };
    let chans = (1..=7).map(|k| ch(&k.to_string(), k * 1000)).collect();
    let m = StorageMeter::new(&status, chans);
    assert_eq!((m.percent, m.over, m.channels.len()), (25.0, false, STORAGE_TOP));
    assert_eq!(m.channels.iter().map(|c| c.bytes).collect::<Vec<_>>(), [7000, 6000, 5000, 4000, 3000]);
    assert_eq!((m.channels[0].bytes_text.as_str(), m.percent_text.as_str()), ("6.8 KiB", "25.0"));
    let v = status.usage_view();
    let texts: Vec<_> = v.limits.iter().map(|l| (l.limit.as_str(), l.text.as_str(), l.full)).collect();
    assert_eq!(
        texts,
        [
            ("users", "1 / 3", false),
            ("teams", format!("0 / {}", limits.teams).as_str(), limits.teams == 0),
            ("agents", format!("1 / {}", limits.agents).as_str(), limits.agents <= 1),
            ("groups", format!("0 / {}", limits.groups).as_str(), limits.groups == 0),
            (
                "storage_bytes",
                format!(
                    "{} / {}",
                    crate::fmt::format_bytes(limits.storage_bytes / 4),
                    crate::fmt::format_bytes(limits.storage_bytes)
                )
                .as_str(),
                false
            ),
        ]
    );
    assert_eq!(v.limits[4].percent, 25.0);
    let over = CloudLicenceStatus {
        usage: CloudUsage { storage_bytes: limits.storage_bytes + 1, ..status.usage.clone() },
        ..status
    };
    assert!(StorageMeter::new(&over, vec![]).over);
    let tiny = CloudLicenceStatus { usage: CloudUsage { storage_bytes: 7008, ..over.usage.clone() }, ..over };
    assert_eq!(StorageMeter::new(&tiny, vec![]).percent_text, "< 0.1");
}
