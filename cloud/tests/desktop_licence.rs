//! The desktop's licence calls (`meterdeck_core::cloudlink`) against this
//! crate's real API router over HTTP: the key, the signed document, the
//! cloud's status and storage (the Cloud screen's storage meter), the
//! history and applying a card (a good one, an unknown one, a used one).
//! Each assertion names the call, so a drift on either side points at it.
//! Run: `cargo test -p meterdeck-cloud --test desktop_licence`.

mod api_support;

use std::sync::Arc;

use api_support::{Env, test_licence_key};
use meterdeck_cloud::store::CardProduct;
use meterdeck_core::cloudlink::{CloudLink, MemoryPrefs};
use meterdeck_core::notify::MemorySecrets;
use meterdeck_wire::licence::{Plan, parse_public_key, public_key_text, verify};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_licence_calls_speak_the_api() {
    let env = Env::start(false).await;
    let base = env.base.strip_suffix("/api/v1").expect("the API under /api/v1").to_string();
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "acme", "Acme", "free", "boss", "boss@example.com")
        .await
        .unwrap();
    let link = CloudLink::new(Arc::new(MemorySecrets::new()), Arc::new(MemoryPrefs::default())).unwrap();
    link.sign_in(&base, "acme", "boss", &temp).await.unwrap();
    assert!(link.change_password(&temp, "Desk-pass1").await.unwrap().signed_in);

    // GET /licence/key and GET /licence: the document verifies with the key.
    let key = link.licence_key().await.expect("licence_key");
    assert_eq!(key, public_key_text(&test_licence_key().verifying_key()), "licence_key");
    let text = link.licence_text().await.expect("licence_text");
    let doc = verify(&text, &parse_public_key(&key).unwrap(), "acme", env.clock_now()).expect("licence_text verifies");
    assert_eq!((doc.account.as_str(), doc.plan), ("acme", Plan::Free), "licence_text");

    // Data in two channels of two sites, so storage has something to count.
    let (admin, _) = env.login("acme", "boss", "Desk-pass1").await;
    let t0 = env.clock_now() - 200_000;
    let (a, ch_a) = env.agent_with_data(&admin, "site-a", t0, 100).await;
    let (b, ch_b) = env.agent_with_data(&admin, "site-b", t0, 20).await;

    // GET /licence/status.
    let st = link.licence_status().await.expect("licence_status");
    assert_eq!((st.account.as_str(), st.plan.as_str(), st.expires, st.days_left), ("acme", "free", None, None));
    assert_eq!(st.limits, Plan::Free.limits(), "licence_status limits");
    assert_eq!((st.usage.users, st.usage.agents, st.usage.groups), (1, 2, 0), "licence_status usage");
    assert!(st.usage.storage_bytes > 0, "licence_status storage_bytes: {st:?}");
    let raw = env.get("/licence/status", &admin).await.json();
    assert_eq!(raw["usage"]["storage_bytes"].as_u64(), Some(st.usage.storage_bytes), "licence_status storage_bytes");

    // GET /licence/storage: per channel, largest first, summing to the status.
    let chans = link.licence_storage().await.expect("licence_storage");
    assert_eq!(chans.len(), 2, "licence_storage: {chans:?}");
    let mut ids: Vec<_> = chans.iter().map(|c| (c.channel.clone(), c.agent.clone(), c.path.as_str())).collect();
    ids.sort();
    let mut want = vec![(ch_a.to_string(), a.clone(), "dev/temp"), (ch_b.to_string(), b.clone(), "dev/temp")];
    want.sort();
    assert_eq!(ids, want, "licence_storage channel, agent, path");
    assert!(chans[0].bytes >= chans[1].bytes && chans[1].bytes > 0, "licence_storage: {chans:?}");
    assert_eq!(chans.iter().map(|c| c.bytes).sum::<u64>(), st.usage.storage_bytes, "licence_storage vs status");

    // The meter the Cloud screen shows.
    let m = link.storage_meter().await.expect("storage_meter");
    assert_eq!((m.used_bytes, m.capacity_bytes), (st.usage.storage_bytes, Plan::Free.limits().storage_bytes));
    assert!(!m.over && m.percent >= 0.0 && m.percent < 100.0, "{m:?}");
    assert_eq!(m.channels.len(), 2);
    assert!(!m.used_text.is_empty() && !m.channels[0].bytes_text.is_empty(), "{m:?}");

    // The Licence screen's cloud bars (from the same status).
    let v = link.cloud_usage().await.expect("cloud_usage").expect("signed in");
    let bars: Vec<_> = v.limits.iter().map(|l| (l.limit.as_str(), l.used, l.max)).collect();
    let f = Plan::Free.limits();
    assert_eq!(
        bars,
        [
            ("users", 1, f.users.into()),
            ("teams", 0, f.teams.into()),
            ("agents", 2, f.agents.into()),
            ("groups", 0, f.groups.into()),
            ("storage_bytes", st.usage.storage_bytes, f.storage_bytes)
        ],
        "cloud_usage"
    );

    // POST /licence/cards: unknown, good, used again.
    let e = link.licence_apply_card("MDC-0000-0000-0000-0000").await.unwrap_err().to_string();
    assert!(e.contains("no card with this code"), "licence_apply_card (unknown): {e}");
    let card = meterdeck_cloud::licence::issue_card(
        &*env.store,
        "acme",
        CardProduct::Plan { plan: Plan::Standard },
        3,
        env.clock_now(),
    )
    .await
    .unwrap();
    link.licence_apply_card(&card).await.expect("licence_apply_card");
    let e = link.licence_apply_card(&card).await.unwrap_err().to_string();
    assert!(e.contains("a card works once"), "licence_apply_card (used): {e}");
    let st = link.licence_status().await.unwrap();
    assert_eq!(st.plan, "standard", "licence_status after the card");
    assert!(st.expires.is_some() && st.days_left.is_some_and(|d| d > 80), "{st:?}");
    let m = link.storage_meter().await.unwrap();
    assert_eq!(m.capacity_bytes, Plan::Standard.limits().storage_bytes, "storage_meter after the card");
    let doc = verify(&link.licence_text().await.unwrap(), &parse_public_key(&key).unwrap(), "acme", env.clock_now())
        .expect("licence_text after the card");
    assert_eq!(doc.plan, Plan::Standard);

    let after = link.sign_out().await.unwrap();
    assert!(!after.signed_in);
    assert_eq!(link.cloud_usage().await.expect("cloud_usage signed out"), None, "cloud_usage signed out");
    link.sign_in(&base, "acme", "boss", "Desk-pass1").await.unwrap();

    // GET /licence/history: times as UTC text, who applied the card.
    let h = link.licence_history().await.expect("licence_history");
    let applied = h.iter().find(|x| x.what == "card-applied").unwrap_or_else(|| panic!("licence_history: {h:?}"));
    assert!(applied.at.ends_with('Z') && applied.at.contains('T'), "licence_history at: {applied:?}");
    assert_eq!(applied.by.as_deref(), Some("boss"), "licence_history by: {applied:?}");
}
