//! The licence over the Web API (docs/ the interface file): the authority's
//! public key, the signed document for a user or an agent, the status the
//! window's Licence screen shows, the history, and for admins applying a
//! card and changing the plan.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use meterdeck_wire::licence::{Limits, Plan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{Caller, Full};
use super::error::{ErrorBody, Json, t};
use super::{ApiError, ApiResult, Ctx};
use crate::licence::{self, terms};
use crate::store::{ChannelBytes, LicenceEvent, LicenceState, TimeMs};

/// The authority's public key (pinned by agents at `cloud login`).
#[derive(Serialize, ToSchema)]
pub struct LicenceKey {
    /// `md-ed25519:<base64 of 32 bytes>`.
    key: String,
    /// `ed25519:<first 8 bytes hex>`, as in licence files.
    key_id: String,
}

/// The licence authority's public key
#[utoipa::path(get, path = "/api/v1/licence/key", tag = "licence", responses(
    (status = 200, description = "The key", body = LicenceKey),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn key(State(ctx): State<Ctx>) -> Json<LicenceKey> {
    let (key, key_id) = licence::public_key(&ctx.app.licence_key);
    Json(LicenceKey { key, key_id })
}

/// A signed licence file (`meterdeck-licence/1`): verify it with
/// `wire::licence::verify` and the pinned key; `payload` is base64 JSON.
#[derive(Serialize, ToSchema)]
pub struct LicenceFileView {
    kind: String,
    key: String,
    payload: String,
    signature: String,
}

/// Whether `GET /licence` was called with HTTP Basic (an agent's id and secret).
pub(crate) fn is_agent_login(method: &str, path: &str, auth: &HeaderValue) -> bool {
    method == "GET"
        && path == "/licence"
        && auth.to_str().is_ok_and(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "))
}

/// The account of the agent whose `id:secret` the Basic header holds.
async fn agent_account(ctx: &Ctx, auth: &str) -> ApiResult<String> {
    Ok(super::caller::basic_agent(ctx, auth).await?.account)
}

/// The caller's licence, freshly signed
///
/// A user (session or API token) or an agent (HTTP Basic `agent_id:agent_secret`).
#[utoipa::path(get, path = "/api/v1/licence", tag = "licence", security(("bearer" = []), ("basic" = [])), responses(
    (status = 200, description = "The licence file", body = LicenceFileView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn document(
    State(ctx): State<Ctx>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let account = match caller {
        Some(axum::Extension(c)) => super::caller::full(c)?.account.id,
        None => {
            let auth = headers
                .get(AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .filter(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "))
                .ok_or_else(|| ApiError::unauthorized(t("cloud-licence-log-authorization-bearer")))?;
            agent_account(&ctx, auth).await?
        }
    };
    let text = licence::signed_document(ctx.store(), &ctx.app.licence_key, &account, ctx.now()).await?;
    Ok(([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], text).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Usage {
    users: u64,
    teams: u64,
    agents: u64,
    groups: u64,
    /// Bytes the account's data takes in the cloud.
    storage_bytes: u64,
}

#[derive(Serialize, ToSchema)]
pub struct GatewayStatus {
    agent: String,
    /// "basic" | "pro" (Remote plans).
    plan: String,
    /// End of the term, ms UTC.
    expires: TimeMs,
    days_left: i64,
    /// In its term now; when not, the gateway does not send.
    active: bool,
    /// Payload bytes this UTC month and the month's allowance.
    traffic_month: String,
    traffic_bytes: u64,
    traffic_allowance: u64,
    /// Why the gateway is stopped (allowance used, term ended), if it is.
    stopped: Option<String>,
    #[schema(value_type = Object)]
    limits: meterdeck_wire::licence::RemoteLimits,
}

/// What the window's Licence screen shows.
#[derive(Serialize, ToSchema)]
pub struct LicenceStatus {
    account: String,
    /// The plan in force: "free" | "standard" | "pro" (Free after a lapse).
    plan: String,
    /// End of the paid term, ms UTC; null on Free or without a term.
    expires: Option<TimeMs>,
    days_left: Option<i64>,
    /// The last plan change and the earliest next one (once a month).
    plan_changed: Option<TimeMs>,
    next_plan_change: Option<TimeMs>,
    #[schema(value_type = Object)]
    limits: Limits,
    usage: Usage,
    gateways: Vec<GatewayStatus>,
    /// Set while the data is over the plan's capacity: deleted 31 days after it unless reduced.
    over_capacity_since: Option<TimeMs>,
}

fn plan_text(p: Plan) -> String {
    format!("{p:?}").to_lowercase()
}

pub(crate) async fn status_of(ctx: &Ctx, st: &LicenceState) -> ApiResult<LicenceStatus> {
    let now = ctx.now();
    let store = ctx.store();
    let acc = &st.account;
    let (plan, expires) = terms::effective(st, now);
    let month =
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now).unwrap_or_default().format("%Y-%m").to_string();
    let mut gateways = Vec::new();
    for g in &st.gateways {
        let traffic = store.traffic(&g.agent, &month).await?;
        let allowance = g.plan.limits().traffic_bytes_per_month;
        let active = now < g.expires;
        let stopped = crate::licence::traffic::stopped_because(Some(g), traffic, now);
        gateways.push(GatewayStatus {
            agent: g.agent.clone(),
            plan: format!("{:?}", g.plan).to_lowercase(),
            expires: g.expires,
            days_left: terms::days_left(g.expires, now),
            active,
            traffic_month: month.clone(),
            traffic_bytes: traffic,
            traffic_allowance: allowance,
            stopped,
            limits: g.plan.limits(),
        });
    }
    // Measurement series and uploaded files (unfinished uploads count whole).
    let storage: u64 =
        store.storage_used(acc).await?.iter().map(|c| c.bytes).sum::<u64>() + store.files().file_bytes(acc).await?;
    Ok(LicenceStatus {
        account: acc.clone(),
        plan: plan_text(plan),
        expires,
        days_left: expires.map(|e| terms::days_left(e, now)),
        plan_changed: st.plan_changed,
        next_plan_change: st.plan_changed.map(|t| terms::add_months(t, 1)),
        limits: plan.limits(),
        usage: Usage {
            users: store.users(acc).await?.len() as u64,
            teams: store.teams(acc).await?.len() as u64,
            agents: store.agents(acc).await?.iter().filter(|a| crate::admin::is_registered(a)).count() as u64,
            groups: store.groups(acc).await?.len() as u64,
            storage_bytes: storage,
        },
        gateways,
        over_capacity_since: st.over_capacity_since,
    })
}

/// Plan, term, limits with their use, gateways
#[utoipa::path(get, path = "/api/v1/licence/status", tag = "licence", security(("bearer" = [])), responses(
    (status = 200, description = "The licence status", body = LicenceStatus),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn status(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<LicenceStatus>> {
    let (st, _) = licence::state(ctx.store(), &c.account.id).await?;
    Ok(Json(status_of(&ctx, &st).await?))
}

/// The licence history, newest first
#[utoipa::path(get, path = "/api/v1/licence/history", tag = "licence", security(("bearer" = [])), responses(
    (status = 200, description = "The history", body = Vec<LicenceEvent>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn history(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<LicenceEvent>>> {
    Ok(Json(ctx.store().licence_history(&c.account.id, 1000).await?))
}

/// Storage per channel (of the agents the caller sees), largest first
#[utoipa::path(get, path = "/api/v1/licence/storage", tag = "licence", security(("bearer" = [])), responses(
    (status = 200, description = "Bytes per channel", body = Vec<ChannelBytes>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn storage(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<ChannelBytes>>> {
    let visible = c.visible_agents(&ctx).await?;
    let all = ctx.store().storage_used(&c.account.id).await?;
    Ok(Json(all.into_iter().filter(|x| visible.as_ref().is_none_or(|v| v.contains(&x.agent))).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyCard {
    /// The card code as printed (`MDC-XXXX-XXXX-XXXX-XXXX`; dashes and case do not matter).
    card: String,
}

/// Apply a licence card to the account
#[utoipa::path(post, path = "/api/v1/licence/cards", tag = "licence", request_body = ApplyCard, security(("bearer" = [])), responses(
    (status = 200, description = "The new status", body = LicenceStatus),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn apply_card(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<ApplyCard>,
) -> ApiResult<Json<LicenceStatus>> {
    c.require_admin("apply licence cards")?;
    if b.card.len() > 100 {
        return Err(ApiError::bad_request(t("cloud-licence-card-code-has")));
    }
    let st = licence::apply_card(ctx.store(), &c.account.id, &b.card, &c.user.id, ctx.now()).await?;
    Ok(Json(status_of(&ctx, &st).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlan {
    /// "standard" | "pro"; with `agent`: "basic" | "pro" (its Remote plan).
    plan: String,
    /// A gateway agent: change its Remote plan instead of the account's.
    agent: Option<String>,
}

/// Change the plan (once a month; days left convert: Standard = Pro x 5, Basic = Pro x 2)
#[utoipa::path(post, path = "/api/v1/licence/plan", tag = "licence", request_body = ChangePlan, security(("bearer" = [])), responses(
    (status = 200, description = "The new status", body = LicenceStatus),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn change_plan(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<ChangePlan>,
) -> ApiResult<Json<LicenceStatus>> {
    c.require_admin("change the plan")?;
    let (acc, by, now) = (&c.account.id, &c.user.id, ctx.now());
    let st = match &b.agent {
        None => {
            let to = licence::parse_plan(&b.plan)
                .ok_or_else(|| ApiError::bad_request(t("cloud-plan-unknown").arg("plan", format!("{:?}", b.plan))))?;
            licence::change_plan(ctx.store(), acc, to, by, now).await?
        }
        Some(agent) => {
            let to = licence::parse_remote_plan(&b.plan).ok_or_else(|| {
                ApiError::bad_request(t("cloud-remote-plan-unknown").arg("plan", format!("{:?}", b.plan)))
            })?;
            licence::change_gateway_plan(ctx.store(), acc, agent, to, by, now).await?
        }
    };
    Ok(Json(status_of(&ctx, &st).await?))
}

/// The plan and limits in force for the caller's account (for the limit checks).
pub(crate) async fn in_force(ctx: &Ctx, account: &str) -> ApiResult<(Plan, Limits)> {
    Ok(licence::limits::in_force(ctx.store(), account, ctx.now()).await?)
}
