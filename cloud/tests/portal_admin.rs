//! What the web portal's administration needs of the API (issue 15),
//! against the router over real HTTP with real SQLite files / PostgreSQL
//! and the aiosmtpd peer:
//! - an invitation mails the temporary password (never answered to the
//!   admin) and the first sign-in must change it; an invitation that cannot
//!   be mailed creates nobody;
//! - `X-Forwarded-Proto: https` from a trusted proxy makes the session
//!   cookie Secure, from anyone else it changes nothing;
//! - the access log's filters and pages run in the database: entries older
//!   than the newest 10,000 are found (12,000 rows inserted in one SQL
//!   statement), on SQLite and PostgreSQL;
//! - the ZIP export holds each channel's CSV as the CSV route gives it,
//!   with the same grants;
//! - the notifications route says what the cloud mails and to whom.
//!
//! Run: `cargo test -p meterdeck-cloud --test portal_admin`
//! (PostgreSQL at MD_PG_URL, as the other API tests).

mod api_support;

use std::io::Read;

use api_support::{Db, Env};
use reqwest::Method;
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};

fn password_in(mail: &Value) -> String {
    let body = mail["body"].as_str().unwrap_or_default();
    let line = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .unwrap_or_else(|| panic!("no password in {body}"));
    line.trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_mails_the_temporary_password_and_the_first_sign_in_changes_it() {
    let mut env = Env::start(true).await;
    let admin = env.account("acme").await;
    let r = env
        .post(
            "/users",
            Some(&admin),
            json!({"id": "bob", "name": "Bob", "email": "bob@acme.test", "role": "member", "invite": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let j = r.json();
    assert_eq!(j["invited"], "bob@acme.test");
    assert_eq!(j["temporary_password"], "", "an invited user's password must reach only their mailbox: {}", r.text);
    assert_eq!(j["user"]["must_change"], true);

    let mail = env.smtp.as_ref().unwrap().next_mail();
    assert_eq!(mail["rcpt_tos"], json!(["bob@acme.test"]), "{mail}");
    assert!(mail["subject"].as_str().unwrap().contains("acme"), "{mail}");
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("https://cloud.meterdeck.test/") && body.contains("user:     bob"), "{body}");
    let temp = password_in(&mail);
    assert!(temp.len() >= 8, "{temp:?}");

    // The first sign-in must choose a password; then it is a full session.
    let (tok, pending) = env.login("acme", "bob", &temp).await;
    assert_eq!(pending, "change_password");
    assert_eq!(env.get("/agents", &tok).await.status, 403, "usable before the change");
    let r = env.post("/password", Some(&tok), json!({"current": temp, "new": "Bobs-own-1"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, pending) = env.login("acme", "bob", "Bobs-own-1").await;
    assert_eq!(pending, Value::Null);

    // No address: refused, nobody created.
    let r =
        env.post("/users", Some(&admin), json!({"id": "nomail", "name": "N", "role": "viewer", "invite": true})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error().contains("email address"), "{}", r.text);
    // The mail server gone: the invitation fails and takes the user with it.
    drop(env.smtp.take());
    let r = env
        .post(
            "/users",
            Some(&admin),
            json!({"id": "carol", "name": "C", "email": "carol@acme.test", "role": "member", "invite": true}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.error().contains("carol@acme.test") && r.error().contains("not created"), "{}", r.text);
    let ids: Vec<String> = env.store.users("acme").await.unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(ids, ["bob", "boss"], "a failed invitation left a user behind");
    // Without `invite` the old way still answers the password once.
    let r = env.post("/users", Some(&admin), json!({"id": "dave", "name": "D", "role": "viewer"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json()["temporary_password"].as_str().unwrap().len() >= 8 && r.json()["invited"].is_null());
}

#[tokio::test]
async fn a_server_without_mail_refuses_invitations_and_creates_nobody() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let r = env
        .post(
            "/users",
            Some(&admin),
            json!({"id": "bob", "name": "Bob", "email": "bob@acme.test", "role": "member", "invite": true}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.error().contains("--smtp"), "{}", r.text);
    assert_eq!(env.store.users("acme").await.unwrap().len(), 1);
}

/// The Secure flag of the session cookie a cookie login answers with.
async fn login_cookie_secure(env: &Env, extra: &[(&str, &str)]) -> bool {
    let mut h = vec![("X-Meterdeck-Session", "cookie")];
    h.extend_from_slice(extra);
    let r = env
        .req_with(
            Method::POST,
            "/login",
            &h,
            Some(json!({"account": "acme", "user": "boss", "password": "Admin-pass1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookies: Vec<String> = r.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = cookies.iter().find(|c| c.starts_with("md_session=")).unwrap_or_else(|| panic!("{cookies:?}"));
    let csrf = cookies.iter().find(|c| c.starts_with("md_csrf=")).unwrap();
    assert_eq!(session.contains("; Secure"), csrf.contains("; Secure"), "{cookies:?}");
    session.contains("; Secure")
}

#[tokio::test]
async fn forwarded_proto_https_makes_the_cookie_secure_only_from_a_trusted_proxy() {
    // The test's requests come from 127.0.0.1: here that is the proxy.
    let env = Env::start_behind_proxy(&["127.0.0.1/32"]).await;
    env.account("acme").await;
    assert!(!login_cookie_secure(&env, &[]).await, "plain HTTP without the proxy's word");
    assert!(login_cookie_secure(&env, &[("X-Forwarded-Proto", "https")]).await);
    assert!(!login_cookie_secure(&env, &[("X-Forwarded-Proto", "http")]).await);
    // Logout clears the cookies with the same flag.
    let r = env
        .req_with(
            Method::POST,
            "/login",
            &[("X-Meterdeck-Session", "cookie")],
            Some(json!({"account": "acme", "user": "boss", "password": "Admin-pass1"})),
        )
        .await;
    let cookies: Vec<String> = r.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let pair =
        |name: &str| cookies.iter().find(|c| c.starts_with(name)).unwrap().split(';').next().unwrap().to_string();
    let (session, csrf) = (pair("md_session="), pair("md_csrf="));
    let token = csrf.split_once('=').unwrap().1.to_string();
    let cookie = format!("{session}; {csrf}");
    let r = env
        .req_with(
            Method::POST,
            "/logout",
            &[("Cookie", &cookie), ("X-CSRF-Token", &token), ("X-Forwarded-Proto", "https")],
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let gone: Vec<String> = r.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(gone.iter().all(|c| c.contains("Max-Age=0") && c.contains("; Secure")), "{gone:?}");

    // No proxy configured (the default): the header is anyone's word, ignored.
    let plain = Env::start(false).await;
    plain.account("acme").await;
    assert!(!login_cookie_secure(&plain, &[("X-Forwarded-Proto", "https")]).await);
    // A proxy configured, but the request is not from it.
    let elsewhere = Env::start_behind_proxy(&["10.0.0.0/8"]).await;
    elsewhere.account("acme").await;
    assert!(!login_cookie_secure(&elsewhere, &[("X-Forwarded-Proto", "https")]).await);
}

/// Entries written straight into the database in one statement: `n` by
/// `user` on `path`, at t0, t0+1, ... (fast: no request per entry).
async fn bulk_log(env: &Env, db: Db, user: &str, path: &str, t0: i64, n: i64) {
    match db {
        Db::Sqlite => {
            let file = env.url.strip_prefix("sqlite:").unwrap().to_string();
            let (user, path) = (user.to_string(), path.to_string());
            tokio::task::spawn_blocking(move || {
                let c = rusqlite::Connection::open(file).unwrap();
                c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                c.execute(
                    "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?1)
                     INSERT INTO access_log (t_ms, account, user, ip, method, path, status)
                     SELECT ?2 + i, 'acme', ?3, '192.0.2.7', 'GET', ?4, 200 FROM g",
                    rusqlite::params![n, t0, user, path],
                )
                .unwrap();
            })
            .await
            .unwrap();
        }
        Db::Postgres => {
            let (client, conn) = tokio_postgres::connect(&env.url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            client
                .execute(
                    "INSERT INTO access_log (t_ms, account, app_user, ip, method, path, status)
                     SELECT $1 + g, 'acme', $2, '192.0.2.7', 'GET', $3, 200 FROM generate_series(0::bigint, $4::bigint - 1) g",
                    &[&t0, &user, &path, &n],
                )
                .await
                .unwrap();
        }
    }
}

async fn log_page(env: &Env, admin: &str, query: &str) -> Vec<Value> {
    let r = env.get(&format!("/access-log?{query}"), admin).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json().as_array().unwrap().clone()
}

async fn access_log_filters_run_in_the_database(db: Db) {
    let env = Env::start_on(db, false, "access_log_query").await;
    let admin = env.account("acme").await;
    let t0: i64 = 1_700_000_000_000;
    // 300 old entries of a user, then 12,000 newer ones of another: the old
    // ones lie beyond the newest 10,000.
    bulk_log(&env, db, "old-user", "/api/v1/Needle_%/x", t0, 300).await;
    bulk_log(&env, db, "busy", "/api/v1/agents", t0 + 1_000_000, 12_000).await;

    let old = log_page(&env, &admin, "user=old-user&limit=1000").await;
    assert_eq!(old.len(), 300, "entries beyond the newest 10,000 must be found");
    assert_eq!(old[0]["t_ms"], t0 + 299, "newest first");
    assert_eq!(old[299]["t_ms"], t0);
    // The action text, case-insensitive; '%' and '_' are plain characters.
    assert_eq!(log_page(&env, &admin, "action=get%20%2Fapi%2Fv1%2FNEEDLE_%25&limit=1000").await.len(), 300);
    assert_eq!(log_page(&env, &admin, "action=needle%25%25&limit=1000").await.len(), 0);
    assert_eq!(log_page(&env, &admin, "action=needlex&limit=10").await.len(), 0);
    // Time range and paging, combined with the user.
    let range = log_page(&env, &admin, &format!("user=old-user&from={}&to={}&limit=1000", t0 + 100, t0 + 110)).await;
    assert_eq!(
        range.iter().map(|e| e["t_ms"].as_i64().unwrap()).collect::<Vec<_>>(),
        (t0 + 100..t0 + 110).rev().collect::<Vec<_>>()
    );
    let page = log_page(&env, &admin, "user=old-user&offset=290&limit=50").await;
    assert_eq!(page.len(), 10);
    assert_eq!(page[9]["t_ms"], t0);
    // Paging deep into the whole log, past 10,000.
    let deep = log_page(&env, &admin, "offset=12100&limit=50").await;
    assert_eq!(deep.len(), 50);
    assert!(deep.iter().all(|e| e["user"] == "old-user"), "{deep:?}");
    // Unfiltered: the newest first, as before.
    let newest = log_page(&env, &admin, "limit=3").await;
    assert_eq!(newest.len(), 3);

    // Bad input: a clear refusal.
    for (q, says) in [("limit=0", "limit"), ("limit=10001", "limit"), ("offset=10000001", "offset"), ("from=x", "from")]
    {
        let r = env.get(&format!("/access-log?{q}"), &admin).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert!(r.error().contains(says), "{q}: {}", r.text);
    }
    let long = "x".repeat(201);
    let r = env.get(&format!("/access-log?action={long}"), &admin).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_filters_run_in_sqlite() {
    access_log_filters_run_in_the_database(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_filters_run_in_postgres() {
    access_log_filters_run_in_the_database(Db::Postgres).await;
}

async fn get_bytes(env: &Env, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let r = env.http.get(format!("{}{path}", env.base)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a readable ZIP");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zip_export_holds_each_channels_csv_with_the_same_grants() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let t0 = 1_800_000_000_000;
    let (ag1, ch1) = env.agent_with_data(&admin, "Site 1", t0, 3000).await;
    let (ag2, ch2) = env.agent_with_data(&admin, "Site 2", t0 + 500, 1200).await;
    let (from, to) = (t0 + 100_000, t0 + 2_000_000);
    let range = format!("from={from}&to={to}");

    let (status, ct, bytes) = get_bytes(&env, &format!("/channels/{ch1},{ch2}/zip?{range}"), &admin).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "application/zip");
    let files = unzip(&bytes);
    assert_eq!(files.len(), 2);
    for ((name, text), (agent, ch)) in files.iter().zip([(&ag1, ch1), (&ag2, ch2)]) {
        assert_eq!(name, &format!("{agent}-dev_temp.csv"));
        let csv = env.get(&format!("/channels/{ch}/csv?{range}"), &admin).await;
        assert_eq!(csv.status, 200);
        assert_eq!(text, &csv.text, "the ZIP's {name} differs from the CSV route's");
        assert!(text.lines().count() > 1000, "{name}: {} lines", text.lines().count());
    }
    // Without a range: each channel's whole span.
    let (status, _, bytes) = get_bytes(&env, &format!("/channels/{ch2}/zip"), &admin).await;
    assert_eq!(status, 200);
    assert_eq!(unzip(&bytes)[0].1.lines().count(), 1201);

    // A viewer granted Site 1 only: Site 2 does not exist for them, and one
    // hidden channel refuses the whole export.
    let viewer = env.user(&admin, "acme", "vie", "viewer", "").await;
    let r =
        env.post("/groups", Some(&admin), json!({"id": "g1", "name": "G", "agents": [ag1], "users": ["vie"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (status, _, _) = get_bytes(&env, &format!("/channels/{ch1}/zip?{range}"), &viewer).await;
    assert_eq!(status, 200);
    let (status, _, body) = get_bytes(&env, &format!("/channels/{ch1},{ch2}/zip?{range}"), &viewer).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains(&format!("channel {ch2} not found")));
    // Another account sees nothing of it.
    let other = env.account("other").await;
    assert_eq!(get_bytes(&env, &format!("/channels/{ch1}/zip"), &other).await.0, 404);

    // Bad input, each with the reason.
    let many = (1..=65).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    for (path, says) in [
        (format!("/channels/{ch1},x/zip"), "is not a number"),
        (format!("/channels/{many}/zip"), "at most 64"),
        (format!("/channels/{ch1}/zip?from={to}&to={from}"), "before"),
        (format!("/channels/{ch1}/zip?from=yesterday"), "from"),
    ] {
        let (status, _, body) = get_bytes(&env, &path, &admin).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{path}: {text}");
        assert!(text.contains(says), "{path}: {text}");
    }
}

#[tokio::test]
async fn notifications_say_what_the_cloud_mails_and_to_whom() {
    let env = Env::start(true).await;
    let admin = env.account("acme").await;
    let member = env.user(&admin, "acme", "mem", "member", "mem@acme.test").await;
    let r = env.post("/users", Some(&admin), json!({"id": "quiet", "name": "Q", "role": "admin"})).await;
    assert_eq!(r.status, 201, "{}", r.text);

    let n = env.get("/notifications", &admin).await.json();
    assert_eq!(n["mail"], true);
    assert_eq!(n["recipients"], json!([{"user": "boss", "name": "boss", "email": "boss@example.com"}]));
    assert_eq!(n["admins_without_email"], json!(["quiet"]));
    assert_eq!(n["receives_account_notices"], true);
    let kinds: Vec<&str> = n["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    for k in ["traffic-90", "expiry-reminder", "over-capacity", "password-reset", "invitation"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // A member learns where notices go, not the admins' addresses.
    let m = env.get("/notifications", &member).await.json();
    assert_eq!(m["recipients"][0]["email"], Value::Null);
    assert_eq!(m["own_email"], "mem@acme.test");
    assert_eq!(m["receives_account_notices"], false);
    // Without a mail server it says so.
    let quiet = Env::start(false).await;
    let a = quiet.account("acme").await;
    assert_eq!(quiet.get("/notifications", &a).await.json()["mail"], false);
}
