//! Issue 4's scenario in the real window (Xvfb + WebKitWebDriver): a
//! threshold rule on a `meterdeck-sim` logger channel; the simulator is
//! driven over the threshold; the alarm appears in the Alarms screen, the
//! desktop notification (python-dbusmock on a private session bus) and the
//! email (aiosmtpd) arrive; acknowledging it with a comment in the window
//! writes the journal; the end-of-condition notice arrives by both ways when
//! the value returns. Screenshots: docs/screenshots/{alarms,notifications}.png.
//!
//! Needs the app built: `cd ui && npm run build`, then
//! `cargo build -p meterdeck --bin meterdeck -p meterdeck-drivers --bin meterdeck-sim`.

use anyhow::{Context, Result, anyhow, bail, ensure};
use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::webdriver::{Desktop, testid};
use meterdeck_e2e::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const RULE: &str = "boiler-hot";
const NAME: &str = "Boiler too hot";
const CHANNEL: &str = "logger1/CH1_1";
const HOT: &str = "91.5";
const BACK: &str = "21.5";
const USER: &str = "e2e-operator";
const COMMENT: &str = "Burner checked – flame reset";
const MAIL_TO: &str = "ops@example.com";

/// Fields drop in order: the app first, then the bus and its peers, then
/// the simulator.
struct Ctx {
    desk: Desktop,
    bus: Session,
    smtp: usize,
    _sim: Proc,
    sim_port: u16,
    _tmp: tempfile::TempDir,
    /// Notify calls / mails seen before the return, to tell the return notice apart.
    raise_calls: usize,
    raise_mails: usize,
    raise_summary: String,
    raise_subject: String,
    /// When the raise's notices were seen (the dispatcher's burst window).
    raise_seen: Instant,
    /// The raising value as the window and alarms_list showed it.
    raise_value: String,
}

impl Ctx {
    fn nav(&self, screen: &str) -> Result<()> {
        self.desk.nav(screen)
    }

    fn screenshot(&self, screen: &str) -> Result<()> {
        self.desk.screenshot_doc(screen)
    }

    fn invoke(&self, cmd: &str, args: Value) -> Result<Value> {
        self.desk.invoke(cmd, args)
    }

    /// Sets the simulated channel with its SCPI control command, on a
    /// connection of its own (the simulator serves several at once);
    /// `*OPC?` returns once the command ran.
    fn simulate(&self, value: &str) -> Result<()> {
        let cmd = format!(":SIMulate:VALue CH1_1,{value};*OPC?\n");
        let mut s = TcpStream::connect(("127.0.0.1", self.sim_port)).context("connect to meterdeck-sim")?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(cmd.as_bytes())?;
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply).with_context(|| format!("no reply to {}", cmd.trim()))?;
        ensure!(reply.trim() == "1", "{} answered {reply:?}", cmd.trim());
        // Nothing queued must be left behind: the instrument's error queue.
        s.write_all(b":SYSTem:ERRor?\n")?;
        reply.clear();
        BufReader::new(&s).read_line(&mut reply)?;
        ensure!(reply.trim().starts_with("0,"), "{} left the error {reply:?}", cmd.trim());
        eprintln!("    simulator: CH1_1 = {value}");
        Ok(())
    }

    /// Waits for a `Notify` call after the first `after` ones that `want` accepts.
    fn wait_notify(&self, after: usize, what: &str, want: impl Fn(&Value) -> bool) -> Result<(usize, Value)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let calls = self.bus.notify_calls()?;
            if let Some(c) = calls.iter().skip(after).find(|c| want(c)) {
                return Ok((calls.len(), c.clone()));
            }
            if Instant::now() > deadline {
                bail!("no desktop notification {what} within 30 s; Notify calls received: {calls:#?}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits for a mail after the first `after` ones that `want` accepts.
    fn wait_mail(&mut self, after: usize, what: &str, want: impl Fn(&Value) -> bool) -> Result<(usize, Value)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails = self.bus.peer_json_now(self.smtp, "MAIL")?;
            if let Some(m) = mails.iter().skip(after).find(|m| want(m)) {
                return Ok((mails.len(), m.clone()));
            }
            if Instant::now() > deadline {
                bail!("no email {what} within 30 s; mails received: {mails:#?}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn alarm_view(&self) -> Result<Option<Value>> {
        let list = self.invoke("alarms_list", json!({}))?;
        let list = list.as_array().ok_or_else(|| anyhow!("alarms_list is not a list: {list}"))?;
        Ok(list.iter().find(|a| a["alarm_id"] == RULE).cloned())
    }
}

fn row_sel() -> String {
    format!("{}[data-alarm-id=\"{RULE}\"]", testid("alarm-row"))
}

fn step(cx: &mut Ctx, name: &str, started: Instant, f: impl FnOnce(&mut Ctx) -> Result<()>) {
    let t = Instant::now();
    eprintln!("--- step {name} (at {:.1} s)", started.elapsed().as_secs_f64());
    if let Err(e) = f(cx) {
        let report = cx.desk.failure_report(&format!("alarms-{name}"));
        panic!("step {name} failed after {:.1} s: {e:#}\n{report}", t.elapsed().as_secs_f64());
    }
    eprintln!("    {name} ok in {:.1} s", t.elapsed().as_secs_f64());
}

fn agent_toml(sim_port: u16, smtp_port: u16) -> String {
    format!(
        r#"[agent]
name = "alarms-e2e"
poll_interval = "1s"

[[instrument]]
id = "logger1"
name = "Boiler logger"
family = "hioki-logger"
transport = {{ kind = "tcp", host = "127.0.0.1", port = {sim_port} }}
poll_interval = "1s"
[[instrument.channel]]
id = "CH1_1"
unit = "°C"

[[calc]]
id = "fahrenheit"
name = "Boiler in °F"
unit = "°F"
expr = "A * 1.8 + 32"
inputs = {{ A = "{CHANNEL}" }}

[[alarm]]
id = "{RULE}"
name = "{NAME}"
severity = "high"
kind = "threshold"
channel = "{CHANNEL}"
op = ">"
value = 80.0
notify_on_return = true
destinations = ["desk", "mail"]

[[destination]]
id = "desk"
kind = "desktop"
name = "This computer"

[[destination]]
id = "mail"
kind = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Meterdeck <alarms@example.com>"
to = ["{MAIL_TO}"]
"#
    )
}

#[test]
fn alarm_raised_notified_acknowledged_and_returned_in_the_window() {
    let started = Instant::now();
    let app = bin("meterdeck");
    let mut bus = Session::start();
    bus.start_notification_daemon();
    let (smtp, smtp_port) = bus.start_peer("smtp_peer.py", &[]);
    let (sim, ready) = start_sim(&["--personality", "hioki-logger", "--seed", "4", "--name", "logger1"], 1);
    let sim_port = ready[0].port();

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // `--data-dir DIR` runs DIR/agent.toml when it exists (src-tauri/src/args.rs).
    std::fs::write(data.join("agent.toml"), agent_toml(sim_port, smtp_port)).unwrap();
    // The private bus for the desktop notifications.
    let args = vec!["--data-dir".to_string(), data.to_string_lossy().into_owned()];
    let desk = Desktop::launch_app(&app, &args, &tmp.path().join("home"), Some(&bus.address))
        .expect("start the app under Xvfb + WebKitWebDriver");
    let mut cx = Ctx {
        desk,
        bus,
        smtp,
        _sim: sim,
        sim_port,
        _tmp: tmp,
        raise_calls: 0,
        raise_mails: 0,
        raise_summary: String::new(),
        raise_subject: String::new(),
        raise_seen: Instant::now(),
        raise_value: String::new(),
    };

    step(&mut cx, "ready", started, |cx| {
        cx.desk.wait_for("html[data-ready=\"1\"]", Duration::from_secs(30)).map(|_| ())
    });
    step(&mut cx, "polling", started, polling);
    step(&mut cx, "raise", started, raise);
    step(&mut cx, "desktop-notification", started, desktop_notification);
    step(&mut cx, "email", started, email);
    step(&mut cx, "ack", started, ack);
    step(&mut cx, "journal", started, journal);
    step(&mut cx, "return", started, return_notices);
    step(&mut cx, "notifications", started, notification_centre);
    step(&mut cx, "value-unit", started, value_unit);
    step(&mut cx, "other-screens", started, other_screens);
    eprintln!("alarms window test took {:.1} s", started.elapsed().as_secs_f64());
    drop(cx);
}

/// The logger's channel is polled (values in the Monitor), well below the
/// threshold, and the rule has raised nothing.
fn polling(cx: &mut Ctx) -> Result<()> {
    cx.nav("monitor")?;
    let v = cx.desk.wait_until(Duration::from_secs(20), &format!("a value of {CHANNEL} in the Monitor"), |s| {
        let v = s.execute(
            "const r = document.querySelector(`[data-testid=monitor-row][data-path=\"${arguments[0]}\"]`);
             return r ? (r.querySelector('[data-testid=monitor-value]')?.textContent ?? '').trim() : null;",
            vec![json!(CHANNEL)],
        )?;
        let text = v.as_str().unwrap_or_default().to_string();
        Ok(text.replace([',', ' '], "").parse::<f64>().is_ok().then_some(text))
    })?;
    eprintln!("    {CHANNEL} reads {v}");
    if let Some(a) = cx.alarm_view()? {
        ensure!(a["active"] == false, "the alarm is active before the simulator was driven: {a}");
    }
    Ok(())
}

/// Over the threshold while the operator watches the Alarms screen: the
/// row turns active and unacknowledged by the `alarm` event.
fn raise(cx: &mut Ctx) -> Result<()> {
    cx.nav("alarms")?;
    let d = &cx.desk;
    // The rule is listed before it ever raised (the app's start-up list).
    d.wait_for(&row_sel(), Duration::from_secs(10)).context("the rule's row before the raise")?;
    // The screen reloads alarms_list when shown; let that reply land before
    // the raise, so that the row can only turn active by the event.
    std::thread::sleep(Duration::from_millis(500));
    cx.simulate(HOT)?;
    let row = d
        .wait_until(Duration::from_secs(20), &format!("an active alarm row {RULE} in the Alarms screen"), |s| {
            let r = s.find(&row_sel())?;
            let class = s.attribute(&r, "class")?.unwrap_or_default();
            Ok((class.split_whitespace().any(|c| c == "active")).then_some(r))
        })
        .with_context(|| {
            let shown = d.find(&row_sel()).and_then(|r| d.text(&r)).unwrap_or_default().replace('\n', " | ");
            format!("the window missed the change: the row shows {shown:?}, alarms_list has {:?}", cx.alarm_view())
        })?;
    let text = d.text(&row)?;
    ensure!(text.contains(NAME) && text.contains(HOT), "the row does not show the name and {HOT}: {text:?}");
    let class = d.attribute(&row, "class")?.unwrap_or_default();
    ensure!(class.contains("unacked"), "a new alarm is unacknowledged: class {class:?}");
    let a = cx.alarm_view()?.ok_or_else(|| anyhow!("alarms_list has no {RULE}"))?;
    ensure!(
        a["active"] == true && a["acked"] == false && a["rule_id"] == RULE && a["severity"] == "high",
        "alarms_list: {a}"
    );
    ensure!(a["value"].as_str().is_some_and(|v| v.contains(HOT)), "the raising value is not {HOT}: {a}");
    cx.raise_value = a["value"].as_str().unwrap_or_default().to_string();
    eprintln!("    row: {}", text.replace('\n', " | "));
    Ok(())
}

fn call_text(c: &Value) -> String {
    format!("{} {}", c["summary"].as_str().unwrap_or_default(), c["body"].as_str().unwrap_or_default())
}

/// The desktop notification reached org.freedesktop.Notifications on the session bus.
fn desktop_notification(cx: &mut Ctx) -> Result<()> {
    let (n, c) = cx.wait_notify(0, &format!("naming {NAME:?} with {HOT}"), |c| {
        c["summary"].as_str().is_some_and(|s| s.contains(NAME)) && call_text(c).contains(HOT)
    })?;
    cx.raise_seen = Instant::now();
    ensure!(c["app_name"] == "Meterdeck", "app_name: {c}");
    let want = format!("{CHANNEL} = {HOT}");
    ensure!(c["body"].as_str().is_some_and(|b| b.contains(&want)), "the body does not read {want:?}: {c}");
    eprintln!("    Notify: {:?} / {:?} (urgency {})", c["summary"], c["body"], c["hints"]["urgency"]);
    cx.raise_calls = n;
    cx.raise_summary = c["summary"].as_str().unwrap_or_default().to_string();
    Ok(())
}

/// The email reached the SMTP server: subject, addresses, body.
fn email(cx: &mut Ctx) -> Result<()> {
    let (n, m) = cx.wait_mail(0, &format!("with {NAME:?} in the subject"), |m| {
        m["subject"].as_str().is_some_and(|s| s.contains(NAME))
    })?;
    ensure!(m["to"] == json!([MAIL_TO]) && m["rcpt_tos"] == json!([MAIL_TO]), "recipients: {m}");
    ensure!(m["from"] == "Meterdeck <alarms@example.com>" && m["mail_from"] == "alarms@example.com", "sender: {m}");
    ensure!(m["content_type"] == "text/plain" && m["tls"] == false, "{m}");
    let body = m["body"].as_str().unwrap_or_default().replace("\r\n", "\n");
    ensure!(body.contains(&format!("{CHANNEL} = {HOT}")), "the body does not carry {CHANNEL} = {HOT}: {body:?}");
    ensure!(body.contains("Severity: high") && body.contains(&format!("Alarm: {RULE}")), "body: {body:?}");
    eprintln!("    mail: {:?} / {:?}", m["subject"], body.lines().next().unwrap_or_default());
    cx.raise_mails = n;
    cx.raise_subject = m["subject"].as_str().unwrap_or_default().to_string();
    Ok(())
}

/// Acknowledged in the window with a user and a comment.
fn ack(cx: &mut Ctx) -> Result<()> {
    let d = &cx.desk;
    // Rows are rebuilt whenever their alarm changes; a click whose press and
    // release land on two builds of the button is no click, so the operator
    // clicks again while the form is not open (it toggles).
    let form = format!("{}[data-alarm-id=\"{RULE}\"] {}", "tr.alarm-form-row", testid("ack-form"));
    d.wait_until(Duration::from_secs(10), "the acknowledge form to open", |s| {
        if s.find(&form).is_ok() {
            return Ok(Some(()));
        }
        s.click(&s.find(&format!("{} {}", row_sel(), testid("alarm-ack")))?)?;
        std::thread::sleep(Duration::from_millis(500));
        Ok(s.find(&form).is_ok().then_some(()))
    })?;
    d.fill(&d.by_testid("ack-user")?, USER)?;
    d.fill(&d.by_testid("ack-comment")?, COMMENT)?;
    d.click(&d.by_testid("ack-submit")?)?;
    let text = d
        .wait_until(Duration::from_secs(10), "the row to show the acknowledgement", |s| {
            if let Ok(e) = s.find(&testid("alarm-error"))
                && s.is_displayed(&e)?
            {
                bail!("alarm_ack refused: {}", s.text(&e)?);
            }
            let r = s.find(&row_sel())?;
            let class = s.attribute(&r, "class")?.unwrap_or_default();
            let text = s.text(&r)?;
            let done = !class.split_whitespace().any(|c| c == "unacked") && text.contains(USER);
            Ok(done.then_some(text))
        })
        .with_context(|| format!("alarms_list: {:?}", cx.alarm_view()))?;
    ensure!(text.contains(COMMENT), "the row does not show the comment: {text:?}");
    ensure!(d.find_all(&format!("{} {}", row_sel(), testid("alarm-ack")))?.is_empty(), "still an Ack button");
    let a = cx.alarm_view()?.ok_or_else(|| anyhow!("alarms_list has no {RULE}"))?;
    ensure!(a["acked"] == true && a["active"] == true, "{a}");
    ensure!(a["ack"]["user"] == USER && a["ack"]["comment"] == COMMENT, "ack in alarms_list: {a}");
    // Active and acknowledged, with who and why: the Alarms screen's picture.
    cx.screenshot("alarms")
}

/// The journal holds the raise and the acknowledgement with its user and comment.
fn journal(cx: &mut Ctx) -> Result<()> {
    cx.nav("journal")?;
    let d = &cx.desk;
    let sel = format!("{}[data-action=\"ack\"][data-alarm-id=\"{RULE}\"]", testid("journal-row"));
    let refresh = d.by_testid("journal-refresh")?;
    let text = d.wait_until(Duration::from_secs(10), "an ack row in the Journal screen", |s| match s.find(&sel) {
        Ok(r) => Ok(Some(s.text(&r)?)),
        Err(e) => {
            s.click(&refresh)?;
            Err(e)
        }
    })?;
    ensure!(text.contains(USER) && text.contains(COMMENT), "the journal's ack row: {text:?}");
    let entries = cx.invoke("journal_query", json!({"alarmId": RULE, "limit": 100}))?;
    let entries = entries.as_array().ok_or_else(|| anyhow!("journal_query is not a list: {entries}"))?;
    let acks: Vec<&Value> = entries.iter().filter(|e| e["action"] == "ack").collect();
    ensure!(acks.len() == 1, "one ack entry expected: {entries:#?}");
    ensure!(acks[0]["user"] == USER && acks[0]["comment"] == COMMENT && acks[0]["rule_id"] == RULE, "{}", acks[0]);
    let raise = entries.iter().find(|e| e["action"] == "raise").ok_or_else(|| anyhow!("no raise: {entries:#?}"))?;
    ensure!(raise["values"].as_str().is_some_and(|v| v.contains(HOT)), "the raise entry's values: {raise}");
    ensure!(raise["t"].as_i64() <= acks[0]["t"].as_i64(), "ack before raise: {entries:#?}");
    Ok(())
}

/// The calc channel is stored like any channel; the Journal, Rules, Calcs
/// and Destinations screens as an operator sees them (docs/screenshots).
fn other_screens(cx: &mut Ctx) -> Result<()> {
    let latest = cx.invoke("latest", json!({}))?;
    ensure!(latest.to_string().contains("calc/fahrenheit"), "no calc/fahrenheit value in latest: {latest}");
    cx.nav("journal")?;
    cx.desk.click(&cx.desk.by_testid("journal-refresh")?)?;
    cx.desk.wait_for(&format!("{}[data-action=\"return\"]", testid("journal-row")), Duration::from_secs(10))?;
    cx.screenshot("journal")?;
    for screen in ["rules", "calcs", "destinations"] {
        cx.nav(screen)?;
        cx.screenshot(screen)?;
    }
    Ok(())
}

/// Back below the threshold: the end-of-condition notice by D-Bus and
/// email, the alarm no longer active, a `return` in the journal.
fn return_notices(cx: &mut Ctx) -> Result<()> {
    // The dispatcher sends one message per destination per 1 s window and
    // folds later ones into a summary ("1 more alarm", notify::dispatcher's
    // burst limit); the value returns after that window, so the return
    // notice goes out as itself.
    if let Some(wait) = Duration::from_millis(2500).checked_sub(cx.raise_seen.elapsed()) {
        std::thread::sleep(wait);
    }
    cx.simulate(BACK)?;
    let raise_summary = cx.raise_summary.clone();
    let (_, c) = cx.wait_notify(cx.raise_calls, &format!("of the return naming {NAME:?}"), |c| {
        c["summary"].as_str().is_some_and(|s| s.contains(NAME))
    })?;
    ensure!(c["summary"] != raise_summary.as_str(), "the return notice reads as the raise: {c}");
    let want = format!("{CHANNEL} = {BACK}");
    ensure!(c["body"].as_str().is_some_and(|b| b.contains(&want)), "the return body does not read {want:?}: {c}");
    eprintln!("    Notify: {:?} / {:?}", c["summary"], c["body"]);
    let raise_subject = cx.raise_subject.clone();
    let (_, m) = cx.wait_mail(cx.raise_mails, &format!("of the return with {NAME:?} in the subject"), |m| {
        m["subject"].as_str().is_some_and(|s| s.contains(NAME))
    })?;
    ensure!(m["subject"] != raise_subject.as_str(), "the return mail reads as the raise: {m}");
    ensure!(m["to"] == json!([MAIL_TO]), "recipients: {m}");
    eprintln!("    mail: {:?}", m["subject"]);

    cx.desk.wait_until(Duration::from_secs(10), "the alarm to be inactive in alarms_list", |_| {
        Ok(cx.alarm_view()?.is_none_or(|a| a["active"] == false).then_some(()))
    })?;
    let entries = cx.invoke("journal_query", json!({"alarmId": RULE, "action": "return"}))?;
    ensure!(entries.as_array().is_some_and(|e| e.len() == 1), "one return entry expected: {entries}");
    Ok(())
}

/// The notification centre lists the raise and the return; the unread badge agrees.
fn notification_centre(cx: &mut Ctx) -> Result<()> {
    cx.nav("notifications")?;
    let d = &cx.desk;
    let rows = d.wait_until(Duration::from_secs(10), "two notes about the alarm in the notification centre", |s| {
        let v = s.execute(
            "return [...document.querySelectorAll('[data-testid=note-row]')].map(r => r.textContent)",
            vec![],
        )?;
        let rows: Vec<String> = serde_json::from_value(v)?;
        Ok((rows.iter().filter(|r| r.contains(NAME)).count() >= 2).then_some(rows))
    })?;
    eprintln!("    {} notes", rows.len());
    let unread = cx.invoke("notifications_unread_count", json!({}))?;
    let unread = unread.as_u64().ok_or_else(|| anyhow!("notifications_unread_count: {unread}"))?;
    ensure!(unread >= 2, "the raise and the return are unread, yet the count is {unread}");
    let badge = d.by_testid("unread-count")?;
    d.wait_until(Duration::from_secs(5), &format!("the unread badge to read {unread}"), |s| {
        Ok((s.is_displayed(&badge)? && s.text(&badge)?.trim() == unread.to_string()).then_some(()))
    })?;
    let notes = cx.invoke("notifications_list", json!({"unreadOnly": false}))?;
    let ours: Vec<&Value> =
        notes.as_array().into_iter().flatten().filter(|n| n["alarm_id"] == RULE && n["kind"] == "alarm").collect();
    ensure!(ours.len() >= 2, "the raise and the return in notifications_list: {notes:#}");
    cx.screenshot("notifications")
}

/// AlarmView.value is "the value that raised it, formatted with unit"
/// (contract): the channel is configured with unit °C. Checked last so that
/// the rest of the scenario is reported on first.
fn value_unit(cx: &mut Ctx) -> Result<()> {
    let want = format!("{HOT} °C");
    ensure!(
        cx.raise_value == want,
        "alarms_list/the Alarms row show the raising value as {:?}, not {want:?}",
        cx.raise_value
    );
    Ok(())
}
