//! A calendar year of the licence sweep on SQLite and PostgreSQL, with an
//! injected clock and a real aiosmtpd: a Standard term in the account's
//! time zone (Asia/Tokyo) gets every reminder of SPEC 7.4 exactly once,
//! though two service processes sweep at the same time and one is
//! restarted in the middle (storage reopened: the records of sent
//! reminders are in the database); at expiry the account
//! is Free; its data over Free's capacity gets a notice and, 31 days later,
//! the oldest of it is deleted, journaled and mailed; a gateway lapsed
//! more than 31 days loses its registration but keeps its data.
//! Plan changes and the 13-month cap: tests/licence_api.rs.
//! Run: `cargo test -p meterdeck-cloud --test licence_year`.

mod api_support;

use std::time::Duration;

use api_support::{Db, Env};
use meterdeck_cloud::licence::{self, sweep, terms};
use meterdeck_cloud::store::{CardProduct, Role, Storage, TwoFactor, User, UserPrefs};
use meterdeck_wire::licence::{Plan, RemotePlan};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2027-01-15 00:00 UTC.
const T0: i64 = 1_799_971_200_000;

async fn apply(store: &dyn Storage, product: CardProduct, months: u32, now: i64) {
    let code = licence::issue_card(store, "acme", product, months, now).await.unwrap();
    licence::apply_card(store, "acme", &code, "boss", now).await.unwrap();
}

async fn walk(env: Env) {
    env.clock.set(T0);
    let temp = meterdeck_cloud::admin::create_account(&*env.store, "acme", "Acme", "free", "boss", "boss@example.com")
        .await
        .unwrap();
    let admin = env.first_login("acme", "boss", &temp, "Admin-pass1").await;
    let mut store = meterdeck_cloud::store::open(&env.url).await.unwrap();
    let second = meterdeck_cloud::store::open(&env.url).await.unwrap();
    apply(&*store, CardProduct::Plan { plan: Plan::Standard }, 3, T0).await;
    licence::set_time_zone(&*store, "acme", "Asia/Tokyo", "boss", T0).await.unwrap();
    // A second admin reads German in Berlin's time (`/me/preferences`).
    let anna = User {
        account: "acme".into(),
        id: "anna".into(),
        name: "Anna".into(),
        email: "anna@example.com".into(),
        role: Role::Admin,
        password_hash: "!".into(),
        must_change: false,
        two_factor: TwoFactor::None,
        totp_secret: None,
        created_ms: T0,
    };
    store.insert_user(&anna).await.unwrap();
    let prefs = UserPrefs { language: "de".into(), zone: "Europe/Berlin".into() };
    store.set_user_prefs("acme", "anna", &prefs).await.unwrap();
    let end = terms::add_months(T0, 3);
    // Two sites' data, one older; a gateway with a month of Remote Basic.
    let (old, _) = env.agent_with_data(&admin, "old site", T0 - 20 * DAY, 3000).await;
    let (gw, _) = env.agent_with_data(&admin, "gateway", T0 - DAY, 3000).await;
    apply(&*store, CardProduct::Remote { plan: RemotePlan::Basic, agent: gw.clone() }, 1, T0).await;
    let used = store.storage_used("acme").await.unwrap();
    let bytes = |agent: &str| used.iter().find(|c| c.agent == agent).unwrap().bytes;
    // Free holds the newer site's data and half the older's (plans' GB scaled to bytes).
    let free_cap = bytes(&gw) + bytes(&old) / 2;
    let capacity = move |p: Plan| if p == Plan::Free { free_cap } else { u64::MAX };
    let broker = env.broker.clone();
    let mail = env.smtp.as_ref().unwrap().mail_config();

    let mut reminders = Vec::new();
    let (mut notices, mut pruned, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    let restart_at = terms::add_months(T0, 1) + 14 * DAY + 12 * HOUR;
    let mut now = T0;
    while now <= end + 40 * DAY {
        if now == restart_at {
            // The service restarts: a new storage handle, nothing kept in memory.
            drop(store);
            store = meterdeck_cloud::store::open(&env.url).await.unwrap();
        }
        // Two service processes sweep at once (their own storage handles).
        let (a, b) = tokio::join!(
            sweep::sweep_with(&*store, &*broker, Some(&mail), now, &capacity, None),
            sweep::sweep_with(&*second, &*broker, Some(&mail), now, &capacity, None)
        );
        for s in [a.unwrap(), b.unwrap()] {
            reminders.extend(s.reminders.into_iter().map(|(_, k)| (k, now)));
            notices.extend(s.notices.into_iter().map(|a| (a, now)));
            pruned.extend(s.pruned.into_iter().map(|(_, p)| (p, now)));
            removed.extend(s.gateways_removed.into_iter().map(|a| (a, now)));
        }
        // The gateway keeps its registration for 31 days after its term.
        let logins: Vec<String> = store.broker_logins().await.unwrap().into_iter().map(|(id, _)| id).collect();
        let gw_term_end = terms::add_months(T0, 1);
        assert_eq!(logins.contains(&gw), now < gw_term_end + 31 * DAY, "at {}", terms::utc(now));
        now += 6 * HOUR;
    }

    // Every reminder of the schedule, once, at its 09:00 Tokyo (00:00 UTC).
    let tokyo = sweep::zone(Some("Asia/Tokyo"));
    let mut expected: Vec<(String, i64)> = sweep::schedule(end, tokyo);
    assert_eq!(expected.len(), 8, "{expected:?}");
    // The gateway's term (to 2027-02-15) too, from the first sweep on (the
    // monthly ones were due before the card).
    let gw_end = terms::add_months(T0, 1);
    let gw_expected: Vec<(String, i64)> = sweep::schedule(gw_end, tokyo)
        .into_iter()
        .filter(|(_, at)| *at + 3 * DAY > T0)
        .map(|(k, at)| (format!("gateway-{gw}/{k}"), at))
        .collect();
    assert_eq!(gw_expected.len(), 6, "{gw_expected:?}");
    expected.extend(gw_expected);
    expected.sort_by_key(|(k, at)| (*at, k.clone()));
    let mut got = reminders.clone();
    got.sort_by_key(|(k, at)| (*at, k.clone()));
    assert_eq!(got, expected, "each reminder once, when due");
    // Expiry: Free.
    let (st, _) = licence::state(&*store, "acme").await.unwrap();
    assert_eq!(terms::effective(&st, end).0, Plan::Free);
    // Over Free's capacity at expiry: a notice, deletion 31 days later.
    assert_eq!(notices, [("acme".to_string(), end)]);
    assert_eq!(pruned.len(), 1, "{pruned:?}");
    let (p, at) = &pruned[0];
    assert_eq!(*at, end + 31 * DAY);
    assert_eq!(p.channels, [format!("{old}/dev/temp")], "the oldest data went first");
    let left: u64 = store.storage_used("acme").await.unwrap().iter().map(|c| c.bytes).sum();
    assert!(left <= free_cap && left > 0, "{left} <= {free_cap}");
    // The gateway: registration removed 31 days after its term; its data stays.
    assert_eq!(removed, [(gw.clone(), terms::add_months(T0, 1) + 31 * DAY)]);
    assert_eq!(store.channels(&gw).await.unwrap()[0].samples, 3000);
    let gw_row = store.agent(&gw).await.unwrap().unwrap();
    assert!(!meterdeck_cloud::admin::is_registered(&gw_row), "no longer counted among the plan's agents");
    assert!(!meterdeck_cloud::auth::password::verify_password("anything", &gw_row.secret_hash));
    assert!(env.broker.changes.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    // Journaled.
    let h = store.licence_history("acme", 1000).await.unwrap();
    let count = |w: &str| h.iter().filter(|e| e.what == w).count();
    assert_eq!(
        (count("reminder"), count("over-capacity-notice"), count("data-deleted"), count("gateway-removed")),
        (14, 1, 1, 1)
    );

    // The mails: 6 reminders before the end, 2 after, the notice, the
    // deletion; the gateway's: 4 before (Mondays, 7 days), 2 after.
    let smtp = env.smtp.as_ref().unwrap();
    let (mut subjects, mut german) = (Vec::new(), Vec::new());
    while let Some(m) = smtp.mail_within(Duration::from_secs(3)) {
        let subject = m["subject"].as_str().unwrap_or_default().to_string();
        match m["rcpt_tos"][0].as_str() {
            Some("boss@example.com") => subjects.push(subject),
            Some("anna@example.com") => german.push((subject, m["body"].as_str().unwrap_or_default().to_string())),
            other => panic!("a mail to {other:?}"),
        }
    }
    let n = |s: &str| subjects.iter().filter(|x| x.contains(s)).count();
    assert_eq!(n("Standard licence of account acme ends on 2027-04-15"), 6, "{subjects:#?}");
    assert_eq!(n("Standard licence of account acme has ended"), 2, "{subjects:#?}");
    assert_eq!(n("over its storage capacity"), 1, "{subjects:#?}");
    assert_eq!(n("was deleted (over capacity)"), 1, "{subjects:#?}");
    assert_eq!(n(&format!("Remote Basic licence of gateway {gw} ends on 2027-02-15")), 4, "{subjects:#?}");
    assert_eq!(n(&format!("Remote Basic licence of gateway {gw} has ended")), 2, "{subjects:#?}");
    assert_eq!(subjects.len(), 16, "{subjects:#?}");
    // The same mails to Anna, in German, times in Berlin's zone (00:00 UTC
    // is 02:00 CEST in April).
    assert_eq!(german.len(), 16, "{german:#?}");
    let de = |s: &str| german.iter().filter(|(x, _)| x.contains(s)).count();
    assert_eq!(de("Die Standard-Lizenz des Kontos acme endet am 2027-04-15 02:00 CEST (UTC+02:00)"), 6, "{german:#?}");
    assert_eq!(de("überschreitet seine Speicherkapazität"), 1, "{german:#?}");
    assert!(german.iter().any(|(_, body)| body.contains("Noch 7 Tage.")), "{german:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_reminders_capacity_and_lapse_sqlite() {
    walk(Env::start_on(Db::Sqlite, true, "year").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_reminders_capacity_and_lapse_postgres() {
    walk(Env::start_on(Db::Postgres, true, "yearpg").await).await;
}
