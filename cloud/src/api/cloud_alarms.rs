//! The cloud's own alarms over the API (issue 16): the account's alarm
//! destinations and reminder interval (admins change them, members read
//! them, viewers are refused; webhook URLs come back masked), the
//! account's cloud alarms (offline, traffic, storage) and their
//! acknowledgement (members and admins: who, when, comment; reminders stop).

use axum::extract::State;
use meterdeck_wire::records::MAX_TEXT_CHARS;
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::Full;
use super::error::{ErrorBody, Json, Path, t};
use super::sites::AckBody;
use super::{ApiError, ApiResult, Ctx};
use crate::alarms::settings::{self, DestinationKind, Settings, SettingsInput};
use crate::store::StoreError;
use crate::store::alarms::CloudAlarm;

/// One destination as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct DestinationView {
    id: String,
    kind: DestinationKind,
    name: Option<String>,
    /// Email: every admin of the account too.
    admins: bool,
    addresses: Vec<String>,
    /// Webhooks: scheme and host only (the URL holds a token); send the
    /// destination back without `url` to keep it.
    url_masked: Option<String>,
}

/// The account's alarm settings.
#[derive(Serialize, ToSchema)]
pub struct AlarmSettingsView {
    /// Minutes between reminders until acknowledged (0: none).
    remind_every_min: u32,
    /// The language of webhooks and listed addresses (admins get their own).
    language: String,
    /// Their time zone.
    zone: String,
    destinations: Vec<DestinationView>,
}

fn view(s: &Settings) -> AlarmSettingsView {
    AlarmSettingsView {
        remind_every_min: s.remind_every_min,
        language: s.language.clone(),
        zone: s.zone.clone(),
        destinations: s
            .destinations
            .iter()
            .map(|d| DestinationView {
                id: d.id.clone(),
                kind: d.kind,
                name: d.name.clone(),
                admins: d.admins,
                addresses: d.addresses.clone(),
                url_masked: d.url.as_deref().map(settings::mask),
            })
            .collect(),
    }
}

/// Where the cloud sends its alarms, and how often it reminds (members and admins)
#[utoipa::path(get, path = "/api/v1/account/alarm-destinations", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "The settings (webhook URLs masked)", body = AlarmSettingsView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_destinations(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<AlarmSettingsView>> {
    c.require_member("read the alarm destinations")?;
    let s = settings::load(ctx.store(), Some(&ctx.alarm_key), &c.account.id).await?;
    Ok(Json(view(&s)))
}

/// Set where the cloud sends its alarms and how often it reminds (admins)
#[utoipa::path(put, path = "/api/v1/account/alarm-destinations", tag = "account", request_body = SettingsInput, security(("bearer" = [])), responses(
    (status = 200, description = "The settings as stored (webhook URLs masked)", body = AlarmSettingsView),
    (status = "4XX", description = "Refused; the message names the field", body = ErrorBody),
))]
pub async fn put_destinations(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<SettingsInput>,
) -> ApiResult<Json<AlarmSettingsView>> {
    c.require_admin("change the alarm destinations")?;
    let old = settings::load(ctx.store(), Some(&ctx.alarm_key), &c.account.id).await?;
    let new = settings::validate(b, &old).map_err(|e| ApiError::bad_request(e.0))?;
    settings::save(ctx.store(), &ctx.alarm_key, &c.account.id, &new, ctx.now()).await?;
    tracing::info!(account = %c.account.id, user = %c.user.id, destinations = new.destinations.len(), "alarm destinations changed");
    Ok(Json(view(&new)))
}

/// The cloud alarms of the account the caller may see.
async fn visible(ctx: &Ctx, c: &super::caller::Caller, alarms: Vec<CloudAlarm>) -> ApiResult<Vec<CloudAlarm>> {
    let seen = c.visible_agents(ctx).await?;
    Ok(alarms
        .into_iter()
        .filter(|a| match (&seen, &a.agent) {
            (Some(v), Some(agent)) => v.contains(agent),
            _ => true,
        })
        .collect())
}

/// At most this many alarms per list.
const LIST: usize = 200;

/// The account's cloud alarms (offline, traffic, storage): standing first, then newest
#[utoipa::path(get, path = "/api/v1/account/cloud-alarms", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "The alarms", body = Vec<CloudAlarm>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_cloud_alarms(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<CloudAlarm>>> {
    let all = ctx.store().alarms().alarms(&c.account.id, None, LIST).await?;
    Ok(Json(visible(&ctx, &c, all).await?))
}

/// Acknowledge a cloud alarm (members and admins): no more reminders
#[utoipa::path(post, path = "/api/v1/account/cloud-alarms/{id}/ack", tag = "account", request_body = AckBody, params(("id" = String, Path, description = "cloud alarm id")), security(("bearer" = [])), responses(
    (status = 200, description = "Acknowledged", body = CloudAlarm),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn ack_cloud_alarm_of_account(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Json(b): Json<AckBody>,
) -> ApiResult<Json<CloudAlarm>> {
    // The role first: ids are of the caller's account only.
    c.require_member("acknowledge alarms")?;
    Ok(Json(ack_cloud_alarm(&ctx, &c, &id, b.comment, None).await?))
}

/// Acknowledges cloud alarm `id` for caller `c` (of `agent` when named).
pub(crate) async fn ack_cloud_alarm(
    ctx: &Ctx,
    c: &super::caller::Caller,
    id: &str,
    comment: Option<String>,
    agent: Option<&str>,
) -> ApiResult<CloudAlarm> {
    let missing = || ApiError::not_found(t("cloud-cloud-alarm-not-found").arg("id", format!("{id:?}")));
    let a = ctx.store().alarms().alarm(&c.account.id, id).await?.ok_or_else(missing)?;
    if visible(ctx, c, vec![a.clone()]).await?.is_empty() || agent.is_some_and(|g| a.agent.as_deref() != Some(g)) {
        return Err(missing());
    }
    c.require_member("acknowledge alarms")?;
    let comment = comment.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if comment.as_ref().is_some_and(|s| s.chars().count() > MAX_TEXT_CHARS) {
        return Err(ApiError::bad_request(t("cloud-comment-long").arg("max", MAX_TEXT_CHARS.to_string())));
    }
    match crate::alarms::acknowledge(ctx.store(), &c.account.id, id, &c.user.id, comment.as_deref(), ctx.now()).await {
        Ok(true) => {}
        Ok(false) => {
            let by = a.ack.and_then(|m| m.user).unwrap_or_default();
            return Err(ApiError::conflict(
                t("cloud-cloud-alarm-acked").arg("id", format!("{id:?}")).arg("by", by.to_string()),
            ));
        }
        Err(StoreError::NotFound(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    }
    ctx.store().alarms().alarm(&c.account.id, id).await?.ok_or_else(missing)
}
