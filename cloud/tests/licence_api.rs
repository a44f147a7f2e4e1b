//! The licence authority over real HTTP, on SQLite and PostgreSQL, with the
//! API's injected clock: each cloud limit refused at one more with the
//! named `plan_limit` error and lifted by a card; the served document
//! verified with `wire::licence::verify` (user and agent logins); a
//! calendar year of cards, the 13-month cap, a plan change and its
//! conversion, the second change in a month refused, expiry to Free.
//! Run: `cargo test -p meterdeck-cloud --test licence_api`.

mod api_support;

use api_support::{Db, Env, test_licence_key};
use meterdeck_cloud::licence::{self, terms};
use meterdeck_cloud::store::CardProduct;
use meterdeck_wire::licence::{Plan, parse_public_key, verify};
use reqwest::Method;
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
/// 2027-01-15 00:00 UTC.
const T0: i64 = 1_799_971_200_000;

/// A Free account with its admin logged in (password `Admin-pass1`).
async fn free_account(env: &Env, id: &str) -> String {
    let temp = meterdeck_cloud::admin::create_account(&*env.store, id, "Acme", "free", "boss", "boss@example.com")
        .await
        .unwrap();
    env.first_login(id, "boss", &temp, "Admin-pass1").await
}

async fn card(env: &Env, account: &str, plan: Plan, months: u32) -> String {
    licence::issue_card(&*env.store, account, CardProduct::Plan { plan }, months, env.clock_now()).await.unwrap()
}

/// The refusal must be the named error and name plan, limit and count.
fn assert_limit(r: &api_support::Reply, limit: &str, plan: &str, max: u64, count: u64) {
    assert_eq!(r.status, 403, "{}", r.text);
    let j = r.json();
    assert_eq!(j["code"], "plan_limit", "{}", r.text);
    assert_eq!(j["limit"], limit);
    assert_eq!(j["plan"], plan);
    assert_eq!((j["max"].as_u64(), j["count"].as_u64()), (Some(max), Some(count)), "{}", r.text);
    let e = r.error();
    assert!(e.contains(if plan == "free" { "Free" } else { "Standard" }), "{e}");
    assert!(e.contains("card"), "the message says how to lift it: {e}");
}

async fn each_limit(env: Env) {
    env.clock.set(T0);
    let admin = free_account(&env, "acme").await;
    let s = env.get("/licence/status", &admin).await.json();
    assert_eq!((s["plan"].as_str(), s["usage"]["users"].as_u64()), (Some("free"), Some(1)));

    // Users: 3 on Free (the admin is one).
    for u in ["u1", "u2"] {
        let r = env.post("/users", Some(&admin), json!({"id": u, "name": u, "email": "", "role": "viewer"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let one_more = json!({"id": "u3", "name": "u3", "email": "", "role": "viewer"});
    assert_limit(&env.post("/users", Some(&admin), one_more.clone()).await, "users", "free", 3, 3);
    assert_eq!(env.get("/users", &admin).await.json().as_array().unwrap().len(), 3, "nothing was created");
    // Teams: 3.
    for t in ["t1", "t2", "t3"] {
        assert_eq!(env.post("/teams", Some(&admin), json!({"id": t, "name": t})).await.status, 201);
    }
    let team4 = json!({"id": "t4", "name": "t4"});
    assert_limit(&env.post("/teams", Some(&admin), team4.clone()).await, "teams", "free", 3, 3);
    // Measurement groups: 1.
    assert_eq!(env.post("/groups", Some(&admin), json!({"id": "g1", "name": "g1"})).await.status, 201);
    let group2 = json!({"id": "g2", "name": "g2"});
    assert_limit(&env.post("/groups", Some(&admin), group2.clone()).await, "groups", "free", 1, 1);
    // Agents: 3.
    for a in ["a", "b", "c"] {
        assert_eq!(env.post("/agents", Some(&admin), json!({"name": a})).await.status, 201);
    }
    assert_limit(&env.post("/agents", Some(&admin), json!({"name": "d"})).await, "agents", "free", 3, 3);
    assert_eq!(env.broker.changes.load(std::sync::atomic::Ordering::SeqCst), 3, "the broker learnt no 4th agent");
    // Pro only: API tokens and IP allow-lists (clearing the list stays possible).
    let r = env.post("/tokens", Some(&admin), json!({"name": "grafana"})).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["code"].as_str(), r.json()["limit"].as_str()),
        (403, Some("plan_limit"), Some("web_api"))
    );
    assert!(r.error().contains("Web API tokens need the Pro plan; account acme is on Free"), "{}", r.error());
    let r = env.req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": ["127.0.0.0/8"]}))).await;
    assert_eq!((r.status.as_u16(), r.json()["limit"].as_str()), (403, Some("ip_restriction")), "{}", r.text);
    let r = env.req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": []}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A Standard card lifts the counts.
    let code = card(&env, "acme", Plan::Standard, 1).await;
    let r = env.post("/licence/cards", Some(&admin), json!({"card": code.to_lowercase()})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["plan"], "standard");
    assert_eq!(r.json()["limits"]["users"], 10);
    let again = env.post("/licence/cards", Some(&admin), json!({"card": code})).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["code"].as_str()),
        (409, Some("licence_card_used")),
        "{}",
        again.text
    );
    assert_eq!(env.post("/users", Some(&admin), one_more).await.status, 201);
    assert_eq!(env.post("/teams", Some(&admin), team4).await.status, 201);
    assert_eq!(env.post("/groups", Some(&admin), group2).await.status, 201);
    assert_eq!(env.post("/agents", Some(&admin), json!({"name": "d"})).await.status, 201);
    let r = env.post("/tokens", Some(&admin), json!({"name": "grafana"})).await;
    assert_eq!((r.status.as_u16(), r.json()["plan"].as_str()), (403, Some("standard")));
    // Pro (a plan change converts the days) lifts the Pro features.
    let r = env.post("/licence/plan", Some(&admin), json!({"plan": "pro"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["plan"], "pro");
    assert_eq!(r.json()["days_left"], 31 / 5, "31 Standard days are 6 Pro days");
    let r = env.post("/tokens", Some(&admin), json!({"name": "grafana"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(env.get("/licence/status", &token).await.status, 200);
    let r = env.req(Method::PUT, "/account/ip-allow", Some(&admin), Some(json!({"ip_allow": ["127.0.0.0/8"]}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // When the term ends the token stays but answers why it stopped.
    env.clock.set(T0 + 7 * DAY);
    let r = env.get("/licence/status", &token).await;
    assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (403, Some("plan_limit")), "{}", r.text);
    assert!(r.error().contains("is on Free"), "{}", r.error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cloud_limit_sqlite() {
    each_limit(Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cloud_limit_postgres() {
    each_limit(Env::start_on(Db::Postgres, false, "limits").await).await;
}

/// GET /licence: fresh, signed, verifiable with the pinned key, for a user
/// session and for an agent's Basic login; nobody else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_verifies() {
    let env = Env::start(false).await;
    env.clock.set(T0);
    let admin = free_account(&env, "acme").await;
    let k = env.req(Method::GET, "/licence/key", None, None).await;
    assert_eq!(k.status, 200, "{}", k.text);
    let key = parse_public_key(k.json()["key"].as_str().unwrap()).unwrap();
    assert_eq!(key, test_licence_key().verifying_key());
    assert_eq!(k.json()["key_id"], meterdeck_wire::licence::key_id(&key));
    let code = card(&env, "acme", Plan::Pro, 3).await;
    assert_eq!(env.post("/licence/cards", Some(&admin), json!({"card": code})).await.status, 200);
    let r = env.post("/agents", Some(&admin), json!({"name": "site"})).await;
    let (agent, secret) =
        (r.json()["id"].as_str().unwrap().to_string(), r.json()["secret"].as_str().unwrap().to_string());
    let gw = licence::issue_card(
        &*env.store,
        "acme",
        CardProduct::Remote { plan: meterdeck_wire::licence::RemotePlan::Basic, agent: agent.clone() },
        1,
        T0,
    )
    .await
    .unwrap();
    assert_eq!(env.post("/licence/cards", Some(&admin), json!({"card": gw})).await.status, 200);

    let r = env.get("/licence", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let doc = verify(&r.text, &key, "acme", T0).unwrap();
    assert_eq!((doc.plan, doc.expires, doc.issued_at), (Plan::Pro, Some(terms::add_months(T0, 3)), T0));
    assert_eq!(doc.limits, Plan::Pro.limits());
    assert_eq!(doc.gateway(&agent, T0).unwrap().limits.traffic_bytes_per_month, 1_000_000_000);
    // Each fetch is signed afresh: a new serial.
    let again = verify(&env.get("/licence", &admin).await.text, &key, "acme", T0).unwrap();
    assert_ne!(doc.serial, again.serial);
    // Another account's verifier refuses it.
    assert!(verify(&r.text, &key, "globex", T0).is_err());

    // The agent with its own secret (HTTP Basic).
    let basic = |id: &str, secret: &str| {
        use base64::Engine as _;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
    };
    let r = env.req_with(Method::GET, "/licence", &[("authorization", &basic(&agent, &secret))], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(verify(&r.text, &key, "acme", T0).unwrap().plan, Plan::Pro);
    let r = env.req_with(Method::GET, "/licence", &[("authorization", &basic(&agent, "wrong"))], None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r =
        env.req_with(Method::GET, "/licence", &[("authorization", &basic("a-0000000000000000", &secret))], None).await;
    assert_eq!(r.status, 401);
    assert_eq!(env.req(Method::GET, "/licence", None, None).await.status, 401);
    // Basic is for the licence only.
    let r = env.req_with(Method::GET, "/licence/status", &[("authorization", &basic(&agent, &secret))], None).await;
    assert_eq!(r.status, 401);

    // Traffic: the gateway's Remote Basic allowance (1 GB a UTC month);
    // at 100 % the API says why it stopped, until the month turns.
    let a = env.get(&format!("/agents/{agent}"), &admin).await.json();
    assert_eq!((a["traffic_allowance"].as_u64(), a["gateway_plan"].as_str()), (Some(1_000_000_000), Some("basic")));
    assert!(a["stopped"].is_null());
    let (other, _) = env.agent_with_data(&admin, "desk", T0, 10).await;
    assert!(env.get(&format!("/agents/{other}"), &admin).await.json()["traffic_allowance"].is_null(), "not a gateway");
    env.store.ingest_refused(&agent, "filler", 1_000_000_000, T0).await.unwrap();
    let a = env.get(&format!("/agents/{agent}"), &admin).await.json();
    let why = a["stopped"].as_str().unwrap_or_default().to_string();
    assert!(why.contains("Remote Basic traffic allowance") && why.contains("next month"), "{a}");
    let s = env.get("/licence/status", &admin).await.json();
    assert_eq!(s["gateways"][0]["stopped"], why.as_str());
    assert_eq!(s["gateways"][0]["traffic_bytes"], 1_000_000_000u64);
    env.clock.set(T0 + 17 * DAY); // 2027-02-01
    let admin = env.login("acme", "boss", "Admin-pass1").await.0;
    assert!(env.get(&format!("/agents/{agent}"), &admin).await.json()["stopped"].is_null(), "a new month");
    // A gateway plan change (Pro days = Basic days / 2): 14 Basic days left, 7 of Pro.
    let r = env.post("/licence/plan", Some(&admin), json!({"plan": "pro", "agent": agent})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["gateways"][0]["plan"], "pro");
    assert_eq!(r.json()["gateways"][0]["days_left"], 7);
    assert_eq!(r.json()["gateways"][0]["traffic_allowance"], 5_000_000_000u64);
    let r = env.post("/licence/plan", Some(&admin), json!({"plan": "basic", "agent": agent})).await;
    assert_eq!(r.status, 409, "once a month per gateway: {}", r.text);
    let r = env.post("/licence/plan", Some(&admin), json!({"plan": "gold", "agent": agent})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    env.store.ingest_refused(&agent, "filler", 5_000_000_000, T0 + 17 * DAY).await.unwrap();
    let a = env.get(&format!("/agents/{agent}"), &admin).await.json();
    assert!(a["stopped"].as_str().unwrap_or_default().contains("Remote Pro traffic allowance"), "{a}");
    // The term ends: stopped, and why.
    env.clock.set(T0 + 25 * DAY);
    let admin = env.login("acme", "boss", "Admin-pass1").await.0;
    let a = env.get(&format!("/agents/{agent}"), &admin).await.json();
    assert!(a["stopped"].as_str().unwrap_or_default().contains("term ended on 2027-02-08"), "{a}");
    assert!(a["traffic_allowance"].is_null());
}

async fn relogin(env: &Env) -> String {
    env.login("acme", "boss", "Admin-pass1").await.0
}

/// A calendar year on one account (the clock is the API's).
async fn year(env: Env) {
    env.clock.set(T0);
    let mut admin = free_account(&env, "acme").await;
    let status = |r: &api_support::Reply| -> Value {
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    // Stacking: 12 + 1 months reaches the cap; one more month is refused
    // and the card stays good.
    for m in [12, 1] {
        let c = card(&env, "acme", Plan::Standard, m).await;
        status(&env.post("/licence/cards", Some(&admin), json!({"card": c})).await);
    }
    let s = status(&env.get("/licence/status", &admin).await);
    assert_eq!(s["expires"], terms::add_months(T0, 13));
    let spare = card(&env, "acme", Plan::Standard, 1).await;
    let r = env.post("/licence/cards", Some(&admin), json!({"card": spare})).await;
    assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (409, Some("licence_refused")), "{}", r.text);
    assert!(r.error().contains("more than 13 months ahead"), "{}", r.error());
    // Two months on it fits.
    env.clock.set(terms::add_months(T0, 2));
    admin = relogin(&env).await;
    let s = status(&env.post("/licence/cards", Some(&admin), json!({"card": spare})).await);
    assert_eq!(s["expires"], terms::add_months(T0, 14));

    // A plan change converts the days left (Pro = Standard / 5, rounded down).
    let now = env.clock_now();
    let left = (terms::add_months(T0, 14) - now) / DAY;
    let s = status(&env.post("/licence/plan", Some(&admin), json!({"plan": "pro"})).await);
    assert_eq!((s["plan"].as_str(), s["days_left"].as_i64()), (Some("pro"), Some(left / 5)));
    assert_eq!(s["expires"], now + left / 5 * DAY);
    assert_eq!(s["next_plan_change"], terms::add_months(now, 1));
    // The second change within the month is refused and changes nothing.
    env.clock.advance(20 * DAY);
    admin = relogin(&env).await;
    let r = env.post("/licence/plan", Some(&admin), json!({"plan": "standard"})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.error().contains("once a month"), "{}", r.error());
    assert_eq!(status(&env.get("/licence/status", &admin).await)["plan"], "pro");
    // A month after the first it goes: Standard days = Pro days x 5.
    env.clock.set(terms::add_months(now, 1));
    admin = relogin(&env).await;
    let pro_left = (now + left / 5 * DAY - env.clock_now()) / DAY;
    let s = status(&env.post("/licence/plan", Some(&admin), json!({"plan": "standard"})).await);
    assert_eq!(s["days_left"].as_i64(), Some(pro_left * 5));

    // Expiry: Free, and the document says so.
    let end = s["expires"].as_i64().unwrap();
    env.clock.set(end + DAY);
    admin = relogin(&env).await;
    let s = status(&env.get("/licence/status", &admin).await);
    assert_eq!((s["plan"].as_str(), s["expires"].as_i64()), (Some("free"), None));
    assert_eq!(s["limits"]["users"], 3);
    let doc = verify(&env.get("/licence", &admin).await.text, &test_licence_key().verifying_key(), "acme", end + DAY)
        .unwrap();
    assert_eq!(doc.plan, Plan::Free);
    // A Pro card after the lapse starts today.
    let c = card(&env, "acme", Plan::Pro, 1).await;
    let s = status(&env.post("/licence/cards", Some(&admin), json!({"card": c})).await);
    assert_eq!(s["expires"], terms::add_months(end + DAY, 1));

    // The history has it all, newest first.
    let h = status(&env.get("/licence/history", &admin).await);
    let whats: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["what"].as_str().unwrap()).collect();
    assert_eq!(whats.iter().filter(|w| **w == "card-applied").count(), 4, "{whats:?}");
    assert_eq!(whats.iter().filter(|w| **w == "plan-changed").count(), 2, "{whats:?}");
    assert_eq!(whats.iter().filter(|w| **w == "card-issued").count(), 4, "{whats:?}");
    assert_eq!(h[0]["what"], "card-applied");
    assert_eq!(h[0]["by"], "boss");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_terms_sqlite() {
    year(Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_terms_postgres() {
    year(Env::start_on(Db::Postgres, false, "year").await).await;
}
