//! The web portal in a real browser (issue 15): `meterdeck-cloud serve`
//! (SQLite, its managed Mosquitto, mail to the aiosmtpd peer) serves the UI
//! to Debian's headless chromium, driven over chromedriver. Two sites
//! (agents registered through the API) send a batch each over MQTT, as an
//! agent does. In the browser:
//! - a member resets a forgotten password from the link aiosmtpd received,
//!   signs in with it, sees no administration screen, and the API refuses
//!   them an admin call made from the page (with the CSRF header);
//! - the admin signs in with password + authenticator code (TOTP), sees
//!   both agents, overlays a channel of each site in the Viewer, whose drawn
//!   series equal the API's data, and exports a CSV equal to the API's;
//! - the session is a cookie the page cannot read, nothing in localStorage;
//! - the admin builds a dashboard board with a value panel (site-a) and a
//!   graph panel (site-b) in the desktop's Dashboard screen, a panel the
//!   Free plan does not allow is refused with the plan's message, a value
//!   site-a sends over MQTT arrives on the board, and after a reload the
//!   board is still there (kept by the cloud); the member sees it with
//!   "no access" in its panels (no group granted) and cannot change it.
//!
//! Screenshots: docs/screenshots/portal-signin.png, portal-agents.png, portal-viewer.png,
//! portal-dashboard.png.
//! Needs the UI built into the cloud (`cd ui && npm run build`, then
//! `cargo build -p meterdeck-cloud --bins`) and `apt-get install chromium chromium-driver`.
//! Run: `cargo test -p meterdeck-e2e --test portal_browser`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_e2e::cloud::{ADMIN_PASSWORD, Api, Cloud, check_series, create_acme, register_site, request};
use meterdeck_e2e::portal::{self, click, doc_screenshot, fill, nav_entries, next_mail};
use meterdeck_e2e::webdriver::{Driver, Session, testid};
use meterdeck_e2e::*;
use serde_json::json;

const ACCOUNT: &str = "acme";
const ADMIN: &str = "alice";
const MEMBER: &str = "bob";
const MEMBER_PASSWORD: &str = "Reset1-by-link";
/// Samples per site: one every 10 s over the last half hour (inside the
/// Viewer's default last hour).
const SAMPLES: usize = 180;

/// A registered site: agent id and the one channel it sent.
struct Site {
    name: &'static str,
    id: String,
}

/// A registered site with one batch of `SAMPLES` on `dev/volts` (support's `register_site`).
fn site(cloud: &Cloud, api: &Api, dir: &Path, name: &'static str, seed: f64) -> Site {
    Site { name, id: register_site(cloud, api, dir, name, seed, SAMPLES) }
}

struct Ctx {
    s: Session,
    mqtt_port: u16,
    base: String,
    api: Api,
    smtp: Proc,
    totp: totp_rs::TOTP,
    /// The authenticator step spent by the enrolment (a code of it is refused).
    spent_code: String,
    sites: Vec<Site>,
    /// (cloud channel id, Viewer label) overlaid per site.
    overlaid: Vec<(String, String)>,
    _driver: Driver,
    _cloud: Cloud,
}

fn step(cx: &mut Ctx, name: &str, started: Instant, f: impl FnOnce(&mut Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let shot = std::env::temp_dir().join(format!("meterdeck-portal-{name}-failed.png"));
        let saved = cx.s.save_screenshot(&shot).map(|p| p.display().to_string());
        let page =
            cx.s.execute("return location.href + '\\n' + document.documentElement.outerHTML.slice(0, 3000)", vec![])
                .map(|v| v.as_str().unwrap_or_default().to_string());
        panic!(
            "step {name} failed after {:.1} s: {e:#}\nscreenshot: {saved:?}\npage: {page:?}",
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn portal_signs_in_resets_browses_two_sites_and_exports() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let mut smtp = Proc::spawn("smtp_peer", Command::new(python()).arg(peer_script("smtp_peer.py")));
    let smtp_port: u16 = smtp.wait_line("READY ", Duration::from_secs(20))[6..].trim().parse().unwrap();
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &["--smtp", &format!("127.0.0.1:{smtp_port}")]);
    let temp = create_acme(&cloud);
    let api = Api::sign_in(&cloud.http, ACCOUNT, ADMIN, &temp, ADMIN_PASSWORD);

    // The member, with an email address for the reset link.
    let (s, r) = request(
        "POST",
        &format!("{}/api/v1/users", api.base),
        Some(&api.token),
        Some(&json!({"id": MEMBER, "name": "Bob", "email": "bob@acme.test", "role": "member"})),
    );
    assert_eq!(s, 201, "create {MEMBER}: {r}");
    // The admin's authenticator app, enrolled through the API (its screen is the admin helper's).
    let (s, r) = request("POST", &format!("{}/api/v1/me/totp", api.base), Some(&api.token), None);
    assert_eq!(s, 200, "totp setup: {r}");
    let totp = totp_rs::TOTP::from_url(r["otpauth_url"].as_str().unwrap()).expect("otpauth url");
    let spent_code = totp.generate_current().unwrap();
    let (s, r) = request(
        "POST",
        &format!("{}/api/v1/me/totp/confirm", api.base),
        Some(&api.token),
        Some(&json!({"code": spent_code})),
    );
    assert_eq!(s, 200, "totp confirm: {r}");

    let sites = vec![site(&cloud, &api, tmp.path(), "site-a", 10.0), site(&cloud, &api, tmp.path(), "site-b", 20.0)];

    let driver = Driver::start_chromedriver().expect("chromedriver");
    let s = driver.chromium_session(&tmp.path().join("chromium")).expect("a chromium session");
    let mut cx = Ctx {
        mqtt_port: cloud.mqtt_port,
        s,
        base: cloud.http.clone(),
        api,
        smtp,
        totp,
        spent_code,
        sites,
        overlaid: Vec::new(),
        _driver: driver,
        _cloud: cloud,
    };
    step(&mut cx, "sign-in page", started, signin_page);
    step(&mut cx, "reset by mail", started, reset_by_mail);
    step(&mut cx, "member", started, member_signs_in);
    step(&mut cx, "admin with totp", started, admin_with_totp);
    step(&mut cx, "two sites", started, two_sites);
    step(&mut cx, "viewer overlay", started, viewer_overlay);
    step(&mut cx, "csv export", started, csv_export);
    step(&mut cx, "dashboard", started, dashboard);
    step(&mut cx, "member's dashboard", started, member_dashboard);
    step(&mut cx, "sign-out", started, sign_out);
    eprintln!("portal browser test took {:.1} s", started.elapsed().as_secs_f64());
}

fn sign_in_form(s: &Session, user: &str, password: &str) -> Result<()> {
    portal::sign_in_form(s, ACCOUNT, user, password)
}

fn signin_page(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    s.goto(&format!("{}/", cx.base))?;
    s.wait_for("html[data-ready=\"1\"]", Duration::from_secs(20))?;
    s.by_testid("portal-signin-form")?;
    // A wrong password: the API's message, still on the sign-in page.
    sign_in_form(s, ADMIN, "Wrong-pass1")?;
    let err = s.by_testid("portal-signin-error")?;
    s.wait_until(Duration::from_secs(10), "the sign-in error", |s| Ok((s.is_displayed(&err)?).then_some(())))?;
    let text = s.text(&err)?;
    ensure!(text.contains("wrong account, user or password"), "sign-in error: {text}");
    fill(s, "portal-password", "")?;
    doc_screenshot(s, "portal-signin")
}

fn reset_by_mail(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "portal-forgot")?;
    fill(s, "portal-reset-account", ACCOUNT)?;
    fill(s, "portal-reset-user", MEMBER)?;
    click(s, "portal-reset-request")?;
    let sent = s.by_testid("portal-reset-sent")?;
    s.wait_until(Duration::from_secs(10), "the reset request answered", |s| Ok(s.is_displayed(&sent)?.then_some(())))?;
    // The link as aiosmtpd received it: the portal's own /reset page.
    let mail = next_mail(&mut cx.smtp);
    ensure!(mail.contains("bob@acme.test"), "mail to someone else: {mail:.300}");
    let start = mail.find(&format!("{}/reset?", cx.base)).ok_or_else(|| anyhow!("no reset link in {mail:.600}"))?;
    let link: String = mail[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\').collect();
    s.goto(&link)?;
    let who = s.by_testid("portal-reset-who")?;
    ensure!(s.text(&who)?.contains(MEMBER), "reset page for {:?}", s.text(&who)?);
    // The policy is the API's: a weak password is refused with its reason.
    fill(s, "portal-reset-new", "short")?;
    click(s, "portal-reset-submit")?;
    let err = s.by_testid("portal-reset-error")?;
    s.wait_until(Duration::from_secs(10), "the policy error", |s| Ok(s.is_displayed(&err)?.then_some(())))?;
    fill(s, "portal-reset-new", MEMBER_PASSWORD)?;
    click(s, "portal-reset-submit")?;
    s.wait_for(&testid("portal-notice"), Duration::from_secs(10))?;
    let url = s.execute("return location.href", vec![])?;
    ensure!(url.as_str() == Some(&format!("{}/", cx.base)), "the spent link stays in the address bar: {url}");
    Ok(())
}

/// The member: no administration in the nav, the API refuses it from the page.
fn member_signs_in(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    sign_in_form(s, MEMBER, MEMBER_PASSWORD)?;
    let nav = nav_entries(s)?;
    ensure!(nav.contains(&"nav-agents".to_string()) && nav.contains(&"nav-viewer".to_string()), "member nav: {nav:?}");
    for admin_only in
        ["nav-users", "nav-teams", "nav-groups", "nav-tokens", "nav-access-log", "nav-account", "nav-ip-allow"]
    {
        ensure!(!nav.contains(&admin_only.to_string()), "a member sees {admin_only}: {nav:?}");
    }
    let role = s.attribute(&s.by_testid("portal-who")?, "data-role")?;
    ensure!(role.as_deref() == Some("member"), "role {role:?}");
    // Granted no group: no agent of the account is visible to them.
    s.wait_for(&testid("cloud-agents"), Duration::from_secs(10))?;
    ensure!(s.find_all(&testid("cloud-agent-row"))?.is_empty(), "a member without grants sees agents");
    // An admin call from the page, CSRF header and all: the API says no.
    let v = s.execute_async(
        "const done = arguments[0];
         const csrf = (document.cookie.match(/(?:^|; )md_csrf=([^;]*)/) || [])[1] || '';
         fetch('/api/v1/users', {method: 'POST', credentials: 'same-origin',
           headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
           body: JSON.stringify({id: 'mallory', name: 'M', email: 'm@x.test', role: 'admin'})})
         .then(r => r.json().then(j => done({status: r.status, body: j})), e => done({err: String(e)}));",
        vec![],
    )?;
    ensure!(v["status"] == 403, "a member creating an admin: {v}");
    ensure!(v["body"]["error"].as_str().is_some_and(|e| e.contains("only an admin")), "{v}");
    click(s, "portal-sign-out")?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(10))?;
    Ok(())
}

fn admin_with_totp(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    sign_in_form(s, ADMIN, ADMIN_PASSWORD)?;
    s.wait_for(&testid("portal-code-form"), Duration::from_secs(10))?;
    // The code of the enrolment's step is spent: wait for the app's next one.
    let deadline = Instant::now() + Duration::from_secs(40);
    let code = loop {
        let c = cx.totp.generate_current().unwrap();
        if c != cx.spent_code {
            break c;
        }
        ensure!(Instant::now() < deadline, "the authenticator code did not move on");
        std::thread::sleep(Duration::from_millis(500));
    };
    fill(s, "portal-code", &code)?;
    click(s, "portal-code-submit")?;
    let nav = nav_entries(s)?;
    ensure!(nav.first().map(String::as_str) == Some("nav-agents"), "admin nav: {nav:?}");
    let role = s.attribute(&s.by_testid("portal-who")?, "data-role")?;
    ensure!(role.as_deref() == Some("admin"), "role {role:?}");
    // The session is a cookie the page cannot read; no token kept anywhere.
    let v = s.execute("return {cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage)}", vec![])?;
    let cookie = v["cookie"].as_str().unwrap_or_default();
    ensure!(!cookie.contains("md_session") && cookie.contains("md_csrf"), "page-visible cookies: {cookie}");
    ensure!(!v.to_string().contains("mds_"), "a session token visible to the page: {v}");
    Ok(())
}

fn two_sites(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    let rows = s.wait_until(Duration::from_secs(15), "both agents listed", |s| {
        let rows = s.find_all(&testid("cloud-agent-row"))?;
        Ok((rows.len() == 2).then_some(rows))
    })?;
    for (row, site) in rows.iter().zip(&cx.sites) {
        ensure!(s.attribute(row, "data-agent")?.as_deref() == Some(site.id.as_str()), "agents by name: {}", site.name);
        ensure!(s.text(row)?.contains(site.name), "row of {}: {}", site.name, s.text(row)?);
        let samples = s.text(&s.find(&format!("[data-agent=\"{}\"] {}", site.id, testid("cloud-agent-samples")))?)?;
        ensure!(samples == SAMPLES.to_string(), "{}: {samples} samples shown", site.name);
    }
    s.wait_for(&testid("cloud-storage-meter"), Duration::from_secs(10))?;
    // Each site's channels; one of each goes on the Viewer's graph.
    for site in &cx.sites {
        open_site(s, site)?;
        let btn = s.find(&testid("cloud-add-to-viewer"))?;
        let id = s.attribute(&btn, "data-channel")?.ok_or_else(|| anyhow!("channel id"))?;
        s.click(&btn)?;
        cx.overlaid.push((id, format!("{ACCOUNT}/{} · dev/volts", site.name)));
    }
    doc_screenshot(s, "portal-agents")
}

/// Opens a site's channels on the Agents screen (its rows are repainted
/// as the list refreshes, so a click may hit a row just replaced: again).
fn open_site(s: &Session, site: &Site) -> Result<()> {
    s.wait_until(Duration::from_secs(15), &format!("the channels of {}", site.name), |s| {
        let rows = s.find_all(&format!("{}[data-path=\"dev/volts\"]", testid("cloud-channel-row")))?;
        // Rendered text: the heading is upper-cased by the style sheet.
        let title = s.find(".cloud-channels-box h3").and_then(|h| s.text(&h)).unwrap_or_default().to_lowercase();
        if rows.len() == 1 && title.ends_with(&format!(" {}", site.name)) {
            return Ok(Some(()));
        }
        if let Ok(b) = s.find(&format!("[data-agent=\"{}\"] {}", site.id, testid("cloud-agent-open"))) {
            let _ = s.click(&b);
        }
        std::thread::sleep(Duration::from_millis(300));
        Ok(None)
    })
}

/// The uPlot instance's data as drawn (the Viewer keeps it on its host).
const PLOT_JS: &str = "const host = document.querySelector('[data-testid=viewer-plot] .plot-host');
  const u = host && host.uplot;
  if (!u) return null;
  return {from: u.scales.x.min, to: u.scales.x.max, xs: [...u.data[0]],
          series: u.series.slice(1).map((s, i) => ({label: s.label,
            vals: [...u.data[i + 1]].map(v => v === undefined ? 'u' : v)}))};";

fn viewer_overlay(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-viewer")?;
    for (id, label) in &cx.overlaid {
        let leaf =
            s.wait_for(&format!("[data-testid=viewer-cloud-channel][data-channel=\"{id}\"]"), Duration::from_secs(10))?;
        ensure!(s.attribute(&leaf, "title")?.as_deref() == Some(label.as_str()), "viewer leaf for {label}");
    }
    let labels: Vec<String> = cx.overlaid.iter().map(|(_, l)| l.clone()).collect();
    let plot = s.wait_until(Duration::from_secs(20), "both cloud series drawn", |s| {
        if let Ok(e) = s.find(&testid("viewer-error"))
            && s.is_displayed(&e)?
        {
            bail!("viewer error: {}", s.text(&e)?);
        }
        let p = s.execute(PLOT_JS, vec![])?;
        let drawn = |label: &str| {
            p["series"].as_array().is_some_and(|l| {
                l.iter().any(|x| {
                    x["label"].as_str().is_some_and(|t| t.starts_with(label))
                        && x["vals"].as_array().is_some_and(|v| v.iter().filter(|v| v.is_number()).count() >= 3)
                })
            })
        };
        Ok(labels.iter().all(|l| drawn(l)).then_some(p))
    })?;
    for (id, label) in &cx.overlaid {
        check_series(&cx.api, &plot, id, label, 100, 0)?;
    }
    doc_screenshot(s, "portal-viewer")
}

/// The CSV link of site-a's channel, fetched by the browser with its
/// cookie, equals the API's CSV fetched with a bearer token.
fn csv_export(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-agents")?;
    let site = &cx.sites[0];
    open_site(s, site)?;
    let (id, _) = &cx.overlaid[0];
    let link =
        s.wait_for(&format!("{}[data-channel=\"{id}\"]", testid("cloud-channel-csv")), Duration::from_secs(10))?;
    let href = s.attribute(&link, "href")?.ok_or_else(|| anyhow!("the CSV link has no href"))?;
    ensure!(s.attribute(&link, "download")?.is_some(), "the CSV link is not a download");
    let got = s.execute_async(
        "const [href, done] = arguments;
         fetch(href, {credentials: 'same-origin'})
           .then(r => r.text().then(t => done({status: r.status, type: r.headers.get('content-type'),
                 disposition: r.headers.get('content-disposition'), text: t})), e => done({err: String(e)}));",
        vec![json!(href)],
    )?;
    ensure!(got["status"] == 200, "CSV from the page: {got}");
    ensure!(got["type"].as_str().is_some_and(|t| t.starts_with("text/csv")), "{got}");
    ensure!(got["disposition"].as_str().is_some_and(|d| d.contains("attachment")), "{got}");
    let url = format!("{}{}", cx.base, href.trim_start_matches(&cx.base));
    let from_api = ureq_text(&url, &cx.api.token).context("the API's CSV")?;
    let text = got["text"].as_str().unwrap_or_default();
    ensure!(text == from_api, "the page's CSV differs from the API's:\n{text:.300}\n---\n{from_api:.300}");
    ensure!(text.lines().count() == SAMPLES + 1, "{} CSV lines", text.lines().count());
    Ok(())
}

fn ureq_text(url: &str, token: &str) -> Result<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(true).build().into();
    let mut r = agent.get(url).header("Authorization", &format!("Bearer {token}")).call()?;
    Ok(r.body_mut().read_to_string()?)
}

fn sign_out(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "portal-sign-out")?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(10))?;
    // The session is over on the server too: a reload stays on sign-in.
    s.goto(&format!("{}/#agents", cx.base))?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(10))?;
    let cookie = s.execute("return document.cookie", vec![])?;
    ensure!(!cookie.as_str().unwrap_or_default().contains("md_csrf="), "cookies left after sign-out: {cookie}");
    Ok(())
}

/// A new value of site `id`'s `dev/volts`, sent over MQTT as its agent
/// would (with a fresh secret), stored before this returns.
fn send_value(cx: &Ctx, id: &str, value: f64) -> Result<()> {
    use meterdeck_wire::Sample;
    use meterdeck_wire::codec::EncodeScratch;
    use meterdeck_wire::sync::{PartIn, batch_topic, encode_batch};
    let (st, r) = request("POST", &format!("{}/api/v1/agents/{id}/secret", cx.api.base), Some(&cx.api.token), None);
    ensure!(st == 200, "new secret of {id}: {r}");
    let secret = r["secret"].as_str().ok_or_else(|| anyhow!("no secret: {r}"))?.to_owned();
    let now = meterdeck_wire::now_ms();
    let samples = [Sample::number(now, value)];
    let seq = 1 + SAMPLES as i64;
    let parts = [PartIn { path: "dev/volts", unit: Some("V"), seq_from: seq, seq_to: seq + 1, samples: &samples }];
    let bytes = encode_batch("store-1", 2, now, 0, &parts, &mut EncodeScratch::default())?;
    let file = std::env::temp_dir().join(format!("meterdeck-portal-{id}-{now}.batch"));
    std::fs::write(&file, bytes)?;
    // The new secret reaches Mosquitto's password file within seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &cx.mqtt_port.to_string(), "-u", id, "-P", &secret, "-q", "1"])
            .args(["-i", id, "-t", &batch_topic(id), "-f"])
            .arg(&file)
            .output()?;
        if out.status.success() {
            break;
        }
        ensure!(Instant::now() < deadline, "mosquitto_pub as {id}: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = std::fs::remove_file(&file);
    let want = SAMPLES as u64 + 1;
    wait_until(Duration::from_secs(30), "the new value stored", || {
        let (_, chans) =
            request("GET", &format!("{}/api/v1/agents/{id}/channels", cx.api.base), Some(&cx.api.token), None);
        chans.as_array().is_some_and(|l| l.iter().any(|c| c["samples"].as_u64() == Some(want)))
    });
    Ok(())
}

fn select_kind(s: &Session, kind: &str) -> Result<()> {
    let e = s.by_testid("panel-kind")?;
    s.select(&e, kind)
}

/// Ticks the channel `path` in the open panel form.
fn tick_channel(s: &Session, path: &str) -> Result<()> {
    let sel = format!("[data-testid=panel-channel][data-path=\"{path}\"] input");
    let e = s.wait_for(&sel, Duration::from_secs(10))?;
    s.click(&e)
}

/// The value tile of `path` as shown.
fn tile_text(s: &Session, path: &str) -> Result<String> {
    let v = s.execute(
        "const t = document.querySelector(`[data-testid=value-tile][data-path=\"${arguments[0]}\"] [data-testid=panel-value]`);
         return t ? t.textContent : null;",
        vec![json!(path)],
    )?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Numbers drawn by the graph panel.
const GRAPH_JS: &str = "const host = document.querySelector('[data-kind=graph] [data-testid=panel-graph]');
  const u = host && host.uplot;
  if (!u) return 0;
  return u.data.slice(1).reduce((n, col) => n + [...col].filter(v => typeof v === 'number').length, 0);";

fn dashboard(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    let (a, b) = (format!("{}/dev/volts", cx.sites[0].id), format!("{}/dev/volts", cx.sites[1].id));
    click(s, "nav-dashboard")?;
    s.wait_for(&testid("screen-dashboard"), Duration::from_secs(10))?;
    import_desktop_board(cx, &a)?;
    click(s, "board-new")?;
    fill(s, "board-name", "Plant")?;
    click(s, "board-form-save")?;
    s.wait_for(&format!("{}.active", testid("board-tab")), Duration::from_secs(10))?;

    // A value panel over site-a's channel.
    click(s, "panel-new")?;
    s.wait_for(&testid("panel-form"), Duration::from_secs(10))?;
    let kinds = s.execute(
        "return [...document.querySelectorAll('[data-testid=panel-kind] option')].map(o => o.value)",
        vec![],
    )?;
    ensure!(kinds == json!(["graph-value", "graph", "value"]), "kinds offered in the portal: {kinds}");
    s.wait_for(&testid("panel-kinds-note"), Duration::from_secs(5))?;
    select_kind(s, "value")?;
    fill(s, "panel-title", "Volts A")?;
    tick_channel(s, &a)?;
    click(s, "panel-form-save")?;
    s.wait_for("[data-testid=panel][data-kind=value]", Duration::from_secs(10))?;

    // A graph panel over site-b's.
    click(s, "panel-new")?;
    select_kind(s, "graph")?;
    tick_channel(s, &b)?;
    click(s, "panel-form-save")?;
    s.wait_for("[data-testid=panel][data-kind=graph]", Duration::from_secs(10))?;

    // A second panel on site-a: over the Free plan's one panel per agent.
    click(s, "panel-new")?;
    select_kind(s, "graph")?;
    tick_channel(s, &a)?;
    click(s, "panel-form-save")?;
    let msg = s.wait_until(Duration::from_secs(10), "the plan's refusal", |s| {
        let e = s.by_testid("panel-form-error")?;
        Ok(s.is_displayed(&e)?.then(|| s.text(&e)).transpose()?)
    })?;
    ensure!(msg.contains("Free plan allows 1 dashboard panels per agent"), "refusal: {msg}");
    click(s, "panel-form-cancel")?;
    ensure!(s.find_all(&testid("panel"))?.len() == 2, "a refused panel was added");

    // The newest stored value shows; a value sent now arrives.
    let (_, latest) = request(
        "GET",
        &format!("{}/api/v1/agents/{}/channels", cx.api.base, cx.sites[0].id),
        Some(&cx.api.token),
        None,
    );
    let ch = match &latest[0]["id"] {
        serde_json::Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    let (_, l) = request("GET", &format!("{}/api/v1/channels/{ch}/latest", cx.api.base), Some(&cx.api.token), None);
    let stored = l["point"]["v"].as_f64().ok_or_else(|| anyhow!("latest of site-a: {l}"))?;
    s.wait_until(Duration::from_secs(15), "the stored value shown", |s| {
        let t = tile_text(s, &a)?;
        Ok(t.parse::<f64>().ok().filter(|v| (v - stored).abs() < 1e-3).map(|_| ()))
    })?;
    send_value(cx, &cx.sites[0].id, 123.25)?;
    s.wait_until(Duration::from_secs(20), "the new value on the board", |s| {
        Ok((tile_text(s, &a)? == "123.25").then_some(()))
    })?;
    s.wait_until(Duration::from_secs(20), "site-b's series drawn", |s| {
        let n = s.execute(GRAPH_JS, vec![])?.as_u64().unwrap_or(0);
        Ok((n >= 100).then_some(()))
    })?;
    doc_screenshot(s, "portal-dashboard")?;

    // Kept by the cloud: after a reload the board is there again.
    // (Another URL than the page's: a real load, not a jump to the fragment.)
    s.goto(&format!("{}/?reloaded=1#dashboard", cx.base))?;
    s.wait_for("[data-testid=panel][data-kind=graph]", Duration::from_secs(15))?;
    let tab = s.text(&s.find(&format!("{}.active", testid("board-tab")))?)?;
    ensure!(tab == "Plant", "board after reload: {tab}");
    ensure!(s.find_all(&testid("panel"))?.len() == 2, "panels after reload");
    s.wait_until(Duration::from_secs(20), "the value after reload", |s| {
        Ok((tile_text(s, &a)? == "123.25").then_some(()))
    })?;
    let (_, boards) = request("GET", &format!("{}/api/v1/boards", cx.api.base), Some(&cx.api.token), None);
    ensure!(boards[0]["name"] == "Plant" && boards[0]["panels"].as_array().map(Vec::len) == Some(2), "{boards}");
    ensure!(
        boards[0]["panels"][0]["channels"] == json!([a]) && boards[0]["panels"][1]["channels"] == json!([b]),
        "{boards}"
    );
    Ok(())
}

/// A board file the desktop app wrote (meterdeck-core's export) uploaded in
/// the browser: refused until the site of its channels is chosen, then a
/// board showing site-a's value; deleted again (the plan's one panel per
/// agent is for the board built next).
fn import_desktop_board(cx: &Ctx, a: &str) -> Result<()> {
    use meterdeck_core::dashboard::{Board, GraphWindow, Panel, PanelKind, export_json};
    let s = &cx.s;
    let panel = Panel {
        id: 1,
        kind: PanelKind::Value,
        title: "From the desk".into(),
        x: 0,
        y: 0,
        w: 4,
        h: 2,
        channels: vec!["dev/volts".into()],
        window: GraphWindow::Hour,
        image: None,
        placements: vec![],
        rules: vec![],
    };
    let board = Board { id: 3, name: "Desk board".into(), panels: vec![panel] };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("desk-board.json");
    std::fs::write(&file, export_json(dir.path(), &board)?)?;
    click(s, "board-import")?;
    s.wait_for(&testid("upload-form"), Duration::from_secs(10))?;
    s.send_keys(&s.by_testid("board-file")?, &file.display().to_string())?;
    click(s, "upload-form-save")?;
    let err = s.wait_until(Duration::from_secs(10), "the import refused without a site", |s| {
        let e = s.by_testid("upload-form-error")?;
        Ok(s.is_displayed(&e)?.then(|| s.text(&e)).transpose()?)
    })?;
    ensure!(err.contains("names no agent"), "import without a site: {err}");
    let site = s.by_testid("board-agent")?;
    s.wait_for(&format!("[data-testid=board-agent] option[value=\"{}\"]", cx.sites[0].id), Duration::from_secs(10))?;
    s.select(&site, &cx.sites[0].id)?;
    click(s, "upload-form-save")?;
    s.wait_until(Duration::from_secs(10), "the imported board", |s| {
        let tab = s.find(&format!("{}.active", testid("board-tab"))).and_then(|t| s.text(&t)).unwrap_or_default();
        Ok((tab == "Desk board").then_some(()))
    })?;
    s.wait_for(&format!("[data-testid=value-tile][data-path=\"{a}\"]"), Duration::from_secs(10))?;
    click(s, "board-delete")?;
    click(s, "delete-form-save")?;
    s.wait_until(Duration::from_secs(10), "the board deleted", |s| {
        Ok(s.find_all(&testid("board-tab"))?.is_empty().then_some(()))
    })?;
    Ok(())
}

/// The member (no group granted) sees the board, not the data, and no tools.
fn member_dashboard(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "portal-sign-out")?;
    sign_in_form(s, MEMBER, MEMBER_PASSWORD)?;
    nav_entries(s)?;
    click(s, "nav-dashboard")?;
    s.wait_for("[data-testid=panel][data-kind=graph]", Duration::from_secs(15))?;
    let denied = s.wait_until(Duration::from_secs(10), "no access in both panels", |s| {
        let n = s.find_all(&testid("panel-no-access"))?;
        Ok((n.len() == 2).then_some(n))
    })?;
    ensure!(s.text(&denied[0])?.contains("No access"), "{}", s.text(&denied[0])?);
    ensure!(s.find_all(&testid("value-tile"))?.is_empty(), "a member without grants sees a value tile");
    ensure!(s.find_all(&testid("panel-edit"))?.is_empty(), "a member can edit panels");
    for tool in ["board-new", "board-import", "panel-new", "board-delete"] {
        ensure!(!s.is_displayed(&s.by_testid(tool)?)?, "a member sees {tool}");
    }
    ensure!(s.is_displayed(&s.by_testid("board-export")?)?, "a member cannot export");
    Ok(())
}
