//! The web portal's browser security and serving (issue 15), against the
//! router over real HTTP: the session cookie's flags, the CSRF refusal, the
//! idle expiry with the injected clock, the security headers and the
//! embedded UI (content types, caching, compression, the SPA fallback for
//! the reset link). Needs `ui/dist` built before cargo (scripts/test does).
//! Run: `cargo test -p meterdeck-cloud --test portal_web`.

mod api_support;

use api_support::Env;
use meterdeck_cloud::api::browser::{CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_of};
use reqwest::Method;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

/// The `Set-Cookie` values of a reply.
fn set_cookies(h: &HeaderMap) -> Vec<String> {
    h.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

fn cookie<'a>(all: &'a [String], name: &str) -> &'a str {
    all.iter().find(|c| c.starts_with(&format!("{name}="))).unwrap_or_else(|| panic!("no {name} cookie in {all:?}"))
}

fn value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string()
}

/// Signs in as the portal does; returns (session token, CSRF token, Set-Cookie values).
async fn browser_login(env: &Env, account: &str, user: &str, password: &str) -> (String, String, Vec<String>) {
    let r = env
        .req_with(
            Method::POST,
            "/login",
            &[("X-Meterdeck-Session", "cookie")],
            Some(json!({"account": account, "user": user, "password": password})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["token"], "", "the token must not reach the page's script: {}", r.text);
    let all = set_cookies(&r.headers);
    let session = value(cookie(&all, SESSION_COOKIE));
    let csrf = value(cookie(&all, CSRF_COOKIE));
    assert!(session.starts_with("mds_"), "{all:?}");
    (session, csrf, all)
}

async fn with_cookie(
    env: &Env,
    method: Method,
    path: &str,
    session: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> api_support::Reply {
    let c = format!("{SESSION_COOKIE}={session}; {CSRF_COOKIE}={}", csrf_of(session));
    let mut h: Vec<(&str, &str)> = vec![("Cookie", &c)];
    if let Some(t) = csrf {
        h.push((CSRF_HEADER, t));
    }
    env.req_with(method, path, &h, body).await
}

#[tokio::test]
async fn the_session_cookie_is_httponly_samesite_strict_and_secure_under_tls() {
    let env = Env::start_portal(false).await;
    env.account("acme").await;
    let (session, csrf, all) = browser_login(&env, "acme", "boss", "Admin-pass1").await;
    let s = cookie(&all, SESSION_COOKIE);
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(s.contains(flag), "{flag} missing in {s}");
    }
    assert!(!s.contains("Secure"), "plain HTTP: a Secure cookie would never come back: {s}");
    assert!(!s.contains("Max-Age") && !s.contains("Expires"), "the server ends the session, not a date: {s}");
    let c = cookie(&all, CSRF_COOKIE);
    assert!(!c.contains("HttpOnly") && c.contains("SameSite=Strict"), "the portal's script reads it: {c}");
    assert_eq!(csrf, csrf_of(&session));

    // The cookie signs the browser in; the API says by what.
    let r = with_cookie(&env, Method::GET, "/me", &session, None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["user"]["id"], "boss");
    assert_eq!(r.json()["via"], "session");

    // Under TLS the same cookies are Secure.
    let tls = Env::start_portal(true).await;
    tls.account("acme").await;
    let (_, _, all) = browser_login(&tls, "acme", "boss", "Admin-pass1").await;
    assert!(cookie(&all, SESSION_COOKIE).contains("Secure") && cookie(&all, CSRF_COOKIE).contains("Secure"), "{all:?}");

    // API clients are unchanged: a token in the body, no cookie.
    let r = env.post("/login", None, json!({"account": "acme", "user": "boss", "password": "Admin-pass1"})).await;
    assert!(r.json()["token"].as_str().unwrap().starts_with("mds_"));
    assert!(set_cookies(&r.headers).is_empty(), "{:?}", r.headers);
}

#[tokio::test]
async fn a_change_by_cookie_without_the_csrf_token_is_refused_and_logged() {
    let env = Env::start_portal(false).await;
    let admin = env.account("acme").await;
    let (session, csrf, _) = browser_login(&env, "acme", "boss", "Admin-pass1").await;
    let body = json!({"id": "eve", "name": "Eve", "email": "eve@example.com", "role": "member"});

    // No header, a wrong one, another session's: 403 with the reason, nothing made.
    for bad in [None, Some("0000"), Some(&csrf_of("mds_someone_else")[..])] {
        let r = with_cookie(&env, Method::POST, "/users", &session, bad, Some(body.clone())).await;
        assert_eq!(r.status, 403, "{bad:?}: {}", r.text);
        assert_eq!(r.json()["code"], "csrf");
        assert!(r.error().contains(CSRF_HEADER), "{}", r.error());
    }
    let users = env.get("/users", &admin).await.json();
    assert!(!users.to_string().contains("\"eve\""), "a refused request changed something: {users}");
    // Reading needs no token.
    assert_eq!(with_cookie(&env, Method::GET, "/users", &session, None, None).await.status, 200);
    // With the token it works.
    let r = with_cookie(&env, Method::POST, "/users", &session, Some(&csrf), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A bearer client needs no CSRF token (a browser never adds the header by itself).
    let r = env.post("/teams", Some(&admin), json!({"id": "ops", "name": "Ops"})).await;
    assert!(r.status.is_success(), "{}", r.text);

    // The refusals are in the access log like any API call (same audit).
    let log = env.get("/access-log?limit=500", &admin).await.json();
    let refused = log["entries"]
        .as_array()
        .or_else(|| log.as_array())
        .unwrap_or_else(|| panic!("access log shape: {log}"))
        .iter()
        .filter(|e| e["path"] == "/api/v1/users" && e["method"] == "POST" && e["status"] == 403)
        .count();
    assert_eq!(refused, 3, "{log}");

    // Logout is a change too; it ends the session and clears the cookies.
    assert_eq!(with_cookie(&env, Method::POST, "/logout", &session, None, None).await.status, 403);
    let r = with_cookie(&env, Method::POST, "/logout", &session, Some(&csrf), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let cleared = set_cookies(&r.headers);
    assert!(cookie(&cleared, SESSION_COOKIE).contains("Max-Age=0"), "{cleared:?}");
    assert_eq!(with_cookie(&env, Method::GET, "/me", &session, None, None).await.status, 401);
}

#[tokio::test]
async fn a_browser_session_ends_after_24_hours_idle_and_the_cookie_is_cleared() {
    let env = Env::start_portal(false).await;
    env.account("acme").await;
    let (session, _, _) = browser_login(&env, "acme", "boss", "Admin-pass1").await;
    // Activity keeps it: 23 h, a request, 23 h more.
    env.clock.advance(23 * 3600 * 1000);
    assert_eq!(with_cookie(&env, Method::GET, "/me", &session, None, None).await.status, 200);
    env.clock.advance(23 * 3600 * 1000);
    assert_eq!(with_cookie(&env, Method::GET, "/me", &session, None, None).await.status, 200);
    // 24 h and a second without a request: out.
    env.clock.advance(24 * 3600 * 1000 + 1000);
    let r = with_cookie(&env, Method::GET, "/agents", &session, None, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.error().contains("24 hours"), "{}", r.error());
    let cleared = set_cookies(&r.headers);
    assert!(cookie(&cleared, SESSION_COOKIE).contains("Max-Age=0"), "the browser must forget it: {cleared:?}");
}

fn root(env: &Env) -> String {
    env.base.trim_end_matches("/api/v1").to_string()
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = reqwest::Client::new().get(url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn the_portal_is_served_with_a_strict_csp_caching_compression_and_its_routes() {
    assert!(
        meterdeck_cloud::web::ui_built(),
        "this build has no ui/dist: run `npm ci && npm run build` in ui/ before cargo (scripts/test does)"
    );
    let env = Env::start_portal(false).await;
    let base = root(&env);

    let r = get(&format!("{base}/"), &[]).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    for part in
        ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]
    {
        assert!(csp.contains(part), "{part} missing in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(h["cache-control"], "no-cache", "a new build must be picked up");
    let html = r.text().await.unwrap();
    // What the CSP would block: inline scripts, inline handlers, style attributes or blocks.
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..i + lower[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "an inline script in index.html: {tag}");
    }
    assert!(!lower.contains("<style"), "an inline style block in index.html");
    assert!(!lower.contains(" style="), "a style attribute in index.html");
    assert!(!regex_like_handler(&lower), "an inline event handler in index.html");

    // The bundle: hashed, immutable, compressed.
    let js = html.split('"').find(|s| s.contains("assets/") && s.ends_with(".js")).expect("a script in index.html");
    let js_url = format!("{base}/{}", js.trim_start_matches("./").trim_start_matches('/'));
    let r = get(&js_url, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(r.status(), 200, "{js_url}");
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"), "{:?}", r.headers());
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(r.headers().contains_key("content-security-policy"));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = get(&js_url, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    let r = get(&js_url, &[("Accept-Encoding", "br")]).await;
    assert_eq!(r.headers()["content-encoding"], "br");

    // The reset mail's link and the UI's routes get the page; files that do not exist a 404.
    let r = get(&format!("{base}/reset?account=acme&user=ann&code=abc"), &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), html);
    assert_eq!(get(&format!("{base}/agents"), &[]).await.status(), 200);
    assert_eq!(get(&format!("{base}/assets/nope-123.js"), &[]).await.status(), 404);
    // A view-only link's page (its token has a dot) and the bundle it asks
    // for relative to itself (`/v/assets/...`).
    let r = get(&format!("{base}/v/eyJhZyI6ImEifQ.c2ln"), &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), html);
    let nested = format!("{base}/v/{}", js.trim_start_matches("./").trim_start_matches('/'));
    assert_eq!(get(&nested, &[]).await.status(), 200, "{nested}");
    // The API keeps its JSON 404s and its no-store.
    let r = get(&format!("{base}/api/v1/nope"), &[]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("no such endpoint"));
    let r = get(&format!("{base}/api/v2/agents"), &[]).await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("no such endpoint"));
    // Only GET and HEAD on the portal.
    let r = reqwest::Client::new().post(format!("{base}/reset")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

/// ` onclick=`-like attributes (an inline handler) anywhere in the page.
fn regex_like_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    })
}
