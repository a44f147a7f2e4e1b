//! Sending a generated report to the template's notification destinations:
//! email with the PDF attached, a desktop notification whose click opens
//! the PDF (best effort: `xdg-open`), a webhook with a JSON summary. Each
//! destination is tried up to three times for transient failures; the
//! result per destination is kept with the run.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::ReportSummary;
use super::saved::DeliveryView;
use crate::notify::message::{Message, MessageKind};
use crate::notify::secrets::{read_secret, webhook_entry};
use crate::notify::{DeliveryError, DestinationConfig, DestinationKind, SecretStore, WebhookFormat};

/// Attempts per destination (transient failures only), 2 s then 4 s apart.
const ATTEMPTS: u32 = 3;

/// What a destination is sent about one report.
pub struct Outgoing<'a> {
    pub template: &'a str,
    pub summary: &'a ReportSummary,
    pub pdf: &'a Path,
    pub csv: &'a Path,
    /// The range in the template's zone, as people read it ("2026-03-28 00:00 – 2026-03-29 00:00 CET").
    pub range_text: String,
}

/// The webhook's JSON body.
pub fn summary_json(o: &Outgoing<'_>) -> Value {
    json!({
        "kind": "report",
        "template": o.template,
        "title": o.summary.title,
        "from": o.summary.from,
        "to": o.summary.to,
        "range": o.range_text,
        "no_data": o.summary.no_data,
        "alarms": o.summary.alarms,
        "channels": serde_json::to_value(&o.summary.channels).unwrap_or(Value::Null),
        "pdf": o.pdf.display().to_string(),
        "csv": o.csv.display().to_string(),
    })
}

fn body_text(o: &Outgoing<'_>) -> String {
    let mut s = format!("{}\n{}\n", o.summary.title, o.range_text);
    if o.summary.no_data {
        s.push_str("No data in this range.\n");
    }
    s.push_str(&format!("Channels: {}; alarms raised: {}\n", o.summary.channels.len(), o.summary.alarms));
    s.push_str(&format!("PDF: {}\n-- \nMeterdeck\n", o.pdf.display()));
    s
}

/// Sends the report to each of `ids` (destinations missing from `dests`
/// are reported as failed, naming the id).
pub async fn deliver(
    dests: &[DestinationConfig],
    ids: &[String],
    secrets: &Arc<dyn SecretStore>,
    o: &Outgoing<'_>,
    timeout: Duration,
) -> Vec<DeliveryView> {
    let mut out = Vec::new();
    for id in ids {
        let Some(dest) = dests.iter().find(|d| &d.id == id) else {
            out.push(DeliveryView {
                destination: id.clone(),
                ok: false,
                error: Some(format!("no destination `{id}` in the configuration")),
            });
            continue;
        };
        let mut attempt = 1;
        let result = loop {
            match deliver_one(dest, secrets, o, timeout).await {
                Err(e) if !e.permanent && attempt < ATTEMPTS => {
                    tracing::warn!("report {:?} to {id}: {e}; trying again", o.template);
                    tokio::time::sleep(Duration::from_secs(2u64 << (attempt - 1))).await;
                    attempt += 1;
                }
                r => break r,
            }
        };
        if let Err(e) = &result {
            tracing::warn!("report {:?} not delivered to {id}: {e}", o.template);
        }
        out.push(DeliveryView { destination: id.clone(), ok: result.is_ok(), error: result.err().map(|e| e.message) });
    }
    out
}

async fn deliver_one(
    dest: &DestinationConfig,
    secrets: &Arc<dyn SecretStore>,
    o: &Outgoing<'_>,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let keychain = |e: crate::notify::SecretError| DeliveryError::transient(e.to_string());
    if let Some((what, feature)) = dest.kind.missing_feature() {
        return Err(DeliveryError::permanent(crate::notify::not_in_this_build(what, feature)));
    }
    match dest.kind {
        DestinationKind::Email => {
            #[cfg(feature = "email")]
            {
                let password = match dest.username {
                    Some(_) => {
                        read_secret(secrets, crate::notify::secrets::smtp_entry(&dest.id)).await.map_err(keychain)?
                    }
                    None => None,
                };
                let mail = mail(dest, o).await?;
                crate::notify::email::send_mail(dest, password, mail, timeout).await
            }
            #[cfg(not(feature = "email"))]
            unreachable!("refused above")
        }
        DestinationKind::Desktop => {
            #[cfg(feature = "desktop-notify")]
            {
                desktop(o).await
            }
            #[cfg(not(feature = "desktop-notify"))]
            unreachable!("refused above")
        }
        DestinationKind::Webhook => {
            let entry = webhook_entry(&dest.id);
            let Some(url) = read_secret(secrets, entry.clone()).await.map_err(keychain)? else {
                return Err(DeliveryError::permanent(format!("webhook: no URL in the keychain (entry {entry})")));
            };
            let http = crate::notify::webhook::client(timeout).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            match dest.format.unwrap_or(WebhookFormat::Json) {
                WebhookFormat::Json => crate::notify::webhook::post_json(&http, &url, &summary_json(o)).await,
                format => crate::notify::webhook::post(&http, &url, format, &message(o)).await,
            }
        }
    }
}

/// The report as a notification message (Slack/Teams webhooks, desktop).
fn message(o: &Outgoing<'_>) -> Message {
    Message {
        id: format!("report-{}-{}", o.template, o.summary.from),
        t: crate::model::now_ms(),
        kind: MessageKind::System,
        severity: None,
        title: format!("Report: {}", o.summary.title),
        body: body_text(o),
        alarm_id: None,
        locale: Default::default(),
        link: None,
    }
}

/// The mail: a text part and the PDF attached under its file name.
#[cfg(feature = "email")]
async fn mail(dest: &DestinationConfig, o: &Outgoing<'_>) -> Result<lettre::Message, DeliveryError> {
    use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
    let bytes = tokio::fs::read(o.pdf)
        .await
        .map_err(|e| DeliveryError::permanent(format!("email: cannot read the report {}: {e}", o.pdf.display())))?;
    let name = o.pdf.file_name().map_or_else(|| "report.pdf".to_string(), |n| n.to_string_lossy().into_owned());
    let pdf = ContentType::parse("application/pdf").expect("a valid MIME type");
    crate::notify::email::addressed(dest, &format!("Report: {}", o.summary.title))?
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body_text(o)))
                .singlepart(Attachment::new(name).body(bytes, pdf)),
        )
        .map_err(|e| DeliveryError::permanent(format!("email: cannot build the message: {e}")))
}

/// A desktop notification; clicking it (its default action) opens the PDF.
#[cfg(feature = "desktop-notify")]
async fn desktop(o: &Outgoing<'_>) -> Result<(), DeliveryError> {
    let mut n = crate::notify::desktop::notification(&message(o));
    #[cfg(all(unix, not(target_os = "macos")))]
    n.action("default", "Open");
    let pdf = o.pdf.to_path_buf();
    let shown = tokio::task::spawn_blocking(move || n.show())
        .await
        .map_err(|e| DeliveryError::transient(format!("desktop: notification aborted: {e}")))?
        .map_err(|e| DeliveryError::transient(format!("desktop: no notification service answered: {e}")))?;
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        // Waits until the notification is clicked or closed; best effort.
        let spawned = std::thread::Builder::new().name("report-notification".into()).spawn(move || {
            shown.wait_for_action(|action| {
                if action == "default" {
                    open_file(&pdf);
                }
            })
        });
        if let Err(e) = spawned {
            tracing::debug!("report notification: no thread to wait for a click: {e}");
        }
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = (shown, pdf);
    Ok(())
}

/// Opens `path` with the desktop's default application (`xdg-open`).
pub fn open_file(path: &Path) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        // Reap it in the background so it does not linger as a zombie.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => tracing::warn!("cannot open {}: {opener}: {e}", path.display()),
    }
}
