//! Webhook payloads both ends send (issue 16): the agent's notifications
//! (core/src/notify/webhook.rs) and the cloud's own alarms (cloud/src/alarms)
//! post the same shapes to Slack incoming webhooks, Microsoft Teams (an
//! Adaptive Card, as Teams workflows and connectors take it) and generic
//! JSON. Pure builders: a title, a body and labelled facts in, JSON out;
//! each end writes the words (its language, its time zone) and does the I/O.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a webhook wants its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    Slack,
    Teams,
    Json,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Json => "json",
        }
    }
    pub fn parse(s: &str) -> Option<WebhookFormat> {
        [WebhookFormat::Slack, WebhookFormat::Teams, WebhookFormat::Json].into_iter().find(|f| f.as_str() == s)
    }
}

/// Slack's mrkdwn: only `&`, `<`, `>` need escaping.
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack message: the title in bold, the body, the facts in italics.
pub fn slack(title: &str, body: &str, facts: &[(String, String)]) -> Value {
    let facts: Vec<String> = facts.iter().map(|(k, v)| format!("{k}: {}", slack_escape(v))).collect();
    let text = format!("*{}*\n{}\n_{}_", slack_escape(title), slack_escape(body), facts.join(" · "));
    json!({ "text": text, "mrkdwn": true })
}

/// The Adaptive Card colour of a severity (critical | high | medium | low)
/// for an alarm; everything else is plain.
pub fn teams_color(alarm: bool, severity: Option<&str>) -> &'static str {
    match (alarm, severity) {
        (true, Some("critical" | "high")) => "Attention",
        (true, Some("medium")) => "Warning",
        _ => "Default",
    }
}

/// A Teams message: an Adaptive Card with the title (in `color`), the body
/// and the facts.
pub fn teams(title: &str, body: &str, facts: &[(String, String)], color: &str) -> Value {
    let facts: Vec<Value> = facts.iter().map(|(k, v)| json!({ "title": k, "value": v })).collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    { "type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true, "color": color },
                    { "type": "TextBlock", "text": body, "wrap": true },
                    { "type": "FactSet", "facts": facts }
                ]
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_escapes_and_teams_is_an_adaptive_card() {
        let facts = vec![("Severity".to_string(), "critical".to_string())];
        let s = slack("Boiler <hot> & rising", "91.5 °C", &facts);
        assert_eq!(s["text"], "*Boiler &lt;hot&gt; &amp; rising*\n91.5 °C\n_Severity: critical_");
        let t = teams("T", "B", &facts, teams_color(true, Some("high")));
        assert_eq!(t["attachments"][0]["content"]["body"][0]["color"], "Attention");
        assert_eq!(t["attachments"][0]["content"]["body"][2]["facts"][0]["value"], "critical");
        assert_eq!(WebhookFormat::parse("teams"), Some(WebhookFormat::Teams));
        assert_eq!(WebhookFormat::parse("xml"), None);
    }
}
