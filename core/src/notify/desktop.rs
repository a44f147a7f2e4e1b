//! Desktop notifications through notify-rust (the session D-Bus
//! org.freedesktop.Notifications service on Linux/BSD, the native centre
//! elsewhere).

use super::DeliveryError;
use super::message::Message;

pub const APP_NAME: &str = "Meterdeck";

/// Urgency by severity: critical stays on screen until dismissed; low is quiet.
#[cfg(any(all(unix, not(target_os = "macos")), target_os = "windows"))]
fn urgency(severity: Option<&str>) -> notify_rust::Urgency {
    match severity {
        Some("critical") => notify_rust::Urgency::Critical,
        Some("low") => notify_rust::Urgency::Low,
        _ => notify_rust::Urgency::Normal,
    }
}

/// Servers that render body markup would swallow `<...>` and `&` in
/// channel names and values; escape them.
fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub(crate) fn notification(msg: &Message) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname(APP_NAME).summary(&msg.title).body(&escape_markup(&msg.body));
    #[cfg(any(all(unix, not(target_os = "macos")), target_os = "windows"))]
    n.urgency(urgency(msg.severity.as_deref()));
    n
}

/// Shows `msg` (the D-Bus round trip runs on a blocking thread).
pub async fn show(msg: &Message) -> Result<(), DeliveryError> {
    let n = notification(msg);
    let shown = tokio::task::spawn_blocking(move || n.show().map(|_| ()))
        .await
        .map_err(|e| DeliveryError::transient(format!("desktop: notification aborted: {e}")))?;
    shown.map_err(|e| DeliveryError::transient(format!("desktop: no notification service answered: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape_markup("a<b> & c"), "a&lt;b&gt; &amp; c");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn urgency_follows_severity() {
        use notify_rust::Urgency;
        assert_eq!(urgency(Some("critical")), Urgency::Critical);
        assert_eq!(urgency(Some("high")), Urgency::Normal);
        assert_eq!(urgency(Some("medium")), Urgency::Normal);
        assert_eq!(urgency(Some("low")), Urgency::Low);
        assert_eq!(urgency(None), Urgency::Normal);
    }
}
