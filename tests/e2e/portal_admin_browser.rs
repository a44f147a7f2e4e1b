//! The web portal's administration in a real browser (issue 15):
//! `meterdeck-cloud serve` (SQLite, its managed Mosquitto, mail to the
//! aiosmtpd peer) and Debian's headless chromium over chromedriver. Two
//! sites send a batch each over MQTT. In the browser:
//! - the admin's nav labels are whole (none cut off); the admin invites a
//!   member by email from the Users screen: the temporary password is not
//!   shown, it arrives at aiosmtpd; the Notifications screen names where the
//!   cloud's mail goes; the Licence screen shows the plan and the account's
//!   use, and a card applied there changes the plan;
//! - the Viewer's export: both sites' channels as one ZIP downloaded by
//!   the browser, each CSV in it equal to the API's;
//! - the member signs in with the mailed password and must change it; the
//!   admin-only sections are absent and the API refuses an admin call made
//!   from the page; they enrol an authenticator app from the QR code (its
//!   SVG decoded with rqrr: the otpauth URI it holds has the secret shown
//!   beside it), confirm with a computed code, and sign in with TOTP.
//!
//! Screenshots: docs/screenshots/portal-admin-users.png, portal-totp.png,
//! portal-notifications.png, portal-licence.png.
//! Needs the UI built into the cloud (`cd ui && npm run build`, then the
//! cloud binary) and `apt-get install chromium chromium-driver mosquitto-clients`.
//! Run: `cargo test -p meterdeck-e2e --test portal_admin_browser`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_e2e::cloud::{ADMIN_PASSWORD, Api, Cloud, create_acme, register_site, request};
use meterdeck_e2e::portal::{click, doc_screenshot, fill, nav_entries, next_mail, sign_in_form};
use meterdeck_e2e::webdriver::{Driver, Session, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};

const ACCOUNT: &str = "acme";
const ADMIN: &str = "alice";
const MEMBER: &str = "carol";
const MEMBER_EMAIL: &str = "carol@acme.test";
const MEMBER_PASSWORD: &str = "Carol-own-1";
const SAMPLES: usize = 120;

struct Ctx {
    s: Session,
    base: String,
    api: Api,
    cloud: Cloud,
    smtp: Proc,
    downloads: PathBuf,
    /// The two sites' agent ids.
    sites: Vec<(String, String)>,
    temp: String,
    totp: Option<totp_rs::TOTP>,
    /// The authenticator step the enrolment spent.
    spent_code: String,
    _driver: Driver,
}

fn step(cx: &mut Ctx, name: &str, started: Instant, f: impl FnOnce(&mut Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let shot = std::env::temp_dir().join(format!("meterdeck-portal-admin-{name}-failed.png"));
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
fn portal_admin_invites_a_member_who_enrols_totp_and_exports_a_zip() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let mut smtp = Proc::spawn("smtp_peer", Command::new(python()).arg(peer_script("smtp_peer.py")));
    let smtp_port: u16 = smtp.wait_line("READY ", Duration::from_secs(20))[6..].trim().parse().unwrap();
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &["--smtp", &format!("127.0.0.1:{smtp_port}")]);
    let temp = create_acme(&cloud);
    let api = Api::sign_in(&cloud.http, ACCOUNT, ADMIN, &temp, ADMIN_PASSWORD);
    let sites = ["site-a", "site-b"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (name.to_string(), register_site(&cloud, &api, tmp.path(), name, 10.0 * (k + 1) as f64, SAMPLES))
        })
        .collect();
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let driver = Driver::start_chromedriver().expect("chromedriver");
    let s = driver.chromium_session_with(&tmp.path().join("chromium"), Some(&downloads)).expect("a chromium session");
    let mut cx = Ctx {
        s,
        base: cloud.http.clone(),
        api,
        cloud,
        smtp,
        downloads,
        sites,
        temp: String::new(),
        totp: None,
        spent_code: String::new(),
        _driver: driver,
    };
    step(&mut cx, "admin signs in", started, admin_signs_in);
    step(&mut cx, "invite by mail", started, invite_by_mail);
    step(&mut cx, "notifications", started, notifications);
    step(&mut cx, "licence", started, licence);
    step(&mut cx, "zip export", started, zip_export);
    step(&mut cx, "member first sign-in", started, member_first_sign_in);
    step(&mut cx, "member enrols totp", started, member_enrols_totp);
    step(&mut cx, "member signs in with totp", started, member_signs_in_with_totp);
    eprintln!("portal admin browser test took {:.1} s", started.elapsed().as_secs_f64());
}

fn admin_signs_in(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    s.goto(&format!("{}/", cx.base))?;
    s.wait_for("html[data-ready=\"1\"]", Duration::from_secs(20))?;
    sign_in_form(s, ACCOUNT, ADMIN, ADMIN_PASSWORD)?;
    let nav = nav_entries(s)?;
    for want in ["nav-agents", "nav-viewer", "nav-notifications", "nav-licence", "nav-admin"] {
        ensure!(nav.contains(&want.to_string()), "admin nav lacks {want}: {nav:?}");
    }
    // Every label is shown whole: none is cut off by the rail.
    let cut = s.execute(
        "return [...document.querySelectorAll('nav.rail button .label')]
           .filter(l => l.scrollWidth > l.clientWidth + 1 || l.scrollHeight > l.clientHeight + 1)
           .map(l => l.textContent)",
        vec![],
    )?;
    ensure!(cut.as_array().is_some_and(|a| a.is_empty()), "nav labels cut off: {cut}");
    let admin_label = s.text(&s.find(&format!("{} .label", testid("nav-admin")))?)?;
    ensure!(admin_label.replace(['\n', ' '], "") == "Administration", "the label reads {admin_label:?}");
    Ok(())
}

/// The admin invites carol: the page never shows the password, the mail has it.
fn invite_by_mail(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-admin")?;
    s.wait_for(&testid("admin-tab-users"), Duration::from_secs(10))?;
    click(s, "admin-tab-users")?;
    s.wait_for(&testid("admin-invite-form"), Duration::from_secs(10))?;
    fill(s, "admin-invite-id", MEMBER)?;
    fill(s, "admin-invite-name", "Carol Member")?;
    fill(s, "admin-invite-email", MEMBER_EMAIL)?;
    s.select(&s.by_testid("admin-invite-role")?, "member")?;
    let by_mail = s.by_testid("admin-invite-mail")?;
    ensure!(s.property(&by_mail, "checked")? == json!(true), "inviting by mail is not the default");
    click(s, "admin-invite")?;
    let note = s.wait_until(Duration::from_secs(20), "the invitation mailed", |s| {
        if let Ok(e) = s.by_testid("admin-users-error")
            && s.is_displayed(&e)?
        {
            bail!("invite error: {}", s.text(&e)?);
        }
        Ok(s.find_all(&testid("admin-invite-mailed"))?.into_iter().next())
    })?;
    let text = s.text(&note)?;
    ensure!(text.contains(MEMBER) && text.contains(MEMBER_EMAIL), "the note says {text:?}");
    ensure!(s.find_all(&testid("admin-temp-password"))?.is_empty(), "the temporary password is shown to the admin");
    let row = s.wait_for(&format!("[data-testid=admin-user-row][data-user=\"{MEMBER}\"]"), Duration::from_secs(10))?;
    ensure!(s.attribute(&row, "data-role")?.as_deref() == Some("member"), "carol's row");
    ensure!(s.text(&row)?.contains(MEMBER_EMAIL), "{}", s.text(&row)?);

    let mail: Value = serde_json::from_str(&next_mail(&mut cx.smtp))?;
    ensure!(mail["rcpt_tos"] == json!([MEMBER_EMAIL]), "mail to {}", mail["rcpt_tos"]);
    let body = mail["body"].as_str().unwrap_or_default();
    ensure!(body.contains(&format!("{}/", cx.base)), "the mail does not link the portal: {body}");
    cx.temp = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .map(|p| p.trim().to_string())
        .ok_or_else(|| anyhow!("no password in the mail: {body}"))?;
    ensure!(
        !s.execute("return document.body.innerText", vec![])?.as_str().unwrap_or_default().contains(&cx.temp),
        "the password is on the page"
    );
    doc_screenshot(s, "portal-admin-users")
}

fn notifications(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-notifications")?;
    let mail = s.wait_for(&testid("notices-mail"), Duration::from_secs(10))?;
    ensure!(s.attribute(&mail, "data-mail")?.as_deref() == Some("true"), "this cloud has --smtp");
    let row =
        s.wait_for(&format!("[data-testid=notices-recipient][data-user=\"{ADMIN}\"]"), Duration::from_secs(10))?;
    ensure!(s.text(&row)?.contains("alice@acme.test"), "{}", s.text(&row)?);
    ensure!(s.find_all(&testid("notices-recipient"))?.len() == 1, "only admins receive the account's notices");
    let kinds = s.find_all(&testid("notices-kind"))?;
    ensure!(kinds.len() >= 8, "{} kinds of mail listed", kinds.len());
    let own = s.by_testid("notices-own")?;
    ensure!(s.attribute(&own, "data-receives")?.as_deref() == Some("true"), "the admin receives notices");
    doc_screenshot(s, "portal-notifications")
}

fn licence(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-licence")?;
    let plan = s.wait_for(&testid("licence-plan"), Duration::from_secs(10))?;
    ensure!(s.text(&plan)?.contains("Free"), "plan shown: {}", s.text(&plan)?);
    // The account's use as the API counts it: alice and carol.
    let users = s.wait_for(&testid("licence-cloud-users"), Duration::from_secs(10))?;
    ensure!(
        s.attribute(&users, "data-used")?.as_deref() == Some("2"),
        "users used: {:?}",
        s.attribute(&users, "data-used")?
    );
    let agents = s.by_testid("licence-cloud-agents")?;
    ensure!(s.attribute(&agents, "data-used")?.as_deref() == Some("2"), "agents used");
    // A card issued by the authority, applied by the admin in the portal.
    let out = cx.cloud.cli(&["licence", "issue-card", "--account", ACCOUNT, "--plan", "standard", "--months", "1"]);
    let card =
        out.lines().rev().find(|l| l.trim().starts_with("MDC-")).ok_or_else(|| anyhow!("no card in {out}"))?.trim();
    fill(s, "licence-card", "MDC-0000-0000-0000-0000")?;
    click(s, "licence-apply-card")?;
    let err = s.by_testid("licence-card-error")?;
    s.wait_until(Duration::from_secs(10), "an unknown card refused", |s| Ok(s.is_displayed(&err)?.then_some(())))?;
    fill(s, "licence-card", card)?;
    click(s, "licence-apply-card")?;
    s.wait_until(Duration::from_secs(10), "the card applied", |s| {
        Ok((s.is_displayed(&s.by_testid("licence-card-ok")?)?
            && s.text(&s.by_testid("licence-plan")?)?.contains("Standard"))
        .then_some(()))
    })?;
    let st = cx.api.get("/api/v1/licence/status");
    ensure!(st["plan"] == "standard", "API status: {st}");
    let days = s.text(&s.find(&format!("{} b", testid("licence-days-left")))?)?;
    ensure!(st["days_left"].as_i64().is_some_and(|d| days == d.to_string()), "days left {days} vs {}", st["days_left"]);
    doc_screenshot(s, "portal-licence")
}

/// Both sites' channels on the Viewer, exported as one ZIP by the browser.
fn zip_export(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "nav-agents")?;
    let mut channels = Vec::new();
    for (name, id) in &cx.sites {
        s.wait_until(Duration::from_secs(15), &format!("the channels of {name}"), |s| {
            let title = s.find(".cloud-channels-box h3").and_then(|h| s.text(&h)).unwrap_or_default().to_lowercase();
            let rows = s.find_all(&format!("{}[data-path=\"dev/volts\"]", testid("cloud-channel-row")))?;
            if rows.len() == 1 && title.ends_with(&format!(" {name}")) {
                return Ok(Some(()));
            }
            if let Ok(b) = s.find(&format!("[data-agent=\"{id}\"] {}", testid("cloud-agent-open"))) {
                let _ = s.click(&b);
            }
            std::thread::sleep(Duration::from_millis(300));
            Ok(None)
        })?;
        let btn = s.find(&testid("cloud-add-to-viewer"))?;
        channels.push((id.clone(), s.attribute(&btn, "data-channel")?.ok_or_else(|| anyhow!("channel id"))?));
        s.click(&btn)?;
    }
    click(s, "nav-viewer")?;
    for (_, ch) in &channels {
        s.wait_for(&format!("[data-testid=viewer-cloud-channel][data-channel=\"{ch}\"]"), Duration::from_secs(10))?;
    }
    ensure!(!s.is_displayed(&s.by_testid("export-path")?)?, "a file path to type in a browser");
    click(s, "export-button")?;
    let done = s.by_testid("export-done")?;
    s.wait_until(Duration::from_secs(30), "the export done", |s| {
        let e = s.by_testid("export-error")?;
        if s.is_displayed(&e)? {
            bail!("export error: {}", s.text(&e)?);
        }
        Ok(s.is_displayed(&done)?.then_some(()))
    })?;
    let shown = s.text(&done)?;
    let zip_path = wait_download(&cx.downloads)?;
    let name = zip_path.file_name().unwrap().to_string_lossy().to_string();
    ensure!(shown.contains(&name), "done says {shown:?}, the file is {name}");
    let bytes = std::fs::read(&zip_path)?;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("the download is no ZIP")?;
    ensure!(z.len() == 2, "{} files in the ZIP", z.len());
    for (agent, ch) in &channels {
        let mut f =
            z.by_name(&format!("{agent}-dev_volts.csv")).with_context(|| format!("{agent}'s CSV in the ZIP"))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        // The Viewer's hour holds every sample (sent over the last half hour).
        let (status, csv) = request("GET", &format!("{}/api/v1/channels/{ch}/csv", cx.base), Some(&cx.api.token), None);
        ensure!(status == 200, "API CSV: {csv}");
        let csv = csv.as_str().unwrap_or_default();
        ensure!(text == csv, "the ZIP's CSV of {agent} differs from the API's:\n{text:.300}\n---\n{csv:.300}");
        ensure!(text.lines().count() == SAMPLES + 1, "{} lines", text.lines().count());
    }
    click(s, "portal-sign-out")?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(10))?;
    Ok(())
}

/// The one finished `.zip` in `dir` (chromium writes `.crdownload` first).
fn wait_download(dir: &Path) -> Result<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        let zips: Vec<&PathBuf> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "zip")).collect();
        if zips.len() == 1 && !files.iter().any(|p| p.extension().is_some_and(|e| e == "crdownload")) {
            return Ok(zips[0].clone());
        }
        ensure!(Instant::now() < deadline, "no finished ZIP download in {}: {files:?}", dir.display());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Carol signs in with the mailed password, must choose her own; no
/// administration for her, and the API refuses it from her page.
fn member_first_sign_in(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    sign_in_form(s, ACCOUNT, MEMBER, &cx.temp)?;
    s.wait_for(&testid("portal-password-form"), Duration::from_secs(10))?;
    fill(s, "portal-current-password", &cx.temp)?;
    fill(s, "portal-new-password", MEMBER_PASSWORD)?;
    click(s, "portal-password-submit")?;
    let nav = nav_entries(s)?;
    let role = s.attribute(&s.by_testid("portal-who")?, "data-role")?;
    ensure!(role.as_deref() == Some("member"), "role {role:?}");
    ensure!(nav.contains(&"nav-admin".to_string()), "a member keeps their own security and tokens: {nav:?}");
    click(s, "nav-admin")?;
    s.wait_for(&testid("admin-tab-security"), Duration::from_secs(10))?;
    let tabs = s.execute(
        "return [...document.querySelectorAll('[data-testid=admin-nav] button')].map(b => b.dataset.section)",
        vec![],
    )?;
    let tabs: Vec<&str> =
        tabs.as_array().ok_or_else(|| anyhow!("tabs {tabs}"))?.iter().filter_map(Value::as_str).collect();
    for admin_only in ["users", "teams", "groups", "log", "account"] {
        ensure!(!tabs.contains(&admin_only), "a member sees the {admin_only} section: {tabs:?}");
    }
    ensure!(tabs.contains(&"security") && tabs.contains(&"tokens"), "{tabs:?}");
    let v = s.execute_async(
        "const done = arguments[0];
         const csrf = (document.cookie.match(/(?:^|; )md_csrf=([^;]*)/) || [])[1] || '';
         const h = {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)};
         Promise.all([
           fetch('/api/v1/users', {method: 'POST', credentials: 'same-origin', headers: h,
             body: JSON.stringify({id: 'mallory', name: 'M', email: 'm@x.test', role: 'admin', invite: true})}),
           fetch('/api/v1/access-log', {credentials: 'same-origin'}),
         ]).then(rs => Promise.all(rs.map(r => r.json().then(j => ({status: r.status, body: j})))))
           .then(done, e => done({err: String(e)}));",
        vec![],
    )?;
    ensure!(v[0]["status"] == 403 && v[1]["status"] == 403, "a member's admin calls: {v}");
    ensure!(v[0]["body"]["error"].as_str().is_some_and(|e| e.contains("only an admin")), "{v}");
    let users = cx.api.get("/api/v1/users");
    ensure!(users.as_array().is_some_and(|u| u.len() == 2), "users after the refused call: {users}");
    Ok(())
}

/// The QR code's SVG as a greyscale picture (4 px a module, white quiet
/// zone), decoded by rqrr like a phone's camera would: the otpauth URI.
fn decode_qr(d: &str, modules: usize) -> Result<String> {
    const QUIET: usize = 4;
    const PX: usize = 4;
    let n = modules + 2 * QUIET;
    let mut dark = vec![false; n * n];
    // The path is `M{x} {y}h1v1h-1z` per dark module (ui/src/cloud-admin/qr.ts).
    for seg in d.split('M').filter(|x| !x.is_empty()) {
        let coords = seg.split('h').next().unwrap_or_default();
        let (x, y) = coords.split_once(' ').ok_or_else(|| anyhow!("path segment {seg:?}"))?;
        let (x, y): (usize, usize) = (x.trim().parse()?, y.trim().parse()?);
        ensure!(x < n && y < n, "module ({x}, {y}) outside {n}");
        dark[y * n + x] = true;
    }
    let side = n * PX;
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(
            side,
            side,
            |x, y| if dark[(y / PX) * n + x / PX] { 0 } else { 255 },
        );
    let grids = img.detect_grids();
    ensure!(grids.len() == 1, "{} QR codes found in the SVG", grids.len());
    let (_, text) = grids[0].decode().map_err(|e| anyhow!("the QR code does not decode: {e}"))?;
    Ok(text)
}

fn member_enrols_totp(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    click(s, "admin-tab-security")?;
    click(s, "admin-totp-start")?;
    let qr = s.wait_for(&testid("admin-totp-qr"), Duration::from_secs(10))?;
    let modules: usize = s.attribute(&qr, "data-modules")?.unwrap_or_default().parse().unwrap_or(0);
    let d = s.execute("return document.querySelector('[data-testid=admin-totp-qr] path').getAttribute('d')", vec![])?;
    let uri = decode_qr(d.as_str().unwrap_or_default(), modules)?;
    ensure!(uri.starts_with("otpauth://totp/"), "the QR code holds {uri:?}");
    let shown: String = s.text(&s.by_testid("admin-totp-secret")?)?.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp_rs::TOTP::from_url_unchecked(&uri).map_err(|e| anyhow!("otpauth URI {uri:?}: {e:?}"))?;
    ensure!(
        totp.get_secret_base32() == shown,
        "the QR code's secret {} is not the one shown, {shown}",
        totp.get_secret_base32()
    );
    ensure!(totp.account_name.contains(MEMBER), "the QR code names {:?}", totp.account_name);
    doc_screenshot(s, "portal-totp")?;
    // A code at the very end of its 30 s step may be stale on arrival: wait for the next.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    if now % 30 >= 27 {
        std::thread::sleep(Duration::from_secs(30 - now % 30));
    }
    let code = totp.generate_current()?;
    fill(s, "admin-totp-code", &code)?;
    click(s, "admin-totp-confirm")?;
    s.wait_until(Duration::from_secs(10), "the authenticator on", |s| {
        let e = s.by_testid("admin-totp-error")?;
        if s.is_displayed(&e)? {
            bail!("totp error: {}", s.text(&e)?);
        }
        let state = s.attribute(&s.by_testid("admin-totp-state")?, "data-two-factor")?;
        Ok((state.as_deref() == Some("totp") && !s.find_all(&testid("admin-totp-done"))?.is_empty()).then_some(()))
    })?;
    cx.spent_code = code;
    cx.totp = Some(totp);
    click(s, "portal-sign-out")?;
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(10))?;
    Ok(())
}

fn member_signs_in_with_totp(cx: &mut Ctx) -> Result<()> {
    let s = &cx.s;
    sign_in_form(s, ACCOUNT, MEMBER, MEMBER_PASSWORD)?;
    s.wait_for(&testid("portal-code-form"), Duration::from_secs(10))?;
    let totp = cx.totp.as_ref().ok_or_else(|| anyhow!("not enrolled"))?;
    // The enrolment's step is spent: wait for the app's next code.
    let deadline = Instant::now() + Duration::from_secs(40);
    let code = loop {
        let c = totp.generate_current()?;
        if c != cx.spent_code {
            break c;
        }
        ensure!(Instant::now() < deadline, "the authenticator code did not move on");
        std::thread::sleep(Duration::from_millis(500));
    };
    fill(s, "portal-code", &code)?;
    click(s, "portal-code-submit")?;
    nav_entries(s)?;
    let role = s.attribute(&s.by_testid("portal-who")?, "data-role")?;
    ensure!(role.as_deref() == Some("member"), "role {role:?}");
    let users = cx.api.get("/api/v1/users");
    let carol = users.as_array().and_then(|u| u.iter().find(|u| u["id"] == MEMBER)).cloned().unwrap_or_default();
    ensure!(carol["two_factor"] == "totp" && carol["must_change"] == false, "carol per the API: {carol}");
    Ok(())
}
