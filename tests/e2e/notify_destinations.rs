//! Notification destinations against real parts: a private D-Bus session
//! bus (dbus-daemon) with python-dbusmock's notification_daemon, an aiosmtpd
//! SMTP server (plain, STARTTLS, implicit TLS, with login), a Python HTTP
//! server for the webhooks, and gnome-keyring as the OS keychain holding
//! the SMTP password and the webhook URLs. The delivering side is the
//! md-notify-send helper, run with the private bus in its environment.

use meterdeck_e2e::notify_peers::Session;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const SUBJECT: &str = "Alarm: Kessel zu heiß – 温度";

/// The md-notify-send helper (this package's binary, hence here and not in
/// the support library), run with the session's private bus.
trait NotifySend {
    fn helper(&self, args: &[&str], stdin: Option<&str>) -> Vec<String>;
    fn set_secret(&self, entry: &str, value: &str);
    fn send(&self, dests_toml: &str, msg: &Value, to: &str, extra: &[&str]) -> Vec<Value>;
    fn test_send(&self, dests_toml: &str, id: &str) -> String;
}

impl NotifySend for Session {
    /// Runs md-notify-send with the private bus; returns its stdout lines.
    fn helper(&self, args: &[&str], stdin: Option<&str>) -> Vec<String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_md-notify-send"))
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("SSL_CERT_FILE", self.path("cert.pem"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("md-notify-send");
        {
            let mut i = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                i.write_all(s.as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "md-notify-send panicked: {stderr}");
        assert!(out.status.success(), "md-notify-send {args:?} failed: {stdout}{stderr}");
        stdout.lines().map(str::to_string).collect()
    }

    fn set_secret(&self, entry: &str, value: &str) {
        assert_eq!(self.helper(&["secret-set", entry], Some(value)), ["SECRET set"]);
    }

    /// Sends `msg` to `dests`; returns the OUTCOME lines as JSON.
    fn send(&self, dests_toml: &str, msg: &Value, to: &str, extra: &[&str]) -> Vec<Value> {
        let d = self.write("dests.toml", dests_toml);
        let m = self.write("message.json", &msg.to_string());
        let mut args = vec!["send", &d, &m, to];
        args.extend_from_slice(extra);
        self.helper(&args, None)
            .iter()
            .filter_map(|l| l.strip_prefix("OUTCOME "))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn test_send(&self, dests_toml: &str, id: &str) -> String {
        let d = self.write("dests.toml", dests_toml);
        let lines = self.helper(&["test", &d, id], None);
        lines
            .iter()
            .find_map(|l| l.strip_prefix("TEST "))
            .unwrap_or_else(|| panic!("no TEST line: {lines:?}"))
            .to_string()
    }
}

fn alarm_message(id: &str) -> Value {
    json!({
        "id": id,
        "t": 1_767_225_600_000i64,
        "kind": "alarm",
        "severity": "critical",
        "title": SUBJECT,
        "body": "logger1/CH1_1 = 91.5 °C > 80 °C",
        "alarm_id": "boiler-hot"
    })
}

fn results(outcomes: &[Value]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .map(|o| (o["destination"].as_str().unwrap().to_string(), o["result"].as_str().unwrap().to_string()))
        .collect()
}

fn free_port() -> u16 {
    meterdeck_e2e::webdriver::free_port().unwrap()
}

#[test]
fn desktop_notifications_reach_the_notification_server_on_dbus() {
    let mut s = Session::start();
    let dests = "[[destination]]\nid = \"desk\"\nkind = \"desktop\"\nname = \"This computer\"\n";

    // No notification server on the bus yet: a clear error, no panic.
    let e = s.test_send(dests, "desk");
    assert!(e.starts_with("error desktop: no notification service answered"), "{e}");

    s.start_notification_daemon();
    let out = s.send(dests, &alarm_message("n1"), "desk", &[]);
    assert_eq!(results(&out), [("desk".to_string(), "ok".to_string())]);
    assert_eq!(s.test_send(dests, "desk"), "ok");

    let calls = s.notify_calls().unwrap();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0]["app_name"], "Meterdeck");
    assert_eq!(calls[0]["summary"], SUBJECT);
    // Bodies may carry markup on the server side, so `>` travels escaped.
    assert_eq!(calls[0]["body"], "logger1/CH1_1 = 91.5 °C &gt; 80 °C");
    assert_eq!(calls[0]["hints"]["urgency"], 2, "critical severity = critical urgency");
    assert_eq!(calls[1]["summary"], "Meterdeck test notification");
    assert!(calls[1]["body"].as_str().unwrap().contains("This computer"));
}

#[test]
fn email_goes_to_a_real_smtp_server_over_starttls_tls_and_plain() {
    let mut s = Session::start();
    s.start_keyring();
    let (cert, key) = s.make_cert();
    let password = "s3cret pässword";
    let (starttls, starttls_port) =
        s.start_peer("smtp_peer.py", &["--starttls", &cert, &key, "--login", "alarms@example.com", password]);
    let (tls, tls_port) = s.start_peer("smtp_peer.py", &["--tls", &cert, &key]);
    let (plain, plain_port) = s.start_peer("smtp_peer.py", &[]);
    let closed = free_port();
    s.set_secret("smtp:ops-mail", password);

    let dests = format!(
        r#"
[[destination]]
id = "ops-mail"
kind = "email"
host = "127.0.0.1"
port = {starttls_port}
security = "starttls"
username = "alarms@example.com"
from = "Meterdeck <alarms@example.com>"
to = ["ops@example.com", "Jörg Müller <joerg@example.com>"]
[[destination]]
id = "tls-mail"
kind = "email"
host = "127.0.0.1"
port = {tls_port}
security = "tls"
from = "alarms@example.com"
to = ["tls@example.com"]
[[destination]]
id = "relay"
kind = "email"
host = "127.0.0.1"
port = {plain_port}
security = "none"
from = "alarms@example.com"
to = ["relay@example.com"]
[[destination]]
id = "starttls-to-plain"
kind = "email"
host = "127.0.0.1"
port = {plain_port}
security = "starttls"
from = "alarms@example.com"
to = ["x@example.com"]
[[destination]]
id = "closed"
kind = "email"
host = "127.0.0.1"
port = {closed}
security = "none"
from = "alarms@example.com"
to = ["x@example.com"]
"#
    );
    let out = s.send(&dests, &alarm_message("n1"), "ops-mail,tls-mail,relay", &[]);
    let mut r = results(&out);
    r.sort();
    assert_eq!(
        r,
        [("ops-mail".into(), "ok".into()), ("relay".into(), "ok".into()), ("tls-mail".into(), "ok".into())],
        "{out:?}"
    );
    assert!(!out.iter().any(|o| o.to_string().contains(password)));

    let auth = s.peer_json(starttls, "AUTH", 1);
    assert_eq!(auth[0]["login"], "alarms@example.com");
    assert_eq!(auth[0]["ok"], true, "the password came from the keychain");
    let mail = &s.peer_json(starttls, "MAIL", 1)[0];
    assert_eq!(mail["subject"], SUBJECT, "{mail}");
    assert!(mail["raw_subject"].as_str().unwrap().contains("=?utf-8?"), "encoded on the wire: {mail}");
    assert_eq!(mail["from"], "Meterdeck <alarms@example.com>");
    assert_eq!(mail["to"], json!(["ops@example.com", "Jörg Müller <joerg@example.com>"]));
    assert_eq!(mail["rcpt_tos"], json!(["ops@example.com", "joerg@example.com"]));
    assert_eq!(mail["mail_from"], "alarms@example.com");
    assert_eq!(mail["content_type"], "text/plain");
    assert_eq!(mail["charset"], "utf-8");
    let body = mail["body"].as_str().unwrap().replace("\r\n", "\n");
    assert!(
        body.starts_with(
            "logger1/CH1_1 = 91.5 °C > 80 °C\n\nSeverity: critical\nAlarm: boiler-hot\nTime: 2026-01-01T00:00:00Z\n"
        ),
        "{body}"
    );
    assert_eq!(mail["tls"], true);
    assert_eq!(mail["authenticated"], true);

    let mail = &s.peer_json(tls, "MAIL", 1)[0];
    assert_eq!((mail["subject"].as_str(), mail["tls"].as_bool()), (Some(SUBJECT), Some(true)));
    let mail = &s.peer_json(plain, "MAIL", 1)[0];
    assert_eq!((mail["subject"].as_str(), mail["tls"].as_bool()), (Some(SUBJECT), Some(false)));
    assert_eq!(mail["to"], json!(["relay@example.com"]));

    // STARTTLS required never falls back to plain text.
    let e = s.test_send(&dests, "starttls-to-plain");
    assert!(e.starts_with(&format!("error SMTP 127.0.0.1:{plain_port}: ")), "{e}");
    assert_eq!(s.test_send(&dests, "closed"), format!("error SMTP 127.0.0.1:{closed}: connection refused"));

    // A wrong password is refused by the server and not retried.
    s.set_secret("smtp:ops-mail", "wrong");
    let out = s.send(&dests, &alarm_message("n2"), "ops-mail", &[]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0]["result"].as_str(), out[0]["attempt"].as_u64()), (Some("failed"), Some(1)));
    let e = out[0]["error"].as_str().unwrap();
    assert!(e.starts_with(&format!("SMTP 127.0.0.1:{starttls_port}: server refused: permanent error (535)")), "{e}");
    assert!(!e.contains("wrong"));
    // Only the three good mails were ever delivered.
    assert_eq!(s.peer_json(starttls, "MAIL", 1).len(), 1);
}

#[test]
fn webhooks_post_slack_teams_and_json_with_urls_from_the_keychain() {
    let mut s = Session::start();
    s.start_keyring();
    let (hooks, port) = s.start_peer("webhook_peer.py", &[]);
    let base = format!("http://127.0.0.1:{port}");

    // The keychain round trip through KeyringSecrets and gnome-keyring.
    s.set_secret("webhook:probe", "value ü");
    assert_eq!(s.helper(&["secret-get", "webhook:probe"], None), ["SECRET value value ü"]);
    assert_eq!(s.helper(&["secret-delete", "webhook:probe"], None), ["SECRET deleted"]);
    assert_eq!(s.helper(&["secret-get", "webhook:probe"], None), ["SECRET none"]);

    s.set_secret("webhook:slack", &format!("{base}/slack/T000/B000/slack-token"));
    s.set_secret("webhook:teams", &format!("{base}/teams/teams-token"));
    s.set_secret("webhook:generic", &format!("{base}/generic/generic-token"));
    s.set_secret("webhook:gone", &format!("{base}/gone-token/404"));
    s.set_secret("webhook:broken", &format!("{base}/broken-token/500"));
    let dests = r#"
[[destination]]
id = "slack"
kind = "webhook"
format = "slack"
[[destination]]
id = "teams"
kind = "webhook"
format = "teams"
[[destination]]
id = "generic"
kind = "webhook"
format = "json"
[[destination]]
id = "gone"
kind = "webhook"
format = "json"
[[destination]]
id = "broken"
kind = "webhook"
format = "slack"
[[destination]]
id = "unset"
kind = "webhook"
format = "json"
"#;
    let msg = alarm_message("n1");
    let out = s.send(dests, &msg, "slack,teams,generic", &[]);
    let mut r = results(&out);
    r.sort();
    assert_eq!(r, [("generic".into(), "ok".into()), ("slack".into(), "ok".into()), ("teams".into(), "ok".into())]);

    let got = s.peer_json(hooks, "HOOK", 3);
    let by_path = |p: &str| got.iter().find(|h| h["path"].as_str().unwrap().starts_with(p)).unwrap().clone();
    let slack = by_path("/slack/");
    assert_eq!(slack["path"], "/slack/T000/B000/slack-token");
    assert_eq!(slack["content_type"], "application/json");
    assert_eq!(
        slack["body"],
        json!({
            "text": format!("*{SUBJECT}*\nlogger1/CH1_1 = 91.5 °C &gt; 80 °C\n_Severity: critical · Alarm: boiler-hot · Time: 2026-01-01T00:00:00Z_"),
            "mrkdwn": true
        })
    );
    let teams = by_path("/teams/");
    let card = &teams["body"]["attachments"][0];
    assert_eq!(teams["body"]["type"], "message");
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["body"][0]["text"], SUBJECT);
    assert_eq!(card["content"]["body"][1]["text"], "logger1/CH1_1 = 91.5 °C > 80 °C");
    assert_eq!(
        card["content"]["body"][2]["facts"],
        json!([
            {"title": "Severity", "value": "critical"},
            {"title": "Alarm", "value": "boiler-hot"},
            {"title": "Time", "value": "2026-01-01T00:00:00Z"}
        ])
    );
    let generic = by_path("/generic/");
    assert_eq!(generic["body"], msg, "every field of the message");

    // Failures: clear, with status and reply excerpt, never the URL (a credential).
    let e = s.test_send(dests, "gone");
    assert_eq!(e, "error webhook: HTTP 404 Not Found: no such hook here");
    let out = s.send(dests, &msg, "broken", &["--max-attempts", "2", "--retry-ms", "100"]);
    let seen: Vec<(String, u64)> =
        out.iter().map(|o| (o["result"].as_str().unwrap().to_string(), o["attempt"].as_u64().unwrap())).collect();
    assert_eq!(seen, [("retrying".to_string(), 1), ("failed".to_string(), 2)]);
    assert_eq!(out[0]["next_in_ms"], 100);
    assert_eq!(out[1]["error"], "webhook: HTTP 500 Internal Server Error: internal trouble");
    assert_eq!(s.test_send(dests, "unset"), "error webhook: no URL in the keychain (entry webhook:unset)");
    let closed = free_port();
    s.set_secret("webhook:unset", &format!("http://127.0.0.1:{closed}/closed-token"));
    assert_eq!(s.test_send(dests, "unset"), "error webhook: connection refused");
    for h in s.peer_json(hooks, "HOOK", 6) {
        assert!(h["user_agent"].as_str().unwrap().starts_with("Meterdeck/"));
    }
}
