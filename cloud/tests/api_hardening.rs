//! Issue 19's API findings, each against the real router over HTTP: cache
//! and sniffing headers on every answer; a stale token on public endpoints;
//! lockouts nobody else can cause, behind a trusted proxy whose
//! X-Forwarded-For names the caller (and from anyone else is ignored);
//! IP allow-lists seeing that address; CSV cells that stay one cell and
//! never a formula; exports of samples stored out of time order.
//! Run: `cargo test -p meterdeck-cloud --test api_hardening`.

mod api_support;

use api_support::Env;
use meterdeck_cloud::store::IngestBatch;
use meterdeck_wire::Sample;
use meterdeck_wire::codec::EncodeScratch;
use meterdeck_wire::sync::{PartIn, encode_batch};
use reqwest::Method;
use serde_json::{Value, json};

/// Stores `samples` for `agent` on channel `path` (unit `unit`) from cache
/// file `store`, in parts of at most 10,000.
async fn store_samples(env: &Env, agent: &str, store: &str, path: &str, unit: Option<&str>, samples: &[Sample]) {
    for (k, part) in samples.chunks(10_000).enumerate() {
        let seq = 1 + (k * 10_000) as i64;
        let parts = [PartIn { path, unit, seq_from: seq, seq_to: seq + part.len() as i64, samples: part }];
        let bytes = encode_batch(store, k as u64, 0, 0, &parts, &mut EncodeScratch::default()).unwrap();
        let batch = IngestBatch::decode(&bytes).unwrap();
        env.store.ingest(agent, &batch, bytes.len() as u64, env.clock_now()).await.unwrap();
    }
}

fn login_body(user: &str, password: &str) -> Value {
    json!({"account": "acme", "user": user, "password": password})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_says_no_store_and_nosniff() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let answers = [
        env.req(Method::GET, "/health", None, None).await,
        env.post("/login", None, login_body("boss", "wrong")).await,
        env.post("/tokens", Some(&admin), json!({"name": "t"})).await,
        env.get("/me", &admin).await,
        env.get("/nowhere", &admin).await,
        env.req(Method::GET, "/openapi.json", None, None).await,
    ];
    for r in &answers {
        assert_eq!(r.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{}", r.text);
        assert_eq!(r.headers.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"));
        assert!(r.headers.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    }
    assert!(answers[2].json()["token"].as_str().unwrap().starts_with("mdt_"), "the token answer is among them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_token_does_not_break_public_endpoints() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let r = env.req(Method::POST, "/logout", Some(&admin), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let stale = format!("Bearer {admin}");
    for auth in [stale.as_str(), "Bearer mds_never-issued", "Basic Zm9vOmJhcg=="] {
        let h = [("authorization", auth)];
        let r = env.req_with(Method::POST, "/login", &h, Some(login_body("boss", "Admin-pass1"))).await;
        assert_eq!(r.status, 200, "login with {auth:?} sent along: {}", r.text);
        let r = env.req_with(Method::GET, "/health", &h, None).await;
        assert_eq!(r.status, 200, "health with {auth:?}: {}", r.text);
        let r = env.req_with(Method::GET, "/openapi.json", &h, None).await;
        assert_eq!(r.status, 200);
        // No mail server here: the endpoint's own answer, not a token error.
        let r = env
            .req_with(Method::POST, "/password/reset-request", &h, Some(json!({"account": "acme", "user": "boss"})))
            .await;
        assert_eq!(r.status, 503, "{}", r.text);
        let body = json!({"account": "acme", "user": "boss", "code": "x", "new": "New-pass11"});
        let r = env.req_with(Method::POST, "/password/reset", &h, Some(body)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.error().contains("reset link"), "{}", r.error());
        // Endpoints that need a token still refuse it.
        assert_eq!(env.req_with(Method::GET, "/me", &h, None).await.status, 401);
    }
}

/// The lockout from a second address: someone hammering a user from one
/// address (behind the proxy, as X-Forwarded-For shows it) is throttled
/// there; the owner, from an address without failures, logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_guessing_does_not_lock_out_the_owner() {
    let env = Env::start_behind_proxy(&["127.0.0.1/32"]).await;
    let admin = env.account("acme").await;
    let _ = env.user(&admin, "acme", "mem", "member", "").await;
    let attacker = [("x-forwarded-for", "203.0.113.5")];
    let owner = [("x-forwarded-for", "198.51.100.7")];
    for i in 0..5 {
        let r = env.req_with(Method::POST, "/login", &attacker, Some(login_body("mem", &format!("Guess-{i}")))).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    for _ in 0..3 {
        let r = env.req_with(Method::POST, "/login", &attacker, Some(login_body("mem", "Guess-x"))).await;
        assert_eq!(r.status, 429, "{}", r.text);
        assert!(r.headers.get("retry-after").is_some());
    }
    // Even the right password from the guessing address waits...
    let r = env.req_with(Method::POST, "/login", &attacker, Some(login_body("mem", "User-pass1"))).await;
    assert_eq!(r.status, 429, "{}", r.text);
    // ...while the owner elsewhere signs in.
    let r = env.req_with(Method::POST, "/login", &owner, Some(login_body("mem", "User-pass1"))).await;
    assert_eq!(r.status, 200, "the owner is locked out by someone else: {}", r.text);
    // The access log has both addresses, as the proxy saw them.
    let log = env.get("/access-log?limit=100", &admin).await.json();
    let ips: Vec<&str> = log.as_array().unwrap().iter().filter_map(|e| e["ip"].as_str()).collect();
    assert!(ips.contains(&"203.0.113.5") && ips.contains(&"198.51.100.7"), "{ips:?}");

    // A hop left of the client's was written by the client: never used.
    let spoof = [("x-forwarded-for", "198.51.100.7, 203.0.113.5")];
    let r = env.req_with(Method::POST, "/login", &spoof, Some(login_body("mem", "User-pass1"))).await;
    assert_eq!(r.status, 429, "a forged hop bought a fresh address: {}", r.text);

    // The IP allow-list sees the forwarded address too.
    let r =
        env.req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": ["198.51.100.0/24"]}))).await;
    assert_eq!(r.status, 400, "the admin's own address (127.0.0.1) would be locked out: {}", r.text);
    let mut acc = env.store.account("acme").await.unwrap().unwrap();
    acc.ip_allow = vec!["198.51.100.0/24".into()];
    env.store.update_account(&acc).await.unwrap();
    let me = |h: &'static str| {
        let (env, admin) = (&env, admin.clone());
        async move {
            env.req_with(
                Method::GET,
                "/me",
                &[("authorization", &format!("Bearer {admin}")), ("x-forwarded-for", h)],
                None,
            )
            .await
        }
    };
    assert_eq!(me("198.51.100.9").await.status, 200);
    let r = me("203.0.113.5").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.error().contains("203.0.113.5"), "{}", r.error());
}

/// Without --trusted-proxy an X-Forwarded-For is the caller's own words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let env = Env::start_behind_proxy(&["10.0.0.0/8"]).await;
    let admin = env.account("acme").await;
    for i in 0..5 {
        let h = [("x-forwarded-for", if i % 2 == 0 { "203.0.113.1" } else { "203.0.113.2" })];
        let r = env.req_with(Method::POST, "/login", &h, Some(login_body("boss", "Wrong-1"))).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let h = [("x-forwarded-for", "198.51.100.7")];
    let r = env.req_with(Method::POST, "/login", &h, Some(login_body("boss", "Admin-pass1"))).await;
    assert_eq!(r.status, 429, "a made-up header escaped the throttle: {}", r.text);
    let log = env.get("/access-log?limit=100", &admin).await.json();
    assert!(log.as_array().unwrap().iter().all(|e| e["ip"] == "127.0.0.1"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_cells_stay_cells_and_never_formulas() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let r = env.post("/agents", Some(&admin), json!({"name": "Site"})).await;
    let agent = r.json()["id"].as_str().unwrap().to_string();
    let t0 = 1_800_000_000_000;
    let samples = [Sample::number(t0, -1.5), Sample::number(t0 + 1000, 2.0)];
    store_samples(&env, &agent, "s", "=HYPERLINK(\"http://x\")/ch", Some("V\"\r\nEVIL,1"), &samples).await;
    let ch = env.store.channels(&agent).await.unwrap()[0].id;
    let r = env.get(&format!("/channels/{ch}/csv"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 3, "header + 2 rows, the header on one line: {:?}", r.text);
    assert_eq!(lines[0], "time,\"'=HYPERLINK(\"\"http://x\"\")/ch [V\"\"  EVIL,1]\"");
    assert_eq!(lines[1], "2027-01-15T08:00:00.000Z,-1.5", "numbers are numbers");
}

/// Samples stored out of time order (an agent's clock stepped back, a
/// second cache file) come out of the CSV export once each, in time order,
/// across the export's internal pages of 50,000; `/raw` pages with `next`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_of_out_of_order_samples_hold_each_sample_once() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let r = env.post("/agents", Some(&admin), json!({"name": "Site"})).await;
    let agent = r.json()["id"].as_str().unwrap().to_string();
    let t0 = 1_800_000_000_000i64;
    let first: Vec<Sample> = (0..60_000).map(|i| Sample::number(t0 + i * 1000, i as f64)).collect();
    // The second cache file's samples fall between the first's.
    let second: Vec<Sample> = (0..5_002).map(|i| Sample::number(t0 + 500 + i * 7_000, -(i as f64))).collect();
    store_samples(&env, &agent, "store-1", "dev/temp", None, &first).await;
    store_samples(&env, &agent, "store-2", "dev/temp", None, &second).await;
    let ch = env.store.channels(&agent).await.unwrap()[0].id;
    let mut want: Vec<(i64, f64)> = first.iter().chain(&second).map(|s| (s.t, s.value.as_number().unwrap())).collect();
    want.sort_by_key(|x| x.0);

    let r = env.get(&format!("/channels/{ch}/csv"), &admin).await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("x-next-after").is_none(), "not cut");
    let rows: Vec<(i64, f64)> = r
        .text
        .lines()
        .skip(1)
        .map(|l| {
            let (t, v) = l.split_once(',').unwrap();
            (chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis(), v.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), want.len(), "every stored sample once");
    assert_eq!(rows, want, "in time order");

    // /raw in pages, continued with `next`.
    let mut got = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = after.as_ref().map(|a| format!("&after={a}")).unwrap_or_default();
        let r = env.get(&format!("/channels/{ch}/raw?limit=9999{q}"), &admin).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let j = r.json();
        got.extend(
            j["points"].as_array().unwrap().iter().map(|p| (p["t"].as_i64().unwrap(), p["v"].as_f64().unwrap())),
        );
        match j["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(got, want);
    let r = env.get(&format!("/channels/{ch}/raw?after=yesterday"), &admin).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("cursor"), "{}", r.error());
}

/// Issue 17: `error` in the request's language (Accept-Language), the
/// rest of the answer (status, code, fields) unchanged; English untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_answer_in_the_requests_language() {
    let env = Env::start(false).await;
    let admin = env.account("acme").await;
    let bad_login = |lang: Option<&'static str>| {
        let env = &env;
        async move {
            let headers: Vec<(&str, &str)> = lang.map(|l| ("accept-language", l)).into_iter().collect();
            env.req_with(Method::POST, "/login", &headers, Some(login_body("boss", "wrong"))).await
        }
    };
    let lang_of = |r: &api_support::Reply| r.headers.get("content-language").map(|v| v.to_str().unwrap().to_string());
    let en = bad_login(None).await;
    assert_eq!((en.status.as_u16(), en.error().as_str()), (401, "wrong account, user or password"));
    assert_eq!(lang_of(&en), None);
    let de = bad_login(Some("de-DE,de;q=0.9")).await;
    assert_eq!((de.status.as_u16(), de.error().as_str()), (401, "Konto, Benutzer oder Passwort ist falsch"));
    assert_eq!(lang_of(&de).as_deref(), Some("de"));
    assert_eq!(de.headers["content-length"].to_str().unwrap(), de.text.len().to_string());
    let ja = bad_login(Some("ja")).await;
    assert_eq!(ja.error(), "アカウント、ユーザー、またはパスワードが正しくありません");
    // A language Meterdeck lacks: English.
    assert_eq!(bad_login(Some("fr-FR")).await.error(), "wrong account, user or password");

    // A role refusal in German.
    let new_token_in_german = |session: &str| {
        let env = &env;
        let session = session.to_string();
        async move {
            let auth = format!("Bearer {session}");
            env.req_with(
                Method::POST,
                "/tokens",
                &[("authorization", &auth), ("accept-language", "de")],
                Some(json!({"name": "t"})),
            )
            .await
        }
    };
    let viewer = env.user(&admin, "acme", "vic", "viewer", "vic@example.com").await;
    let r = new_token_in_german(&viewer).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        r.error(),
        "Ein Betrachter darf nicht API-Tokens anlegen; bitten Sie einen Administrator um die Rolle Mitglied"
    );

    // A plan limit in German: the code and fields stay for programs.
    let temp =
        meterdeck_cloud::admin::create_account(&*env.store, "frei", "Frei GmbH", "free", "boss", "b@example.com")
            .await
            .unwrap();
    let free = env.first_login("frei", "boss", &temp, "Admin-pass1").await;
    let r = new_token_in_german(&free).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let j = r.json();
    assert_eq!(
        (j["code"].as_str(), j["limit"].as_str(), j["plan"].as_str()),
        (Some("plan_limit"), Some("web_api"), Some("free"))
    );
    assert_eq!(
        r.error(),
        "Für Web-API-Tokens ist der Tarif Pro nötig; das Konto frei hat den Tarif Free: \
         Wenden Sie eine Pro-Lizenzkarte an oder wechseln Sie zum Tarif Pro, um sie zu nutzen"
    );
    // The same in English, as before.
    let r = env.post("/tokens", Some(&free), json!({"name": "t"})).await;
    assert!(r.error().starts_with("Web API tokens need the Pro plan; account frei is on Free"), "{}", r.text);

    // Words without a key (a store refusal) stay as they are in any language.
    let r = env.req_with(Method::GET, "/health", &[("accept-language", "de")], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(lang_of(&r), None);
}
