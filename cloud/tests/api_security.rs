//! The security suite: every endpoint (walked from `api::ROUTES`, so a new
//! endpoint is covered by being listed) tried without a token, with
//! another account's token and with a viewer's and a member's; login
//! throttling; expired/forged tokens; malformed, huge and non-UTF-8
//! bodies; the IP allow-list; account deletion removing everything.
//! Run: `cargo test -p meterdeck-cloud --test api_security`.

mod api_support;

use api_support::{Db, Env};
use meterdeck_cloud::api::{Access, ROUTES, RouteDoc};
use reqwest::Method;
use serde_json::{Value, json};

struct Ids {
    user: String,
    team: String,
    group: String,
    agent: String,
    channel: i64,
    token: String,
    /// A measurement file of the agent.
    file: String,
    /// A dashboard board showing the agent's channel.
    board: i64,
}

fn fill(route: &RouteDoc, ids: &Ids) -> String {
    let id = if route.path.starts_with("/users/") {
        ids.user.clone()
    } else if route.path.starts_with("/teams/") {
        ids.team.clone()
    } else if route.path.starts_with("/groups/") {
        ids.group.clone()
    } else if route.path.starts_with("/agents/") {
        ids.agent.clone()
    } else if route.path.starts_with("/channels/") {
        ids.channel.to_string()
    } else if route.path.starts_with("/tokens/") {
        ids.token.clone()
    } else if route.path.starts_with("/files/") {
        ids.file.clone()
    } else if route.path.starts_with("/boards/") {
        ids.board.to_string()
    } else {
        String::new()
    };
    route.path.replace("{id}", &id)
}

fn method(r: &RouteDoc) -> Method {
    r.method.parse().unwrap()
}

fn body(r: &RouteDoc) -> Option<Value> {
    r.body.map(|b| serde_json::from_str(b).unwrap())
}

/// Account "acme" with an admin, a member, a viewer (granted agent 1 via a
/// team), two agents with data, a team, a group and an API token.
async fn acme(env: &Env) -> (String, String, String, Ids, Ids) {
    let admin = env.account("acme").await;
    let member = env.user(&admin, "acme", "mem", "member", "").await;
    let viewer = env.user(&admin, "acme", "vie", "viewer", "").await;
    let t0 = 1_800_000_000_000;
    let (ag1, ch1) = env.agent_with_data(&admin, "Site 1", t0, 50).await;
    let (ag2, ch2) = env.agent_with_data(&admin, "Site 2", t0, 50).await;
    let r = env.post("/teams", Some(&admin), json!({"id": "t1", "name": "Team 1", "members": ["vie"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = env
        .post("/groups", Some(&admin), json!({"id": "g1", "name": "Group 1", "agents": [ag1], "teams": ["t1"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = env.post("/tokens", Some(&admin), json!({"name": "admin script"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.json()["id"].as_str().unwrap().to_string();
    let file = upload_file(env, &admin, &ag1).await;
    let panel = json!({"kind": "value", "x": 0, "y": 0, "w": 2, "h": 1, "channels": [format!("{ag1}/dev/temp")]});
    let r = env.post("/boards", Some(&admin), json!({"name": "Board 1", "panels": [panel]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let board = r.json()["id"].as_i64().unwrap();
    let visible = Ids {
        user: "mem".into(),
        team: "t1".into(),
        group: "g1".into(),
        agent: ag1,
        channel: ch1,
        token: token.clone(),
        file: file.clone(),
        board,
    };
    let hidden =
        Ids { user: "mem".into(), team: "t1".into(), group: "g1".into(), agent: ag2, channel: ch2, token, file, board };
    (admin, member, viewer, visible, hidden)
}

/// A measurement file of `agent`, uploaded with its (new) secret.
async fn upload_file(env: &Env, admin: &str, agent: &str) -> String {
    let secret = env.post(&format!("/agents/{agent}/secret"), Some(admin), json!({})).await.json()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let bytes = b"measurement file".to_vec();
    let sha = hex_sha(&bytes);
    let up = |rb: reqwest::RequestBuilder| rb.basic_auth(agent, Some(&secret));
    let r = up(env.http.post(format!("{}/files/uploads", env.base)))
        .json(&json!({"instrument": "logger1", "name": "/DATA/W1.MEM", "size": bytes.len(), "sha256": sha}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = up(env.http.put(format!("{}/files/uploads/{id}?offset=0", env.base))).body(bytes).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = up(env.http.post(format!("{}/files/uploads/{id}/complete", env.base))).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    id
}

fn hex_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_checks_account_and_role() {
    every_endpoint(&Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_checks_account_and_role_postgres() {
    every_endpoint(&Env::start_on(Db::Postgres, false, "roles").await).await;
}

async fn every_endpoint(env: &Env) {
    let (admin, member, viewer, ids, hidden) = acme(env).await;
    let other = env.account("other").await;

    // No token: every endpoint but the public ones answers 401.
    for r in ROUTES.iter().filter(|r| r.access != Access::Public) {
        let rep = env.req(method(r), &fill(r, &ids), None, body(r)).await;
        assert_eq!(rep.status, 401, "{} {} without a token: {}", r.method, r.path, rep.text);
        assert!(!rep.error().is_empty());
    }

    // Another account's admin: lists show nothing of acme...
    for r in ROUTES.iter().filter(|r| r.method == "GET" && r.access != Access::Public && !r.path.contains("{id}")) {
        let rep = env.req(Method::GET, &fill(r, &ids), Some(&other), None).await;
        for secret in [ids.agent.as_str(), hidden.agent.as_str(), "\"mem\"", "\"acme\"", "\"g1\"", "\"t1\""] {
            assert!(!rep.text.contains(secret), "GET {} by another account shows {secret}: {}", r.path, rep.text);
        }
    }
    // ...and every id of acme answers 404, whatever the method.
    for r in ROUTES.iter().filter(|r| r.path.contains("{id}")) {
        let rep = env.req(method(r), &fill(r, &ids), Some(&other), body(r)).await;
        assert_eq!(rep.status, 404, "{} {} with another account's token: {}", r.method, fill(r, &ids), rep.text);
        assert!(rep.error().contains("not found"), "{}", rep.text);
    }

    // Viewer: everything that changes something is refused (403)...
    for r in ROUTES.iter().filter(|r| matches!(r.access, Access::Admin | Access::Member)) {
        let rep = env.req(method(r), &fill(r, &ids), Some(&viewer), body(r)).await;
        assert_eq!(rep.status, 403, "{} {} as viewer: {}", r.method, r.path, rep.text);
        assert!(rep.error().contains("admin") || rep.error().contains("viewer"), "{}", rep.text);
    }
    // ...reads of what is granted work...
    for r in ROUTES.iter().filter(|r| r.access == Access::Viewer && r.method == "GET") {
        let rep = env.req(Method::GET, &fill(r, &ids), Some(&viewer), None).await;
        assert_eq!(rep.status, 200, "GET {} as viewer: {}", fill(r, &ids), rep.text);
    }
    // ...and agents not granted to them do not exist for them.
    for r in ROUTES
        .iter()
        .filter(|r| r.access == Access::Viewer && (r.path.starts_with("/agents/") || r.path.starts_with("/channels/")))
    {
        let rep = env.req(method(r), &fill(r, &hidden), Some(&viewer), None).await;
        assert_eq!(rep.status, 404, "{} {} (not granted) as viewer: {}", r.method, fill(r, &hidden), rep.text);
    }
    let list = env.get("/agents", &viewer).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], ids.agent.as_str());
    assert_eq!(env.get("/groups", &viewer).await.json().as_array().unwrap().len(), 1);

    // Member: admin endpoints refused; no group granted, so no agents.
    for r in ROUTES.iter().filter(|r| r.access == Access::Admin) {
        let rep = env.req(method(r), &fill(r, &ids), Some(&member), body(r)).await;
        assert_eq!(rep.status, 403, "{} {} as member: {}", r.method, r.path, rep.text);
    }
    assert_eq!(env.get("/agents", &member).await.json(), json!([]));
    assert_eq!(env.get(&format!("/channels/{}/raw", ids.channel), &member).await.status, 404);
    // Members manage their own tokens, not the admin's.
    let r = env.post("/tokens", Some(&member), json!({"name": "mine"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(env.get("/tokens", &member).await.json().as_array().unwrap().len(), 1);
    assert_eq!(env.req(Method::DELETE, &format!("/tokens/{}", ids.token), Some(&member), None).await.status, 404);

    // Nothing of acme changed through all that.
    assert_eq!(env.store.users("acme").await.unwrap().len(), 3);
    assert_eq!(env.store.agents("acme").await.unwrap().len(), 2);
    assert_eq!(env.store.teams("acme").await.unwrap().len(), 1);
    assert_eq!(env.store.groups("acme").await.unwrap()[0].agents, vec![ids.agent.clone()]);
    assert_eq!(env.store.tokens("acme").await.unwrap().len(), 2);
    assert_eq!(env.store.boards().boards("acme").await.unwrap().len(), 1);
    assert_eq!(env.get(&format!("/channels/{}/latest", ids.channel), &admin).await.status, 200);

    // Deleting the account: the admin's password, then everything is gone.
    let r = env.req(Method::DELETE, "/account", Some(&admin), Some(json!({"password": "wrong"}))).await;
    assert_eq!(r.status, 403);
    let changes = env.broker.changes.load(std::sync::atomic::Ordering::SeqCst);
    let r = env.req(Method::DELETE, "/account", Some(&admin), Some(json!({"password": "Admin-pass1"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(env.broker.changes.load(std::sync::atomic::Ordering::SeqCst), changes + 1);
    assert!(env.store.account("acme").await.unwrap().is_none());
    assert!(env.store.users("acme").await.unwrap().is_empty());
    assert!(env.store.agent(&ids.agent).await.unwrap().is_none());
    assert!(env.store.channel(ids.channel).await.unwrap().is_none());
    assert!(env.store.raw(ids.channel, 0, i64::MAX, 10).await.map(|p| p.is_empty()).unwrap_or(true));
    assert!(env.store.tokens("acme").await.unwrap().is_empty());
    assert!(env.store.boards().boards("acme").await.unwrap().is_empty());
    assert!(env.store.broker_logins().await.unwrap().iter().all(|(id, _)| *id != ids.agent && *id != hidden.agent));
    for t in [&admin, &member, &viewer] {
        assert_eq!(env.get("/me", t).await.status, 401);
    }
    assert_eq!(env.get("/me", &other).await.status, 200, "the other account is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_changes_and_lowered_roles_end_other_sessions() {
    sessions_end(Env::start_on(Db::Sqlite, true, "sessions").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_changes_and_lowered_roles_end_other_sessions_postgres() {
    sessions_end(Env::start_on(Db::Postgres, true, "sessions").await).await;
}

/// A leaked session must not outlive the remedy: a password change ends
/// the user's other sessions (not the changing one), a reset link, an
/// admin's temporary password, a lowered role and deletion end them all.
async fn sessions_end(env: Env) {
    let me = |tok: &str| {
        let tok = tok.to_string();
        let env = &env;
        async move { env.get("/me", &tok).await.status.as_u16() }
    };
    let admin = env.account("acme").await;
    let ann1 = env.user(&admin, "acme", "ann", "member", "ann@example.com").await;
    let (ann2, _) = env.login("acme", "ann", "User-pass1").await;
    let r = env.post("/password", Some(&ann1), json!({"current": "User-pass1", "new": "Ann-pass22"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&ann2).await, 401, "the other session ends on a password change");
    assert_eq!(me(&ann1).await, 200, "the changing session goes on");
    assert_eq!(me(&admin).await, 200, "other users keep theirs");

    // Reset link: every session of the user ends.
    let (ann3, _) = env.login("acme", "ann", "Ann-pass22").await;
    let r = env.post("/password/reset-request", None, json!({"account": "acme", "user": "ann"})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let mail = env.smtp.as_ref().unwrap().next_mail();
    let body = mail["body"].as_str().unwrap().to_string();
    let code = body.split("code=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let r = env
        .post("/password/reset", None, json!({"account": "acme", "user": "ann", "code": code, "new": "Reset-pass2"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((me(&ann1).await, me(&ann3).await), (401, 401), "sessions end on a reset");

    // An admin's temporary password: every session of the user ends.
    let (ann4, _) = env.login("acme", "ann", "Reset-pass2").await;
    assert_eq!(me(&ann4).await, 200);
    let r = env.post("/users/ann/temporary-password", Some(&admin), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&ann4).await, 401, "sessions end on a temporary password");
    assert_eq!(me(&admin).await, 200);

    // A lowered role ends the user's sessions; a raised one does not.
    let bob1 = env.user(&admin, "acme", "bob", "member", "").await;
    let (bob2, _) = env.login("acme", "bob", "User-pass1").await;
    let r = env.req(Method::PATCH, "/users/bob", Some(&admin), Some(json!({"role": "viewer"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((me(&bob1).await, me(&bob2).await), (401, 401), "sessions end on a lowered role");
    let (bob3, _) = env.login("acme", "bob", "User-pass1").await;
    let r = env.req(Method::PATCH, "/users/bob", Some(&admin), Some(json!({"role": "member", "name": "Bob"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(me(&bob3).await, 200, "a raised role keeps the session");

    // An admin lowering themselves keeps the session they did it from.
    let _cat = env.user(&admin, "acme", "cat", "admin", "").await;
    let (admin2, _) = env.login("acme", "boss", "Admin-pass1").await;
    let r = env.req(Method::PATCH, "/users/boss", Some(&admin), Some(json!({"role": "member"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((me(&admin).await, me(&admin2).await), (200, 401));

    // Deleting a user ends their sessions.
    let (cat, _) = env.login("acme", "cat", "User-pass1").await;
    let r = env.req(Method::DELETE, "/users/bob", Some(&cat), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(me(&bob3).await, 401, "a deleted user's session ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_and_ip_allow_list_holds() {
    throttling(Env::start(false).await).await;
}

/// Two API processes on one PostgreSQL database share the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_and_ip_allow_list_holds_postgres() {
    throttling(Env::start_on(Db::Postgres, false, "throttle").await).await;
}

async fn throttling(mut env: Env) {
    let second = env.second_api().await;
    let admin = env.account("acme").await;
    let _ = env.user(&admin, "acme", "mem", "member", "").await;

    // IP allow-list.
    let r = env.req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": ["10.0.0.0/8"]}))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("lock you out"), "{}", r.error());
    let r = env
        .req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": ["10.0.0.0/8", "nonsense"]})))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("nonsense"), "{}", r.error());
    let r = env
        .req(
            Method::PUT,
            "/account/ip-allow",
            Some(&admin),
            Some(json!({"ip_allow": ["127.0.0.0/8", "2001:db8::/32"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(env.get("/me", &admin).await.status, 200);
    // An address outside the list (set as a load balancer would see it).
    let mut acc = env.store.account("acme").await.unwrap().unwrap();
    acc.ip_allow = vec!["10.0.0.0/8".into(), "2001:db8::/32".into()];
    env.store.update_account(&acc).await.unwrap();
    let r = env.get("/me", &admin).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("127.0.0.1") && r.error().contains("allow-list"), "{}", r.error());
    // A login from outside answers like a wrong login (issue 19: else the
    // answer tells which account ids exist), right password or not.
    let r = env.post("/login", None, json!({"account": "acme", "user": "mem", "password": "User-pass1"})).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "wrong account, user or password".to_string()), "{}", r.text);
    let r = env.post("/login", None, json!({"account": "acme", "user": "mem", "password": "Wrong-pass1"})).await;
    assert_eq!(r.status, 401, "a wrong password answers the same from outside: {}", r.text);
    let r = env.post("/login", None, json!({"account": "nosuch", "user": "mem", "password": "User-pass1"})).await;
    assert_eq!((r.status.as_u16(), r.error()), (401, "wrong account, user or password".to_string()), "{}", r.text);
    acc.ip_allow = vec![];
    env.store.update_account(&acc).await.unwrap();
    // The admin sees the refusal, with the address.
    let log = env.get("/access-log?limit=10", &admin).await.json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "/api/v1/login" && e["status"] == 403 && e["ip"] == "127.0.0.1"),
        "{log}"
    );
    // Those refusals counted as failed logins: let their window pass.
    env.clock.advance(16 * 60 * 1000);

    // Brute force on one user: 5 failures (spread over two API processes),
    // then 429 even for the right password.
    for i in 0..5 {
        let base = if i % 2 == 0 { env.base.clone() } else { second.clone() };
        let body = json!({"account": "acme", "user": "mem", "password": format!("Guess-{i}")});
        let r = env.req_at(&base, Method::POST, "/login", None, Some(body)).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.error(), "wrong account, user or password");
    }
    let r = env.post("/login", None, json!({"account": "acme", "user": "mem", "password": "User-pass1"})).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.headers.get("retry-after").is_some());
    let body = json!({"account": "acme", "user": "mem", "password": "User-pass1"});
    assert_eq!(
        env.req_at(&second, Method::POST, "/login", None, Some(body)).await.status,
        429,
        "the other process knows too"
    );
    assert!(r.error().contains("too many failed logins"), "{}", r.error());
    // Another user is not blocked by it.
    env.login("acme", "boss", "Admin-pass1").await;
    // After the window the user may try again.
    env.clock.advance(16 * 60 * 1000);
    env.login("acme", "mem", "User-pass1").await;

    // Per address: guesses spread over many users are throttled too.
    for i in 0..20 {
        let r = env.post("/login", None, json!({"account": "nowhere", "user": format!("u{i}"), "password": "x"})).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = env.post("/login", None, json!({"account": "acme", "user": "boss", "password": "Admin-pass1"})).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.error().contains("your address"), "{}", r.error());
    // Throttled attempts are in the access log too.
    let log = env.get("/access-log?limit=1000", &admin).await.json();
    assert!(log.as_array().unwrap().iter().any(|e| e["status"] == 429));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_4xx_with_a_message() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let url = |p: &str| format!("{}{p}", env.base);
    let send = |rb: reqwest::RequestBuilder| async move {
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let err = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["error"].as_str().map(String::from));
        (status.as_u16(), err.unwrap_or_else(|| panic!("no JSON error for {status}: {text}")))
    };
    let json_post =
        |p: &str, body: Vec<u8>| env.http.post(url(p)).header("content-type", "application/json").body(body);

    let (s, e) = send(json_post("/login", b"{\"account\": ".to_vec())).await;
    assert_eq!(s, 400, "{e}");
    assert!(e.contains("not valid JSON"), "{e}");
    let (s, e) = send(json_post("/login", br#"{"account": 1, "user": "a", "password": "b"}"#.to_vec())).await;
    assert_eq!(s, 422, "{e}");
    assert!(e.contains("invalid type"), "{e}");
    let (s, e) = send(json_post("/login", br#"{"account": "a", "user": "a"}"#.to_vec())).await;
    assert_eq!(s, 422);
    assert!(e.contains("password"), "{e}");
    let (s, e) =
        send(json_post("/login", br#"{"account": "a", "user": "a", "password": "b", "admin": true}"#.to_vec())).await;
    assert_eq!(s, 422);
    assert!(e.contains("admin"), "{e}");
    let (s, e) =
        send(json_post("/login", b"{\"account\": \"\xff\xfe\", \"user\": \"a\", \"password\": \"b\"}".to_vec())).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = send(env.http.post(url("/login")).body("account=a")).await;
    assert_eq!(s, 415);
    assert!(e.contains("Content-Type"), "{e}");
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    // The server answers 413 without reading the rest and closes the
    // connection; `Connection: close` keeps the client from pooling it
    // (a reuse would race that close and fail the next request).
    let (s, e) =
        send(json_post("/tokens", huge.clone().into_bytes()).header("connection", "close").bearer_auth(&admin)).await;
    assert_eq!(s, 413, "{e}");
    assert!(e.contains("larger than"), "{e}");
    let (s, _) = send(json_post("/login", huge.into_bytes()).header("connection", "close")).await;
    assert_eq!(s, 413);
    let (s, e) = send(env.http.get(url("/nope"))).await;
    assert_eq!(s, 404);
    assert!(e.contains("/api/v1/nope"), "{e}");
    let (s, _) = send(env.http.get(format!("{}/../elsewhere", env.base.trim_end_matches("/api/v1")))).await;
    assert_eq!(s, 404);
    let (s, e) = send(env.http.delete(url("/login"))).await;
    assert_eq!(s, 405, "{e}");
    let (s, e) = send(env.http.get(url("/channels/abc/raw")).bearer_auth(&admin)).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = send(env.http.get(url("/access-log?limit=many")).bearer_auth(&admin)).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) =
        send(json_post("/users", br#"{"id": "Bad Id", "name": "x", "role": "member"}"#.to_vec()).bearer_auth(&admin))
            .await;
    assert_eq!(s, 400);
    assert!(e.contains("\"Bad Id\""), "{e}");
    let (s, e) =
        send(json_post("/users", br#"{"id": "ok", "name": "x", "role": "owner"}"#.to_vec()).bearer_auth(&admin)).await;
    assert_eq!(s, 422);
    assert!(e.contains("owner"), "{e}");
    let (s, e) = send(
        json_post("/groups", br#"{"id": "g", "name": "G", "agents": ["a-0000000000000000"]}"#.to_vec())
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e.contains("a-0000000000000000"), "{e}");
    let (s, e) = send(
        env.http
            .get(url("/me"))
            .header("authorization", reqwest::header::HeaderValue::from_bytes(b"Bearer mdt_\xe9").unwrap()),
    )
    .await;
    assert_eq!(s, 401, "{e}");
    // Nothing of that changed the account.
    assert_eq!(env.store.users("acme").await.unwrap().len(), 1);
}
