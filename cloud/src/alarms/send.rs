//! Sending one message of a cloud alarm to every destination of its
//! account. Failures are logged with the destination's id, never its URL
//! (a credential), and do not stop the other destinations.

use std::time::Duration;

use chrono_tz::Tz;
use meterdeck_wire::webhook::{self, WebhookFormat};
use serde_json::{Value, json};
use tracing::{info, warn};

use super::Notifier;
use super::settings::{Destination, Settings};
use super::texts::{self, Words};
use crate::mail::{Recipient, tr};
use crate::store::alarms::{AGENT_OFFLINE, CloudAlarm, TRAFFIC_100};
use crate::store::records::PresenceRow;
use crate::store::{Storage, TimeMs};

const TIMEOUT: Duration = Duration::from_secs(10);

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("Meterdeck-cloud/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

fn severity(kind: &str) -> &'static str {
    if kind == AGENT_OFFLINE || kind == TRAFFIC_100 { "high" } else { "medium" }
}

/// Who gets a destination's mail: the admins in their own language and
/// zone, listed addresses in the account's.
async fn recipients(store: &dyn Storage, s: &Settings, account: &str, d: &Destination) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    if d.admins {
        match crate::mail::admins(store, account).await {
            Ok(a) => out.extend(a),
            Err(e) => warn!(account, "cloud alarm: cannot read the account's admins: {e}"),
        }
    }
    for a in &d.addresses {
        if !out.iter().any(|r| r.email.eq_ignore_ascii_case(a)) {
            out.push(Recipient { user: String::new(), email: a.clone(), lang: s.lang(), zone: s.tz() });
        }
    }
    out
}

/// One message (`number` 1 is the alarm, later ones are reminders).
pub async fn alarm(store: &dyn Storage, n: &Notifier, s: &Settings, a: &CloudAlarm, number: u32, now: TimeMs) {
    let reminder = number > 1;
    let words = |lang: &str, zone: Tz| {
        let w = texts::words(a, lang, zone, now);
        if reminder { texts::reminder(w, lang, zone, a.raised_ms, number - 1) } else { w }
    };
    let link = view_link(n, a, now);
    let hint =
        |lang: &str| if s.remind_every_min > 0 { texts::ack_hint(lang, s.remind_every_min) } else { String::new() };
    for d in &s.destinations {
        match d.kind.webhook() {
            None => {
                for r in recipients(store, s, &a.account, d).await {
                    let w = words(r.lang, r.zone);
                    let link = link.as_ref().map(|u| tr(r.lang, "mail-view-link", &[("url", u)]));
                    mail(n, &r, &w, link.as_deref(), &hint(r.lang), &a.account, &a.kind).await;
                }
            }
            Some(format) => {
                let (lang, zone) = (s.lang(), s.tz());
                let w = words(lang, zone);
                let mut body = w.what.clone();
                if let Some(u) = &link {
                    body.push_str(&format!("\n{}", tr(lang, "mail-view-link", &[("url", u)])));
                }
                let sev = severity(&a.kind);
                let facts = vec![
                    (
                        tr(lang, "notify-fact-severity", &[]),
                        if lang == "en" { sev.to_string() } else { tr(lang, &format!("sev.{sev}"), &[]) },
                    ),
                    (tr(lang, "notify-fact-alarm", &[]), a.kind.clone()),
                    (tr(lang, "notify-fact-time", &[]), texts::rfc3339_in(now, zone)),
                ];
                let json = json!({
                    "id": format!("{}-{number}", a.id), "t": now, "kind": "alarm", "severity": sev,
                    "title": w.title, "body": body, "alarm_id": a.kind,
                    "account": a.account, "agent": a.agent, "cloud_alarm": a.id, "reminder": number - 1, "link": link,
                });
                post(n, d, format, &w.title, &body, &facts, webhook::teams_color(true, Some(sev)), json, &a.account)
                    .await;
            }
        }
    }
}

/// The back-online notice, once, to every destination.
pub async fn online(
    store: &dyn Storage,
    n: &Notifier,
    s: &Settings,
    p: &PresenceRow,
    since: Option<TimeMs>,
    now: TimeMs,
) {
    let url = n.mail.as_ref().map(|m| m.public_url.clone()).unwrap_or_default();
    for d in &s.destinations {
        match d.kind.webhook() {
            None => {
                for r in recipients(store, s, &p.account, d).await {
                    let (subject, body) =
                        crate::watch::texts::online_mail(&r, &p.name, &p.agent, &p.account, since, now, &url);
                    send_mail(n, &r, &subject, &body, &p.account, "agent_online").await;
                }
            }
            Some(format) => {
                let (lang, zone) = (s.lang(), s.tz());
                let r = Recipient { user: String::new(), email: String::new(), lang, zone };
                let (title, text) = crate::watch::texts::online_mail(&r, &p.name, &p.agent, &p.account, since, now, "");
                let body = text.split("\n\n").next().unwrap_or_default().to_string();
                let facts = vec![
                    (tr(lang, "notify-fact-alarm", &[]), "agent_online".to_string()),
                    (tr(lang, "notify-fact-time", &[]), texts::rfc3339_in(now, zone)),
                ];
                let json = json!({
                    "id": format!("online-{}-{now}", p.agent), "t": now, "kind": "system", "severity": null,
                    "title": title, "body": body, "alarm_id": "agent_online", "account": p.account, "agent": p.agent,
                });
                post(n, d, format, &title, &body, &facts, "Good", json, &p.account).await;
            }
        }
    }
}

/// The view-only link of an offline alarm: the agent's channels around the
/// time it went silent (none without a link key or a public URL).
fn view_link(n: &Notifier, a: &CloudAlarm, now: TimeMs) -> Option<String> {
    if a.kind != AGENT_OFFLINE {
        return None;
    }
    let (key, mail, agent) = (n.link_key.as_ref()?, n.mail.as_ref()?, a.agent.as_deref()?);
    let name = a.body["name"].as_str().unwrap_or(agent);
    let since = a.body["silent_since"].as_i64().unwrap_or(a.raised_ms);
    let terms =
        crate::viewlink::LinkTerms::around(agent, AGENT_OFFLINE, &format!("{name}: {AGENT_OFFLINE}"), since, None, now);
    Some(crate::viewlink::page_url(&mail.public_url, &key.sign(&terms)))
}

async fn mail(n: &Notifier, r: &Recipient, w: &Words, link: Option<&str>, hint: &str, account: &str, kind: &str) {
    let url = n.mail.as_ref().map(|m| m.public_url.as_str()).unwrap_or_default();
    let mut body = w.what.clone();
    for part in [w.then.as_str(), url] {
        if !part.is_empty() {
            body.push_str(&format!("\n\n{part}"));
        }
    }
    body.push('\n');
    if let Some(l) = link {
        body.push_str(&format!("\n{l}\n"));
    }
    if !hint.is_empty() {
        body.push_str(&format!("\n{hint}\n"));
    }
    send_mail(n, r, &w.title, &body, account, kind).await;
}

async fn send_mail(n: &Notifier, r: &Recipient, subject: &str, body: &str, account: &str, kind: &str) {
    let Some(cfg) = n.mail.as_ref() else {
        return info!(account, kind, "cloud alarm: no mail server configured (--smtp); not mailed");
    };
    if let Err(e) = crate::mail::send(cfg, &r.email, subject, body).await {
        warn!(account, kind, user = %r.user, "cloud alarm not mailed: {e:#}");
    }
}

#[allow(clippy::too_many_arguments)]
async fn post(
    n: &Notifier,
    d: &Destination,
    format: WebhookFormat,
    title: &str,
    body: &str,
    facts: &[(String, String)],
    color: &str,
    json: Value,
    account: &str,
) {
    let Some(url) = d.url.as_deref() else { return };
    let payload = match format {
        WebhookFormat::Slack => webhook::slack(title, body, facts),
        WebhookFormat::Teams => webhook::teams(title, body, facts, color),
        WebhookFormat::Json => json,
    };
    // Errors without the URL: it holds the webhook's token.
    match n.http.post(url).json(&payload).send().await {
        Ok(r) if r.status().is_success() => info!(account, destination = %d.id, "cloud alarm posted"),
        Ok(r) => warn!(account, destination = %d.id, status = %r.status(), "cloud alarm webhook refused"),
        Err(e) => warn!(account, destination = %d.id, "cloud alarm webhook failed: {}", e.without_url()),
    }
}
