//! Who is calling: the middleware resolves the bearer token (session or
//! API token), checks the account's IP allow-list, hands handlers a
//! `Caller`, and writes every authenticated request to the access log.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::t;
use super::{ApiError, ApiResult, Ctx, browser};
use crate::auth::cidr::{self, Cidr};
use crate::auth::session::{self, Bearer};
use crate::store::{AccessEntry, Account, Agent, CloudChannel, Role, User};
use axum::http::HeaderValue;

/// The caller's address (socket peer, or X-Forwarded-For when trusted).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()];
        let peer = Some(ip("10.1.1.1"));
        // Not from a proxy: the header is the caller's own words.
        assert_eq!(forwarded_client(Some(ip("192.0.2.9")), "1.2.3.4", &trusted), Some(ip("192.0.2.9")));
        // From a proxy: the rightmost hop that is not a proxy.
        assert_eq!(forwarded_client(peer, "1.2.3.4", &trusted), Some(ip("1.2.3.4")));
        assert_eq!(forwarded_client(peer, "6.6.6.6, 1.2.3.4, 10.0.0.7", &trusted), Some(ip("1.2.3.4")));
        assert_eq!(forwarded_client(Some(ip("::1")), "2001:db8::5", &trusted), Some(ip("2001:db8::5")));
        // No header, garbage, or only proxies: the last address known.
        assert_eq!(forwarded_client(peer, "", &trusted), peer);
        assert_eq!(forwarded_client(peer, "1.2.3.4, junk", &trusted), peer);
        assert_eq!(forwarded_client(peer, "10.0.0.9", &trusted), Some(ip("10.0.0.9")));
        assert_eq!(forwarded_client(None, "1.2.3.4", &trusted), None);
        // Nothing trusted: never the header.
        assert_eq!(forwarded_client(peer, "1.2.3.4", &[]), peer);
    }
}

/// What a role refusal says the caller cannot do ("delete users"), keyed
/// `cloud-do-delete-users`; words without a key are shown as they are.
pub fn action(what: &str) -> meterdeck_wire::i18n::Text {
    let key: String =
        what.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let key = format!("cloud-do-{key}");
    if meterdeck_wire::i18n::has(&key) { t(&key) } else { meterdeck_wire::i18n::Text::plain(what) }
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub account: Account,
    pub user: User,
    pub bearer: Bearer,
    pub ip: Option<IpAddr>,
}

/// The caller's address: the socket peer, unless the peer is one of the
/// `trusted` proxies (`serve --trusted-proxy`); then the rightmost
/// `X-Forwarded-For` hop that is not a trusted proxy. Hops left of it were
/// written by the client and could be anything, so they are never used.
pub fn client_ip(req: &Request, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    forwarded_client(peer, &forwarded.join(","), trusted)
}

/// [`client_ip`] on plain values: `forwarded` is the `X-Forwarded-For`
/// list (all headers joined by commas, oldest hop first).
pub fn forwarded_client(peer: Option<IpAddr>, forwarded: &str, trusted: &[Cidr]) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer?;
    if !is_trusted(client) {
        return Some(client);
    }
    for hop in forwarded.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        // A hop we cannot read ends the walk: the last good one stands.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

pub fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|i| i.to_string()).unwrap_or_else(|| "unknown".into())
}

pub(crate) async fn authenticate(State(ctx): State<Ctx>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req, &ctx.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let secure = browser::cookie_secure(ctx.secure_cookies, peer, req.headers(), &ctx.trusted_proxies);
    req.extensions_mut().insert(secure);
    // A bearer token, else the browser's session cookie (see `browser`).
    let (header, via_cookie) = match req.headers().get(AUTHORIZATION).cloned() {
        Some(h) => (h, false),
        None => match browser::session_cookie(req.headers()) {
            Some(token) => match HeaderValue::from_str(&format!("Bearer {token}")) {
                Ok(h) => (h, true),
                Err(_) => {
                    return cookie_refused(secure, ApiError::unauthorized(t("cloud-caller-cookie-invalid")));
                }
            },
            None => return next.run(req).await,
        },
    };
    // Public endpoints take no token: a stale one a client still sends
    // (logged out, expired) must not stop it logging in or seeing health.
    if super::openapi::is_public(req.method().as_str(), req.uri().path()) {
        return next.run(req).await;
    }
    // An agent fetching its licence logs in with HTTP Basic; the handler checks it.
    if super::licence::is_agent_login(req.method().as_str(), req.uri().path(), &header) {
        return next.run(req).await;
    }
    // So does an agent uploading a measurement file, or asking for a view link.
    if super::files::is_agent_upload(req.uri().path(), &header)
        || super::view::is_agent_link(req.method().as_str(), req.uri().path(), &header)
    {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    // Nested under /api/v1: the router strips the prefix, the log wants it.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let caller = match resolve(&ctx, &header, ip).await {
        Ok(c) => c,
        Err(e) if via_cookie && e.status == axum::http::StatusCode::UNAUTHORIZED => return cookie_refused(secure, e),
        Err(e) => return e.into_response(),
    };
    let log_to = (caller.account.id.clone(), caller.user.id.clone());
    if !cidr::allowed(&caller.account.ip_allow, ip) {
        let resp = ApiError::forbidden(
            t("cloud-caller-ip-refused").arg("ip", ip_text(ip)).arg("account", caller.account.id.as_str()),
        )
        .into_response();
        log(&ctx, log_to, ip, method, path, resp.status().as_u16()).await;
        return resp;
    }
    // A cookie is sent by the browser whoever made the page: a change needs
    // the CSRF token too, which only the portal's own script can read.
    if via_cookie && !browser::is_safe(req.method()) {
        let token = header.to_str().unwrap_or_default().trim_start_matches("Bearer ");
        if !browser::csrf_ok(req.headers(), token) {
            let resp = ApiError::forbidden(
                t("cloud-caller-csrf")
                    .arg("method", method.to_string())
                    .arg("header", browser::CSRF_HEADER)
                    .arg("cookie", browser::CSRF_COOKIE),
            )
            .with_code("csrf")
            .into_response();
            log(&ctx, log_to, ip, method, path, resp.status().as_u16()).await;
            return resp;
        }
    }
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;
    log(&ctx, log_to, ip, method, path, resp.status().as_u16()).await;
    resp
}

/// A 401 for a session cookie that no longer works (expired, logged out):
/// the browser forgets it, the portal goes back to its sign-in page.
fn cookie_refused(secure: browser::CookieSecure, e: ApiError) -> Response {
    let mut resp = e.into_response();
    for v in browser::clear_cookies(secure.0) {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    resp
}

async fn log(
    ctx: &Ctx,
    (account, user): (String, String),
    ip: Option<IpAddr>,
    method: String,
    path: String,
    status: u16,
) {
    let entry = AccessEntry {
        t_ms: ctx.now(),
        account: Some(account),
        user: Some(user),
        ip: ip_text(ip),
        method,
        path,
        status,
    };
    if let Err(e) = ctx.store().log_access(&entry).await {
        tracing::warn!(error = %e, "access log write failed");
    }
}

async fn resolve(ctx: &Ctx, header: &axum::http::HeaderValue, ip: Option<IpAddr>) -> ApiResult<Caller> {
    let header = header.to_str().map_err(|_| ApiError::unauthorized(t("cloud-caller-authorization-header-ascii")))?;
    let bearer = session::resolve(ctx.store(), header, ctx.now()).await?;
    let gone = || ApiError::unauthorized(t("cloud-caller-token-gone"));
    let account = ctx.store().account(bearer.account()).await?.ok_or_else(gone)?;
    let user = ctx.store().user(bearer.account(), bearer.user()).await?.ok_or_else(gone)?;
    // Web API tokens are a Pro feature: after a downgrade they stay (nothing
    // is deleted) but answer why they stopped working.
    if matches!(bearer, Bearer::Token(_)) {
        let (plan, limits) = super::licence::in_force(ctx, &account.id).await?;
        crate::licence::limits::check_feature(&account.id, plan, &limits, "web_api")?;
    }
    Ok(Caller { account, user, bearer, ip })
}

impl Caller {
    pub fn role(&self) -> Role {
        self.user.role
    }
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
    /// 403 unless an admin; `what` completes "only an admin can ..." (its
    /// words are keyed `cloud-do-<what, dashed>` in locales/*/cloud.ftl).
    pub fn require_admin(&self, what: &str) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                t("cloud-role-admin-only").text_arg("what", action(what)).arg("role", self.role().as_str()),
            ))
        }
    }
    /// 403 for viewers (they read only).
    pub fn require_member(&self, what: &str) -> ApiResult<()> {
        if self.role() == Role::Viewer {
            Err(ApiError::forbidden(t("cloud-role-viewer").text_arg("what", action(what))))
        } else {
            Ok(())
        }
    }
    pub fn session_hash(&self) -> Option<&str> {
        match &self.bearer {
            Bearer::Session(s) => Some(&s.token_hash),
            Bearer::Token(_) => None,
        }
    }

    /// The agent ids this caller may see: `None` = all of the account (admin).
    pub(crate) async fn visible_agents(&self, ctx: &Ctx) -> ApiResult<Option<HashSet<String>>> {
        if self.is_admin() {
            return Ok(None);
        }
        let acc = &self.account.id;
        let my_teams: HashSet<String> = ctx
            .store()
            .teams(acc)
            .await?
            .into_iter()
            .filter(|t| t.members.contains(&self.user.id))
            .map(|t| t.id)
            .collect();
        let mut ids = HashSet::new();
        for g in ctx.store().groups(acc).await? {
            if g.users.contains(&self.user.id) || g.teams.iter().any(|t| my_teams.contains(t)) {
                ids.extend(g.agents);
            }
        }
        Ok(Some(ids))
    }

    /// The agent if it is of this account and visible; else 404 (never
    /// telling another account's ids from unknown ones).
    pub(crate) async fn agent(&self, ctx: &Ctx, id: &str) -> ApiResult<Agent> {
        let missing = || ApiError::not_found(t("cloud-agent-not-found").arg("id", id));
        let agent = ctx.store().agent(id).await?.ok_or_else(missing)?;
        if agent.account != self.account.id {
            return Err(missing());
        }
        if let Some(visible) = self.visible_agents(ctx).await?
            && !visible.contains(id)
        {
            return Err(missing());
        }
        Ok(agent)
    }

    pub(crate) async fn channel(&self, ctx: &Ctx, id: i64) -> ApiResult<(CloudChannel, Agent)> {
        let missing = || ApiError::not_found(t("cloud-channel-not-found").arg("id", id.to_string()));
        let ch = ctx.store().channel(id).await?.ok_or_else(missing)?;
        let agent =
            self.agent(ctx, &ch.agent).await.map_err(|e| if e.status.as_u16() == 404 { missing() } else { e })?;
        Ok((ch, agent))
    }
}

/// A fully logged-in caller (no pending step).
pub struct Full(pub Caller);
/// Any caller with a valid token, also one still finishing its login.
pub struct AnyCaller(pub Caller);

/// The caller if fully logged in (what `Full` extracts).
pub fn full(c: Caller) -> ApiResult<Caller> {
    match c.bearer.pending() {
        // A temporary password set by an admin also stops the sessions
        // and tokens from before it (the reason may be a leak).
        None if c.user.must_change => Err(ApiError::forbidden(t("cloud-caller-password-was-reset"))),
        None => Ok(c),
        Some(session::PENDING_CHANGE) => Err(ApiError::forbidden(t("cloud-caller-change-temporary-password"))),
        Some(_) => Err(ApiError::forbidden(t("cloud-login-code-first"))),
    }
}

fn take(parts: &Parts) -> ApiResult<Caller> {
    parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::unauthorized(t("cloud-caller-log-in-first")))
}

impl<S: Send + Sync> FromRequestParts<S> for Full {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        full(take(parts)?).map(Full)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AnyCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        take(parts).map(AnyCaller)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientIp>().copied().unwrap_or(ClientIp(None)))
    }
}

/// The `Authorization: Basic ...` value, when the request has one (agents
/// authenticate so for uploads and view links).
pub(super) fn basic_header(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .filter(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "))
}

/// The agent whose `id:secret` an HTTP Basic header (`Basic ...`) holds.
pub(crate) async fn basic_agent(ctx: &Ctx, auth: &str) -> ApiResult<Agent> {
    use base64::Engine as _;
    let bad = || ApiError::unauthorized(t("cloud-caller-agent-wrong"));
    let decoded = base64::engine::general_purpose::STANDARD.decode(auth[6..].trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let agent = ctx.store().agent(id).await?;
    // Unknown agents cost the same hash as known ones (no timing oracle).
    let hash = agent.as_ref().map_or(crate::auth::password::dummy_hash().to_string(), |a| a.secret_hash.clone());
    let ok = crate::auth::password::verify_password_async(secret.to_string(), hash).await;
    match agent {
        Some(a) if ok => Ok(a),
        _ => Err(bad()),
    }
}
