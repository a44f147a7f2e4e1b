//! Plan limits and the Licence screen in the real window (Xvfb +
//! WebKitWebDriver): on the Free plan (no licence kept) a fourth instrument
//! and a fourth alarm rule are refused in their forms with the message that
//! names the plan, the limit, the count and how to lift it, and nothing is
//! added; a Standard licence (signed with the wire crate's `sign`, kept in
//! the store as a fetch would, the key pinned) lifts the limit: the same
//! instrument is added. The Licence screen shows the plan, the days left,
//! each limit's use and the last verification; the banner warns of the
//! expiry. Screenshots: docs/screenshots/licence.png and
//! docs/screenshots/licence-refused.png.
//!
//! The second test does it against the REAL cloud (`meterdeck-cloud
//! serve`): signed in on the Cloud screen, the Free licence fetched, a card
//! from `meterdeck-cloud licence issue-card` applied on the Licence screen,
//! and the refused instrument then saves.
//!
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck -p meterdeck-cloud --bins`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use meterdeck_core::agent::STORE_PARTS;
use meterdeck_core::licence::{self, LicenceDoc, Plan, Source, Trust};
use meterdeck_core::store::{Store, StoreOptions};
use meterdeck_e2e::bin;
use meterdeck_e2e::webdriver::Desktop;
use meterdeck_wire::licence::{public_key_text, sign, signing_key};
use serde_json::json;

const DAY: i64 = 86_400_000;

fn agent_toml() -> String {
    let mut s = String::from("[agent]\nname = \"licence-e2e\"\n\n");
    for i in 1..=3 {
        s.push_str(&format!(
            "[[instrument]]\nid = \"dmm{i}\"\nfamily = \"scpi\"\nenabled = false\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = 9 }}\n\n"
        ));
    }
    for i in 1..=3 {
        s.push_str(&format!("[[alarm]]\nid = \"link{i}\"\nkind = \"connection\"\nseverity = \"low\"\n\n"));
    }
    s
}

/// What a fetch leaves in the store: the key pinned at the first fetch and
/// a verified Standard licence ending in 20 days.
fn keep_standard_licence(data: &Path) {
    let key = signing_key(&[4; 32]);
    let now = meterdeck_core::model::now_ms();
    let doc = LicenceDoc {
        serial: "L-000042".into(),
        account: "acme".into(),
        plan: Plan::Standard,
        limits: Plan::Standard.limits(),
        expires: Some(now + 20 * DAY + 3_600_000),
        gateways: vec![],
        issued_at: now,
    };
    let mut store = Store::open_with(&data.join("meterdeck.db"), StoreOptions::default(), STORE_PARTS).unwrap();
    let key_text = public_key_text(&key.verifying_key());
    store.set_setting("licence.pinned_key", &key_text).unwrap();
    store.set_setting("licence.pinned_account", "acme").unwrap();
    let trust = Trust::from_text(&key_text, Some("acme")).unwrap();
    licence::accept(&mut store, &sign(&doc, &key), &trust, now, Source::Fetched).unwrap();
}

fn step(desk: &Desktop, name: &str, f: impl FnOnce(&Desktop) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name}");
    if let Err(e) = f(desk) {
        let report = desk.failure_report(&format!("licence-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

fn fill_instrument(d: &Desktop, id: &str) -> Result<()> {
    d.click(&d.by_testid("add-instrument")?)?;
    d.fill(&d.by_testid("inst-id")?, id)?;
    d.select(&d.by_testid("inst-family")?, "scpi")?;
    d.select(&d.by_testid("inst-transport")?, "tcp")?;
    d.fill(&d.by_testid("inst-host")?, "127.0.0.1")?;
    d.fill(&d.by_testid("inst-port")?, "9")?;
    d.click(&d.by_testid("inst-save")?)
}

fn shown_text(d: &Desktop, testid: &str) -> Result<String> {
    let sel = format!("[data-testid={testid}]");
    d.wait_until(Duration::from_secs(10), &format!("{testid} shown"), |s| {
        for e in s.find_all(&sel)? {
            let text = s.text(&e)?;
            if s.is_displayed(&e)? && !text.trim().is_empty() {
                return Ok(Some(text));
            }
        }
        Ok(None)
    })
}

#[test]
fn plan_limits_are_refused_in_the_forms_and_the_licence_screen_shows_the_licence() {
    let app = bin("meterdeck");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("agent.toml"), agent_toml()).unwrap();
    let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&app, &args, &tmp.path().join("home"), None)
        .expect("start the app under Xvfb + WebKitWebDriver");
    step(&desk, "ready", |d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ()));

    step(&desk, "instrument-refused", |d| {
        d.nav("instruments")?;
        fill_instrument(d, "dmm4")?;
        let msg = shown_text(d, "inst-error")?;
        eprintln!("    refused: {msg}");
        ensure!(
            msg.contains("the Free plan allows 3 instruments per agent")
                && msg.contains("this agent has 3")
                && msg.contains("Standard or Pro licence card"),
            "{msg}"
        );
        ensure!(d.find_all("[data-testid=instrument-row][data-id=\"dmm4\"]")?.is_empty(), "dmm4 was added");
        let cfg = std::fs::read_to_string(data.join("agent.toml"))?;
        ensure!(!cfg.contains("dmm4"), "the refused instrument reached the file");
        d.two_frames()?;
        d.screenshot_doc("licence-refused")?;
        d.click(&d.by_testid("inst-cancel")?)
    });

    step(&desk, "rule-refused", |d| {
        d.nav("rules")?;
        d.click(&d.by_testid("rule-add")?)?;
        d.fill(&d.by_testid("rule-id")?, "link4")?;
        d.select(&d.by_testid("rule-kind")?, "connection")?;
        d.click(&d.by_testid("rule-save")?)?;
        let msg = shown_text(d, "field-error")?;
        eprintln!("    refused: {msg}");
        ensure!(msg.contains("the Free plan allows 3 alarm rules per agent") && msg.contains("has 3"), "{msg}");
        let rules = d.invoke("rules_list", json!({}))?;
        ensure!(rules.as_array().map(Vec::len) == Some(3), "a rule was added: {rules}");
        d.click(&d.by_testid("rule-cancel")?)
    });

    // A Standard licence arrives (as the fetch keeps it): the limit lifts.
    keep_standard_licence(&data);

    step(&desk, "licence-screen", |d| {
        d.nav("licence")?;
        let plan = shown_text(d, "licence-plan")?;
        ensure!(plan.contains("Standard"), "plan shown: {plan}");
        let days = shown_text(d, "licence-days-left")?;
        ensure!(days.contains("20"), "days left: {days}");
        let inst = shown_text(d, "licence-limit-instruments_per_agent")?;
        ensure!(inst.contains("3 / 8"), "instrument use: {inst}");
        let rules = shown_text(d, "licence-limit-alarms_per_group")?;
        ensure!(rules.contains("3 / 30"), "rule use: {rules}");
        let last = shown_text(d, "licence-last-check")?;
        ensure!(last.contains("verified"), "last check: {last}");
        let banner = shown_text(d, "licence-banner")?;
        ensure!(banner.contains("expires in 20 days"), "banner: {banner}");
        d.two_frames()?;
        d.screenshot_doc("licence")
    });

    step(&desk, "instrument-allowed", |d| {
        d.nav("instruments")?;
        fill_instrument(d, "dmm4")?;
        d.wait_for("[data-testid=instrument-row][data-id=\"dmm4\"]", Duration::from_secs(15))?;
        let cfg = std::fs::read_to_string(data.join("agent.toml"))?;
        ensure!(cfg.contains("dmm4"), "the instrument is in the file");
        let err = d.by_testid("inst-error").ok();
        if let Some(e) = err {
            ensure!(!d.is_displayed(&e)? || d.text(&e)?.trim().is_empty(), "the save failed: {}", d.text(&e)?);
        }
        // The restarted agent verified the licence with the pinned key and runs dmm4.
        let s = d.invoke("licence_show", json!({}))?;
        ensure!(s["licence"]["last_check"]["ok"] == true && s["banner"] == "expiring", "{s}");
        ensure!(s["usage"][0]["used"] == 4, "{s}");
        let insts = d.invoke("list_instruments", json!({}))?;
        let dmm4 = insts.as_array().and_then(|l| l.iter().find(|i| i["config"]["id"] == "dmm4")).cloned();
        ensure!(dmm4.is_some_and(|i| i["state"] != "stopped"), "dmm4 is not polled: {insts}");
        Ok(())
    });
    drop(desk);
}

/// Against the REAL cloud (`meterdeck-cloud serve`, SQLite): the window
/// signs in through the Cloud screen (temporary password, forced change;
/// the session token in a real gnome-keyring on a private D-Bus), fetches
/// the account's Free licence (the first fetch pins the cloud's key), a
/// fourth instrument is refused in its form, the admin applies a Standard
/// card issued by `meterdeck-cloud licence issue-card` on the Licence
/// screen, and the same instrument then saves.
#[test]
fn a_card_applied_on_the_licence_screen_against_the_real_cloud_lifts_the_limit() {
    use meterdeck_e2e::cloud::{Cloud, create_acme, line_after};
    use meterdeck_e2e::notify_peers::Session;
    use meterdeck_e2e::webdriver::testid;

    const NEW_PASSWORD: &str = "Meter1deck-window";
    let tmp = tempfile::tempdir().unwrap();
    let mut bus = Session::start();
    bus.start_keyring();
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &[]);
    let temp = create_acme(&cloud);

    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("agent.toml"), agent_toml()).unwrap();
    let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), Some(&bus.address))
        .expect("start the app under Xvfb + WebKitWebDriver");
    step(&desk, "ready", |d| d.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ()));

    step(&desk, "sign-in", |d| {
        d.nav("cloud")?;
        d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
        d.fill(&d.by_testid("cloud-url")?, &cloud.http)?;
        d.fill(&d.by_testid("cloud-account-id")?, "acme")?;
        d.fill(&d.by_testid("cloud-user-id")?, "alice")?;
        d.fill(&d.by_testid("cloud-password")?, &temp)?;
        d.click(&d.by_testid("cloud-sign-in")?)?;
        d.wait_for(&testid("cloud-password-form"), Duration::from_secs(15))?;
        d.fill(&d.by_testid("cloud-current-password")?, &temp)?;
        d.fill(&d.by_testid("cloud-new-password")?, NEW_PASSWORD)?;
        d.click(&d.by_testid("cloud-password-submit")?)?;
        let who = d.wait_until(Duration::from_secs(15), "signed in", |s| {
            Ok(s.find(&testid("cloud-who")).and_then(|e| s.text(&e)).ok())
        })?;
        ensure!(who.contains("alice") && who.contains("admin"), "who line: {who:?}");
        Ok(())
    });

    step(&desk, "free-from-the-cloud", |d| {
        d.nav("licence")?;
        d.click(&d.by_testid("licence-fetch")?)?;
        let deadline = Instant::now() + Duration::from_secs(15);
        let s = loop {
            let v = d.invoke("licence_show", json!({}))?;
            if v["licence"]["last_check"]["ok"] == true && v["licence"]["account"] == "acme" {
                break v;
            }
            ensure!(Instant::now() < deadline, "the real cloud's Free licence was not kept: {v}");
            std::thread::sleep(Duration::from_millis(200));
        };
        ensure!(s["licence"]["plan"] == "free", "{s}");
        Ok(())
    });

    step(&desk, "instrument-refused", |d| {
        d.nav("instruments")?;
        fill_instrument(d, "dmm4")?;
        let msg = shown_text(d, "inst-error")?;
        ensure!(msg.contains("the Free plan allows 3 instruments per agent"), "{msg}");
        ensure!(!std::fs::read_to_string(data.join("agent.toml"))?.contains("dmm4"), "dmm4 reached the file");
        d.click(&d.by_testid("inst-cancel")?)
    });

    let card = line_after(
        &cloud.cli(&["licence", "issue-card", "--account", "acme", "--plan", "standard", "--months", "3"]),
        "shown once",
    );
    step(&desk, "apply-card", |d| {
        d.nav("licence")?;
        d.fill(&d.by_testid("licence-card")?, &card)?;
        d.click(&d.by_testid("licence-apply-card")?)?;
        d.wait_until(Duration::from_secs(15), "the card applied", |s| {
            if let Ok(e) = s.find(&testid("licence-card-error"))
                && s.is_displayed(&e)?
                && !s.text(&e)?.trim().is_empty()
            {
                anyhow::bail!("card refused: {}", s.text(&e)?);
            }
            Ok(s.find(&testid("licence-card-ok")).ok().filter(|e| s.is_displayed(e).unwrap_or(false)))
        })?;
        let plan = shown_text(d, "licence-plan")?;
        ensure!(plan.contains("Standard"), "plan shown: {plan}");
        let inst = shown_text(d, "licence-limit-instruments_per_agent")?;
        ensure!(inst.contains("3 / 8"), "instrument use: {inst}");
        Ok(())
    });

    step(&desk, "instrument-saved", |d| {
        d.nav("instruments")?;
        fill_instrument(d, "dmm4")?;
        d.wait_for("[data-testid=instrument-row][data-id=\"dmm4\"]", Duration::from_secs(15))?;
        ensure!(std::fs::read_to_string(data.join("agent.toml"))?.contains("dmm4"), "dmm4 is not in the file");
        Ok(())
    });
    drop(desk);
    drop(cloud);
}
