//! The cloud's own alarms (issue 16) over the real API, both storage
//! backends, real aiosmtpd and a real HTTP server taking the webhooks, with
//! an injected time: the account's destinations (roles, bad input, URLs
//! masked and sealed at rest); an offline alarm sent once to every
//! destination, reminded at the account's interval (exactly once per
//! interval, however many monitors), stopped by an acknowledgement (who,
//! when, comment, shown among the site's alarms) and by the agent coming
//! back; traffic 90 % / 100 % and storage alarms once per episode; cloud
//! acknowledgements of agent alarms expiring after a day.
//! Run: `cargo nextest run -p meterdeck-cloud -E 'binary(cloud_alarms)'`.

mod api_support;

use std::net::SocketAddr;
use std::time::Duration;

use api_support::{Db, Env, test_alarm_key, test_link_key};
use meterdeck_cloud::alarms::{Notifier, deliver_due};
use meterdeck_cloud::store::MonthTraffic;
use meterdeck_cloud::watch::WatchOptions;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const MIN: i64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_alarms_sqlite() {
    cloud_alarms(Env::start(true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_alarms_postgres() {
    cloud_alarms(Env::start_on(Db::Postgres, true, "cloudalarms").await).await;
}

/// A real HTTP server taking webhook posts: (path, JSON body) as they arrive.
struct Hooks {
    base: String,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    task: tokio::task::JoinHandle<()>,
}

impl Hooks {
    async fn start() -> Hooks {
        let (tx, rx) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/{*path}",
            axum::routing::post(move |uri: axum::http::Uri, axum::Json(v): axum::Json<Value>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((uri.path().to_string(), v));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Hooks { base: format!("http://{addr}"), rx, task }
    }

    /// Every post that arrives within `wait`, by path.
    async fn take(&mut self, wait: Duration) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        while let Ok(Some(x)) = tokio::time::timeout(wait, self.rx.recv()).await {
            out.push(x);
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every mail within `wait` as (to, subject, body).
fn mails(env: &Env, wait: Duration) -> Vec<(String, String, String)> {
    let smtp = env.smtp.as_ref().unwrap();
    let mut out = Vec::new();
    while let Some(m) = smtp.mail_within(wait) {
        let s = |k: &str| m[k].as_str().map(str::to_string).unwrap_or_else(|| m[k].to_string());
        out.push((s("to"), s("subject"), s("body")));
    }
    out.sort();
    out
}

async fn cloud_alarms(env: Env) {
    let admin = env.account("acme").await;
    let member = env.user(&admin, "acme", "mia", "member", "mia@acme.test").await;
    let viewer = env.user(&admin, "acme", "vic", "viewer", "vic@acme.test").await;
    let other = env.account("other").await;
    let mut hooks = Hooks::start().await;
    let (slack, teams, jsonhook) = (
        format!("{}/slack/T0-secret-slack-token", hooks.base),
        format!("{}/teams/secret-teams-token", hooks.base),
        format!("{}/json/secret-json-token?sig=abc", hooks.base),
    );

    // ---- destinations: roles, bad input, masking, sealed at rest ---------
    let r = env.get("/account/alarm-destinations", &viewer).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = env.get("/account/alarm-destinations", &member).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["remind_every_min"], 60, "the default: hourly, to the admins");
    assert_eq!(r.json()["destinations"][0]["admins"], true);
    let good = json!({
        "remind_every_min": 30, "language": "de", "zone": "Europe/Berlin",
        "destinations": [
            {"id": "mail", "kind": "email", "admins": true, "addresses": ["ops@acme.test"]},
            {"id": "s", "kind": "slack", "url": slack},
            {"id": "t", "kind": "teams", "url": teams},
            {"id": "j", "kind": "json", "name": "Ops bus", "url": jsonhook},
        ]
    });
    let r = env.req(Method::PUT, "/account/alarm-destinations", Some(&member), Some(good.clone())).await;
    assert_eq!(r.status, 403, "members read, admins change: {}", r.text);
    for (bad, field) in [
        (json!([{"kind": "fax", "url": slack}]), "destinations[0].kind"),
        (json!([{"kind": "slack", "url": "ftp://127.0.0.1/secret-ftp-token"}]), "destinations[0].url"),
        (json!([{"kind": "email", "addresses": ["not-an-address"]}]), "destinations[0].addresses[0]"),
        (json!((0..11).map(|_| json!({"kind": "email", "admins": true})).collect::<Vec<_>>()), "destinations"),
    ] {
        let mut b = good.clone();
        b["destinations"] = bad;
        let r = env.req(Method::PUT, "/account/alarm-destinations", Some(&admin), Some(b)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.error().starts_with(&format!("{field}:")), "{}", r.text);
        assert!(!r.text.contains("secret"), "the URL is never echoed: {}", r.text);
    }
    let mut b = good.clone();
    b["language"] = json!("xx");
    let r = env.req(Method::PUT, "/account/alarm-destinations", Some(&admin), Some(b)).await;
    assert!(r.status == 400 && r.error().starts_with("language:"), "{}", r.text);
    let r = env.req(Method::PUT, "/account/alarm-destinations", Some(&admin), Some(good.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("secret"), "URLs come back masked: {}", r.text);
    assert_eq!(r.json()["destinations"][1]["url_masked"], "http://127.0.0.1/…");
    // Sent back without its URL, a webhook keeps it.
    let mut keep = good.clone();
    keep["destinations"][1] = json!({"id": "s", "kind": "slack"});
    let r = env.req(Method::PUT, "/account/alarm-destinations", Some(&admin), Some(keep)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.get("/account/alarm-destinations", &member).await;
    assert!(r.status == 200 && !r.text.contains("secret"), "{}", r.text);
    assert_eq!(r.json()["destinations"].as_array().unwrap().len(), 4);
    // Another account sees its own (the defaults), never ours.
    let r = env.get("/account/alarm-destinations", &other).await;
    assert_eq!(r.json()["destinations"].as_array().unwrap().len(), 1, "{}", r.text);
    // At rest: sealed, the URL nowhere in the database.
    let sealed = env.store.alarms().alarm_settings("acme").await.unwrap().unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains("secret"), "{sealed}");
    if env.url.starts_with("sqlite:") {
        for f in std::fs::read_dir(env.dir.path()).unwrap().flatten() {
            if f.file_name().to_string_lossy().starts_with("c.db") {
                let raw = std::fs::read(f.path()).unwrap();
                assert!(!raw.windows(12).any(|w| w == b"secret-slack"), "{} holds the URL", f.path().display());
            }
        }
    }

    // ---- the offline alarm: once to every destination ------------------
    let t0 = env.clock_now();
    let (ag, _) = env.agent_with_data(&admin, "Kessel", t0 - 10 * MIN, 60).await;
    env.store.records().set_offline_after("acme", 60).await.unwrap();
    // Members and viewers see the agent through a group.
    let r = env
        .post("/groups", Some(&admin), json!({"id": "g", "name": "Site", "agents": [ag], "users": ["mia", "vic"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let smtp_cfg = env.smtp.as_ref().unwrap().mail_config();
    let opts = WatchOptions {
        mail: Some(smtp_cfg.clone()),
        link_key: Some(test_link_key()),
        seal: Some(test_alarm_key()),
        ..Default::default()
    };
    let n = Notifier::new(Some(smtp_cfg.clone()), Some(test_alarm_key()), Some(test_link_key()));
    let t1 = t0 + 2 * MIN;
    let made = meterdeck_cloud::watch::check(&*env.store, t1, &opts).await.unwrap();
    assert_eq!(made.len(), 1, "{made:?}");
    let posts = hooks.take(Duration::from_secs(2)).await;
    let paths: Vec<&str> = posts.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/json/secret-json-token", "/slack/T0-secret-slack-token", "/teams/secret-teams-token"]);
    let (json_post, slack_post, teams_post) = (&posts[0].1, &posts[1].1, &posts[2].1);
    // The account's language (German) and zone (Berlin, with its offset).
    let text = slack_post["text"].as_str().unwrap();
    assert!(text.starts_with("*Meterdeck: Agent Kessel ist offline*"), "{text}");
    assert!(text.contains("Ansicht") || text.contains("/v/"), "a view-only link: {text}");
    assert!(text.contains("+01:00") || text.contains("+02:00"), "times carry the zone: {text}");
    assert_eq!(teams_post["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert_eq!(json_post["kind"], "alarm");
    assert_eq!(json_post["alarm_id"], "agent_offline");
    assert_eq!(json_post["agent"], ag.as_str());
    assert_eq!(json_post["reminder"], 0);
    let alarm_id = json_post["cloud_alarm"].as_str().unwrap().to_string();
    let m = mails(&env, Duration::from_secs(2));
    let to: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(to.len(), 2, "the admin and the listed address: {m:?}");
    assert!(
        to.iter().any(|t| t.contains("boss@example.com")) && to.iter().any(|t| t.contains("ops@acme.test")),
        "{m:?}"
    );
    for (_, subject, body) in &m {
        assert!(!subject.starts_with("Reminder") && !subject.starts_with("Erinnerung"), "{subject}");
        assert!(body.contains("/v/"), "the offline mail carries a view-only link: {body}");
    }
    // Raised once: another look (another process) sends nothing more.
    assert!(meterdeck_cloud::watch::check(&*env.store, t1 + 5_000, &opts).await.unwrap().is_empty());
    assert!(deliver_due(&*env.store, &n, t1 + 29 * MIN).await.unwrap().is_empty(), "not due before 30 min");
    assert!(hooks.take(Duration::from_millis(300)).await.is_empty());

    // ---- reminders at the interval, exactly once per interval ----------
    let sent = deliver_due(&*env.store, &n, t1 + 30 * MIN).await.unwrap();
    assert_eq!(sent, vec![(alarm_id.clone(), 2)]);
    let posts = hooks.take(Duration::from_secs(2)).await;
    assert_eq!(posts.len(), 3);
    assert!(
        posts[1].1["text"].as_str().unwrap().starts_with("*Erinnerung 1: Meterdeck: Agent Kessel ist offline*"),
        "{}",
        posts[1].1
    );
    assert_eq!(posts[0].1["reminder"], 1);
    let m = mails(&env, Duration::from_secs(2));
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m.iter().any(|x| x.1.starts_with("Reminder 1: Meterdeck: agent Kessel is offline")),
        "the admin's own language: {m:?}"
    );
    assert!(m.iter().any(|x| x.1.starts_with("Erinnerung 1:")), "the account's language for listed addresses: {m:?}");
    // Two monitors at once (two cloud processes): one reminder between them.
    let (a, b) = tokio::join!(deliver_due(&*env.store, &n, t1 + 61 * MIN), deliver_due(&*env.store, &n, t1 + 61 * MIN));
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1, "exactly one sends");
    assert_eq!(hooks.take(Duration::from_secs(2)).await.len(), 3);
    assert_eq!(mails(&env, Duration::from_secs(2)).len(), 2);

    // ---- acknowledged: who, when, comment; no more reminders ------------
    let path = format!("/account/cloud-alarms/{alarm_id}/ack");
    let r = env.post(&path, Some(&viewer), json!({"comment": "x"})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = env.post(&path, Some(&other), json!({"comment": "x"})).await;
    assert_eq!(r.status, 404, "another account's alarm is not found: {}", r.text);
    let r = env.post(&path, Some(&member), json!({"comment": "x".repeat(5000)})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    env.clock.set(t1 + 70 * MIN);
    let r = env.post(&path, Some(&member), json!({"comment": "driving there"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["ack"], json!({"user": "mia", "t": t1 + 70 * MIN, "comment": "driving there"}));
    let r = env.post(&path, Some(&admin), json!({})).await;
    assert_eq!(r.status, 409, "acknowledged once: {}", r.text);
    assert!(deliver_due(&*env.store, &n, t1 + 200 * MIN).await.unwrap().is_empty(), "no reminder after the ack");
    assert!(hooks.take(Duration::from_millis(500)).await.is_empty());
    // Shown acknowledged among the site's alarms (the portal's and the desktop's view).
    let r = env.get(&format!("/agents/{ag}/alarms"), &viewer).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let site = r.json()["site"].clone();
    let cloud = site.as_array().unwrap().iter().find(|a| a["alarm_id"] == format!("cloud-{alarm_id}")).cloned();
    let cloud = cloud.unwrap_or_else(|| panic!("{site}"));
    assert_eq!(cloud["state"], "ACKED");
    assert_eq!(cloud["name"], "agent_offline");
    assert_eq!(cloud["ack"]["user"], "mia");
    let r = env.get("/account/cloud-alarms", &viewer).await;
    assert_eq!(r.json()[0]["ack"]["comment"], "driving there", "{}", r.text);

    // ---- cleared: the agent is back; its notice once; no reminders ------
    let (ag2, _) = env.agent_with_data(&admin, "Pumpe", t0 - 10 * MIN, 60).await;
    let t2 = t1 + 300 * MIN;
    env.store.records().set_presence(&ag, true, t2).await.unwrap();
    let made = meterdeck_cloud::watch::check(&*env.store, t2, &opts).await.unwrap();
    assert!(made.iter().any(|(a, _)| a == &ag2), "{made:?}");
    let _ = hooks.take(Duration::from_secs(2)).await;
    let _ = mails(&env, Duration::from_secs(2));
    env.store.records().set_presence(&ag2, true, t2 + MIN).await.unwrap();
    let made = meterdeck_cloud::watch::check(&*env.store, t2 + MIN, &opts).await.unwrap();
    assert_eq!(made.len(), 1, "{made:?}");
    let posts = hooks.take(Duration::from_secs(2)).await;
    assert_eq!(posts.len(), 3, "the back-online notice to every webhook");
    assert_eq!(posts[0].1["kind"], "system");
    assert!(posts[1].1["text"].as_str().unwrap().contains("wieder online"), "{}", posts[1].1);
    assert_eq!(mails(&env, Duration::from_secs(2)).len(), 2);
    assert!(deliver_due(&*env.store, &n, t2 + 500 * MIN).await.unwrap().is_empty(), "cleared: no reminder");

    // ---- traffic 90 % and 100 %: once each per month --------------------
    let t3 = t2 + 600 * MIN;
    for _ in 0..2 {
        meterdeck_cloud::traffic_notice::notify(&*env.store, &n, &ag, MonthTraffic { bytes: 900, allowance: 1000 }, t3)
            .await;
    }
    assert_eq!(hooks.take(Duration::from_secs(2)).await.len(), 3, "90 % once");
    assert_eq!(mails(&env, Duration::from_secs(2)).len(), 2);
    meterdeck_cloud::traffic_notice::notify(&*env.store, &n, &ag, MonthTraffic { bytes: 1000, allowance: 1000 }, t3)
        .await;
    meterdeck_cloud::traffic_notice::notify(&*env.store, &n, &ag, MonthTraffic { bytes: 1000, allowance: 1000 }, t3)
        .await;
    let posts = hooks.take(Duration::from_secs(2)).await;
    assert_eq!(posts.len(), 3, "100 % once");
    assert_eq!(posts[0].1["alarm_id"], "traffic_100");
    let _ = mails(&env, Duration::from_secs(2));
    let list = env.get("/account/cloud-alarms", &admin).await.json();
    let open: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["cleared_ms"].is_null() && a["ack"].is_null())
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["traffic_100"], "the 100 % alarm supersedes the 90 % one: {list}");
    // A new month clears them (no more reminders).
    let next_month = t3 + 40 * 24 * 60 * MIN;
    assert!(deliver_due(&*env.store, &n, next_month).await.unwrap().is_empty());
    assert!(env.store.alarms().open_alarms().await.unwrap().is_empty());
    let _ = hooks.take(Duration::from_millis(300)).await;

    // ---- storage over the plan: once per episode ------------------------
    let s = meterdeck_cloud::alarms::episode(
        "acme",
        None,
        meterdeck_cloud::store::alarms::STORAGE_OVER,
        "123".into(),
        next_month,
        json!({"used": 2_000_000_000u64, "cap": 1_000_000_000u64, "plan": "standard", "deadline": next_month + 31 * 24 * 60 * MIN}),
    );
    assert!(env.store.alarms().raise(&s).await.unwrap());
    let again = meterdeck_cloud::alarms::episode("acme", None, "storage_over", "123".into(), next_month, json!({}));
    assert!(!env.store.alarms().raise(&again).await.unwrap(), "one row per episode");
    assert_eq!(deliver_due(&*env.store, &n, next_month).await.unwrap(), vec![(s.id.clone(), 1)]);
    let posts = hooks.take(Duration::from_secs(2)).await;
    assert_eq!(posts.len(), 3);
    assert!(posts[1].1["text"].as_str().unwrap().contains("2.00 GB"), "{}", posts[1].1);
    assert_eq!(mails(&env, Duration::from_secs(2)).len(), 2);
    assert!(deliver_due(&*env.store, &n, next_month + MIN).await.unwrap().is_empty());

    // ---- cloud acks of agent alarms expire after a day ------------------
    let pending = meterdeck_wire::alarms::PendingAck {
        id: "ack1".into(),
        alarm_id: "hot".into(),
        user: "mia".into(),
        comment: None,
        created_ms: t0,
        sends: 0,
        expired_ms: None,
    };
    env.store.records().add_cloud_ack(&ag, &pending).await.unwrap();
    let day = meterdeck_wire::alarms::ACK_EXPIRY_MS;
    assert!(meterdeck_cloud::acks::expire(&*env.store, t0 + day).await.unwrap().is_empty());
    let gone = meterdeck_cloud::acks::expire(&*env.store, t0 + day + 1).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert!(env.store.records().open_cloud_acks(Some(&ag)).await.unwrap().is_empty(), "no longer published");
    assert!(meterdeck_cloud::acks::expire(&*env.store, t0 + 2 * day).await.unwrap().is_empty(), "expired once");
    let expired = env.store.alarms().expired_cloud_acks(&ag).await.unwrap();
    assert_eq!(expired, vec![("hot".to_string(), "mia".to_string(), t0, t0 + day + 1)]);
}
