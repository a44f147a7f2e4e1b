//! Site records (issue 16): the alarm journal entries and instrument events
//! a visible agent synced, the cloud's own offline/online alarms about it,
//! the alarms' current states, and the account's offline setting. Access
//! follows the measurement grants: an agent the caller may not see (or of
//! another account) answers 404. Members and admins acknowledge an agent's
//! alarm here; the acknowledgement travels to the agent (`crate::acks`).

use axum::extract::State;
use axum::http::StatusCode;
use meterdeck_wire::alarms::{JournalFields, PendingAck, SiteAlarm, summarize};
use meterdeck_wire::records::MAX_TEXT_CHARS;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agents::parse_time;
use super::caller::Full;
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::TimeMs;
use crate::store::records::{
    CLOUD_ALARM, DEFAULT_OFFLINE_AFTER_S, MAX_OFFLINE_AFTER_S, MAX_RECORDS_PAGE, MIN_OFFLINE_AFTER_S, REMOTE_COMMAND,
    RecordCursor, RecordQuery, SiteRecord,
};

/// The kinds a query may name.
const KINDS: [&str; 4] = ["journal", "event", CLOUD_ALARM, REMOTE_COMMAND];

/// Which records: a time range, kinds, a page.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordsQuery {
    /// Start (inclusive): ms since 1970 or ISO-8601; default the first record.
    from: Option<String>,
    /// End (exclusive): ms since 1970 or ISO-8601; default after the last.
    to: Option<String>,
    /// Comma-separated kinds: journal, event, cloud_alarm, remote_command (default all).
    kind: Option<String>,
    /// At most this many records (1 to 1000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next` of the previous page: continue after that record.
    after: Option<String>,
}

/// One page of a site's records, in the order they happened.
#[derive(Serialize, ToSchema)]
pub struct RecordsReply {
    agent: String,
    records: Vec<SiteRecord>,
    /// The page is full: more may follow (`after` = `next`).
    truncated: bool,
    next: Option<String>,
}

fn kinds(q: &RecordsQuery) -> ApiResult<Vec<String>> {
    let Some(k) = q.kind.as_deref() else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for part in k.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !KINDS.contains(&part) {
            return Err(ApiError::bad_request(t("cloud-records-kind").arg("kind", format!("{part:?}"))));
        }
        if !out.iter().any(|o| o == part) {
            out.push(part.to_owned());
        }
    }
    Ok(out)
}

/// A visible agent's records (alarm journal, events, cloud alarms), oldest first; continue with after = next
#[utoipa::path(get, path = "/api/v1/agents/{id}/records", tag = "agents", params(("id" = String, Path, description = "agent id"), RecordsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of records", body = RecordsReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn records(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<Json<RecordsReply>> {
    let a = c.agent(&ctx, &id).await?;
    let from = q.from.as_deref().map(|s| parse_time("from", s)).transpose()?;
    let to = q.to.as_deref().map(|s| parse_time("to", s)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::bad_request(
            super::error::t("cloud-from-before-to").arg("from", f.to_string()).arg("to", t.to_string()),
        ));
    }
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > MAX_RECORDS_PAGE {
        return Err(ApiError::bad_request(t("cloud-limit-range").arg("max", MAX_RECORDS_PAGE.to_string())));
    }
    let after = q
        .after
        .as_deref()
        .map(|s| {
            RecordCursor::parse(s)
                .ok_or_else(|| ApiError::bad_request(t("cloud-cursor").arg("after", format!("{s:?}"))))
        })
        .transpose()?;
    let query = RecordQuery { from, to, kinds: kinds(&q)?, after, limit };
    let records = ctx.store().records().records(&a.id, &query).await?;
    let truncated = records.len() == limit;
    let next = records.last().filter(|_| truncated).map(|r| RecordCursor::of(r).encode());
    Ok(Json(RecordsReply { agent: a.id, records, truncated, next }))
}

/// The alarms of a site as the cloud knows them.
#[derive(Serialize, ToSchema)]
pub struct AlarmsReply {
    agent: String,
    /// The cloud's "agent offline" alarm stands.
    offline: bool,
    /// When it was raised (or last cleared).
    offline_changed_ms: Option<TimeMs>,
    /// The agent's last presence message: true connected, false gone, null none yet.
    connected: Option<bool>,
    /// Each alarm's latest state change from the agent's journal (its
    /// state is `body.to_state`), by alarm id.
    alarms: Vec<SiteRecord>,
    /// The same alarms summarised: state, severity, since when, who
    /// acknowledged them (when, comment) and acknowledgements made in the
    /// cloud still on their way to the agent; standing alarms first.
    site: Vec<SiteAlarm>,
}

/// The summary of an agent's alarms (`meterdeck_wire::alarms::summarize`).
pub(crate) async fn site_alarms(ctx: &Ctx, agent: &str) -> ApiResult<(Vec<SiteRecord>, Vec<SiteAlarm>)> {
    let recs = ctx.store().records();
    let states = recs.alarm_states(agent).await?;
    let marks = recs.alarm_marks(agent).await?;
    // Expired acknowledgements first: an open one made later wins (the summary takes the last).
    let mut pending: Vec<PendingAck> = ctx
        .store()
        .alarms()
        .expired_cloud_acks(agent)
        .await?
        .into_iter()
        .map(|(alarm_id, user, created_ms, expired)| PendingAck {
            id: String::new(),
            alarm_id,
            user,
            comment: None,
            created_ms,
            sends: 0,
            expired_ms: Some(expired),
        })
        .collect();
    pending.extend(recs.open_cloud_acks(Some(agent)).await?.into_iter().map(|(_, a)| a));
    let fields = |r: &SiteRecord| (r.t, serde_json::from_value::<JournalFields>(r.body.clone()).unwrap_or_default());
    let site = summarize(
        &states.iter().map(fields).collect::<Vec<_>>(),
        &marks.iter().map(fields).collect::<Vec<_>>(),
        &pending,
    );
    let mut site = site;
    // The cloud's own alarms about this agent (offline, traffic) until they
    // clear, acknowledged or not: standing first, as the agent's.
    let cloud: Vec<SiteAlarm> = ctx
        .store()
        .alarms()
        .alarms(&c_account(ctx, agent).await?, Some(agent), 20)
        .await?
        .iter()
        .filter(|a| a.cleared_ms.is_none())
        .map(cloud_site_alarm)
        .collect();
    site.splice(0..0, cloud);
    Ok((states, site))
}

async fn c_account(ctx: &Ctx, agent: &str) -> ApiResult<String> {
    Ok(ctx.store().agent(agent).await?.map(|a| a.account).unwrap_or_default())
}

/// The alarm id a cloud alarm has among a site's alarms.
pub const CLOUD_PREFIX: &str = "cloud-";

/// A cloud alarm as one of the site's alarms: its id `cloud-<id>`, its
/// name the kind (the UI words it), UNACK until acknowledged, then ACKED.
fn cloud_site_alarm(a: &crate::store::alarms::CloudAlarm) -> SiteAlarm {
    let acked = a.ack.is_some();
    SiteAlarm {
        alarm_id: format!("{CLOUD_PREFIX}{}", a.id),
        name: a.kind.clone(),
        severity: if matches!(a.kind.as_str(), "agent_offline" | "traffic_100") { "high" } else { "medium" }.into(),
        state: if acked { "ACKED" } else { "UNACK" }.into(),
        active: true,
        unacked: !acked,
        changed_ms: a.ack.as_ref().map_or(a.raised_ms, |m| m.t),
        since_ms: Some(a.raised_ms),
        ack: a.ack.clone(),
        pending_ack: None,
    }
}

/// A visible agent's alarm states: each alarm's latest journal transition, and the cloud's offline alarm
#[utoipa::path(get, path = "/api/v1/agents/{id}/alarms", tag = "agents", params(("id" = String, Path, description = "agent id")), security(("bearer" = [])), responses(
    (status = 200, description = "The alarm states", body = AlarmsReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn alarms(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<Json<AlarmsReply>> {
    let a = c.agent(&ctx, &id).await?;
    let (alarms, site) = site_alarms(&ctx, &a.id).await?;
    let presence = ctx.store().records().presences().await?.into_iter().find(|p| p.agent == a.id);
    Ok(Json(AlarmsReply {
        agent: a.id,
        offline: presence.as_ref().is_some_and(|p| p.offline_alarm),
        offline_changed_ms: presence.as_ref().and_then(|p| p.alarm_ms),
        connected: presence.and_then(|p| p.online),
        alarms,
        site,
    }))
}

/// What an acknowledgement in the cloud says.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// Why (at most 4096 characters); journaled on the agent with the user.
    #[serde(default)]
    pub(crate) comment: Option<String>,
}

/// An acknowledgement made in the cloud, on its way to the agent.
#[derive(Serialize, ToSchema)]
pub struct AckReply {
    agent: String,
    /// An agent alarm's acknowledgement on its way to the agent.
    pending: Option<PendingAck>,
    /// A cloud alarm (`cloud-<id>`), acknowledged at once.
    cloud_alarm: Option<crate::store::alarms::CloudAlarm>,
    /// The alarm as the cloud shows it now (with the pending acknowledgement).
    alarm: Option<SiteAlarm>,
}

/// Acknowledge an alarm of a visible agent (members and admins): kept until the agent's journal shows it, sent to the agent meanwhile
#[utoipa::path(post, path = "/api/v1/agents/{id}/alarms/{alarm}/ack", tag = "agents", request_body = AckBody, params(("id" = String, Path, description = "agent id"), ("alarm" = String, Path, description = "alarm id")), security(("bearer" = [])), responses(
    (status = 202, description = "Accepted: on its way to the agent", body = AckReply),
    (status = 200, description = "A cloud alarm (id cloud-<id>) acknowledged", body = AckReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn ack_alarm(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path((id, alarm)): Path<(String, String)>,
    Json(b): Json<AckBody>,
) -> ApiResult<(StatusCode, Json<AckReply>)> {
    // Another account's (or a hidden) agent is not found, before the role says no.
    let a = c.agent(&ctx, &id).await?;
    c.require_member("acknowledge alarms")?;
    let comment = b.comment.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if comment.as_ref().is_some_and(|s| s.chars().count() > MAX_TEXT_CHARS) {
        return Err(ApiError::bad_request(t("cloud-comment-long").arg("max", MAX_TEXT_CHARS.to_string())));
    }
    if let Some(id) = alarm.strip_prefix(CLOUD_PREFIX) {
        let done = super::cloud_alarms::ack_cloud_alarm(&ctx, &c, id, comment, Some(&a.id)).await?;
        let (_, site) = site_alarms(&ctx, &a.id).await?;
        let alarm = site.into_iter().find(|s| s.alarm_id == alarm);
        return Ok((StatusCode::OK, Json(AckReply { agent: a.id, pending: None, alarm, cloud_alarm: Some(done) })));
    }
    let (_, site) = site_alarms(&ctx, &a.id).await?;
    let Some(found) = site.iter().find(|s| s.alarm_id == alarm) else {
        return Err(ApiError::not_found(
            t("cloud-alarm-not-synced").arg("alarm", format!("{alarm:?}")).arg("agent", a.id.as_str()),
        ));
    };
    if !found.unacked {
        return Err(ApiError::conflict(
            t("cloud-alarm-no-ack-needed").arg("alarm", format!("{alarm:?}")).arg("state", found.state.to_string()),
        ));
    }
    if let Some(p) = found.pending_ack.as_ref().filter(|p| p.expired_ms.is_none()) {
        return Err(ApiError::conflict(
            t("cloud-alarm-acked-pending").arg("alarm", format!("{alarm:?}")).arg("user", p.user.to_string()),
        ));
    }
    let pending = PendingAck {
        id: format!("{:032x}", rand::random::<u128>()),
        alarm_id: alarm.clone(),
        user: c.user.id.clone(),
        comment,
        created_ms: ctx.now(),
        sends: 0,
        expired_ms: None,
    };
    ctx.store().records().add_cloud_ack(&a.id, &pending).await?;
    tracing::info!(agent = %a.id, alarm = %alarm, user = %c.user.id, "alarm acknowledged in the cloud; on its way to the agent");
    let (_, site) = site_alarms(&ctx, &a.id).await?;
    let alarm = site.into_iter().find(|s| s.alarm_id == alarm);
    Ok((StatusCode::ACCEPTED, Json(AckReply { agent: a.id, pending: Some(pending), alarm, cloud_alarm: None })))
}

/// The silence after which an agent of the account counts as offline.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineSetting {
    /// Seconds (5 to 604800); the default is 300.
    offline_after_s: u64,
}

/// The account's offline alarm setting
#[utoipa::path(get, path = "/api/v1/account/offline-alarm", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "The setting", body = OfflineSetting),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn offline_setting(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<OfflineSetting>> {
    let s = ctx.store().records().offline_after(&c.account.id).await?;
    Ok(Json(OfflineSetting { offline_after_s: s.unwrap_or(DEFAULT_OFFLINE_AFTER_S) }))
}

/// Set the silence after which an agent counts as offline (admins)
#[utoipa::path(put, path = "/api/v1/account/offline-alarm", tag = "account", request_body = OfflineSetting, security(("bearer" = [])), responses(
    (status = 200, description = "The setting as stored", body = OfflineSetting),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn set_offline_setting(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<OfflineSetting>,
) -> ApiResult<Json<OfflineSetting>> {
    c.require_admin("change the offline alarm setting")?;
    if !(MIN_OFFLINE_AFTER_S..=MAX_OFFLINE_AFTER_S).contains(&b.offline_after_s) {
        return Err(ApiError::bad_request(
            t("cloud-offline-after")
                .arg("min", MIN_OFFLINE_AFTER_S.to_string())
                .arg("max", MAX_OFFLINE_AFTER_S.to_string())
                .arg("value", b.offline_after_s.to_string()),
        ));
    }
    ctx.store().records().set_offline_after(&c.account.id, b.offline_after_s).await?;
    Ok(Json(b))
}
