//! Webhooks with reqwest (rustls): Slack incoming webhooks, Microsoft Teams
//! (Adaptive Card, as Teams workflows and connectors take it) and a generic
//! JSON post of the whole Message. The URL is a credential (it embeds the
//! token), so no error text ever contains it.

use super::DeliveryError;
use super::destination::WebhookFormat;
use super::message::{Message, MessageKind};
use serde_json::Value;
#[cfg(test)]
use serde_json::json;
use std::time::Duration;

/// The JSON body for `format`.
pub fn payload(format: WebhookFormat, msg: &Message) -> Value {
    match format {
        WebhookFormat::Slack => slack(msg),
        WebhookFormat::Teams => teams(msg),
        // `t` is milliseconds since the epoch, the same in every zone.
        WebhookFormat::Json => serde_json::to_value(msg).unwrap_or(Value::Null),
    }
}

/// Severity, alarm and time, labelled in the message's language (English
/// keeps the severity code as it was).
fn facts(msg: &Message) -> Vec<(String, String)> {
    let l = &msg.locale;
    let mut f = Vec::new();
    if let Some(s) = &msg.severity {
        f.push((l.tr("notify-fact-severity", &[]), l.severity(s)));
    }
    if let Some(a) = &msg.alarm_id {
        f.push((l.tr("notify-fact-alarm", &[]), a.clone()));
    }
    f.push((l.tr("notify-fact-time", &[]), msg.time_text()));
    f
}

fn slack(msg: &Message) -> Value {
    meterdeck_wire::webhook::slack(&msg.title, &msg.body, &facts(msg))
}

fn teams(msg: &Message) -> Value {
    let color = meterdeck_wire::webhook::teams_color(msg.kind == MessageKind::Alarm, msg.severity.as_deref());
    meterdeck_wire::webhook::teams(&msg.title, &msg.body, &facts(msg), color)
}

/// The HTTP client could not be built (TLS roots, resolver); every webhook
/// delivery fails with this message.
#[derive(Debug, thiserror::Error)]
#[error("webhook: cannot set up the HTTP client: {0}")]
pub struct ClientError(#[source] reqwest::Error);

/// One HTTP client for all webhooks (connection reuse); `timeout` bounds a whole request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("Meterdeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ClientError(e.without_url()))
}

/// POSTs `msg` to `url` in `format`. Non-2xx is a failure with the status and
/// the start of the reply; 4xx (except 408/429) is not worth retrying.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    format: WebhookFormat,
    msg: &Message,
) -> Result<(), DeliveryError> {
    post_json(client, url, &payload(format, msg)).await
}

/// POSTs `body` as JSON to `url` (a report's summary), with `post`'s errors.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Result<(), DeliveryError> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| DeliveryError::permanent(format!("webhook: the stored URL is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DeliveryError::permanent("webhook: the stored URL must be http or https"));
    }
    let resp = client.post(parsed).json(body).send().await.map_err(request_error)?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let excerpt = body_excerpt(resp).await;
    let mut text = format!("webhook: HTTP {status}");
    if !excerpt.is_empty() {
        text.push_str(&format!(": {excerpt}"));
    }
    let retry = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
    Err(if retry { DeliveryError::transient(text) } else { DeliveryError::permanent(text) })
}

/// The first 200 characters of the reply on one line, read no further than 4 KiB.
async fn body_excerpt(mut resp: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < 4096 {
        match resp.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    out
}

fn request_error(e: reqwest::Error) -> DeliveryError {
    use std::error::Error as _;
    let e = e.without_url();
    if e.is_timeout() {
        return DeliveryError::transient("webhook: timed out");
    }
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let what = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
                _ => io.to_string(),
            };
            return DeliveryError::transient(format!("webhook: {what}"));
        }
        src = s.source();
    }
    let mut text = format!("webhook: {e}");
    let mut src = e.source();
    while let Some(s) = src {
        text.push_str(&format!(": {s}"));
        src = s.source();
    }
    DeliveryError::transient(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            id: "n7".into(),
            t: 0,
            kind: MessageKind::Alarm,
            severity: Some("critical".into()),
            title: "Boiler <hot> & rising".into(),
            body: "91.5 °C".into(),
            alarm_id: Some("boiler-hot".into()),
            locale: Default::default(),
            link: None,
        }
    }

    #[test]
    fn slack_text_is_escaped_mrkdwn() {
        let p = payload(WebhookFormat::Slack, &msg());
        let text = p["text"].as_str().unwrap();
        assert!(text.starts_with("*Boiler &lt;hot&gt; &amp; rising*\n91.5 °C\n_Severity: critical"), "{text}");
        assert_eq!(p["mrkdwn"], true);
    }

    #[test]
    fn facts_are_in_the_recipients_language_and_zone() {
        let mut m = msg();
        m.t = 1_768_478_400_000; // 2026-01-15 12:00 UTC
        m.locale = crate::notify::Locale::new("de", "Europe/Berlin");
        let p = payload(WebhookFormat::Slack, &m);
        let text = p["text"].as_str().unwrap();
        assert!(
            text.ends_with("_Schweregrad: Kritisch · Alarm: boiler-hot · Zeit: 2026-01-15T13:00:00+01:00_"),
            "{text}"
        );
        m.locale = crate::notify::Locale::new("ja", "Asia/Tokyo");
        let p = payload(WebhookFormat::Teams, &m);
        let facts = &p["attachments"][0]["content"]["body"][2]["facts"];
        assert_eq!(facts[0], json!({"title": "重大度", "value": "緊急"}));
        assert_eq!(facts[2], json!({"title": "時刻", "value": "2026-01-15T21:00:00+09:00"}));
    }

    #[test]
    fn teams_is_an_adaptive_card() {
        let p = payload(WebhookFormat::Teams, &msg());
        let card = &p["attachments"][0];
        assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][0]["text"], "Boiler <hot> & rising");
        assert_eq!(card["content"]["body"][0]["color"], "Attention");
        assert_eq!(card["content"]["body"][2]["facts"][1]["value"], "boiler-hot");
    }

    #[test]
    fn generic_json_has_every_field() {
        let p = payload(WebhookFormat::Json, &msg());
        let back: Message = serde_json::from_value(p.clone()).unwrap();
        assert_eq!(back, msg());
        assert_eq!(p["kind"], "alarm");
        assert_eq!(p.as_object().unwrap().len(), 7);
    }

    #[tokio::test]
    async fn bad_urls_never_echo_the_url() {
        let c = client(Duration::from_secs(2)).unwrap();
        let e = post(&c, "not a url secret-token", WebhookFormat::Json, &msg()).await.unwrap_err();
        assert!(e.permanent && !e.message.contains("secret-token"), "{e}");
        let e = post(&c, "ftp://host/secret-token", WebhookFormat::Json, &msg()).await.unwrap_err();
        assert!(e.permanent && !e.message.contains("secret-token"), "{e}");
        let e = post(&c, "http://127.0.0.1:1/secret-token", WebhookFormat::Json, &msg()).await.unwrap_err();
        assert_eq!(e.message, "webhook: connection refused");
    }
}
