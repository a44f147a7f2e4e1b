//! Login flows over real HTTP: temporary password, TOTP, email code (real
//! aiosmtpd), reset link and its expiry, session idle expiry, logout,
//! data endpoints, health, the OpenAPI document and the access log.
//! Run: `cargo test -p meterdeck-cloud --test api_flows`.

mod api_support;

use api_support::Env;
use meterdeck_cloud::auth::totp;
use reqwest::Method;
use serde_json::json;

const HOUR: i64 = 3600 * 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_password_must_be_changed_first() {
    let env = Env::start(false).await;
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "acme", "Acme", "pro", "boss", "boss@example.com")
        .await
        .unwrap();
    let (tok, pending) = env.login("acme", "boss", &temp).await;
    assert_eq!(pending, "change_password");
    // Nothing else works until the password is changed.
    let r = env.get("/me", &tok).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("temporary password"), "{}", r.error());
    let r = env.get("/agents", &tok).await;
    assert_eq!(r.status, 403);
    // The policy names what is missing.
    let r = env.post("/password", Some(&tok), json!({"current": temp, "new": "short"})).await;
    assert_eq!(r.status, 400);
    let e = r.error();
    assert!(e.contains("at least 8 characters") && e.contains("a digit") && e.contains("upper-case"), "{e}");
    let r = env.post("/password", Some(&tok), json!({"current": "wrong", "new": "Good-pass1"})).await;
    assert_eq!(r.status, 403);
    let r = env.post("/password", Some(&tok), json!({"current": temp, "new": "Good-pass1"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.get("/me", &tok).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["user"]["role"], "admin");
    assert_eq!(r.json()["user"]["must_change"], false);
    // The temporary password is gone; the new one logs in fully.
    let r = env.post("/login", None, json!({"account": "acme", "user": "boss", "password": temp})).await;
    assert_eq!(r.status, 401);
    let (_, pending) = env.login("acme", "boss", "Good-pass1").await;
    assert!(pending.is_null());

    // An admin gives a user who lost the password a new temporary one.
    let bob = env.user(&tok, "acme", "bob", "viewer", "").await;
    let r = env.post("/users/bob/temporary-password", Some(&tok), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let temp = r.json()["temporary_password"].as_str().unwrap().to_string();
    assert_eq!(env.get("/me", &bob).await.status, 401, "the old session ended with the temporary password");
    env.first_login("acme", "bob", &temp, "Bob-pass22").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_second_factor() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let r = env.post("/me/totp", Some(&admin), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.json()["secret"].as_str().unwrap().to_string();
    assert!(r.json()["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let r = env.post("/me/totp/confirm", Some(&admin), json!({"code": "000000"})).await;
    assert!(r.status == 400 || totp::code_at(&secret, env.clock_now()).unwrap() == "000000");
    let code = totp::code_at(&secret, env.clock_now()).unwrap();
    let r = env.post("/me/totp/confirm", Some(&admin), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let (tok, pending) = env.login("acme", "boss", "Admin-pass1").await;
    assert_eq!(pending, "code");
    let r = env.get("/me", &tok).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("second-factor"), "{}", r.error());
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let r = env.post("/login/code", Some(&tok), json!({"code": wrong})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // The code that confirmed the app is spent for its 30 s step: someone
    // who saw it cannot log in with it (issue 19).
    let r = env.post("/login/code", Some(&tok), json!({"code": code})).await;
    assert_eq!(r.status, 401, "the confirming code replayed: {}", r.text);
    env.clock.advance(30_000);
    let code = totp::code_at(&secret, env.clock_now()).unwrap();
    let r = env.post("/login/code", Some(&tok), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["pending"].is_null());
    assert_eq!(env.get("/me", &tok).await.status, 200);
    // The same code cannot be used again (replay), the next one can.
    let (tok, _) = env.login("acme", "boss", "Admin-pass1").await;
    let r = env.post("/login/code", Some(&tok), json!({"code": code})).await;
    assert_eq!(r.status, 401, "replayed code: {}", r.text);
    env.clock.advance(30_000);
    let next = totp::code_at(&secret, env.clock_now()).unwrap();
    let r = env.post("/login/code", Some(&tok), json!({"code": next})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Code guesses are throttled, and logging in again does not reset that.
    for i in 0..5 {
        let (tok, _) = env.login("acme", "boss", "Admin-pass1").await;
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let r = env.post("/login/code", Some(&tok), json!({"code": guess})).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = env.post("/login", None, json!({"account": "acme", "user": "boss", "password": "Admin-pass1"})).await;
    assert_eq!(r.status, 429, "{}", r.text);
    env.clock.advance(16 * 60 * 1000);
    // A login left at the code step ends after 15 minutes.
    let (tok, _) = env.login("acme", "boss", "Admin-pass1").await;
    env.clock.advance(16 * 60 * 1000);
    let code = totp::code_at(&secret, env.clock_now()).unwrap();
    let r = env.post("/login/code", Some(&tok), json!({"code": code})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.error().contains("15 minutes"), "{}", r.error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_code_and_reset_link_by_real_smtp() {
    let env = Env::start(true).await;
    let admin = env.account("acme").await;
    let _ann = env.user(&admin, "acme", "ann", "member", "ann@example.com").await;
    let r = env.req(Method::PATCH, "/users/ann", Some(&admin), Some(json!({"two_factor": "email"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Email code.
    let (tok, pending) = env.login("acme", "ann", "User-pass1").await;
    assert_eq!(pending, "code");
    let mail = env.smtp.as_ref().unwrap().next_mail();
    assert_eq!(mail["rcpt_tos"][0], "ann@example.com");
    let body = mail["body"].as_str().unwrap();
    let code: String =
        body.split_whitespace().find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit())).unwrap().into();
    let r = env.post("/login/code", Some(&tok), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(env.get("/me", &tok).await.status, 200);
    // Used once: the same code does not log in a second session.
    let (tok2, _) = env.login("acme", "ann", "User-pass1").await;
    let _ = env.smtp.as_ref().unwrap().next_mail();
    let r = env.post("/login/code", Some(&tok2), json!({"code": code})).await;
    // A new code was mailed; the old one is replaced (unless equal by chance).
    assert!(r.status == 401 || r.status == 200);
    // Expiry: 10 minutes.
    let (tok3, _) = env.login("acme", "ann", "User-pass1").await;
    let mail = env.smtp.as_ref().unwrap().next_mail();
    let code: String = mail["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .into();
    env.clock.advance(11 * 60 * 1000);
    let r = env.post("/login/code", Some(&tok3), json!({"code": code})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.error().contains("expired"), "{}", r.error());

    // Reset link: valid 30 minutes, once.
    let link = |mail: serde_json::Value| -> String {
        let body = mail["body"].as_str().unwrap().to_string();
        let url =
            body.split_whitespace().find(|w| w.starts_with("https://cloud.meterdeck.test/reset?")).unwrap().to_string();
        url.split("code=").nth(1).unwrap().to_string()
    };
    let r = env.post("/password/reset-request", None, json!({"account": "acme", "user": "ann"})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let code = link(env.smtp.as_ref().unwrap().next_mail());
    env.clock.advance(31 * 60 * 1000);
    let r = env
        .post("/password/reset", None, json!({"account": "acme", "user": "ann", "code": code, "new": "Reset-pass2"}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("30 minutes"), "{}", r.error());
    let r = env.post("/password/reset-request", None, json!({"account": "acme", "user": "ann"})).await;
    assert_eq!(r.status, 202);
    let code = link(env.smtp.as_ref().unwrap().next_mail());
    env.clock.advance(29 * 60 * 1000);
    let r =
        env.post("/password/reset", None, json!({"account": "acme", "user": "ann", "code": code, "new": "weak"})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("a digit"), "{}", r.error());
    let forged = json!({"account": "acme", "user": "ann", "code": "forged", "new": "Reset-pass2"});
    assert_eq!(env.post("/password/reset", None, forged).await.status, 400, "a forged code fails...");
    // ...and does not spoil the real link:
    let r = env
        .post("/password/reset", None, json!({"account": "acme", "user": "ann", "code": code, "new": "Reset-pass2"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env
        .post("/password/reset", None, json!({"account": "acme", "user": "ann", "code": code, "new": "Reset-pass3"}))
        .await;
    assert_eq!(r.status, 400, "a link works once");
    let r = env.post("/login", None, json!({"account": "acme", "user": "ann", "password": "Reset-pass2"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Unknown users get the same answer and no mail.
    let r = env.post("/password/reset-request", None, json!({"account": "acme", "user": "nobody"})).await;
    assert_eq!(r.status, 202);
    // No mail-bombing: the 4th request within 15 minutes is refused.
    for _ in 0..3 {
        assert_eq!(
            env.post("/password/reset-request", None, json!({"account": "acme", "user": "ann"})).await.status,
            202
        );
        let _ = env.smtp.as_ref().unwrap().next_mail();
    }
    let r = env.post("/password/reset-request", None, json!({"account": "acme", "user": "ann"})).await;
    assert_eq!(r.status, 429, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_after_24h_idle_and_on_logout() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    env.clock.advance(23 * HOUR);
    assert_eq!(env.get("/me", &admin).await.status, 200);
    env.clock.advance(23 * HOUR);
    assert_eq!(env.get("/me", &admin).await.status, 200, "activity keeps the session");
    env.clock.advance(24 * HOUR + 1000);
    let r = env.get("/me", &admin).await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("24 hours"), "{}", r.error());
    assert_eq!(env.get("/me", &admin).await.status, 401, "stays expired");

    let (tok, _) = env.login("acme", "boss", "Admin-pass1").await;
    // API tokens act as their user and survive the session's logout.
    let r = env.post("/tokens", Some(&tok), json!({"name": "script"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let api = r.json()["token"].as_str().unwrap().to_string();
    assert!(api.starts_with("mdt_"));
    assert_eq!(env.req(Method::POST, "/logout", Some(&tok), None).await.status, 204);
    let r = env.get("/me", &tok).await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("log in again"), "{}", r.error());
    let r = env.get("/me", &api).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["via"], "token");
    let id = env.get("/tokens", &api).await.json()[0]["id"].as_str().unwrap().to_string();
    assert_eq!(env.req(Method::DELETE, &format!("/tokens/{id}"), Some(&api), None).await.status, 204);
    assert_eq!(env.get("/me", &api).await.status, 401, "revoked token refused");
    assert_eq!(env.get("/me", "mds_forged").await.status, 401);
    assert_eq!(env.get("/me", "Basic x").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_data_csv_health_openapi_and_log() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let t0 = 1_800_000_000_000;
    let (agent, ch) = env.agent_with_data(&admin, "Site 1", t0, 100).await;
    assert_eq!(env.broker.changes.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(agent.starts_with("a-") && agent.len() == 18);
    let stored = env.store.agent(&agent).await.unwrap().unwrap();
    assert!(meterdeck_cloud::admin::is_mosquitto_hash(&stored.broker_hash));

    let r = env.get("/agents", &admin).await;
    assert_eq!(r.status, 200);
    let a = &r.json()[0];
    assert_eq!(a["id"], agent.as_str());
    assert_eq!(a["sync"]["samples"], 100);
    assert_eq!(a["online"], true);
    assert!(a["traffic_bytes"].as_u64().unwrap() > 0);
    // Not a gateway: no allowance (tests/licence_api.rs gives one a Remote plan).
    assert_eq!(a["traffic_allowance"], serde_json::Value::Null);
    assert_eq!(a["topic_prefix"], format!("md/v1/{agent}"));
    env.clock.advance(3 * 60 * 1000);
    assert_eq!(env.get("/agents", &admin).await.json()[0]["online"], false);

    let r = env.get(&format!("/agents/{agent}/channels"), &admin).await;
    assert_eq!(r.json()[0]["path"], "dev/temp");
    let r = env.get(&format!("/channels/{ch}/raw?from={}&to={}&limit=10", t0 + 5000, t0 + 50_000), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let pts = r.json()["points"].as_array().unwrap().clone();
    assert_eq!(pts.len(), 10);
    assert_eq!(pts[0]["t"], t0 + 5000);
    assert_eq!(pts[0]["v"], 2.5);
    let r = env.get(&format!("/channels/{ch}/raw?from=2027-01-15T08:00:00Z&to={}", t0 + 3000), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.get(&format!("/channels/{ch}/minmax?buckets=4"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json()["buckets"].as_array().unwrap().clone();
    assert_eq!(b.len(), 4);
    assert_eq!(b.iter().map(|x| x["count"].as_u64().unwrap()).sum::<u64>(), 100);
    let r = env.get(&format!("/channels/{ch}/latest"), &admin).await;
    assert_eq!(r.json()["point"]["v"], 49.5);
    let r = env.get(&format!("/channels/{ch}/csv?from={t0}&to={}", t0 + 2000), &admin).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(r.text, "time,\"dev/temp [°C]\"\n2027-01-15T08:00:00.000Z,0\n2027-01-15T08:00:01.000Z,0.5\n");
    let r = env.get(&format!("/channels/{ch}/raw?from=yesterday"), &admin).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("ISO-8601"), "{}", r.error());
    let r = env.get(&format!("/channels/{ch}/minmax?buckets=0"), &admin).await;
    assert_eq!(r.status, 400);
    let r = env.get(&format!("/channels/{ch}/minmax?from={}&to={}&buckets=3", i64::MIN, i64::MAX), &admin).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error().contains("years 0 to 9999"), "{}", r.error());
    // The widest allowed span works.
    let r = env
        .get(&format!("/channels/{ch}/minmax?from=0000-01-01T00:00:00Z&to=9999-12-31T00:00:00Z&buckets=20000"), &admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.get(&format!("/channels/{ch}/raw?from=-62167219200000&to=253402300799999&limit=100000"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.get(&format!("/channels/{ch}/csv?from=-62167219200000&to=253402300799999"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Health: no token; 503 when the broker is down.
    let r = env.req(Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["database"]["ok"], true);
    env.broker.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = env.req(Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["broker"]["connected"], false);

    let r = env.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["paths"]["/api/v1/channels/{id}/minmax"]["get"].is_object());

    // Failed logins and authenticated requests are in the access log.
    let r = env.post("/login", None, json!({"account": "acme", "user": "boss", "password": "nope"})).await;
    assert_eq!(r.status, 401);
    let r = env.get("/access-log?limit=500", &admin).await;
    assert_eq!(r.status, 200);
    let log = r.json();
    let log = log.as_array().unwrap();
    assert!(log.iter().any(|e| e["path"] == "/api/v1/login" && e["status"] == 401 && e["user"] == "boss"));
    assert!(
        log.iter().any(|e| e["path"] == format!("/api/v1/channels/{ch}/latest")
            && e["status"] == 200
            && e["ip"] == "127.0.0.1")
    );
}
