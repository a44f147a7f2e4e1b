//! API tokens, the account (IP allow-list, deletion), the access log and
//! the health check.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::caller::{Full, ip_text};
use super::error::{Json, Path, Query};
use super::{ApiError, ApiResult, Ctx};
use crate::auth::secret::{self, API_TOKEN_PREFIX};
use crate::auth::{cidr, password};
use crate::store::{AccessEntry, ApiToken, TimeMs};

#[derive(Serialize)]
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

/// Own tokens; an admin sees every token of the account.
pub async fn list_tokens(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<TokenView>>> {
    let all = ctx.store().tokens(&c.account.id).await?;
    Ok(Json(all.into_iter().filter(|t| c.is_admin() || t.user == c.user.id).map(TokenView::from).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

pub async fn create_token(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    c.require_member("create API tokens")?;
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(ApiError::bad_request("the token name must have 1 to 100 characters"));
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
        Json(
            json!({ "id": t.id, "name": t.name, "token": token, "note": "the token is shown only now; it acts as you" }),
        ),
    ))
}

pub async fn delete_token(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<StatusCode> {
    c.require_member("revoke API tokens")?;
    let missing = || ApiError::not_found(format!("token {id} not found"));
    let t = ctx.store().tokens(&c.account.id).await?.into_iter().find(|t| t.id == id).ok_or_else(missing)?;
    if t.user != c.user.id && !c.is_admin() {
        return Err(missing());
    }
    ctx.store().delete_token(&c.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_account(Full(c): Full) -> Json<Value> {
    let a = &c.account;
    Json(json!({
        "id": a.id, "name": a.name, "plan": a.plan, "ip_allow": a.ip_allow,
        "traffic_allowance": a.traffic_allowance, "created_ms": a.created_ms,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAllow {
    ip_allow: Vec<String>,
}

pub async fn set_ip_allow(State(ctx): State<Ctx>, Full(c): Full, Json(b): Json<IpAllow>) -> ApiResult<Json<Value>> {
    c.require_admin("set the IP allow-list")?;
    if b.ip_allow.len() > 200 {
        return Err(ApiError::bad_request("at most 200 entries in the IP allow-list"));
    }
    let parsed = cidr::parse_list(&b.ip_allow).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let list: Vec<String> = parsed.iter().map(|c| c.to_string()).collect();
    if !cidr::allowed(&list, c.ip) {
        return Err(ApiError::bad_request(format!(
            "the list would lock you out: your address {} is not in it",
            ip_text(c.ip)
        )));
    }
    let mut a = c.account.clone();
    a.ip_allow = list;
    ctx.store().update_account(&a).await?;
    Ok(Json(json!({ "ip_allow": a.ip_allow })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    password: String,
}

/// Deletes the account and everything of it, after the admin's password.
pub async fn delete_account(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<DeleteAccount>,
) -> ApiResult<StatusCode> {
    c.require_admin("delete the account")?;
    let (pw, hash) = (b.password, c.user.password_hash.clone());
    let ok = password::verify_password_async(pw, hash).await;
    if !ok {
        return Err(ApiError::forbidden("the password is wrong; the account was not deleted"));
    }
    ctx.store().delete_account(&c.account.id).await?;
    if let Err(e) = ctx.app.broker.agents_changed().await {
        tracing::warn!(error = %e, account = %c.account.id, "broker not updated after account deletion");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    limit: Option<usize>,
}

pub async fn access_log(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<AccessEntry>>> {
    c.require_admin("read the access log")?;
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::bad_request("limit must be 1 to 10000"));
    }
    Ok(Json(ctx.store().access_log(&c.account.id, limit).await?))
}

/// Below this much free space in the data directory the service is "down".
pub const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;

/// No authentication: for load balancers and monitoring. Names no paths.
pub async fn health(State(ctx): State<Ctx>) -> (StatusCode, axum::Json<Value>) {
    let db = ctx.store().ping().await;
    let broker = ctx.app.broker.connected();
    let disk = rustix::fs::statvfs(&ctx.app.data_dir).map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    let disk_ok = matches!(disk, Ok(free) if free >= MIN_FREE_BYTES);
    let ok = db.is_ok() && broker && disk_ok;
    let body = json!({
        "status": if ok { "ok" } else { "down" },
        "database": { "ok": db.is_ok(), "kind": ctx.store().kind(), "error": db.err().map(|_| "the database does not answer") },
        "broker": { "ok": broker, "connected": broker },
        "disk": {
            "ok": disk_ok,
            "free_bytes": disk.as_ref().ok(),
            "min_free_bytes": MIN_FREE_BYTES,
            "error": disk.err().map(|e| format!("cannot read the data directory's file system: {e}")),
        },
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, axum::Json(body))
}
