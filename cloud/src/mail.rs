//! Mail from the service (login codes, reset links) over SMTP with lettre:
//! plain, upgraded with STARTTLS when the server offers it.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::state::MailConfig;

const TIMEOUT: Duration = Duration::from_secs(15);

/// `host:port`, port 25 when left out; `[v6]:port` works too.
fn host_port(smtp: &str) -> anyhow::Result<(String, u16)> {
    let smtp = smtp.trim();
    match smtp.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.ends_with(':') => {
            let port =
                p.parse().map_err(|_| anyhow::anyhow!("mail server {smtp:?}: the port {p:?} is not a number"))?;
            Ok((h.trim_start_matches('[').trim_end_matches(']').to_string(), port))
        }
        _ if !smtp.is_empty() => Ok((smtp.to_string(), 25)),
        _ => anyhow::bail!("no mail server configured (smtp is empty)"),
    }
}

/// Sends one plain-text mail; the error says which step failed.
pub async fn send(cfg: &MailConfig, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
    let (host, port) = host_port(&cfg.smtp)?;
    let from: Mailbox =
        cfg.from.parse().map_err(|e| anyhow::anyhow!("the sender address {:?} is not valid: {e}", cfg.from))?;
    let to: Mailbox = to.parse().map_err(|e| anyhow::anyhow!("the address {to:?} is not valid: {e}"))?;
    let msg = Message::builder().from(from).to(to).subject(subject).body(body.to_string())?;
    let tls =
        Tls::Opportunistic(TlsParameters::new(host.clone()).map_err(|e| anyhow::anyhow!("TLS setup for {host}: {e}"))?);
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port)
        .tls(tls)
        .timeout(Some(TIMEOUT))
        .build();
    transport.send(msg).await.map_err(|e| anyhow::anyhow!("mail server {host}:{port}: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(host_port("mail.example:2525").unwrap(), ("mail.example".into(), 2525));
        assert_eq!(host_port("mail.example").unwrap(), ("mail.example".into(), 25));
        assert_eq!(host_port("[::1]:25").unwrap(), ("::1".into(), 25));
        assert!(host_port("h:x").unwrap_err().to_string().contains("\"x\""));
        assert!(host_port("").is_err());
    }
}
