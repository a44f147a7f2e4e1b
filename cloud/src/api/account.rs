//! API tokens, the account (IP allow-list, deletion), the access log and
//! the health check.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::{Full, ip_text};
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::auth::secret::{self, API_TOKEN_PREFIX};
use crate::auth::{cidr, password};
use crate::store::{AccessEntry, AccessQuery, ApiToken, TimeMs};

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: String,
    user: String,
    name: String,
    created_ms: TimeMs,
    last_used_ms: Option<TimeMs>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView { id: t.id, user: t.user, name: t.name, created_ms: t.created_ms, last_used_ms: t.last_used_ms }
    }
}

/// API tokens (own; admins: all of the account)
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), responses(
    (status = 200, description = "The tokens", body = Vec<TokenView>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_tokens(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<TokenView>>> {
    let all = ctx.store().tokens(&c.account.id).await?;
    Ok(Json(all.into_iter().filter(|t| c.is_admin() || t.user == c.user.id).map(TokenView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

/// A new API token (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    id: String,
    name: String,
    token: String,
    note: String,
}

/// Create an API token (mdt_..., shown once) acting as the caller
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = CreatedToken),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn create_token(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    c.require_member("create API tokens")?;
    let (plan, limits) = super::licence::in_force(&ctx, &c.account.id).await?;
    crate::licence::limits::check_feature(&c.account.id, plan, &limits, "web_api")?;
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(ApiError::bad_request(t("cloud-account-token-name-must")));
    }
    let token = secret::new_token(API_TOKEN_PREFIX);
    let t = ApiToken {
        id: format!("t-{}", secret::new_id(8)),
        token_hash: secret::sha256_hex(&token),
        account: c.account.id.clone(),
        user: c.user.id.clone(),
        name: b.name,
        created_ms: ctx.now(),
        last_used_ms: None,
    };
    ctx.store().insert_token(&t).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: t.id,
            name: t.name,
            token,
            note: "the token is shown only now; it acts as you".into(),
        }),
    ))
}

/// Revoke an API token (own; admins: any)
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "token id")), security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_token(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    c.require_member("revoke API tokens")?;
    let missing = || ApiError::not_found(t("cloud-token-not-found").arg("id", id.to_string()));
    let t = ctx.store().tokens(&c.account.id).await?.into_iter().find(|t| t.id == id).ok_or_else(missing)?;
    if t.user != c.user.id && !c.is_admin() {
        return Err(missing());
    }
    ctx.store().delete_token(&c.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    id: String,
    name: String,
    plan: String,
    ip_allow: Vec<String>,
    traffic_allowance: u64,
    created_ms: TimeMs,
}

/// The account
#[utoipa::path(get, path = "/api/v1/account", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "The account", body = AccountView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_account(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<AccountView>> {
    let (plan, _) = super::licence::in_force(&ctx, &c.account.id).await?;
    let a = c.account;
    Ok(Json(AccountView {
        id: a.id,
        name: a.name,
        plan: format!("{plan:?}").to_lowercase(),
        ip_allow: a.ip_allow,
        traffic_allowance: a.traffic_allowance,
        created_ms: a.created_ms,
    }))
}

/// CIDR blocks (IPv4, IPv6); empty = anywhere.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpAllow {
    ip_allow: Vec<String>,
}

/// Set the IP allow-list (CIDR, IPv4 and IPv6; empty = anywhere)
#[utoipa::path(put, path = "/api/v1/account/ip-allow", tag = "account", request_body = IpAllow, security(("bearer" = [])), responses(
    (status = 200, description = "The list as stored", body = IpAllow),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn set_ip_allow(State(ctx): State<Ctx>, Full(c): Full, Json(b): Json<IpAllow>) -> ApiResult<Json<IpAllow>> {
    c.require_admin("set the IP allow-list")?;
    if b.ip_allow.len() > 200 {
        return Err(ApiError::bad_request(t("cloud-account-at-most-200")));
    }
    let parsed = cidr::parse_list(&b.ip_allow).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Clearing the list is always allowed (a lapsed Pro account can lift it).
    if !parsed.is_empty() {
        let (plan, limits) = super::licence::in_force(&ctx, &c.account.id).await?;
        crate::licence::limits::check_feature(&c.account.id, plan, &limits, "ip_restriction")?;
    }
    let list: Vec<String> = parsed.iter().map(|c| c.to_string()).collect();
    if !cidr::allowed(&list, c.ip) {
        return Err(ApiError::bad_request(t("cloud-ip-allow-lockout").arg("ip", ip_text(c.ip))));
    }
    let mut a = c.account.clone();
    a.ip_allow = list;
    ctx.store().update_account(&a).await?;
    Ok(Json(IpAllow { ip_allow: a.ip_allow }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    password: String,
}

/// Delete the account and all its data, agents and users (the admin's password)
#[utoipa::path(delete, path = "/api/v1/account", tag = "account", request_body = DeleteAccount, security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_account(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<DeleteAccount>,
) -> ApiResult<StatusCode> {
    c.require_admin("delete the account")?;
    let (pw, hash) = (b.password, c.user.password_hash.clone());
    let ok = password::verify_password_async(pw, hash).await;
    if !ok {
        return Err(ApiError::forbidden(t("cloud-account-password-wrong-account")));
    }
    let files = ctx.store().files().file_ids(&c.account.id, None).await?;
    ctx.store().delete_account(&c.account.id).await?;
    super::files::remove_bytes(&ctx, &c.account.id, &files).await;
    if let Err(e) = ctx.app.broker.agents_changed().await {
        tracing::warn!(error = %e, account = %c.account.id, "broker not updated after account deletion");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Newest entries (1 to 10000, default 200).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
    /// Skip this many matching entries (paging; default 0).
    #[param(minimum = 0, maximum = 10000000)]
    offset: Option<u64>,
    /// Only this user's entries.
    user: Option<String>,
    /// Only entries whose "METHOD path" contains this text (ASCII case-insensitive).
    action: Option<String>,
    /// Only entries at or after this time (ms since the epoch).
    from: Option<TimeMs>,
    /// Only entries before this time (ms since the epoch).
    to: Option<TimeMs>,
}

/// The largest page of the access log.
pub const LOG_PAGE_MAX: usize = 10_000;
/// The largest `offset`: paging deeper than this is what filters are for.
pub const LOG_OFFSET_MAX: u64 = 10_000_000;

/// Authenticated requests and logins, newest first; filtered by user,
/// action text and time, paged with offset (over the whole log)
#[utoipa::path(get, path = "/api/v1/access-log", tag = "account", params(LogQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The entries", body = Vec<AccessEntry>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn access_log(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<AccessEntry>>> {
    c.require_admin("read the access log")?;
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > LOG_PAGE_MAX {
        return Err(ApiError::bad_request(t("cloud-limit-range").arg("max", LOG_PAGE_MAX.to_string())));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > LOG_OFFSET_MAX {
        return Err(ApiError::bad_request(t("cloud-log-offset").arg("max", LOG_OFFSET_MAX.to_string())));
    }
    let text = |what: &str, v: Option<String>| -> ApiResult<Option<String>> {
        match v {
            Some(s) if s.len() > 200 => Err(ApiError::bad_request(format!("{what} is longer than 200 characters"))),
            Some(s) if s.trim().is_empty() => Ok(None),
            other => Ok(other),
        }
    };
    // Filters and pages run in the database's query: every entry of the
    // account can be found, however old.
    let query = AccessQuery {
        user: text("user", q.user)?.map(|u| u.trim().to_string()),
        action: text("action", q.action)?,
        from: q.from,
        to: q.to,
        offset,
        limit: limit as u64,
    };
    Ok(Json(ctx.store().access_log_query(&c.account.id, &query).await?))
}

/// Below this much free space in the data directory the service is "down".
pub const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// "ok" or "down".
    status: String,
    database: DatabaseHealth,
    broker: BrokerHealth,
    disk: DiskHealth,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseHealth {
    ok: bool,
    /// "sqlite" or "postgres".
    kind: String,
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BrokerHealth {
    ok: bool,
    connected: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DiskHealth {
    ok: bool,
    free_bytes: Option<u64>,
    min_free_bytes: u64,
    error: Option<String>,
}

/// Database, broker and disk state; 503 when something is down
///
/// No token: for load balancers and monitoring. Names no paths.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses(
    (status = 200, description = "Everything is up", body = Health),
    (status = 503, description = "Something is down", body = Health),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn health(State(ctx): State<Ctx>) -> (StatusCode, axum::Json<Health>) {
    let db = ctx.store().ping().await;
    let broker = ctx.app.broker.connected();
    let disk = rustix::fs::statvfs(&ctx.app.data_dir).map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    let disk_ok = matches!(disk, Ok(free) if free >= MIN_FREE_BYTES);
    let ok = db.is_ok() && broker && disk_ok;
    let body = Health {
        status: if ok { "ok" } else { "down" }.into(),
        database: DatabaseHealth {
            ok: db.is_ok(),
            kind: ctx.store().kind().into(),
            error: db.err().map(|_| "the database does not answer".into()),
        },
        broker: BrokerHealth { ok: broker, connected: broker },
        disk: DiskHealth {
            ok: disk_ok,
            free_bytes: disk.as_ref().ok().copied(),
            min_free_bytes: MIN_FREE_BYTES,
            error: disk.err().map(|e| format!("cannot read the data directory's file system: {e}")),
        },
    };
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, axum::Json(body))
}
