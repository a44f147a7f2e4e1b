//! The Cloud screen's administration sections in the desktop window against
//! the real cloud (`meterdeck-cloud serve`, SQLite; account `acme` on the
//! Pro plan with one registered agent), the session token in a real
//! gnome-keyring on a private D-Bus, the Tauri app under Xvfb through
//! WebKitWebDriver. As the admin: invite a user (temporary password shown
//! once, which signs them in), change their role, create a team and a
//! measurement group with grants, enrol the authenticator app by reading
//! the secret under the QR code and confirming with a code computed here
//! (RFC 6238, totp-rs), create an API token (shown once, and it works),
//! set the IP allow-list, filter the access log. Then the invited member
//! signs in: the admin sections are absent, and the API refuses them.
//! Also: a second user invited by email (the box ticked): the window
//! shows where the invitation went and never the password, which reached
//! the aiosmtpd peer (the cloud's `--smtp`) and signs the user in.
//! Each fact is checked against the API as well as the window.
//!
//! Screenshots: docs/screenshots/cloud-admin-users.png and cloud-admin-totp.png.
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck -p meterdeck-cloud -p meterdeck-e2e --bins`.
//! Run: `cargo test -p meterdeck-e2e --test cloud_admin_window`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_e2e::cloud::{Api, Cloud, line_after, request};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::webdriver::{Desktop, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};

const ACCOUNT: &str = "acme";
const ADMIN: &str = "alice";
const ADMIN_PASSWORD: &str = "Meter1deck-admin";
const MEMBER: &str = "mia";
const MEMBER_PASSWORD: &str = "Meter1deck-mia";

struct Ctx {
    desk: Desktop,
    cloud: Cloud,
    _bus: Session,
    agent_id: String,
    /// The admin's API client (after the window changed the password).
    api: Option<Api>,
    /// The invited member's temporary password, as the window showed it.
    member_temp: String,
    /// The aiosmtpd peer the cloud mails through.
    smtp: Proc,
}

impl Ctx {
    fn api(&self) -> &Api {
        self.api.as_ref().expect("the test's API client (after the password step)")
    }
}

fn step(cx: &mut Ctx, name: &str, started: Instant, f: impl FnOnce(&mut Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let report = cx.desk.failure_report(&format!("cloud-admin-window-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn window_administers_the_cloud_account() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let mut bus = Session::start();
    bus.start_keyring();
    let mut smtp = Proc::spawn("smtp_peer", std::process::Command::new(python()).arg(peer_script("smtp_peer.py")));
    let smtp_port: u16 = smtp.wait_line("READY ", Duration::from_secs(20))[6..].trim().parse().unwrap();
    let cloud = Cloud::start(&tmp.path().join("cloud"), None, None, &["--smtp", &format!("127.0.0.1:{smtp_port}")]);
    let out = cloud.cli(&[
        "account",
        "create",
        "--id",
        ACCOUNT,
        "--name",
        "Acme",
        "--plan",
        "pro",
        "--admin",
        ADMIN,
        "--email",
        "alice@acme.test",
    ]);
    let temp = line_after(&out, "temporary password");
    let out = cloud.cli(&["agent", "register", "--account", ACCOUNT, "--name", "site-a"]);
    let agent_id = out.split_whitespace().nth(1).expect("agent id").to_owned();

    let data = tmp.path().join("desk");
    let args = vec!["--demo".to_string(), "--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&bin("meterdeck"), &args, &tmp.path().join("home"), Some(&bus.address))
        .expect("start the app under Xvfb + WebKitWebDriver");
    let mut cx = Ctx { desk, cloud, _bus: bus, agent_id, api: None, member_temp: String::new(), smtp };

    step(&mut cx, "ready", started, |cx| {
        cx.desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ())
    });
    step(&mut cx, "sign-in", started, |cx| {
        sign_in(cx, ADMIN, &temp, ADMIN_PASSWORD)?;
        cx.api = Some(Api::sign_in(&cx.cloud.http, ACCOUNT, ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD));
        Ok(())
    });
    step(&mut cx, "users", started, users);
    step(&mut cx, "invite by mail", started, invite_by_mail);
    step(&mut cx, "teams", started, teams);
    step(&mut cx, "groups", started, groups);
    step(&mut cx, "totp", started, totp);
    step(&mut cx, "tokens", started, tokens);
    step(&mut cx, "ip-allow", started, ip_allow);
    step(&mut cx, "access-log", started, access_log);
    step(&mut cx, "member", started, member);
    eprintln!("cloud admin window test took {:.1} s", started.elapsed().as_secs_f64());
    drop(cx);
}

/// Sign-in with a temporary password and the forced change; then the admin
/// navigation has read the role.
fn sign_in(cx: &mut Ctx, user: &str, temp: &str, new: &str) -> Result<()> {
    let d = &cx.desk;
    d.nav("cloud")?;
    d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
    d.fill(&d.by_testid("cloud-url")?, &cx.cloud.http)?;
    d.fill(&d.by_testid("cloud-account-id")?, ACCOUNT)?;
    d.fill(&d.by_testid("cloud-user-id")?, user)?;
    d.fill(&d.by_testid("cloud-password")?, temp)?;
    d.click(&d.by_testid("cloud-sign-in")?)?;
    d.wait_for(&testid("cloud-password-form"), Duration::from_secs(15)).context("the forced password change")?;
    d.fill(&d.by_testid("cloud-current-password")?, temp)?;
    d.fill(&d.by_testid("cloud-new-password")?, new)?;
    d.click(&d.by_testid("cloud-password-submit")?)?;
    d.wait_until(Duration::from_secs(15), "signed in", |s| {
        if let Ok(e) = s.find(&testid("cloud-password-error"))
            && s.is_displayed(&e)?
        {
            bail!("password change refused: {}", s.text(&e)?);
        }
        Ok(s.find(&testid("cloud-who")).and_then(|e| s.text(&e)).ok().filter(|w| w.contains(user)))
    })?;
    // The sub-navigation is built from /me.
    d.wait_for(&testid("admin-tab-security"), Duration::from_secs(10)).context("the admin navigation")?;
    Ok(())
}

fn tab(d: &Desktop, id: &str, section: &str) -> Result<()> {
    d.click(&d.by_testid(&format!("admin-tab-{id}"))?)?;
    let root = d.wait_for(&testid(section), Duration::from_secs(10))?;
    d.wait_until(Duration::from_secs(5), &format!("{section} shown"), |s| Ok(s.is_displayed(&root)?.then_some(())))
}

/// Clicks `id` once it is enabled (a section enables its buttons once its lists are read).
fn click_enabled(d: &Desktop, id: &str) -> Result<()> {
    let b = d.by_testid(id)?;
    d.wait_until(Duration::from_secs(10), &format!("{id} enabled"), |s| {
        Ok((s.property(&b, "disabled")? == Value::Bool(false)).then_some(()))
    })?;
    d.click(&b)
}

/// Waits until no error of the section shows and `cond` holds in the page.
fn wait_js(d: &Desktop, what: &str, error_id: &str, script: &str) -> Result<Value> {
    d.wait_until(Duration::from_secs(15), what, |s| {
        if let Ok(e) = s.find(&testid(error_id))
            && s.is_displayed(&e)?
        {
            bail!("{what}: the window says {}", s.text(&e)?);
        }
        let v = s.execute(script, vec![])?;
        Ok((!v.is_null() && v != Value::Bool(false)).then_some(v))
    })
}

/// Invite a viewer (the temporary password shown once), make them a member.
fn users(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "users", "admin-users-section")?;
    d.fill(&d.by_testid("admin-invite-id")?, MEMBER)?;
    d.fill(&d.by_testid("admin-invite-name")?, "Mia Kato")?;
    d.fill(&d.by_testid("admin-invite-email")?, "mia@acme.test")?;
    d.select(&d.by_testid("admin-invite-role")?, "viewer")?;
    d.click(&d.by_testid("admin-invite")?)?;
    let shown = wait_js(
        d,
        "the temporary password",
        "admin-users-error",
        "const e = document.querySelector('[data-testid=admin-temp-password-text]'); return e && e.textContent",
    )?;
    cx.member_temp = shown.as_str().unwrap_or_default().to_owned();
    ensure!(cx.member_temp.len() >= 8, "temporary password shown: {shown}");
    let listed = cx.api().get("/api/v1/users");
    let mia = listed.as_array().and_then(|l| l.iter().find(|u| u["id"] == MEMBER)).cloned();
    ensure!(mia.as_ref().is_some_and(|u| u["role"] == "viewer" && u["must_change"] == true), "API users: {listed}");
    // The password shown signs in (and must be changed): checked by the member step.

    let sel = d.find(&format!("[data-testid=admin-user-row][data-user={MEMBER}] [data-testid=admin-user-role]"))?;
    d.select(&sel, "member")?;
    wait_js(
        d,
        "the role changed",
        "admin-users-error",
        &format!(
            "return document.querySelector('[data-testid=admin-user-row][data-user={MEMBER}]')?.dataset.role === 'member'"
        ),
    )?;
    let listed = cx.api().get("/api/v1/users");
    ensure!(
        listed.as_array().and_then(|l| l.iter().find(|u| u["id"] == MEMBER)).is_some_and(|u| u["role"] == "member"),
        "API users after the role change: {listed}"
    );
    d.screenshot_doc("cloud-admin-users")?;
    Ok(())
}

/// Invite a viewer by email: the cloud mails the temporary password; the
/// window says where it went and never shows it.
fn invite_by_mail(cx: &mut Ctx) -> Result<()> {
    const USER: &str = "noa";
    const EMAIL: &str = "noa@acme.test";
    let d = &cx.desk;
    d.fill(&d.by_testid("admin-invite-id")?, USER)?;
    d.fill(&d.by_testid("admin-invite-name")?, "Noa Sato")?;
    d.fill(&d.by_testid("admin-invite-email")?, EMAIL)?;
    d.select(&d.by_testid("admin-invite-role")?, "viewer")?;
    let by_mail = d.by_testid("admin-invite-mail")?;
    ensure!(d.property(&by_mail, "checked")? == Value::Bool(false), "the desktop mails invitations unasked");
    d.click(&by_mail)?;
    d.click(&d.by_testid("admin-invite")?)?;
    let note = wait_js(
        d,
        "the invitation mailed",
        "admin-users-error",
        "const e = document.querySelector('[data-testid=admin-invite-mailed]'); return e && e.textContent",
    )?;
    let note = note.as_str().unwrap_or_default().to_owned();
    ensure!(note.contains(USER) && note.contains(EMAIL), "the window says {note:?}");
    ensure!(d.find_all(&testid("admin-temp-password-text"))?.is_empty(), "a temporary password is shown");

    let mail: Value = serde_json::from_str(&cx.smtp.wait_line("MAIL ", Duration::from_secs(20))[5..])?;
    ensure!(mail["rcpt_tos"] == json!([EMAIL]), "mail to {}", mail["rcpt_tos"]);
    let body = mail["body"].as_str().unwrap_or_default();
    let temp = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .map(|p| p.trim().to_string())
        .ok_or_else(|| anyhow!("no password in the mail: {body}"))?;
    let page = d.execute("return document.body.innerText", vec![])?;
    ensure!(!page.as_str().unwrap_or_default().contains(&temp), "the mailed password is on the page");
    let listed = cx.api().get("/api/v1/users");
    let noa = listed.as_array().and_then(|l| l.iter().find(|u| u["id"] == USER)).cloned();
    ensure!(
        noa.as_ref().is_some_and(|u| u["role"] == "viewer" && u["email"] == EMAIL && u["must_change"] == true),
        "API users: {listed}"
    );
    // The mailed password signs in (and must be changed at once).
    Api::sign_in(&cx.cloud.http, ACCOUNT, USER, &temp, "Meter1deck-noa");
    Ok(())
}

fn teams(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "teams", "admin-teams-section")?;
    click_enabled(d, "admin-team-new")?;
    d.wait_for(&testid("admin-team-form"), Duration::from_secs(5))?;
    d.fill(&d.by_testid("admin-team-id")?, "ops")?;
    d.fill(&d.by_testid("admin-team-name")?, "Operators")?;
    d.click(&d.by_testid(&format!("admin-team-member-{MEMBER}"))?)?;
    d.click(&d.by_testid("admin-team-save")?)?;
    wait_js(
        d,
        "the team listed",
        "admin-teams-error",
        "return document.querySelector('[data-testid=admin-team-row][data-team=ops]')?.dataset.members",
    )?;
    let teams = cx.api().get("/api/v1/teams");
    ensure!(
        teams == json!([{"account": ACCOUNT, "id": "ops", "name": "Operators", "members": [MEMBER]}]),
        "API teams: {teams}"
    );
    Ok(())
}

fn groups(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "groups", "admin-groups-section")?;
    click_enabled(d, "admin-group-new")?;
    d.wait_for(&testid("admin-group-form"), Duration::from_secs(5))?;
    d.fill(&d.by_testid("admin-group-id")?, "plant")?;
    d.fill(&d.by_testid("admin-group-name")?, "Plant A")?;
    d.click(&d.by_testid(&format!("admin-group-agent-{}", cx.agent_id))?)?;
    d.click(&d.by_testid("admin-group-team-ops")?)?;
    d.click(&d.by_testid("admin-group-save")?)?;
    wait_js(
        d,
        "the group listed",
        "admin-groups-error",
        "return document.querySelector('[data-testid=admin-group-row][data-group=plant]')?.dataset.teams === 'ops'",
    )?;
    let groups = cx.api().get("/api/v1/groups");
    let want = json!([{"account": ACCOUNT, "id": "plant", "name": "Plant A", "agents": [cx.agent_id], "users": [], "teams": ["ops"]}]);
    ensure!(groups == want, "API groups: {groups}");
    Ok(())
}

/// The code an authenticator app shows now for `secret` (base32).
fn totp_code(secret: &str) -> Result<String> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().map_err(|e| anyhow!("secret not base32: {e:?}"))?;
    let t = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "test".into())?;
    Ok(t.generate_current()?)
}

/// Enrol the authenticator: the secret read from the text under the QR
/// code (spaces as shown), a code computed from it confirms.
fn totp(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "security", "admin-totp-section")?;
    d.click(&d.by_testid("admin-totp-start")?)?;
    let qr = d.wait_for(&testid("admin-totp-qr"), Duration::from_secs(10))?;
    let modules: u32 = d.attribute(&qr, "data-modules")?.unwrap_or_default().parse().unwrap_or(0);
    ensure!(modules >= 21, "the QR code has {modules} modules");
    let shown = d.text(&d.by_testid("admin-totp-secret")?)?;
    let secret: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
    ensure!(secret.len() >= 16, "secret shown: {shown:?}");
    d.screenshot_doc("cloud-admin-totp")?;
    // A code at the very end of its 30 s step may be stale on arrival: wait for the next.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    if now % 30 >= 27 {
        std::thread::sleep(Duration::from_secs(30 - now % 30));
    }
    d.fill(&d.by_testid("admin-totp-code")?, &totp_code(&secret)?)?;
    d.click(&d.by_testid("admin-totp-confirm")?)?;
    wait_js(
        d,
        "the authenticator on",
        "admin-totp-error",
        "return document.querySelector('[data-testid=admin-totp-done]') && document.querySelector('[data-testid=admin-totp-state]').dataset.twoFactor === 'totp'",
    )?;
    let me = cx.api().get("/api/v1/me");
    ensure!(me["user"]["two_factor"] == "totp", "API /me: {me}");
    Ok(())
}

/// A token shown once: it works against the API, and is gone on the next visit.
fn tokens(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "tokens", "admin-tokens-section")?;
    d.fill(&d.by_testid("admin-token-name")?, "reporting script")?;
    d.click(&d.by_testid("admin-token-create")?)?;
    let token = wait_js(
        d,
        "the new token",
        "admin-tokens-error",
        "const e = document.querySelector('[data-testid=admin-token-secret-text]'); return e && e.textContent",
    )?;
    let token = token.as_str().unwrap_or_default().to_owned();
    ensure!(token.starts_with("mdt_"), "token shown: {token:?}");
    ensure!(d.find(&testid("admin-token-secret-copy")).is_ok(), "no copy button");
    let (status, me) = request("GET", &format!("{}/api/v1/me", cx.cloud.http), Some(&token), None);
    ensure!(status == 200 && me["user"]["id"] == ADMIN, "the token does not work: {status} {me}");
    let listed = cx.api().get("/api/v1/tokens");
    ensure!(
        listed.as_array().is_some_and(|l| l.len() == 1 && l[0]["name"] == "reporting script"),
        "API tokens: {listed}"
    );
    // Away and back: the token is not shown again.
    tab(d, "security", "admin-totp-section")?;
    tab(d, "tokens", "admin-tokens-section")?;
    wait_js(
        d,
        "the token list",
        "admin-tokens-error",
        "return document.querySelectorAll('[data-testid=admin-token-row]').length === 1",
    )?;
    let page = d.execute("return document.body.textContent", vec![])?;
    ensure!(!page.as_str().unwrap_or_default().contains(&token), "the token is shown again");
    Ok(())
}

fn ip_allow(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "account", "admin-account-section")?;
    wait_js(
        d,
        "the account loaded",
        "admin-ip-error",
        "return !!document.querySelector('[data-testid=admin-account-info] .kv')",
    )?;
    // One per line or comma-separated (WebKitWebDriver types no newline into a textarea).
    d.fill(&d.by_testid("admin-ip-allow")?, "127.0.0.0/8, 2001:db8::/32")?;
    d.click(&d.by_testid("admin-ip-save")?)?;
    let shown = d.by_testid("admin-ip-saved")?;
    d.wait_until(Duration::from_secs(10), "the list saved", |s| {
        if let Ok(e) = s.find(&testid("admin-ip-error"))
            && s.is_displayed(&e)?
        {
            bail!("refused: {}", s.text(&e)?);
        }
        Ok(s.is_displayed(&shown)?.then_some(()))
    })?;
    let account = cx.api().get("/api/v1/account");
    ensure!(account["ip_allow"] == json!(["127.0.0.0/8", "2001:db8::/32"]), "API account: {account}");
    // The deletion stays locked until the account ID is typed.
    let del = d.by_testid("admin-delete-account")?;
    d.fill(&d.by_testid("admin-delete-password")?, ADMIN_PASSWORD)?;
    d.fill(&d.by_testid("admin-delete-confirm")?, "acm")?;
    ensure!(d.property(&del, "disabled")? == Value::Bool(true), "delete armed by a wrong account ID");
    d.fill(&d.by_testid("admin-delete-password")?, "")?;
    Ok(())
}

/// Filter on the token creation: every row is that call.
fn access_log(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    tab(d, "log", "admin-log-section")?;
    wait_js(
        d,
        "the log",
        "admin-log-error",
        "return document.querySelectorAll('[data-testid=admin-log-row]').length > 0",
    )?;
    d.fill(&d.by_testid("admin-log-user")?, ADMIN)?;
    d.fill(&d.by_testid("admin-log-action")?, "POST /api/v1/tokens")?;
    d.click(&d.by_testid("admin-log-apply")?)?;
    let rows = wait_js(
        d,
        "the filtered log",
        "admin-log-error",
        "const rows = [...document.querySelectorAll('[data-testid=admin-log-row]')].map(r => ({...r.dataset}));
         return rows.length === 1 && rows",
    )?;
    let row = &rows[0];
    ensure!(
        row["user"] == ADMIN && row["method"] == "POST" && row["path"] == "/api/v1/tokens" && row["status"] == "201",
        "row: {row}"
    );
    Ok(())
}

/// The member signs in: only their own sections, and the API refuses the rest.
fn member(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    d.click(&d.by_testid("admin-tab-home")?)?;
    d.click(&d.by_testid("cloud-sign-out")?)?;
    d.wait_for(&testid("cloud-signin-form"), Duration::from_secs(10))?;
    ensure!(d.find_all("[data-testid^=admin-tab-]")?.is_empty(), "admin tabs left after sign-out");
    let temp = cx.member_temp.clone();
    sign_in(cx, MEMBER, &temp, MEMBER_PASSWORD)?;
    let d = &cx.desk;
    let tabs = d.execute(
        "return [...document.querySelectorAll('[data-testid^=admin-tab-]')].map(b => b.dataset.section)",
        vec![],
    )?;
    ensure!(tabs == json!(["home", "security", "tokens"]), "a member's tabs: {tabs}");
    let member = Api::sign_in(&cx.cloud.http, ACCOUNT, MEMBER, MEMBER_PASSWORD, MEMBER_PASSWORD);
    for path in ["/api/v1/users", "/api/v1/access-log"] {
        let (status, body) = request("GET", &format!("{}{path}", cx.cloud.http), Some(&member.token), None);
        ensure!(status == 403, "GET {path} as a member: {status} {body}");
    }
    let (status, body) = request(
        "PUT",
        &format!("{}/api/v1/account/ip-allow", cx.cloud.http),
        Some(&member.token),
        Some(&json!({"ip_allow": []})),
    );
    ensure!(status == 403, "PUT ip-allow as a member: {status} {body}");
    Ok(())
}
