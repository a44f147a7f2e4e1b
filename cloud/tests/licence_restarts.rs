//! Reminders once across real restarts: every sweep is its own
//! `meterdeck-cloud licence sweep --at T` process (a fresh start each
//! time, twice per step: the second must find nothing left to send) on
//! SQLite and on PostgreSQL, mailing through a real aiosmtpd. A Standard
//! term of three months in Asia/Tokyo gets exactly the reminders of SPEC
//! 7.4's schedule, each mail once.
//! Run: `cargo test -p meterdeck-cloud --test licence_restarts`.

mod api_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use api_support::{PgDb, SmtpPeer};
use meterdeck_cloud::licence::{sweep, terms};

fn cli(data: &Path, db: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meterdeck-cloud"));
    cmd.arg("--data").arg(data);
    if let Some(db) = db {
        cmd.arg("--db").arg(db);
    }
    let out = cmd.args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn run(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = SmtpPeer::start();
    let port = smtp.port.to_string();
    cli(
        d,
        db,
        &["account", "create", "--id", "acme", "--name", "Acme", "--admin", "boss", "--email", "boss@example.com"],
    );
    let out = cli(d, db, &["licence", "issue-card", "--account", "acme", "--plan", "standard", "--months", "3"]);
    let code = out.lines().nth(1).unwrap().trim().to_string();
    let before = meterdeck_wire::now_ms();
    cli(d, db, &["licence", "apply", "--account", "acme", "--card", &code]);
    let after = meterdeck_wire::now_ms();
    cli(d, db, &["licence", "time-zone", "--account", "acme", "--tz", "Asia/Tokyo"]);
    let tokyo = sweep::zone(Some("Asia/Tokyo"));
    // The term began when `apply` ran; its schedule does not depend on the millisecond.
    let end = terms::add_months(before, 3);
    let expected = sweep::schedule(end, tokyo);
    assert_eq!(
        expected.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        sweep::schedule(terms::add_months(after, 3), tokyo).iter().map(|(_, t)| *t).collect::<Vec<_>>()
    );

    // Daily at 01:00 UTC (10:00 in Tokyo) from today to three days after the end.
    let day = terms::DAY_MS;
    let mut t = before - before.rem_euclid(day) + 3_600_000;
    let mut sent = Vec::new();
    while t < end + 3 * day {
        for attempt in 0..2 {
            let out = cli(d, db, &["licence", "sweep", "--at", &rfc3339(t), "--smtp", &format!("127.0.0.1:{port}")]);
            let lines: Vec<String> = out.lines().filter(|l| l.starts_with("reminder\t")).map(str::to_string).collect();
            if attempt == 1 {
                assert!(lines.is_empty(), "the second process at {} sent again: {lines:?}", rfc3339(t));
            }
            sent.extend(lines.into_iter().map(|l| l.rsplit('\t').next().unwrap().to_string()));
        }
        t += day;
    }
    let keys: Vec<String> = expected.iter().map(|(k, _)| k.split_once('/').unwrap().1.to_string()).collect();
    let got: Vec<String> = sent.iter().map(|k| k.split_once('/').unwrap().1.to_string()).collect();
    assert_eq!(got, keys, "every reminder of the schedule, once");
    let mut mails = Vec::new();
    while let Some(m) = smtp.mail_within(Duration::from_secs(3)) {
        assert_eq!(m["rcpt_tos"][0], "boss@example.com");
        mails.push(m["subject"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(mails.len(), expected.len(), "{mails:#?}");
    assert!(mails.iter().all(|s| s.contains("Standard licence of account acme")), "{mails:#?}");
    let h = cli(d, db, &["licence", "history", "--account", "acme"]);
    assert_eq!(h.lines().filter(|l| l.contains("\treminder\t")).count(), expected.len(), "{h}");
}

#[test]
fn reminders_once_across_restarts_sqlite() {
    run(None);
}

#[test]
fn reminders_once_across_restarts_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(PgDb::create("restarts")) else { return };
    run(Some(&db.url));
    drop(db);
}
