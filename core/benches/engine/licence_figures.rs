//! Licence verification at start (SPEC 7.5, target under 1 ms): the kept
//! licence read from the store, its ed25519 signature and content checked
//! against the pinned key, the check recorded — what `Agent::start` does.
//! Also the signature check alone. Median of many runs, in microseconds.

use std::time::Instant;

use meterdeck_core::licence::{self, Gateway, LicenceDoc, Plan, RemotePlan, Source, Trust};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_wire::licence::{sign, signing_key};

fn median_us(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2] * 100.0).round() / 100.0
}

pub fn run(quick: bool) -> Vec<(&'static str, Option<f64>)> {
    let runs = if quick { 200 } else { 2000 };
    let key = signing_key(&[7; 32]);
    let now = meterdeck_core::model::now_ms();
    // A realistic document: a paid plan with a few gateway entitlements.
    let doc = LicenceDoc {
        serial: "L-000123".into(),
        account: "acme".into(),
        plan: Plan::Pro,
        limits: Plan::Pro.limits(),
        expires: Some(now + 300 * 86_400_000),
        gateways: (0..8)
            .map(|i| Gateway {
                agent: format!("gw-{i}"),
                plan: RemotePlan::Basic,
                limits: RemotePlan::Basic.limits(),
                expires: now + 100 * 86_400_000,
            })
            .collect(),
        issued_at: now,
    };
    let text = sign(&doc, &key);
    let trust = Trust { key: key.verifying_key(), account: Some("acme".into()) };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store =
        Store::open_with(&dir.path().join("m.db"), StoreOptions::default(), &[licence::SCHEMA_PART]).expect("store");
    licence::accept(&mut store, &text, &trust, now, Source::Fetched).expect("the licence verifies");

    let mut start = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let f = licence::reverify(&mut store, Some(&trust), now, Source::Start).expect("reverify");
        start.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(f.doc.is_some());
    }
    let mut pure = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let d = licence::verify(&text, &trust, now).expect("verify");
        pure.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(d);
    }
    vec![("licence_verify_us", Some(median_us(start))), ("licence_signature_check_us", Some(median_us(pure)))]
}
