//! The licence kept and verified, each refusal named with the last good one
//! staying in force; fetched from a stand-in of the cloud's licence API
//! (axum in the test, documents signed with the wire crate's `sign`).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::Engine as _;
use meterdeck_wire::licence::{LicenceFile, public_key_text, sign, signing_key};

use super::fetch::{self, Auth};
use super::limits::AgentLimits;
use super::*;
use crate::store::{Store, StoreOptions};

const NOW: TimeMs = 1_800_000_000_000;
const DAY: TimeMs = 86_400_000;

fn doc(serial: &str, account: &str, plan: Plan, issued_at: TimeMs) -> LicenceDoc {
    LicenceDoc {
        serial: serial.into(),
        account: account.into(),
        plan,
        limits: plan.limits(),
        expires: Some(issued_at + 30 * DAY),
        gateways: vec![Gateway {
            agent: "gw-1".into(),
            plan: RemotePlan::Basic,
            limits: RemotePlan::Basic.limits(),
            expires: issued_at + 10 * DAY,
        }],
        issued_at,
    }
}

fn trust() -> Trust {
    Trust { key: signing_key(&[1; 32]).verifying_key(), account: Some("acme".into()) }
}

fn signed(d: &LicenceDoc) -> String {
    sign(d, &signing_key(&[1; 32]))
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_with(&dir.path().join("m.db"), StoreOptions::default(), &[SCHEMA_PART]).unwrap();
    (dir, s)
}

/// One byte of the signed payload changed (a character of its base64).
fn tampered(text: &str) -> String {
    let mut f: LicenceFile = serde_json::from_str(text).unwrap();
    let mut payload = base64::engine::general_purpose::STANDARD.decode(&f.payload).unwrap();
    let at = payload.iter().position(|b| *b == b'L').unwrap();
    payload[at] = b'M';
    f.payload = base64::engine::general_purpose::STANDARD.encode(payload);
    serde_json::to_string(&f).unwrap()
}

#[test]
fn no_licence_means_free_limits() {
    let (_d, mut s) = store();
    let f = reverify(&mut s, Some(&trust()), NOW, Source::Start).unwrap();
    assert_eq!((f.plan(NOW), f.limits(NOW)), (Plan::Free, Plan::Free.limits()));
    assert!(checks(&s, 10).unwrap().is_empty(), "nothing to verify, nothing recorded");
}

#[test]
fn each_bad_document_is_refused_by_name_and_the_good_one_stays() {
    let (_d, mut s) = store();
    let good = signed(&doc("L-1", "acme", Plan::Standard, NOW));
    accept(&mut s, &good, &trust(), NOW, Source::Fetched).unwrap();
    let pro = doc("L-2", "acme", Plan::Pro, NOW + 1000);
    let cases: Vec<(&str, String, Trust, TimeMs)> = vec![
        ("altered", tampered(&signed(&pro)), trust(), NOW + 2000),
        ("signed by key", sign(&pro, &signing_key(&[2; 32])), trust(), NOW + 2000),
        ("cut short", signed(&pro)[..200].to_string(), trust(), NOW + 2000),
        ("belongs to account \"globex\"", signed(&doc("L-3", "globex", Plan::Pro, NOW)), trust(), NOW + 2000),
        ("after this computer's clock", signed(&doc("L-4", "acme", Plan::Pro, NOW + 2 * DAY)), trust(), NOW + 2000),
    ];
    for (what, text, t, now) in cases {
        let e = accept(&mut s, &text, &t, now, Source::Fetched).unwrap_err();
        assert!(e.to_string().contains(what), "{what}: {e}");
        let last = checks(&s, 1).unwrap().remove(0);
        assert!(!last.ok && last.message.contains(what), "{what}: {last:?}");
        // The Standard licence stays in force.
        let f = in_force(&s, Some(&trust()), now).unwrap();
        assert_eq!(f.doc.as_ref().map(|d| d.serial.as_str()), Some("L-1"), "{what}");
        assert_eq!(f.plan(now), Plan::Standard);
    }
    // A good newer one replaces it; replaying the older one changes nothing.
    accept(&mut s, &signed(&pro), &trust(), NOW + 3000, Source::Fetched).unwrap();
    let answered = accept(&mut s, &good, &trust(), NOW + 4000, Source::File).unwrap();
    assert_eq!(answered.serial, "L-2", "a replayed older licence answers the one in force");
    let f = in_force(&s, Some(&trust()), NOW + 5000).unwrap();
    assert_eq!(f.doc.unwrap().serial, "L-2");
    assert!(checks(&s, 1).unwrap()[0].message.contains("older than the one in force"));
}

#[test]
fn the_kept_licence_is_verified_again_at_start_and_a_tampered_store_row_is_free() {
    let (_d, mut s) = store();
    accept(&mut s, &signed(&doc("L-1", "acme", Plan::Pro, NOW)), &trust(), NOW, Source::Fetched).unwrap();
    let f = reverify(&mut s, Some(&trust()), NOW + DAY, Source::Start).unwrap();
    assert_eq!(f.plan(NOW + DAY), Plan::Pro);
    assert!(checks(&s, 1).unwrap()[0].ok);
    // Expired: the document still verifies, the plan in force is Free.
    let f = reverify(&mut s, Some(&trust()), NOW + 31 * DAY, Source::Daily).unwrap();
    assert_eq!((f.plan(NOW + 31 * DAY), f.limits(NOW + 31 * DAY)), (Plan::Free, Plan::Free.limits()));
    // Someone edits the kept row: refused with its reason, Free applies.
    let text = kept_text(&s).unwrap().unwrap();
    s.conn().execute("UPDATE licence_kept SET text = ?1", [tampered(&text)]).unwrap();
    let f = reverify(&mut s, Some(&trust()), NOW + DAY, Source::Start).unwrap();
    assert!(f.doc.is_none() && f.problem.as_deref().unwrap().contains("altered"), "{f:?}");
    let last = &checks(&s, 1).unwrap()[0];
    assert!(!last.ok && last.source == "start" && last.message.contains("altered"), "{last:?}");
    // Without a pinned key nothing is trusted.
    let f = reverify(&mut s, None, NOW + DAY, Source::Start).unwrap();
    assert!(f.doc.is_none() && f.problem.unwrap().contains("licence_key"));
}

#[test]
fn without_a_pinned_account_the_first_licence_pins_it() {
    let (_d, mut s) = store();
    let open = Trust { account: None, ..trust() };
    accept(&mut s, &signed(&doc("L-1", "acme", Plan::Standard, NOW)), &open, NOW, Source::Fetched).unwrap();
    let e = accept(&mut s, &signed(&doc("L-2", "globex", Plan::Pro, NOW + 1)), &open, NOW + 1, Source::Fetched)
        .unwrap_err();
    assert!(matches!(e, AcceptError::Refused(LicenceError::OtherAccount { .. })), "{e}");
}

#[test]
fn the_view_names_plan_expiry_and_gateway() {
    let (_d, mut s) = store();
    accept(&mut s, &signed(&doc("L-1", "acme", Plan::Standard, NOW)), &trust(), NOW, Source::Fetched).unwrap();
    let f = in_force(&s, Some(&trust()), NOW + DAY).unwrap();
    let v = f.view(Some("gw-1"), NOW + DAY, checks(&s, 5).unwrap());
    assert_eq!((v.plan, v.days_left, v.serial.as_deref()), (Plan::Standard, Some(29), Some("L-1")));
    assert_eq!(v.gateway.as_ref().map(|g| g.plan), Some(RemotePlan::Basic));
    let text = v.render(NOW + DAY);
    assert!(text.contains("Standard") && text.contains("29 days left") && text.contains("Remote Basic"), "{text}");
}

// ------------------------------------------------------------------ limits

fn counts(instruments: u32, channels: u32, alarms: u32, calcs: u32) -> Counts {
    Counts {
        instruments,
        channels: (0..instruments).map(|i| (format!("i{i}"), channels)).collect(),
        alarm_rules: alarms,
        calcs,
        panels: 0,
    }
}

#[test]
fn each_limit_refuses_one_more_naming_plan_limit_count_and_the_way_out() {
    let free = AgentLimits::of(Plan::Free, Plan::Free.limits(), None);
    assert!(free.check(&counts(3, 30, 3, 3), Some(&counts(2, 30, 2, 2))).is_ok());
    let e = free.check(&counts(4, 1, 0, 0), Some(&counts(3, 1, 0, 0))).unwrap_err();
    assert_eq!((e.plan.as_str(), e.limit, e.max, e.count), ("Free", "instruments_per_agent", 3, 3));
    assert!(e.message.to_string().contains("the Free plan allows 3 instruments per agent"), "{e}");
    assert!(
        e.message.to_string().contains("has 3") && e.message.to_string().contains("Standard or Pro licence card"),
        "{e}"
    );
    let e = free.check(&counts(1, 31, 0, 0), Some(&counts(1, 30, 0, 0))).unwrap_err();
    assert_eq!((e.limit, e.max, e.count, e.instrument.as_deref()), ("channels_per_instrument", 30, 30, Some("i0")));
    let e = free.check(&counts(1, 1, 4, 0), Some(&counts(1, 1, 3, 0))).unwrap_err();
    assert_eq!((e.limit, e.max), ("alarms_per_group", 3));
    assert!(e.message.to_string().contains("alarm rules"), "{e}");
    let e = free.check(&counts(1, 1, 0, 4), None).unwrap_err();
    assert_eq!((e.limit, e.count), ("calcs_per_group", 0));
    // Standard lifts it; Pro says it is the largest.
    let std = AgentLimits::of(Plan::Standard, Plan::Standard.limits(), None);
    assert!(std.check(&counts(8, 30, 30, 30), Some(&counts(3, 30, 3, 3))).is_ok());
    assert!(std.check(&counts(1, 1, 31, 0), None).unwrap_err().message.to_string().contains("Pro plan"));
}

#[test]
fn what_exists_above_a_limit_stays_and_may_shrink() {
    let free = AgentLimits::of(Plan::Free, Plan::Free.limits(), None);
    let before = counts(6, 40, 10, 10);
    assert!(free.check(&before, Some(&before)).is_ok(), "after a downgrade nothing is taken away");
    assert!(free.check(&counts(5, 40, 9, 10), Some(&before)).is_ok(), "shrinking is fine");
    assert!(free.check(&counts(7, 40, 10, 10), Some(&before)).is_err(), "growing is not");
}

#[test]
fn a_gateway_uses_its_remote_plan_for_instruments_and_channels() {
    let f = InForce { doc: Some(doc("L-1", "acme", Plan::Free, NOW)), problem: None };
    let gw = f.agent_limits(Some("gw-1"), NOW);
    assert!(gw.check(&counts(8, 30, 0, 0), None).is_ok());
    let e = gw.check(&counts(9, 1, 0, 0), None).unwrap_err();
    assert_eq!((e.plan.as_str(), e.max), ("Remote Basic", 8));
    assert!(e.message.to_string().contains("Remote Pro card"), "{e}");
    let e = gw.check(&counts(1, 31, 0, 0), None).unwrap_err();
    assert_eq!((e.plan.as_str(), e.limit), ("Remote Basic", "channels_per_instrument"));
    // Alarm rules follow the account's plan; another agent is not a gateway.
    assert_eq!(gw.check(&counts(1, 1, 4, 0), None).unwrap_err().plan, "Free");
    assert!(f.agent_limits(Some("other"), NOW).check(&counts(4, 1, 0, 0), None).is_err());
}

// ------------------------------------------------------------------- fetch

#[derive(Default)]
struct Cloud {
    /// What `GET /api/v1/licence` serves next.
    licence: String,
    auth_seen: Vec<String>,
}

async fn stand_in(state: Arc<Mutex<Cloud>>) -> String {
    let key = public_key_text(&signing_key(&[1; 32]).verifying_key());
    let s1 = state.clone();
    let app = Router::new()
        .route(
            "/api/v1/licence/key",
            get(move || async move { axum::Json(serde_json::json!({"key": key, "key_id": "x"})) }),
        )
        .route(
            "/api/v1/licence",
            get(move |h: HeaderMap| async move {
                let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let mut c = s1.lock().unwrap();
                c.auth_seen.push(auth.clone());
                let want = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("gw-1:s3cret"));
                if auth != want {
                    let body = serde_json::json!({"error": "agent id or secret not accepted", "code": "unauthorized"});
                    return (StatusCode::UNAUTHORIZED, body.to_string());
                }
                (StatusCode::OK, c.licence.clone())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetched_licences_are_verified_kept_or_refused() {
    let cloud = Arc::new(Mutex::new(Cloud::default()));
    let api = stand_in(cloud.clone()).await;
    let http = fetch::client(None).unwrap();
    // The key pinned at `cloud login --api`.
    let key = fetch::key(&http, &api).await.unwrap();
    let trust = Trust::from_text(&key, Some("acme")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    drop(Store::open_with(&path, StoreOptions::default(), &[SCHEMA_PART]).unwrap());
    let auth = Auth::Agent { id: "gw-1".into(), secret: "s3cret".into() };
    let now = crate::model::now_ms();

    cloud.lock().unwrap().licence = signed(&doc("L-1", "acme", Plan::Standard, now));
    let d = fetch::refresh(&http, &api, &auth, &path, &trust).await.unwrap();
    assert_eq!(d.serial, "L-1");
    assert!(cloud.lock().unwrap().auth_seen[0].starts_with("Basic "));

    // A tampered document from the cloud: refused, L-1 stays.
    cloud.lock().unwrap().licence = tampered(&signed(&doc("L-2", "acme", Plan::Pro, now)));
    let e = fetch::refresh(&http, &api, &auth, &path, &trust).await.unwrap_err();
    assert!(e.to_string().contains("altered"), "{e}");
    // A wrong secret: the cloud's reason is named; L-1 stays.
    let bad = Auth::Agent { id: "gw-1".into(), secret: "nope".into() };
    let e = fetch::refresh(&http, &api, &bad, &path, &trust).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 401") && e.to_string().contains("not accepted"), "{e}");
    let s = Store::open_readonly(&path).unwrap();
    assert_eq!(in_force(&s, Some(&trust), now).unwrap().doc.unwrap().serial, "L-1");
    let log = checks(&s, 10).unwrap();
    assert_eq!(log.iter().map(|c| c.ok).collect::<Vec<_>>(), [false, false, true]);
    // The secret never reaches the check log.
    assert!(log.iter().all(|c| !c.message.contains("s3cret") && !c.message.contains("nope")));

    // Nothing listening: a named error, nothing changes.
    let e = fetch::licence(&http, "http://127.0.0.1:9", &auth).await.unwrap_err();
    assert!(e.to_string().contains("cannot reach"), "{e}");
}
