//! Licences for the end-to-end tests. Since issue 12 the plan limits of
//! SPEC 7 hold: without a licence an agent runs the Free plan's 3
//! instruments of up to 30 channels. Tests that run more get a Pro licence
//! here, kept in the agent's store with its key pinned, as the window's
//! first fetch leaves them (signed with the wire crate's `sign`; the tests
//! may take it from the real cloud's licence API once that exists).

use std::path::Path;

use meterdeck_core::agent::STORE_PARTS;
use meterdeck_core::licence::{self, LicenceDoc, PINNED_ACCOUNT, PINNED_KEY, Plan, Source, Trust};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_wire::licence::{public_key_text, sign, signing_key};

/// A Pro licence for a year in the store of `data_dir` (created if needed).
pub fn grant_pro(data_dir: &Path) {
    grant_pro_with(data_dir, |_| {});
}

/// A Pro licence whose signed limits `adjust` changes first: a figure's
/// scene can be larger than a plan allows (a board of 20 panels; Pro has 10).
pub fn grant_pro_with(data_dir: &Path, adjust: impl FnOnce(&mut meterdeck_wire::licence::Limits)) {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let key = signing_key(&[42; 32]);
    let now = meterdeck_core::model::now_ms();
    let mut limits = Plan::Pro.limits();
    adjust(&mut limits);
    let doc = LicenceDoc {
        serial: "L-E2E".into(),
        account: "e2e".into(),
        plan: Plan::Pro,
        limits,
        expires: Some(now + 365 * 86_400_000),
        gateways: vec![],
        issued_at: now,
    };
    let mut store =
        Store::open_with(&data_dir.join(meterdeck_core::config::STORE_FILE), StoreOptions::default(), STORE_PARTS)
            .expect("the agent's store");
    let key_text = public_key_text(&key.verifying_key());
    store.set_setting(PINNED_KEY, &key_text).expect("pin the key");
    store.set_setting(PINNED_ACCOUNT, "e2e").expect("pin the account");
    let trust = Trust::from_text(&key_text, Some("e2e")).expect("key");
    licence::accept(&mut store, &sign(&doc, &key), &trust, now, Source::File).expect("the licence verifies");
}
