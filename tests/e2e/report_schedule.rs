//! Scheduled reports with an injected clock (`MD_TEST_CLOCK_FILE`: the
//! agent's schedule task reads the time from a file the test steps): a
//! daily schedule across both 2026 DST changes in Europe/Berlin and across
//! the same days in Asia/Tokyo is generated exactly once per due time at
//! the right local time, also when the agent restarts in between or is
//! down when a time falls due, and each report is mailed once to a real
//! SMTP server (aiosmtpd) with the PDF attached. The desktop notification
//! (dbusmock on a private bus; its click opens the PDF) and the JSON webhook
//! are checked on one scheduled run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use meterdeck_e2e::notify_peers::Session;
use meterdeck_e2e::{Proc, agent, agent_output, wait_until};
use serde_json::{Value, json};

fn ms(rfc3339: &str) -> i64 {
    chrono_ms(rfc3339)
}

/// RFC 3339 to epoch ms without a chrono dependency in this crate: the
/// agent's own parser (`--from` accepts RFC 3339) is not at hand here, so
/// the few fixed instants are computed by hand below.
fn chrono_ms(s: &str) -> i64 {
    // "YYYY-MM-DDTHH:MM:SS+HH:MM" or "...Z"
    let (date, rest) = s.split_once('T').unwrap();
    let mut d = date.split('-').map(|x| x.parse::<i64>().unwrap());
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let (time, off) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else {
        let i = rest.rfind(['+', '-']).unwrap();
        let (t, o) = rest.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o[1..].split_once(':').unwrap();
        (t, sign * (oh.parse::<i64>().unwrap() * 60 + om.parse::<i64>().unwrap()))
    };
    let mut t = time.split(':').map(|x| x.parse::<i64>().unwrap());
    let (hh, mm, ss) = (t.next().unwrap(), t.next().unwrap(), t.next().unwrap());
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + hh * 3600 + mm * 60 + ss) - off * 60) * 1000
}

/// A site: the SMTP peer, a data dir with a Pro licence, the agent's config
/// with the mail destination, the clock file and the agent when running.
struct Site {
    session: Session,
    smtp: usize,
    dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
    clock: PathBuf,
    agent: Option<Proc>,
}

impl Site {
    fn new() -> Site {
        Site::with_destinations("")
    }

    /// A site whose config has `more` destinations after the mail one.
    fn with_destinations(more: &str) -> Site {
        let mut session = Session::start();
        let (smtp, port) = session.start_peer("smtp_peer.py", &[]);
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        meterdeck_e2e::licence::grant_pro(&data);
        write_samples(&data);
        let config = dir.path().join("agent.toml");
        std::fs::write(
            &config,
            format!(
                "[agent]\nname = \"reports\"\n\n[[destination]]\nid = \"ops-mail\"\nkind = \"email\"\n\
                 host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
                 from = \"Meterdeck <reports@example.com>\"\nto = [\"ops@example.com\"]\n{more}"
            ),
        )
        .unwrap();
        let clock = dir.path().join("clock");
        Site { session, smtp, dir, config, data, clock, agent: None }
    }

    fn cli(&self, args: &[&str]) -> String {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--config", self.config.to_str().unwrap(), "--data-dir", self.data.to_str().unwrap()]);
        let (code, out, err) = agent_output(&all);
        assert_eq!(code, 0, "meterdeck-agent {all:?}: {out}{err}");
        out
    }

    fn save_template(&self, saved: &Value) {
        let f = self.dir.path().join("template.json");
        std::fs::write(&f, saved.to_string()).unwrap();
        self.cli(&["report", "templates", "save", f.to_str().unwrap()]);
    }

    fn set_clock(&self, t: i64) {
        let tmp = self.dir.path().join("clock.tmp");
        std::fs::write(&tmp, t.to_string()).unwrap();
        std::fs::rename(&tmp, &self.clock).unwrap();
    }

    fn start(&mut self) {
        self.start_with_path(None);
    }

    /// Starts the agent, with `bin` ahead of PATH when given (a stand-in `xdg-open`).
    fn start_with_path(&mut self, bin: Option<&std::path::Path>) {
        assert!(self.agent.is_none());
        let args = ["run", "--config", self.config.to_str().unwrap(), "--data-dir", self.data.to_str().unwrap()];
        let mut cmd = agent(&args);
        cmd.env("MD_TEST_CLOCK_FILE", &self.clock).env("DBUS_SESSION_BUS_ADDRESS", &self.session.address);
        if let Some(bin) = bin {
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env("PATH", format!("{}:{path}", bin.display()));
        }
        self.agent = Some(Proc::spawn("meterdeck-agent", &mut cmd));
        // Started when it has anchored the schedule (its first look).
        let db = self.data.join("meterdeck.db");
        wait_until(Duration::from_secs(20), "the agent's first look at the schedules", || {
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM report_template WHERE sched_anchor IS NULL", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .is_ok_and(|n| n == 0)
        });
    }

    fn stop(&mut self) {
        let mut a = self.agent.take().expect("agent running");
        assert_eq!(a.terminate(Duration::from_secs(15)), Some(0), "the agent stops cleanly on SIGTERM");
    }

    fn runs(&self) -> Vec<Value> {
        let out = self.cli(&["report", "runs", "--json"]);
        let mut v: Vec<Value> = serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone();
        v.reverse(); // oldest first
        v
    }

    /// Waits until `n` runs are done, then a little more to see no extra one appears.
    fn expect_runs(&mut self, n: usize) -> Vec<Value> {
        self.expect_runs_to(n, &["ops-mail"])
    }

    /// As `expect_runs`, each run delivered to every one of `dests`.
    fn expect_runs_to(&mut self, n: usize, dests: &[&str]) -> Vec<Value> {
        wait_until(Duration::from_secs(30), &format!("{n} finished report runs"), || {
            let r = self.runs();
            r.len() >= n && r.iter().all(|r| r["status"] != "running")
        });
        // Several looks of the schedule task (every 200 ms) must add nothing.
        std::thread::sleep(Duration::from_millis(1200));
        let runs = self.runs();
        assert_eq!(runs.len(), n, "exactly {n} runs: {runs:#?}");
        for r in &runs {
            assert_eq!(r["status"], "done", "{r:#}");
            let delivered: Vec<Value> =
                dests.iter().map(|d| json!({ "destination": d, "ok": true, "error": null })).collect();
            assert_eq!(r["deliveries"], json!(delivered), "{r:#}");
            let pdf = std::fs::read(r["pdf"].as_str().unwrap()).unwrap();
            assert!(pdf.starts_with(b"%PDF"), "{r:#}");
            assert!(r["pdf"].as_str().unwrap().starts_with(self.data.join("reports").to_str().unwrap()), "{r:#}");
        }
        let mails = self.session.peer_json(self.smtp, "MAIL", n);
        assert_eq!(mails.len(), n, "one mail per report: {mails:#?}");
        for m in &mails {
            let att = m["attachments"].as_array().unwrap();
            assert_eq!(att.len(), 1, "{m:#}");
            assert_eq!(att[0]["content_type"], "application/pdf", "{m:#}");
            assert!(att[0]["head_hex"].as_str().unwrap().starts_with("25504446"), "%PDF: {m:#}");
            assert!(att[0]["filename"].as_str().unwrap().ends_with(".pdf"), "{m:#}");
            assert_eq!(m["rcpt_tos"], json!(["ops@example.com"]));
        }
        runs
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(mut a) = self.agent.take() {
            a.terminate(Duration::from_secs(5));
        }
    }
}

/// The template's channel with a sample every 10 minutes over both DST
/// weekends of 2026, so the reports have statistics to show.
fn write_samples(data: &std::path::Path) {
    use meterdeck_core::model::Sample;
    use meterdeck_core::store::{Store, StoreOptions};
    let mut store = Store::open_with(
        &data.join(meterdeck_core::config::STORE_FILE),
        StoreOptions::default(),
        meterdeck_core::agent::STORE_PARTS,
    )
    .unwrap();
    store.upsert_instrument("sim", "Simulated logger", "hioki-logger", "127.0.0.1:1").unwrap();
    let ch = store.ensure_channel("sim", "CH1", Some("V")).unwrap();
    for start in [ms("2026-03-27T00:00:00Z"), ms("2026-10-23T00:00:00Z")] {
        let samples: Vec<_> =
            (0..4 * 144).map(|i| (ch, Sample::number(start + i * 600_000, (i % 144) as f64 / 10.0))).collect();
        store.append(&samples).unwrap();
    }
}

fn saved(name: &str, zone: &str, at: &str) -> Value {
    saved_to(name, zone, at, &["ops-mail"])
}

fn saved_to(name: &str, zone: &str, at: &str, dests: &[&str]) -> Value {
    json!({
        "template": template_json(name, zone),
        "schedule": { "every": "daily", "at": at },
        "destinations": dests,
    })
}

fn template_json(name: &str, zone: &str) -> Value {
    json!({
        "name": name,
        "title": format!("{name} daily report"),
        "channels": ["sim/CH1"],
        "range": { "kind": "previous_day" },
        "time_zone": zone,
    })
}

fn due_and_range(r: &Value) -> (i64, i64, i64) {
    (r["due"].as_i64().unwrap(), r["from"].as_i64().unwrap(), r["to"].as_i64().unwrap())
}

#[test]
fn berlin_spring_forward_runs_once_after_the_gap_across_restarts() {
    let mut site = Site::new();
    site.save_template(&saved("berlin", "Europe/Berlin", "02:30"));
    site.set_clock(ms("2026-03-28T12:00:00+01:00"));
    site.start();
    // 01:59:59 CET: 02:30 has not come (and never will: the clocks jump to 03:00).
    site.set_clock(ms("2026-03-29T01:59:59+01:00"));
    site.expect_runs(0);
    // The first instant after the gap.
    site.set_clock(ms("2026-03-29T03:00:00+02:00"));
    let runs = site.expect_runs(1);
    assert_eq!(
        due_and_range(&runs[0]),
        (ms("2026-03-29T03:00:00+02:00"), ms("2026-03-28T00:00:00+01:00"), ms("2026-03-29T00:00:00+01:00"))
    );
    // A restart does not run it again.
    site.set_clock(ms("2026-03-29T04:00:00+02:00"));
    site.stop();
    site.start();
    site.expect_runs(1);
    // Down while the next is due: made up once at the next start.
    site.stop();
    site.set_clock(ms("2026-03-30T05:00:00+02:00"));
    site.start();
    let runs = site.expect_runs(2);
    assert_eq!(
        due_and_range(&runs[1]),
        (ms("2026-03-30T02:30:00+02:00"), ms("2026-03-29T00:00:00+01:00"), ms("2026-03-30T00:00:00+02:00"))
    );
    site.stop();
}

#[test]
fn berlin_fall_back_runs_a_repeated_time_once_across_restarts() {
    let mut site = Site::new();
    site.save_template(&saved("berlin-autumn", "Europe/Berlin", "02:30"));
    site.set_clock(ms("2026-10-24T12:00:00+02:00"));
    site.start();
    site.set_clock(ms("2026-10-25T02:29:59+02:00"));
    site.expect_runs(0);
    site.set_clock(ms("2026-10-25T02:30:00+02:00"));
    let runs = site.expect_runs(1);
    // The day before has 24 hours; the one it is due on (25 h) is the next report's.
    assert_eq!(
        due_and_range(&runs[0]),
        (ms("2026-10-25T02:30:00+02:00"), ms("2026-10-24T00:00:00+02:00"), ms("2026-10-25T00:00:00+02:00"))
    );
    site.stop();
    site.start();
    // 02:30 again, an hour later (CET): not a second run.
    site.set_clock(ms("2026-10-25T02:30:00+01:00"));
    site.expect_runs(1);
    site.set_clock(ms("2026-10-26T02:30:00+01:00"));
    let runs = site.expect_runs(2);
    assert_eq!(
        due_and_range(&runs[1]),
        (ms("2026-10-26T02:30:00+01:00"), ms("2026-10-25T00:00:00+02:00"), ms("2026-10-26T00:00:00+01:00"))
    );
    assert_eq!(runs[1]["to"].as_i64().unwrap() - runs[1]["from"].as_i64().unwrap(), 25 * 3_600_000);
    site.stop();
}

#[test]
fn tokyo_runs_at_its_local_time_on_the_days_europe_changes() {
    let mut site = Site::new();
    site.save_template(&saved("tokyo", "Asia/Tokyo", "09:00"));
    site.set_clock(ms("2026-03-28T12:00:00+09:00"));
    site.start();
    site.set_clock(ms("2026-03-29T08:59:59+09:00"));
    site.expect_runs(0);
    site.set_clock(ms("2026-03-29T09:00:00+09:00"));
    let runs = site.expect_runs(1);
    assert_eq!(
        due_and_range(&runs[0]),
        (ms("2026-03-29T09:00:00+09:00"), ms("2026-03-28T00:00:00+09:00"), ms("2026-03-29T00:00:00+09:00"))
    );
    // Across Berlin's change (01:00 UTC) and a restart: still one.
    site.set_clock(ms("2026-03-29T11:00:00+09:00"));
    site.stop();
    site.start();
    site.expect_runs(1);
    site.set_clock(ms("2026-03-30T09:00:00+09:00"));
    let runs = site.expect_runs(2);
    assert_eq!(runs[1]["due"].as_i64().unwrap(), ms("2026-03-30T00:00:00Z"));
    assert_eq!(runs[1]["to"].as_i64().unwrap() - runs[1]["from"].as_i64().unwrap(), 24 * 3_600_000);
    site.stop();
}

/// The other two destinations of a scheduled report, as real parts: the
/// desktop notification reaches the notification server on D-Bus (dbusmock)
/// and its click opens the PDF (a stand-in `xdg-open` on PATH records what
/// it was asked to open); the webhook's JSON summary reaches an HTTP server,
/// its URL read from the OS keychain (gnome-keyring).
#[test]
fn a_scheduled_report_also_reaches_the_desktop_and_a_webhook() {
    let mut site = Site::with_destinations(
        "\n[[destination]]\nid = \"desk\"\nkind = \"desktop\"\nname = \"This computer\"\n\
         \n[[destination]]\nid = \"hook\"\nkind = \"webhook\"\nformat = \"json\"\n",
    );
    site.session.start_notification_daemon();
    site.session.start_keyring();
    let (hooks, port) = site.session.start_peer("webhook_peer.py", &[]);
    let set = Command::new(env!("CARGO_BIN_EXE_md-notify-send"))
        .args(["secret-set", "webhook:hook"])
        .env("DBUS_SESSION_BUS_ADDRESS", &site.session.address)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(format!("http://127.0.0.1:{port}/reports/hook-token").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&set.stdout).trim(), "SECRET set");

    // xdg-open, as the desktop's "open this file" would be.
    let bin = site.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opened = site.dir.path().join("opened");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {}.tmp && mv {}.tmp {}\n",
            opened.display(),
            opened.display(),
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let dests = ["ops-mail", "desk", "hook"];
    site.save_template(&saved_to("everywhere", "Europe/Berlin", "06:00", &dests));
    site.set_clock(ms("2026-03-28T05:00:00+01:00"));
    site.start_with_path(Some(&bin));
    site.set_clock(ms("2026-03-28T06:00:00+01:00"));
    let runs = site.expect_runs_to(1, &dests);
    let pdf = runs[0]["pdf"].as_str().unwrap().to_string();

    // The desktop: one notification titled by the report, with an action to open it.
    let calls = site.session.notify_calls().unwrap();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["app_name"], "Meterdeck");
    assert_eq!(calls[0]["summary"], "Report: everywhere daily report");
    assert!(calls[0]["body"].as_str().unwrap().contains(&pdf), "{:#}", calls[0]);
    assert_eq!(calls[0]["actions"], json!(["default", "Open"]), "{:#}", calls[0]);
    // Clicked: the notification server says so on D-Bus, the agent opens the PDF.
    let click = Command::new(meterdeck_e2e::python())
        .args(["-c", CLICK])
        .env("DBUS_SESSION_BUS_ADDRESS", &site.session.address)
        .output()
        .unwrap();
    assert!(click.status.success(), "{}", String::from_utf8_lossy(&click.stderr));
    wait_until(Duration::from_secs(10), "the PDF opened by the notification's click", || opened.exists());
    assert_eq!(std::fs::read_to_string(&opened).unwrap(), pdf);

    // The webhook: the JSON summary of that report.
    let posts = site.session.peer_json(hooks, "HOOK", 1);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0]["path"], "/reports/hook-token");
    let body = &posts[0]["body"];
    assert_eq!(body["kind"], "report", "{body:#}");
    assert_eq!(body["template"], "everywhere");
    assert_eq!(body["title"], "everywhere daily report");
    assert_eq!(body["from"].as_i64(), runs[0]["from"].as_i64());
    assert_eq!(body["to"].as_i64(), runs[0]["to"].as_i64());
    assert_eq!(body["pdf"], pdf);
    assert_eq!(body["no_data"], false);
    assert_eq!(body["channels"][0]["path"], "sim/CH1", "{body:#}");
    // The 27th in Berlin starts at 23:00 UTC the day before; the data at 00:00 UTC.
    assert_eq!(body["channels"][0]["samples"], 138, "one sample per 10 minutes from 01:00 CET: {body:#}");
    site.stop();
}

/// Emits the notification server's ActionInvoked(1, "default") on the
/// session bus through dbusmock's EmitSignal, as a user's click would.
const CLICK: &str = r#"
import dbus
bus = dbus.SessionBus()
mock = dbus.Interface(bus.get_object("org.freedesktop.Notifications", "/org/freedesktop/Notifications"), "org.freedesktop.DBus.Mock")
mock.EmitSignal("org.freedesktop.Notifications", "ActionInvoked", "us", [dbus.UInt32(1), "default"])
"#;
