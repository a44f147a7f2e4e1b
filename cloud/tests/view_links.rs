//! View-only alarm links (issue 16, SPEC 5.5) over the real API (HTTP on
//! loopback, both storage backends, the injected clock): an agent asks for
//! a link with its own credentials; the link opens without signing in for
//! 30 minutes and is refused at 30 minutes and 1 second (expired) and after
//! one changed character (altered); it shows no other channel; another
//! account's channel cannot be named; the offline mail carries one.
//! Run: `cargo test -p meterdeck-cloud --test view_links`.

mod api_support;

use api_support::{Db, Env, Reply};
use reqwest::Method;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_links_sqlite() {
    view_links(Env::start(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_links_postgres() {
    view_links(Env::start_on(Db::Postgres, false, "viewlinks").await).await;
}

async fn secret(env: &Env, admin: &str, agent: &str) -> String {
    let r = env.post(&format!("/agents/{agent}/secret"), Some(admin), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["secret"].as_str().unwrap().to_string()
}

/// `POST /agents/{agent}/links` as agent `who` with `secret`.
async fn ask(env: &Env, agent: &str, who: &str, secret: &str, body: Value) -> Reply {
    let resp = env
        .http
        .post(format!("{}/agents/{agent}/links", env.base))
        .basic_auth(who, Some(secret))
        .json(&body)
        .send()
        .await
        .unwrap();
    Reply { status: resp.status(), headers: resp.headers().clone(), text: resp.text().await.unwrap() }
}

async fn open(env: &Env, token: &str, query: &str) -> Reply {
    env.req(Method::GET, &format!("/view/{token}{query}"), None, None).await
}

fn code(r: &Reply) -> String {
    r.json()["code"].as_str().unwrap_or_default().to_string()
}

async fn view_links(env: Env) {
    let admin = env.account("acme").await;
    let t0 = env.clock_now() - 20 * MIN;
    let (ag1, temp) = env.agent_with_data(&admin, "Boiler house", t0, 600).await;
    let other_ch = env.ingest_channel(&ag1, "dev/other", t0, 600).await;
    let (ag2, _) = env.agent_with_data(&admin, "Site 2", t0, 10).await;
    let other = env.account("other").await;
    let (ag3, foreign) = env.agent_with_data(&other, "Not acme's", t0, 10).await;
    let s1 = secret(&env, &admin, &ag1).await;
    let at = t0 + 5 * MIN;
    let alarm =
        |channels: Value| json!({"alarm_id": "hot", "alarm_name": "Boiler hot", "at": at, "channels": channels});

    // The agent asks for a link to its alarm on dev/temp.
    let r = ask(&env, &ag1, &ag1, &s1, alarm(json!(["dev/temp"]))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let link = r.json();
    let token = link["token"].as_str().unwrap().to_string();
    assert_eq!(link["path"], format!("/v/{token}"));
    assert_eq!(link["channels"], json!(["dev/temp"]));
    assert_eq!(link["expires_ms"], env.clock_now() + 30 * MIN);
    assert_eq!((link["from"].as_i64().unwrap(), link["to"].as_i64().unwrap()), (at - 30 * MIN, at + 10 * MIN));

    // Anyone with it sees the alarm and that one channel, without signing in.
    let v = open(&env, &token, "").await;
    assert_eq!(v.status, 200, "{}", v.text);
    let j = v.json();
    assert_eq!(j["alarm"], json!({"id": "hot", "name": "Boiler hot", "at": at}));
    assert_eq!(j["agent"]["name"], "Boiler house");
    let chans = j["channels"].as_array().unwrap();
    assert_eq!(chans.len(), 1, "no other channel: {}", v.text);
    assert_eq!(chans[0]["path"], "dev/temp");
    assert_eq!(chans[0]["unit"], "°C");
    let counted: u64 = chans[0]["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    // Samples from t0 (the window starts 25 min before it) to at + 10 min = t0 + 15 min.
    assert_eq!(counted, 600, "the window's samples");
    assert!(!v.text.contains("dev/other"), "{}", v.text);
    // Nor by its id.
    let r = open(&env, &token, &format!("?channels={other_ch}")).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Asking for another channel by name is refused; a narrower window works.
    let r = open(&env, &token, "?channels=dev/other").await;
    assert_eq!((r.status.as_u16(), code(&r).as_str()), (403, "link_channel"), "{}", r.text);
    let r = open(&env, &token, &format!("?channels=dev/temp&from={}&to={}&buckets=10", at, at + MIN)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json()["channels"][0]["buckets"].as_array().unwrap().clone();
    assert_eq!(b.iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(), 60);
    // A window outside the link's is cut to it (nothing before it is shown).
    let r = open(&env, &token, &format!("?from={}&to={}", t0 - 600 * MIN, at - 30 * MIN)).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // One changed character anywhere: altered, never opened.
    for i in [0, token.len() / 2, token.find('.').unwrap() + 1, token.len() - 1] {
        let mut b = token.clone().into_bytes();
        b[i] = if b[i] == b'x' { b'y' } else { b'x' };
        let changed = String::from_utf8(b).unwrap();
        let r = open(&env, &changed, "").await;
        assert_eq!((r.status.as_u16(), code(&r).as_str()), (403, "link_altered"), "char {i}: {}", r.text);
        assert!(r.error().contains("changed"), "{}", r.text);
    }
    let r = open(&env, "not-a-token", "").await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Works at 30 minutes; expired at 30 minutes and 1 second.
    env.clock.advance(30 * MIN);
    assert_eq!(open(&env, &token, "").await.status, 200);
    env.clock.advance(1000);
    let r = open(&env, &token, "").await;
    assert_eq!((r.status.as_u16(), code(&r).as_str()), (410, "link_expired"), "{}", r.text);
    assert!(r.error().contains("expired"), "{}", r.text);

    // The agent names its own channels only: another account's channel id,
    // another agent's, or the other account's agent itself are not found.
    let r = ask(&env, &ag1, &ag1, &s1, alarm(json!([foreign.to_string()]))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = ask(&env, &ag1, &ag1, &s1, alarm(json!([temp.to_string(), "dev/temp"]))).await;
    assert_eq!(r.status, 201, "its own channel by id: {}", r.text);
    assert_eq!(r.json()["channels"], json!(["dev/temp"]));
    for agent in [&ag2, &ag3] {
        let r = ask(&env, agent, &ag1, &s1, alarm(json!(["dev/temp"]))).await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    // Wrong secret, no credentials, a user's token.
    assert_eq!(ask(&env, &ag1, &ag1, "wrong", alarm(json!(["dev/temp"]))).await.status, 401);
    let r = env.req(Method::POST, &format!("/agents/{ag1}/links"), None, Some(alarm(json!(["dev/temp"])))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r =
        env.req(Method::POST, &format!("/agents/{ag1}/links"), Some(&admin), Some(alarm(json!(["dev/temp"])))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r =
        env.req(Method::POST, &format!("/agents/{ag1}/links"), Some(&other), Some(alarm(json!(["dev/temp"])))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Bad requests name what was wrong.
    for (body, what) in [
        (alarm(json!([])), "channels"),
        (alarm(json!(["no-slash"])), "instrument/channel"),
        (json!({"alarm_id": "", "alarm_name": "x", "at": at, "channels": ["dev/temp"]}), "alarm_id"),
    ] {
        let r = ask(&env, &ag1, &ag1, &s1, body).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.error().contains(what), "{what}: {}", r.text);
    }
}

/// The offline mail carries a link to the agent's channels around the time
/// it went silent, which opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_mail_carries_a_link_that_opens() {
    let env = Env::start(true).await;
    let admin = env.account("acme").await;
    let now = env.clock_now();
    let (ag, _) = env.agent_with_data(&admin, "Quiet site", now - 10 * MIN, 60).await;
    env.store.records().set_offline_after("acme", 60).await.unwrap();
    let smtp = env.smtp.as_ref().unwrap();
    let opts = meterdeck_cloud::watch::WatchOptions {
        mail: Some(smtp.mail_config()),
        link_key: Some(api_support::test_link_key()),
        ..Default::default()
    };
    // Its last batch was just now (the clock's time at ingest): silent a minute later.
    let later = now + 2 * MIN;
    let made = meterdeck_cloud::watch::check(&*env.store, later, &opts).await.unwrap();
    assert_eq!(made.len(), 1, "{made:?}");
    let mail = smtp.next_mail();
    let body = mail["body"].as_str().unwrap_or_default().to_string();
    let line = body.lines().find(|l| l.starts_with("View (valid 30 min): ")).unwrap_or_else(|| panic!("{body}"));
    let url = line.trim_start_matches("View (valid 30 min): ").trim();
    let token = url.strip_prefix("https://cloud.meterdeck.test/v/").unwrap_or_else(|| panic!("{url}"));
    let v = open(&env, token, "").await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.json()["agent"]["id"], ag.as_str());
    assert_eq!(v.json()["alarm"]["id"], "agent_offline");
    assert_eq!(v.json()["channels"][0]["path"], "dev/temp");
}
