//! View-only alarm links in a real browser (issue 16, SPEC 5.5):
//! `meterdeck-cloud serve` (SQLite, its managed Mosquitto) with a site that
//! sent half an hour of `dev/volts` over MQTT. The agent asks for a link to
//! an alarm with its own credentials; Debian's headless chromium opens
//! `/v/<token>` without signing in and shows the alarm with that channel
//! plotted (the drawn series is the API's), read-only, no nav; the same
//! link with one character changed shows the "not valid" page, and one
//! issued 31 minutes ago (signed with the served cloud's key file) the
//! "expired" page.
//!
//! Screenshots: docs/screenshots/view-link.png, view-link-expired.png.
//! Needs the UI built into the cloud (`cd ui && npm run build`, then
//! `cargo build -p meterdeck-cloud --bins`) and `apt-get install chromium chromium-driver`.
//! Run: `cargo test -p meterdeck-e2e --test view_link_browser`.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use meterdeck_cloud::viewlink::{LinkKey, LinkTerms};
use meterdeck_e2e::cloud::{ADMIN_PASSWORD, Api, Cloud, create_acme, register_site, request};
use meterdeck_e2e::portal::doc_screenshot;
use meterdeck_e2e::webdriver::{Driver, Session, testid};
use serde_json::{Value, json};

const MIN: i64 = 60_000;

/// `POST /api/v1/agents/{agent}/links` as the agent (HTTP Basic).
fn ask_link(base: &str, agent: &str, secret: &str, body: &Value) -> (u16, Value) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{agent}:{secret}"));
    let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = http
        .post(&format!("{base}/api/v1/agents/{agent}/links"))
        .header("Authorization", &format!("Basic {basic}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("POST links");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn page(s: &Session, base: &str, token: &str, wait: &str) -> Result<()> {
    s.goto(&format!("{base}/v/{token}"))?;
    s.wait_for(&testid(wait), Duration::from_secs(20)).with_context(|| format!("waiting for {wait}"))?;
    Ok(())
}

#[test]
fn a_view_link_opens_without_sign_in_and_expired_or_altered_ones_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &[]);
    let temp = create_acme(&cloud);
    let api = Api::sign_in(&cloud.http, "acme", "alice", &temp, ADMIN_PASSWORD);
    let agent = register_site(&cloud, &api, tmp.path(), "Boiler house", 230.0, 180);
    let (s, r) = request("POST", &format!("{}/api/v1/agents/{agent}/secret", api.base), Some(&api.token), None);
    assert_eq!(s, 200, "secret: {r}");
    let secret = r["secret"].as_str().unwrap().to_string();
    let now = meterdeck_wire::now_ms();
    let at = now - 10 * MIN;
    let alarm =
        json!({"alarm_id": "volts-high", "alarm_name": "Supply voltage high", "at": at, "channels": ["dev/volts"]});
    let (s, link) = ask_link(&cloud.http, &agent, &secret, &alarm);
    assert_eq!(s, 201, "link: {link}");
    let token = link["token"].as_str().unwrap().to_string();
    // No --public-url (no mail server): the path is joined to the address used.
    assert_eq!(link["url"], Value::Null);
    assert_eq!(link["path"], format!("/v/{token}"));

    let driver = Driver::start_chromedriver().expect("chromedriver");
    let s = driver.chromium_session(&tmp.path().join("chromium")).expect("a chromium session");
    let run = || -> Result<()> {
        // The link's page: the alarm, its site, its one channel drawn, no nav.
        page(&s, &cloud.http, &token, "view-page")?;
        let drawn = s.execute_async(
            "const r = arguments[arguments.length - 1];\
             const h = document.querySelector('[data-testid=view-plot] .plot-host'); const t0 = Date.now();\
             (function w() {\
               const u = h && h.uplot; if (u && u.data[0].length > 0) r({n: u.data[0].length, series: u.series.map(x => x.label).slice(1)});\
               else if (Date.now() - t0 > 15000) r(null); else setTimeout(w, 100); })();",
            vec![],
        )?;
        ensure!(!drawn.is_null(), "nothing was drawn");
        // 180 samples every 10 s from 30 min ago; the window is 40 min before to 0 min after now.
        ensure!(drawn["n"].as_u64().unwrap_or(0) >= 100, "drawn: {drawn}");
        ensure!(drawn["series"] == json!(["dev/volts"]), "series: {drawn}");
        let alarm_text = s.text(&s.by_testid("view-alarm")?)?;
        ensure!(alarm_text.contains("Supply voltage high"), "{alarm_text}");
        ensure!(s.text(&s.by_testid("view-site")?)?.contains("Boiler house"));
        let channels = s.execute(
            "return [...document.querySelectorAll('[data-testid=view-channel]')].map(e => e.dataset.path)",
            vec![],
        )?;
        ensure!(channels == json!(["dev/volts"]), "channels: {channels}");
        let nav = s.execute(
            "return document.querySelectorAll('nav, a[href], [data-testid=portal-sign-out]').length",
            vec![],
        )?;
        ensure!(nav == json!(0), "read-only page has {nav} ways elsewhere");
        doc_screenshot(&s, "view-link")?;

        // One character changed: the "not valid" page, not the data.
        let mut b = token.clone().into_bytes();
        let i = b.len() / 3;
        b[i] = if b[i] == b'Q' { b'R' } else { b'Q' };
        page(&s, &cloud.http, &String::from_utf8(b).unwrap(), "view-altered")?;
        ensure!(s.by_testid("view-plot").is_err(), "an altered link showed data");

        // Issued 31 minutes ago with the cloud's own key: expired.
        let key = LinkKey::load_or_create(&cloud.data.join("view-link.key"))?;
        let old = LinkTerms::around(
            &agent,
            "volts-high",
            "Supply voltage high",
            at,
            Some(vec!["dev/volts".into()]),
            now - 31 * MIN,
        );
        let expired = key.sign(&old);
        let (st, body) = request("GET", &format!("{}/api/v1/view/{expired}", cloud.http), None, None);
        ensure!(st == 410 && body["code"] == "link_expired", "{st} {body}");
        page(&s, &cloud.http, &expired, "view-expired")?;
        ensure!(s.text(&s.by_testid("view-refused-text")?)?.contains("30 minutes"));
        doc_screenshot(&s, "view-link-expired")?;
        Ok(())
    };
    if let Err(e) = run() {
        let shot = std::env::temp_dir().join("meterdeck-view-link-failed.png");
        let saved = s.save_screenshot(&shot).map(|p| p.display().to_string());
        let html =
            s.execute("return location.href + '\\n' + document.documentElement.outerHTML.slice(0, 3000)", vec![]);
        panic!("{e:#}\nscreenshot: {saved:?}\npage: {html:?}");
    }
}
