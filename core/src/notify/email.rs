//! Email over SMTP with lettre (tokio, rustls). `tls` = implicit TLS,
//! `starttls` = STARTTLS required (never falls back to plain), `none` =
//! plain text, for a relay on the local network only.

use super::DeliveryError;
use super::destination::{DestinationConfig, SmtpSecurity};
use super::message::Message;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// The plain-text mail for `msg` (lettre encodes non-ASCII subjects per RFC 2047).
pub fn build(dest: &DestinationConfig, msg: &Message) -> Result<lettre::Message, DeliveryError> {
    addressed(dest, &msg.title)?
        .header(ContentType::TEXT_PLAIN)
        .body(body_text(msg))
        .map_err(|e| DeliveryError::permanent(format!("email: cannot build the message: {e}")))
}

/// A mail builder with the destination's From and To and `subject`.
pub fn addressed(dest: &DestinationConfig, subject: &str) -> Result<lettre::message::MessageBuilder, DeliveryError> {
    let from: Mailbox = dest
        .from
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| DeliveryError::permanent(format!("email: bad from address: {e}")))?;
    let mut b = lettre::Message::builder().from(from).subject(subject);
    for to in &dest.to {
        let to: Mailbox =
            to.parse().map_err(|e| DeliveryError::permanent(format!("email: bad to address {to:?}: {e}")))?;
        b = b.to(to);
    }
    Ok(b)
}

fn body_text(msg: &Message) -> String {
    let mut s = msg.body.clone();
    s.push_str("\n\n");
    let l = &msg.locale;
    if let Some(sev) = &msg.severity {
        s.push_str(&format!("{}: {}\n", l.tr("notify-fact-severity", &[]), l.severity(sev)));
    }
    if let Some(a) = &msg.alarm_id {
        s.push_str(&format!("{}: {a}\n", l.tr("notify-fact-alarm", &[])));
    }
    s.push_str(&format!("{}: {}\n-- \nMeterdeck\n", l.tr("notify-fact-time", &[]), msg.time_text()));
    s
}

/// Sends `msg`; `password` is the keychain's `smtp:<id>` (needed when
/// `username` is set). `timeout` bounds each SMTP step.
pub async fn send(
    dest: &DestinationConfig,
    password: Option<String>,
    msg: &Message,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    send_mail(dest, password, build(dest, msg)?, timeout).await
}

/// Sends a mail built elsewhere (a report with its PDF attached) over the
/// destination's SMTP server.
pub async fn send_mail(
    dest: &DestinationConfig,
    password: Option<String>,
    mail: lettre::Message,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let host = dest.host.as_deref().unwrap_or_default();
    let port = dest.smtp_port();
    let at = format!("SMTP {host}:{port}");
    let tls_params = || {
        TlsParameters::new(host.to_string())
            .map_err(|e| DeliveryError::permanent(format!("{at}: TLS setup failed: {e}")))
    };
    let tls = match dest.smtp_security() {
        SmtpSecurity::Tls => Tls::Wrapper(tls_params()?),
        SmtpSecurity::Starttls => Tls::Required(tls_params()?),
        SmtpSecurity::None => Tls::None,
    };
    let mut b =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls).timeout(Some(timeout));
    if let Some(user) = &dest.username {
        let Some(pw) = password else {
            return Err(DeliveryError::permanent(format!(
                "{at}: no password in the keychain (entry {})",
                super::secrets::smtp_entry(&dest.id)
            )));
        };
        b = b.credentials(Credentials::new(user.clone(), pw));
    }
    b.build().send(mail).await.map(|_| ()).map_err(|e| smtp_error(&at, &e))
}

fn smtp_error(at: &str, e: &lettre::transport::smtp::Error) -> DeliveryError {
    use std::error::Error as _;
    let mut io = None;
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(x) = s.downcast_ref::<std::io::Error>() {
            io = Some(x);
            break;
        }
        src = s.source();
    }
    if e.is_permanent() {
        return DeliveryError::permanent(format!("{at}: server refused: {e}"));
    }
    if e.is_transient() {
        return DeliveryError::transient(format!("{at}: server busy: {e}"));
    }
    if e.is_timeout() {
        return DeliveryError::transient(format!("{at}: timed out"));
    }
    if let Some(io) = io {
        use std::io::ErrorKind as K;
        let what = match io.kind() {
            K::ConnectionRefused => "connection refused".to_string(),
            K::ConnectionReset => "connection reset".to_string(),
            K::TimedOut => "timed out".to_string(),
            K::NotFound => "host not found".to_string(),
            // tokio-rustls reports handshake failures (untrusted certificate,
            // wrong name) this way; retrying will not fix them.
            K::InvalidData => return DeliveryError::permanent(format!("{at}: TLS failed: {io}")),
            _ => io.to_string(),
        };
        return DeliveryError::transient(format!("{at}: {what}"));
    }
    if e.is_tls() {
        // A certificate the system does not trust will not fix itself.
        return DeliveryError::permanent(format!("{at}: TLS failed: {e}"));
    }
    DeliveryError::transient(format!("{at}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::MessageKind;

    fn dest() -> DestinationConfig {
        let mut d = DestinationConfig::desktop("m");
        d.kind = crate::notify::destination::DestinationKind::Email;
        d.host = Some("127.0.0.1".into());
        d.port = Some(1);
        d.security = Some(SmtpSecurity::None);
        d.from = Some("Meterdeck <alarms@example.com>".into());
        d.to = vec!["ops@example.com".into(), "Zoë <zoe@example.com>".into()];
        d
    }

    fn msg() -> Message {
        Message {
            id: "n1".into(),
            t: 1_700_000_000_000,
            kind: MessageKind::Alarm,
            severity: Some("high".into()),
            title: "Alarm: Kessel zu heiß – 温度".into(),
            body: "logger1/CH1_1 = 91.5 °C".into(),
            alarm_id: Some("boiler-hot".into()),
            locale: Default::default(),
            link: None,
        }
    }

    #[test]
    fn builds_an_encoded_utf8_mail() {
        let raw = String::from_utf8(build(&dest(), &msg()).unwrap().formatted()).unwrap();
        assert!(raw.contains("Subject: Alarm: Kessel zu =?utf-8?"), "{raw}");
        assert!(raw.contains("From: Meterdeck <alarms@example.com>"), "{raw}");
        assert!(raw.contains("zoe@example.com"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
    }

    #[tokio::test]
    async fn refused_connection_is_a_clear_transient_error() {
        let e = send(&dest(), None, &msg(), Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(e.message, "SMTP 127.0.0.1:1: connection refused");
        assert!(!e.permanent);
    }

    #[tokio::test]
    async fn missing_password_is_permanent_and_names_the_entry() {
        let mut d = dest();
        d.username = Some("u".into());
        let e = send(&d, None, &msg(), Duration::from_secs(5)).await.unwrap_err();
        assert!(e.permanent);
        assert!(e.message.contains("smtp:m"), "{e}");
    }
}
