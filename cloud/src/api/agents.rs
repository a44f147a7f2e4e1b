//! Agents (with their sync state), their channels, and the channels' data:
//! raw samples, min/max downsampling, the latest value, CSV export.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Full;
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::state::BrokerEndpoint;
use crate::store::{Agent, AgentSync, CloudChannel, MinMax, Point, SampleKey, TimeMs};

/// An agent that never sent a presence message (older agents) counts as
/// online with a batch within this span.
pub const ONLINE_MS: TimeMs = 2 * 60 * 1000;

/// Online as the offline monitor sees it: the agent's last presence message
/// (its retained "online", its goodbye or the broker's last will) when it
/// sent one, so the list never says "online" beside a standing offline
/// alarm; else a recent batch.
fn is_online(presence: Option<bool>, last_batch_ms: Option<TimeMs>, now: TimeMs) -> bool {
    presence.unwrap_or_else(|| last_batch_ms.is_some_and(|t| now - t <= ONLINE_MS))
}

/// Each agent's last presence message, read once per request.
async fn presences(ctx: &Ctx) -> ApiResult<std::collections::HashMap<String, bool>> {
    let rows = ctx.store().records().presences().await?;
    Ok(rows.into_iter().filter_map(|p| p.online.map(|o| (p.agent, o))).collect())
}

#[derive(Serialize, ToSchema)]
pub struct AgentView {
    id: String,
    name: String,
    created_ms: TimeMs,
    online: bool,
    sync: AgentSync,
    /// Payload bytes this UTC month, and the monthly allowance (a gateway's
    /// Remote plan's; null for agents without one: no allowance).
    traffic_month: String,
    traffic_bytes: u64,
    traffic_allowance: Option<u64>,
    /// The agent's Remote (gateway) plan term, if it has one: "basic" | "pro".
    gateway_plan: Option<String>,
    gateway_expires: Option<TimeMs>,
    /// Why the gateway does not send now (allowance used up, term ended).
    stopped: Option<String>,
    topic_prefix: String,
}

fn month(now: TimeMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default().format("%Y-%m").to_string()
}

async fn view(
    ctx: &Ctx,
    a: Agent,
    licence: &crate::store::LicenceState,
    account_allowance: u64,
    presence: Option<bool>,
) -> ApiResult<AgentView> {
    let now = ctx.now();
    let m = month(now);
    let traffic = ctx.store().traffic(&a.id, &m).await?;
    let term = licence.gateways.iter().find(|g| g.agent == a.id);
    let active = term.filter(|g| now < g.expires);
    Ok(AgentView {
        traffic_allowance: active
            .map(|g| g.plan.limits().traffic_bytes_per_month)
            .or((account_allowance > 0).then_some(account_allowance)),
        gateway_plan: term.map(|g| format!("{:?}", g.plan).to_lowercase()),
        gateway_expires: term.map(|g| g.expires),
        stopped: crate::licence::traffic::stopped_because(term, traffic, now),
        online: is_online(presence, a.sync.last_batch_ms, now),
        topic_prefix: meterdeck_wire::sync::agent_prefix(&a.id),
        id: a.id,
        name: a.name,
        created_ms: a.created_ms,
        sync: a.sync,
        traffic_month: m,
        traffic_bytes: traffic,
    })
}

/// Visible agents with sync state, this month's traffic and the allowance
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])), responses(
    (status = 200, description = "The agents", body = Vec<AgentView>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_agents(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<AgentView>>> {
    let visible = c.visible_agents(&ctx).await?;
    let (licence, _) = crate::licence::state(ctx.store(), &c.account.id).await?;
    let presence = presences(&ctx).await?;
    let mut out = Vec::new();
    for a in ctx.store().agents(&c.account.id).await? {
        if visible.as_ref().is_none_or(|v| v.contains(&a.id)) {
            let p = presence.get(&a.id).copied();
            out.push(view(&ctx, a, &licence, c.account.traffic_allowance, p).await?);
        }
    }
    Ok(Json(out))
}

/// One visible agent
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path, description = "agent id")), security(("bearer" = [])), responses(
    (status = 200, description = "The agent", body = AgentView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_agent(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<Json<AgentView>> {
    let a = c.agent(&ctx, &id).await?;
    let (licence, _) = crate::licence::state(ctx.store(), &c.account.id).await?;
    let p = presences(&ctx).await?.get(&a.id).copied();
    Ok(Json(view(&ctx, a, &licence, c.account.traffic_allowance, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    name: String,
}

/// A registered agent with its secret (shown once) and where it connects.
#[derive(Serialize, ToSchema)]
pub struct RegisteredAgent {
    id: String,
    name: String,
    secret: String,
    broker: BrokerEndpoint,
    topic_prefix: String,
    note: String,
}

/// Register an agent: id, secret (once), broker endpoint and topic prefix
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgent, security(("bearer" = [])), responses(
    (status = 201, description = "Registered", body = RegisteredAgent),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn register_agent(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<NewAgent>,
) -> ApiResult<(StatusCode, Json<RegisteredAgent>)> {
    c.require_admin("register agents")?;
    let (agent, secret) =
        crate::admin::register_agent_at(&*ctx.app.store, &*ctx.app.broker, &c.account.id, &b.name, ctx.now())
            .await
            .map_err(admin_error)?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredAgent {
            topic_prefix: meterdeck_wire::sync::agent_prefix(&agent.id),
            id: agent.id,
            name: agent.name,
            secret,
            broker: ctx.app.broker.endpoint(),
            note: "the secret is shown only now; store it in the agent's keychain (meterdeck-agent cloud login)".into(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    id: String,
    secret: String,
    note: String,
}

/// Give the agent a new secret (returned once); the old one stops working
#[utoipa::path(post, path = "/api/v1/agents/{id}/secret", tag = "agents", params(("id" = String, Path, description = "agent id")), security(("bearer" = [])), responses(
    (status = 200, description = "The new secret", body = RotatedSecret),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn rotate_secret(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
) -> ApiResult<Json<RotatedSecret>> {
    c.require_admin("give agents new secrets")?;
    let a = c.agent(&ctx, &id).await?;
    let secret = crate::admin::rotate_agent_secret(&*ctx.app.store, &*ctx.app.broker, &c.account.id, &a.id)
        .await
        .map_err(admin_error)?;
    Ok(Json(RotatedSecret {
        id: a.id,
        secret,
        note: "the old secret no longer works; store this one in the agent's keychain (meterdeck-agent cloud login)"
            .into(),
    }))
}

pub(super) fn admin_error(e: crate::admin::AdminError) -> ApiError {
    match e {
        crate::admin::AdminError::Invalid(m) => ApiError::bad_request(m),
        crate::admin::AdminError::Store(s) => s.into(),
        crate::admin::AdminError::Broker(m) => ApiError::unavailable(m),
        crate::admin::AdminError::Limit(l) => ApiError::plan_limit(l),
    }
}

/// Delete an agent with its channels and data
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path, description = "agent id")), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = 503, description = "Deleted, but the broker could not be told yet", body = ErrorBody),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_agent(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    // Admins see every agent of their account, so the lookup is the check.
    c.require_admin("delete agents")?;
    let a = c.agent(&ctx, &id).await?;
    let files = ctx.store().files().file_ids(&c.account.id, Some(&a.id)).await?;
    ctx.store().delete_agent(&c.account.id, &a.id).await?;
    // Its cloud alarms end with it: no reminders about a deleted agent.
    for kind in crate::store::alarms::KINDS {
        ctx.store().alarms().clear(&c.account.id, Some(&a.id), kind, None, ctx.now()).await?;
    }
    super::files::remove_bytes(&ctx, &c.account.id, &files).await;
    if let Err(e) = ctx.app.broker.agents_changed().await {
        tracing::warn!(error = %e, agent = %a.id, "broker not updated after agent deletion");
        return Err(ApiError::unavailable(
            t("cloud-agent-deleted-broker").arg("id", a.id.as_str()).arg("error", e.to_string()),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Channels of a visible agent
#[utoipa::path(get, path = "/api/v1/agents/{id}/channels", tag = "agents", params(("id" = String, Path, description = "agent id")), security(("bearer" = [])), responses(
    (status = 200, description = "The channels", body = Vec<CloudChannel>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn agent_channels(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CloudChannel>>> {
    let a = c.agent(&ctx, &id).await?;
    Ok(Json(ctx.store().channels(&a.id).await?))
}

// ---- data -------------------------------------------------------------------

/// A time as milliseconds since 1970 or ISO-8601 / RFC 3339.
pub(crate) fn parse_time(what: &str, s: &str) -> ApiResult<TimeMs> {
    // Years 0 to 9999: spans stay far from i64 overflow in bucket math.
    use crate::store::series::{MAX_TIME_MS as MAX, MIN_TIME_MS as MIN};
    let ms = match s.trim().parse::<i64>() {
        Ok(ms) => ms,
        Err(_) => DateTime::parse_from_rfc3339(s.trim()).map(|t| t.timestamp_millis()).map_err(|_| {
            ApiError::bad_request(t("cloud-time-unreadable").arg("what", what).arg("value", format!("{s:?}")))
        })?,
    };
    if !(MIN..=MAX).contains(&ms) {
        return Err(ApiError::bad_request(t("cloud-time-years").arg("what", what).arg("value", format!("{s:?}"))));
    }
    Ok(ms)
}

/// A time range and how to read it.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Start (inclusive): ms since 1970 or ISO-8601; default the channel's first sample.
    from: Option<String>,
    /// End (exclusive): ms since 1970 or ISO-8601; default after the channel's last sample.
    to: Option<String>,
    /// raw: at most this many samples (1 to 100000, default 10000).
    #[param(minimum = 1, maximum = 100000)]
    limit: Option<usize>,
    /// minmax: buckets (1 to 20000, default 1000).
    #[param(minimum = 1, maximum = 20000)]
    buckets: Option<usize>,
    /// The `next` of the previous page: continue after that sample.
    after: Option<String>,
}

fn cursor(q: &RangeQuery) -> ApiResult<Option<SampleKey>> {
    q.after
        .as_deref()
        .map(|a| a.parse().map_err(|_| ApiError::bad_request(t("cloud-cursor").arg("after", format!("{a:?}")))))
        .transpose()
}

pub const MAX_RAW: usize = 100_000;
pub const MAX_BUCKETS: usize = 20_000;

/// `[from, to)`, defaulting to the channel's whole span.
fn range(q: &RangeQuery, ch: &CloudChannel) -> ApiResult<(TimeMs, TimeMs)> {
    let from = match &q.from {
        Some(s) => parse_time("from", s)?,
        None => ch.t_first.unwrap_or(0),
    };
    let to = match &q.to {
        Some(s) => parse_time("to", s)?,
        None => ch.t_last.map(|t| t.saturating_add(1)).unwrap_or(from.saturating_add(1)),
    };
    if from >= to {
        return Err(ApiError::bad_request(
            t("cloud-from-before-to").arg("from", from.to_string()).arg("to", to.to_string()),
        ));
    }
    Ok((from, to))
}

pub(crate) fn channel_id(s: &str) -> ApiResult<i64> {
    s.parse().map_err(|_| ApiError::bad_request(t("cloud-channel-id-nan").arg("id", format!("{s:?}"))))
}

/// One page of samples, in time order.
#[derive(Serialize, ToSchema)]
pub struct RawReply {
    channel: i64,
    from: TimeMs,
    to: TimeMs,
    /// The page is full: more may follow (`after` = `next`).
    truncated: bool,
    next: Option<String>,
    points: Vec<Point>,
}

/// Samples with from <= t < to in time order, at most limit; continue with after = next
#[utoipa::path(get, path = "/api/v1/channels/{id}/raw", tag = "channels", params(("id" = i64, Path, description = "channel id"), RangeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of samples", body = RawReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn raw(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<RawReply>> {
    let (ch, _) = c.channel(&ctx, channel_id(&id)?).await?;
    let (from, to) = range(&q, &ch)?;
    let limit = q.limit.unwrap_or(10_000);
    if limit == 0 || limit > MAX_RAW {
        return Err(ApiError::bad_request(t("cloud-limit-range").arg("max", MAX_RAW.to_string())));
    }
    // Time order, paged by (time, storage position): never by time alone,
    // which repeats or drops samples stored out of order.
    let page = ctx.store().raw_page(ch.id, from, to, cursor(&q)?, limit).await?;
    let truncated = page.len() == limit;
    let next = page.last().filter(|_| truncated).map(|(k, _)| k.to_string());
    let points: Vec<Point> = page.into_iter().map(|(_, p)| p).collect();
    Ok(Json(RawReply { channel: ch.id, from, to, truncated, next, points }))
}

#[derive(Serialize, ToSchema)]
pub struct MinMaxReply {
    channel: i64,
    from: TimeMs,
    to: TimeMs,
    buckets: Vec<MinMax>,
}

/// Min/max per bucket of [from, to)
#[utoipa::path(get, path = "/api/v1/channels/{id}/minmax", tag = "channels", params(("id" = i64, Path, description = "channel id"), RangeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The buckets", body = MinMaxReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn minmax(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<MinMaxReply>> {
    let (ch, _) = c.channel(&ctx, channel_id(&id)?).await?;
    let (from, to) = range(&q, &ch)?;
    let buckets = q.buckets.unwrap_or(1000);
    if buckets == 0 || buckets > MAX_BUCKETS {
        return Err(ApiError::bad_request(t("cloud-buckets-range").arg("max", MAX_BUCKETS.to_string())));
    }
    let b: Vec<MinMax> = ctx.store().minmax(ch.id, from, to, buckets).await?;
    Ok(Json(MinMaxReply { channel: ch.id, from, to, buckets: b }))
}

#[derive(Serialize, ToSchema)]
pub struct LatestReply {
    channel: i64,
    path: String,
    unit: Option<String>,
    point: Option<Point>,
}

/// The newest sample
#[utoipa::path(get, path = "/api/v1/channels/{id}/latest", tag = "channels", params(("id" = i64, Path, description = "channel id")), security(("bearer" = [])), responses(
    (status = 200, description = "The newest sample, if any", body = LatestReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn latest(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<Json<LatestReply>> {
    let (ch, _) = c.channel(&ctx, channel_id(&id)?).await?;
    let point = ctx.store().latest(ch.id).await?;
    Ok(Json(LatestReply { channel: ch.id, path: ch.path, unit: ch.unit, point }))
}

pub(crate) fn iso(t: TimeMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(t)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| t.to_string())
}

/// A channel's CSV header line: `time,"path [unit]"`.
pub(crate) fn csv_head(ch: &CloudChannel) -> String {
    let name = format!("{}{}", ch.path, ch.unit.as_deref().map(|u| format!(" [{u}]")).unwrap_or_default());
    format!("time,{}\n", super::csv::text_cell(&name))
}

/// One CSV line: ISO-8601 UTC time, the value (empty for a special one).
pub(crate) fn csv_row(out: &mut String, p: &Point) {
    out.push_str(&iso(p.t));
    out.push(',');
    if let Some(v) = p.v {
        out.push_str(&v.to_string());
    }
    out.push('\n');
}

/// A channel's CSV file name: `<agent>-<path with unsafe characters as _>.csv`.
pub(crate) fn csv_file_name(agent: &str, ch: &CloudChannel) -> String {
    format!("{agent}-{}.csv", ch.path.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"))
}

/// At most this many rows per CSV request; the rest with `after` = the
/// answer's `X-Next-After`.
pub const MAX_CSV_ROWS: usize = 5_000_000;
/// The header of a cut CSV export naming where to continue.
pub const NEXT_HEADER: &str = "x-next-after";

/// Samples as CSV (time in ISO-8601 UTC, value), in time order
#[utoipa::path(get, path = "/api/v1/channels/{id}/csv", tag = "channels", params(("id" = i64, Path, description = "channel id"), RangeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "CSV; cut at 5,000,000 rows with X-Next-After", content_type = "text/csv", body = String,
        headers(("x-next-after" = String, description = "Where to continue (`after`) when cut"))),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn csv(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Response> {
    let (ch, agent) = c.channel(&ctx, channel_id(&id)?).await?;
    let (from, to) = range(&q, &ch)?;
    let mut out = csv_head(&ch);
    let mut rows = 0;
    let mut after = cursor(&q)?;
    const PAGE: usize = 50_000;
    // Pages by (time, storage position), so samples stored out of time
    // order come once each, in time order.
    let next = loop {
        let page = ctx.store().raw_page(ch.id, from, to, after, PAGE).await?;
        for (_, p) in &page {
            csv_row(&mut out, p);
        }
        rows += page.len();
        after = page.last().map(|(k, _)| *k);
        if page.len() < PAGE {
            break None;
        }
        if rows >= MAX_CSV_ROWS {
            break after;
        }
    };
    let file = csv_file_name(&agent.id, &ch);
    let mut resp = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        out,
    )
        .into_response();
    // Cut at MAX_CSV_ROWS: where the next request continues (`after`).
    if let Some(next) = next.and_then(|k| header::HeaderValue::from_str(&k.to_string()).ok()) {
        resp.headers_mut().insert(NEXT_HEADER, next);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_decides_online_and_batches_only_without_one() {
        let now = 10 * ONLINE_MS;
        // A clean stop or the last will: offline at once, however recent the batch.
        assert!(!is_online(Some(false), Some(now - 1_000), now));
        assert!(is_online(Some(true), Some(now - 3 * ONLINE_MS), now));
        // No presence message yet: a recent batch.
        assert!(is_online(None, Some(now - ONLINE_MS), now));
        assert!(!is_online(None, Some(now - ONLINE_MS - 1), now));
        assert!(!is_online(None, None, now));
    }
}
