//! What the cloud sends by mail and to whom (issue 15, the portal's
//! Notifications screen): the account's notices go to its admins with an
//! email address; sign-in codes, reset links and invitations go to the user
//! concerned. The answer also lists the notices sent lately, from the
//! licence history (expiry reminders, capacity notices, deletions).

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::Full;
use super::error::{ErrorBody, Json};
use super::{ApiResult, Ctx};
use crate::store::{LicenceEvent, Role};

/// Notices listed as sent lately, at most.
pub const RECENT_MAX: usize = 50;

/// History entries that are notices the service mailed to the admins.
const MAILED: &[&str] = &["reminder", "over-capacity-notice", "over-capacity-resolved", "data-deleted"];

/// One kind of mail the cloud sends.
#[derive(Serialize, ToSchema)]
pub struct NoticeKind {
    /// traffic-90 | traffic-full | expiry-reminder | over-capacity | data-deleted |
    /// login-code | password-reset | invitation
    kind: String,
    /// "admins" (the account's admins with an email address) or "user" (the user concerned).
    to: String,
}

/// An admin who receives the account's notices.
#[derive(Serialize, ToSchema)]
pub struct Recipient {
    user: String,
    name: String,
    /// Shown to admins only (null for other roles).
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Notices {
    /// This server sends mail (`serve --smtp`); without it notices are only logged.
    mail: bool,
    /// Where the account's notices go.
    recipients: Vec<Recipient>,
    /// Admins without an email address: they get none.
    admins_without_email: Vec<String>,
    /// The caller's own address (codes and reset links go there).
    own_email: String,
    /// Whether the caller receives the account's notices.
    receives_account_notices: bool,
    kinds: Vec<NoticeKind>,
    /// Notices sent lately, newest first (at most 50).
    recent: Vec<LicenceEvent>,
}

fn kinds() -> Vec<NoticeKind> {
    [
        ("traffic-90", "admins"),
        ("traffic-full", "admins"),
        ("expiry-reminder", "admins"),
        ("over-capacity", "admins"),
        ("data-deleted", "admins"),
        ("login-code", "user"),
        ("password-reset", "user"),
        ("invitation", "user"),
    ]
    .into_iter()
    .map(|(kind, to)| NoticeKind { kind: kind.into(), to: to.into() })
    .collect()
}

/// What the cloud mails, to whom, and the notices sent lately
#[utoipa::path(get, path = "/api/v1/notifications", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "Where the cloud's mail goes", body = Notices),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn notices(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Notices>> {
    let store = ctx.store();
    let admins: Vec<_> = store.users(&c.account.id).await?.into_iter().filter(|u| u.role == Role::Admin).collect();
    let show_email = c.is_admin();
    let recipients = admins
        .iter()
        .filter(|u| !u.email.is_empty())
        .map(|u| Recipient { user: u.id.clone(), name: u.name.clone(), email: show_email.then(|| u.email.clone()) })
        .collect();
    let admins_without_email = admins.iter().filter(|u| u.email.is_empty()).map(|u| u.id.clone()).collect();
    let recent = store
        .licence_history(&c.account.id, 1000)
        .await?
        .into_iter()
        .filter(|e| MAILED.contains(&e.what.as_str()))
        .take(RECENT_MAX)
        .collect();
    Ok(Json(Notices {
        mail: ctx.app.mail.is_some(),
        recipients,
        admins_without_email,
        own_email: c.user.email.clone(),
        receives_account_notices: c.is_admin() && !c.user.email.is_empty(),
        kinds: kinds(),
        recent,
    }))
}
