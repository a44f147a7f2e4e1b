//! Mail from the service (login codes, reset links) over SMTP with lettre:
//! plain, upgraded with STARTTLS when the server offers it. The words come
//! from the translation files (`locales/<lang>/mail.ftl`, see [`tr`]).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::state::MailConfig;
use crate::store::{Role, Storage, TimeMs};

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

/// The language a mail is written in when a request asked for it: the
/// first language of the request's `Accept-Language` that Meterdeck has
/// (`de-DE,de;q=0.9` -> `de`), else English. Cloud users have no stored
/// language yet, so the browser's (or client's) language is the recipient's
/// best known one for mails the user asks for (codes, reset links) and the
/// admin's for invitations.
pub fn request_language(headers: &axum::http::HeaderMap) -> &'static str {
    let Some(v) = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return "en";
    };
    let mut tags: Vec<(f32, usize, &str)> = v
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter()
        .map(|(_, _, tag)| tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase())
        .find_map(|base| meterdeck_wire::i18n::LANGUAGES.iter().copied().find(|l| *l == base))
        .unwrap_or("en")
}

/// The mail text `key` in `lang` (English, then the key, when missing).
pub fn tr(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    meterdeck_wire::i18n::tr(lang, key, args)
}

/// Someone the cloud mails on its own (an alarm, a notice, a reminder), with
/// the language and time zone the mail is written in.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub user: String,
    pub email: String,
    pub lang: &'static str,
    pub zone: chrono_tz::Tz,
}

/// The account's admins that have an address, each with their language and
/// zone (`/me/preferences`; English and UTC when never set).
pub async fn admins(store: &dyn Storage, account: &str) -> anyhow::Result<Vec<Recipient>> {
    let mut out = Vec::new();
    for u in store.users(account).await?.into_iter().filter(|u| u.role == Role::Admin && !u.email.is_empty()) {
        let prefs = store.user_prefs(account, &u.id).await?.unwrap_or_default();
        out.push(Recipient {
            lang: meterdeck_wire::i18n::language(&prefs.language),
            zone: prefs.zone.parse().unwrap_or(chrono_tz::Tz::UTC),
            user: u.id,
            email: u.email,
        });
    }
    Ok(out)
}

/// `2026-12-07 18:00 JST (UTC+09:00)`: a time as the recipient reads it.
pub fn time_in(t: TimeMs, zone: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z (UTC%:z)").to_string())
        .unwrap_or_else(|| t.to_string())
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
    fn times_read_in_the_recipients_zone_with_its_offset() {
        let t = 1_765_130_400_000; // 2025-12-07 18:00 UTC
        assert_eq!(time_in(t, chrono_tz::Tz::UTC), "2025-12-07 18:00 UTC (UTC+00:00)");
        assert_eq!(time_in(t, chrono_tz::Tz::Asia__Tokyo), "2025-12-08 03:00 JST (UTC+09:00)");
        assert_eq!(time_in(t, chrono_tz::Tz::Europe__Berlin), "2025-12-07 19:00 CET (UTC+01:00)");
    }

    #[test]
    fn the_mail_language_is_the_requests_first_known_one() {
        use axum::http::{HeaderMap, HeaderValue, header::ACCEPT_LANGUAGE};
        let lang = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            request_language(&h)
        };
        assert_eq!(request_language(&HeaderMap::new()), "en");
        assert_eq!(lang("de-DE,de;q=0.9,en;q=0.8"), "de");
        assert_eq!(lang("fr-FR, ja;q=0.5, en;q=0.4"), "ja");
        assert_eq!(lang("en;q=0.2, de;q=0.7"), "de");
        assert_eq!(lang("fr, it"), "en");
        assert_eq!(lang("ja;q=0, de"), "de");
        assert_eq!(lang(";;,"), "en");
        assert_eq!(tr("de", "mail-reset-subject", &[]), "Meterdeck-Passwort zurücksetzen");
    }

    #[test]
    fn host_and_port() {
        assert_eq!(host_port("mail.example:2525").unwrap(), ("mail.example".into(), 2525));
        assert_eq!(host_port("mail.example").unwrap(), ("mail.example".into(), 25));
        assert_eq!(host_port("[::1]:25").unwrap(), ("::1".into(), 25));
        assert!(host_port("h:x").unwrap_err().to_string().contains("\"x\""));
        assert!(host_port("").is_err());
    }
}
