//! View-only alarm links (issue 16, SPEC 5.5; the token is `viewlink`):
//! an agent asks for one with its own credentials when it sends an alarm
//! message (`POST /agents/{id}/links`), and whoever holds it sees that
//! alarm's channels around its time without signing in
//! (`GET /view/{token}`), for 30 minutes. The series are the portal's
//! min/max buckets (`Storage::minmax`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agents::{MAX_BUCKETS, parse_time};
use super::caller::Caller;
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::{Agent, CloudChannel, MinMax, TimeMs};
use crate::viewlink::{LinkError, LinkTerms, MAX_CHANNELS};

/// Longest alarm id and name a link carries.
const MAX_ALARM_ID: usize = 200;
const MAX_ALARM_NAME: usize = 200;

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Altered => ApiError::forbidden(t("cloud-link-altered")).with_code("link_altered"),
            LinkError::Expired { at } => {
                ApiError::new(StatusCode::GONE, t("cloud-link-expired").arg("at", at)).with_code("link_expired")
            }
        }
    }
}

/// Whether the request asks for a link with HTTP Basic (an agent); the
/// handler checks the credentials.
pub(crate) fn is_agent_link(method: &str, path: &str, auth: &axum::http::HeaderValue) -> bool {
    method == "POST"
        && path.starts_with("/agents/")
        && path.ends_with("/links")
        && auth.to_str().is_ok_and(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "))
}

/// What an agent asks a link for: one of its alarms and its channels.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The agent's alarm id.
    alarm_id: String,
    /// The alarm's name as the message shows it.
    alarm_name: String,
    /// When the alarm happened, ms since 1970.
    at: TimeMs,
    /// The alarm's channels: `instrument/channel` paths of this agent, or
    /// their cloud channel ids (1 to 16).
    channels: Vec<String>,
}

/// A link, valid until `expires_ms`.
#[derive(Serialize, ToSchema)]
pub struct IssuedLink {
    token: String,
    /// The portal page, under the cloud's public URL (`--public-url`);
    /// null when the cloud has none: join `path` to the address used.
    url: Option<String>,
    /// `/v/<token>`.
    path: String,
    expires_ms: TimeMs,
    /// The window the page shows, `[from, to)`.
    from: TimeMs,
    to: TimeMs,
    channels: Vec<String>,
}

/// The agent itself (HTTP Basic), else why not. A user's token finds only
/// its own account's agents (404 otherwise, as for every id), then is refused.
async fn linking_agent(ctx: &Ctx, caller: Option<&Caller>, headers: &HeaderMap, id: &str) -> ApiResult<Agent> {
    if let Some(auth) = super::caller::basic_header(headers) {
        let agent = super::caller::basic_agent(ctx, auth).await?;
        // An agent links to its own alarms only; other ids do not exist for it.
        if agent.id != id {
            return Err(ApiError::not_found(t("cloud-agent-not-found").arg("id", id)));
        }
        return Ok(agent);
    }
    let Some(c) = caller else {
        return Err(ApiError::unauthorized(t("cloud-view-agents-only-basic")));
    };
    c.agent(ctx, id).await?;
    Err(ApiError::forbidden(t("cloud-view-agents-only-token")))
}

/// The request's channels as paths of `agent`'s own channels; an id or path
/// of another agent (of any account) is not found, as if it did not exist.
fn resolve_channels(agent: &Agent, own: &[CloudChannel], asked: &[String]) -> ApiResult<Vec<String>> {
    if asked.is_empty() || asked.len() > MAX_CHANNELS {
        return Err(ApiError::bad_request(
            t("cloud-link-channels").arg("max", MAX_CHANNELS.to_string()).arg("count", asked.len().to_string()),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for c in asked {
        let c = c.trim();
        let path = if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) {
            let id: i64 = c.parse().map_err(|_| ApiError::bad_request(format!("channel id {c:?} is too large")))?;
            own.iter().find(|ch| ch.id == id).map(|ch| ch.path.clone()).ok_or_else(|| {
                ApiError::not_found(
                    t("cloud-agent-channel-not-found").arg("id", id.to_string()).arg("agent", agent.id.as_str()),
                )
            })?
        } else {
            let ok = c.len() <= 200
                && !c.chars().any(char::is_control)
                && c.split_once('/').is_some_and(|(i, ch)| !i.is_empty() && !ch.is_empty() && !ch.contains('/'));
            if !ok {
                return Err(ApiError::bad_request(t("cloud-link-channel-path").arg("channel", format!("{c:?}"))));
            }
            c.to_string()
        };
        if !out.contains(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

/// Ask for a view-only link to one of the agent's alarms (agents, HTTP Basic): valid 30 minutes, showing the alarm's channels from 30 minutes before it to 10 minutes after
#[utoipa::path(post, path = "/api/v1/agents/{id}/links", tag = "agents", params(("id" = String, Path, description = "agent id (the caller's own)")), request_body = LinkRequest, security(("basic" = [])), responses(
    (status = 201, description = "The link", body = IssuedLink),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn create_link(
    State(ctx): State<Ctx>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<LinkRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<IssuedLink>)> {
    // Who calls is answered before what they sent.
    let agent = linking_agent(&ctx, caller.as_ref().map(|c| &c.0), &headers, &id).await?;
    let Json(b) = body?;
    let alarm_id = b.alarm_id.trim();
    if alarm_id.is_empty() || alarm_id.len() > MAX_ALARM_ID || alarm_id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "alarm_id must be 1 to {MAX_ALARM_ID} characters without control characters"
        )));
    }
    let alarm_name = b.alarm_name.trim();
    if alarm_name.len() > MAX_ALARM_NAME || alarm_name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "alarm_name must be at most {MAX_ALARM_NAME} characters without control characters"
        )));
    }
    let at = parse_time("at", &b.at.to_string())?;
    let own = ctx.store().channels(&agent.id).await?;
    let channels = resolve_channels(&agent, &own, &b.channels)?;
    let now = ctx.now();
    let terms = LinkTerms::around(&agent.id, alarm_id, alarm_name, at, Some(channels.clone()), now);
    let token = ctx.link_key.sign(&terms);
    let path = format!("/v/{token}");
    let url = ctx.app.mail.as_ref().map(|m| crate::viewlink::page_url(&m.public_url, &token));
    Ok((
        StatusCode::CREATED,
        Json(IssuedLink { token, url, path, expires_ms: terms.expires, from: terms.from, to: terms.to, channels }),
    ))
}

/// Narrowing what a link shows: a part of its window, fewer channels.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// Start (ms since 1970 or ISO-8601), inside the link's window; default its start.
    from: Option<String>,
    /// End (exclusive), inside the link's window; default its end.
    to: Option<String>,
    /// Min/max buckets per channel (1 to 20000, default 1000).
    #[param(minimum = 1, maximum = 20000)]
    buckets: Option<usize>,
    /// Comma-separated `instrument/channel` paths; each must be one of the link's.
    channels: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ViewAlarm {
    id: String,
    name: String,
    at: TimeMs,
}

#[derive(Serialize, ToSchema)]
pub struct ViewAgent {
    id: String,
    name: String,
}

/// One channel of the link, as min/max buckets over the window.
#[derive(Serialize, ToSchema)]
pub struct ViewChannel {
    path: String,
    unit: Option<String>,
    buckets: Vec<MinMax>,
}

/// What a view link shows.
#[derive(Serialize, ToSchema)]
pub struct ViewReply {
    agent: ViewAgent,
    alarm: ViewAlarm,
    /// The window shown, `[from, to)`: the link's, or the part asked for.
    from: TimeMs,
    to: TimeMs,
    /// The link's whole window.
    window_from: TimeMs,
    window_to: TimeMs,
    expires_ms: TimeMs,
    /// The link's channels the cloud has (one not synced yet is left out).
    channels: Vec<ViewChannel>,
}

/// A view-only link's alarm and its channels around its time (no sign-in; the token is the permission)
#[utoipa::path(get, path = "/api/v1/view/{token}", tag = "view", params(("token" = String, Path, description = "the link's token (from an alarm message)"), ViewQuery), responses(
    (status = 200, description = "The alarm and its channels' series", body = ViewReply),
    (status = 403, description = "The link was changed (code link_altered), or a channel asked for is not the link's", body = ErrorBody),
    (status = 410, description = "The link expired (code link_expired)", body = ErrorBody),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn view(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<Json<ViewReply>> {
    let terms = ctx.link_key.verify(&token, ctx.now())?;
    // The agent may have been deleted since: its data is gone with it.
    let agent = ctx
        .store()
        .agent(&terms.agent)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::GONE, t("cloud-link-agent-deleted")).with_code("link_expired"))?;
    let mut from = terms.from;
    let mut to = terms.to;
    if let Some(f) = q.from.as_deref() {
        from = parse_time("from", f)?.clamp(terms.from, terms.to);
    }
    if let Some(t) = q.to.as_deref() {
        to = parse_time("to", t)?.clamp(terms.from, terms.to);
    }
    if from >= to {
        return Err(ApiError::bad_request(
            t("cloud-link-window")
                .arg("from", from.to_string())
                .arg("to", to.to_string())
                .arg("start", terms.from.to_string())
                .arg("end", terms.to.to_string()),
        ));
    }
    let buckets = q.buckets.unwrap_or(1000);
    if buckets == 0 || buckets > MAX_BUCKETS {
        return Err(ApiError::bad_request(t("cloud-buckets-range").arg("max", MAX_BUCKETS.to_string())));
    }
    let wanted: Option<Vec<&str>> =
        q.channels.as_deref().map(|c| c.split(',').map(str::trim).filter(|p| !p.is_empty()).collect());
    if let Some(w) = &wanted
        && let Some(other) = w.iter().find(|p| !terms.allows(p))
    {
        return Err(ApiError::forbidden(t("cloud-link-other-channel").arg("channel", other.to_string()))
            .with_code("link_channel"));
    }
    let mut channels = Vec::new();
    for ch in ctx.store().channels(&agent.id).await? {
        if !terms.allows(&ch.path) || wanted.as_ref().is_some_and(|w| !w.contains(&ch.path.as_str())) {
            continue;
        }
        let b = ctx.store().minmax(ch.id, from, to, buckets).await?;
        channels.push(ViewChannel { path: ch.path, unit: ch.unit, buckets: b });
    }
    Ok(Json(ViewReply {
        agent: ViewAgent { id: agent.id, name: agent.name },
        alarm: ViewAlarm { id: terms.alarm_id, name: terms.alarm_name, at: terms.at },
        from,
        to,
        window_from: terms.from,
        window_to: terms.to,
        expires_ms: terms.expires,
        channels,
    }))
}
