//! Login (password, then second factor or temporary-password change),
//! logout, own profile, password change and reset, TOTP setup.

use crate::mail::tr;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{AnyCaller, ClientIp, Full, ip_text};
use super::error::{ErrorBody, Json, t};
use super::{ApiError, ApiResult, Ctx, browser};
use crate::auth::session::{self, Bearer, PENDING_CHANGE, PENDING_CODE};
use crate::auth::{cidr, password, secret, throttle, totp};
use crate::store::{AccessEntry, OneTimeCode, TwoFactor, User, UserPrefs};

pub const LOGIN_CODE_MS: i64 = 10 * 60 * 1000;
pub const RESET_MS: i64 = 30 * 60 * 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    account: String,
    user: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginReply {
    /// The bearer token (`mds_...`); shown only here. Empty when the
    /// request had `X-Meterdeck-Session: cookie` (the web portal): then it
    /// is in the HttpOnly `md_session` cookie, with the CSRF token in `md_csrf`.
    token: String,
    /// `null` when logged in; "code" or "change_password" when a step is left.
    pending: Option<String>,
    two_factor: TwoFactor,
    idle_timeout_s: i64,
    /// The same steps spelled out for clients (the desktop app):
    /// `second_factor` is the code still due ("none" when none is).
    must_change_password: bool,
    second_factor: TwoFactor,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: crate::store::Role,
    pub two_factor: TwoFactor,
    pub must_change: bool,
    pub created_ms: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            two_factor: u.two_factor,
            must_change: u.must_change,
            created_ms: u.created_ms,
        }
    }
}

/// Argon2 costs tens of milliseconds of CPU: keep it off the async workers.
async fn verify(pw: String, hash: String) -> bool {
    password::verify_password_async(pw, hash).await
}

pub(crate) async fn hash(pw: String) -> ApiResult<String> {
    Ok(password::hash_password_async(pw).await)
}

async fn log_login(ctx: &Ctx, account: Option<&str>, user: &str, ip: ClientIp, path: &str, status: StatusCode) {
    let entry = AccessEntry {
        t_ms: ctx.now(),
        account: account.map(str::to_string),
        user: Some(user.to_string()),
        ip: ip_text(ip.0),
        method: "POST".into(),
        path: path.into(),
        status: status.as_u16(),
    };
    if let Err(e) = ctx.store().log_access(&entry).await {
        tracing::warn!(error = %e, "access log write failed");
    }
}

fn too_many(msg: Text) -> ApiError {
    ApiError::too_many(msg, (throttle::WINDOW_MS / 1000) as u64)
}

/// Log in with account, user and password
///
/// Returns a session token (`mds_...`) and the step still pending, if any.
/// Within 15 minutes, 5 failures for a user from one address, 20 from one
/// address or 100 for a user from anywhere answer 429 with Retry-After. A
/// login from outside the account's IP allow-list answers like a wrong one.
#[utoipa::path(post, path = "/api/v1/login", tag = "login", request_body = LoginBody, responses(
    (status = 200, description = "Logged in, or a step pending", body = LoginReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
    (status = 503, description = "The email code could not be sent", body = ErrorBody),
))]
pub async fn login(
    State(ctx): State<Ctx>,
    ip: ClientIp,
    secure: browser::CookieSecure,
    headers: HeaderMap,
    Json(b): Json<LoginBody>,
) -> ApiResult<Response> {
    const PATH: &str = "/api/v1/login";
    let now = ctx.now();
    let store = ctx.store();
    if b.account.len() > 64 || b.user.len() > 64 || b.password.len() > 1024 {
        return Err(ApiError::bad_request(t("cloud-login-too-long")));
    }
    let account = store.account(&b.account).await?;
    let log_account = account.as_ref().map(|a| a.id.clone());
    let log_account = log_account.as_deref();
    if let Some(msg) = throttle::blocked(store, &b.account, &b.user, ip.0, now).await? {
        log_login(&ctx, log_account, &b.user, ip, PATH, StatusCode::TOO_MANY_REQUESTS).await;
        return Err(too_many(msg));
    }
    let wrong = || ApiError::unauthorized(t("cloud-login-wrong"));
    // From outside the account's IP allow-list the answer is that of a
    // wrong login, whatever the password: status, message, time (the
    // password is still checked, its result unused) and throttling alike,
    // so neither whether the account exists nor whether a guess was right
    // can be learnt from there. The admin sees the refusal (403, with the
    // address) in the account's access log.
    let outside = account.as_ref().is_some_and(|a| !cidr::allowed(&a.ip_allow, ip.0));
    let user = match &account {
        Some(_) => store.user(&b.account, &b.user).await?,
        None => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| password::dummy_hash().to_string());
    let ok = verify(b.password, hash).await && user.is_some();
    if outside {
        throttle::failed(store, &b.account, &b.user, ip.0, now).await?;
        log_login(&ctx, log_account, &b.user, ip, PATH, StatusCode::FORBIDDEN).await;
        return Err(wrong());
    }
    let (Some(account), Some(user), true) = (account, user, ok) else {
        throttle::failed(store, &b.account, &b.user, ip.0, now).await?;
        log_login(&ctx, log_account, &b.user, ip, PATH, StatusCode::UNAUTHORIZED).await;
        return Err(wrong());
    };
    // A user who never chose a language gets the cloud's own mails in the
    // one their client asks for (their time zone stays UTC until set).
    if headers.contains_key(axum::http::header::ACCEPT_LANGUAGE)
        && store.user_prefs(&account.id, &user.id).await?.is_none()
    {
        let prefs = UserPrefs { language: crate::mail::request_language(&headers).into(), zone: "UTC".into() };
        store.set_user_prefs(&account.id, &user.id, &prefs).await?;
    }
    let pending = match (user.two_factor, user.must_change) {
        (TwoFactor::Email, _) => {
            send_login_code(&ctx, &user, crate::mail::request_language(&headers)).await?;
            Some(PENDING_CODE)
        }
        (TwoFactor::Totp, _) => Some(PENDING_CODE),
        (TwoFactor::None, true) => Some(PENDING_CHANGE),
        (TwoFactor::None, false) => None,
    };
    // With a second factor still to come the failure count stays: else a
    // known password would buy fresh code guesses with every login.
    if pending != Some(PENDING_CODE) {
        throttle::succeeded(store, &account.id, &user.id, ip.0).await?;
    }
    let token = session::open(store, &account.id, &user.id, pending, now).await?;
    log_login(&ctx, Some(&account.id), &user.id, ip, PATH, StatusCode::OK).await;
    // The portal asked for cookies: the token goes only into the HttpOnly
    // one, never to the page's script.
    let cookies = browser::wants_cookie(&headers).then(|| browser::set_cookies(&token, secure.0));
    let reply = LoginReply {
        token: if cookies.is_some() { String::new() } else { token },
        pending: pending.map(str::to_string),
        two_factor: user.two_factor,
        idle_timeout_s: session::IDLE_MS / 1000,
        must_change_password: user.must_change,
        second_factor: if pending == Some(PENDING_CODE) { user.two_factor } else { TwoFactor::None },
    };
    let mut resp = Json(reply).into_response();
    for v in cookies.into_iter().flatten() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Mails a login code in `lang` (the request's language).
async fn send_login_code(ctx: &Ctx, user: &User, lang: &str) -> ApiResult<()> {
    let Some(mail) = &ctx.app.mail else {
        return Err(ApiError::unavailable(t("cloud-login-no-mail-codes")));
    };
    if user.email.is_empty() {
        return Err(ApiError::conflict(t("cloud-login-second-factor-email")));
    }
    let code = secret::six_digits();
    ctx.store()
        .put_code(&OneTimeCode {
            account: user.account.clone(),
            user: user.id.clone(),
            purpose: "login".into(),
            code_hash: secret::sha256_hex(&code),
            expires_ms: ctx.now() + LOGIN_CODE_MS,
        })
        .await?;
    let who = format!("{}/{}", user.account, user.id);
    let body = format!(
        "{}\n\n{}\n",
        tr(lang, "mail-login-code-line", &[("who", &who), ("code", &code)]),
        tr(lang, "mail-login-code-valid", &[])
    );
    crate::mail::send(mail, &user.email, &tr(lang, "mail-login-code-subject", &[]), &body).await.map_err(|e| {
        tracing::warn!(error = %e, "login code mail");
        ApiError::unavailable(t("cloud-login-login-code-could"))
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// Six digits, from the mail or the authenticator app.
    code: String,
}

/// The login's state after the code.
#[derive(Serialize, ToSchema)]
pub struct CodeReply {
    /// "change_password" when the temporary password is still to change.
    pending: Option<String>,
    must_change_password: bool,
    second_factor: TwoFactor,
}

/// Give the second-factor code (email or authenticator app)
#[utoipa::path(post, path = "/api/v1/login/code", tag = "login", request_body = CodeBody,
    security(("bearer" = [])), responses(
    (status = 200, description = "Code accepted", body = CodeReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn login_code(
    State(ctx): State<Ctx>,
    AnyCaller(c): AnyCaller,
    Json(b): Json<CodeBody>,
) -> ApiResult<Json<CodeReply>> {
    let Bearer::Session(mut s) = c.bearer.clone() else {
        return Err(ApiError::bad_request(t("cloud-login-api-tokens-need")));
    };
    if s.pending.as_deref() != Some(PENDING_CODE) {
        return Err(ApiError::conflict(t("cloud-login-this-session-waiting")));
    }
    let now = ctx.now();
    let store = ctx.store();
    let (acc, uid) = (&c.account.id, &c.user.id);
    if let Some(msg) = throttle::blocked(store, acc, uid, c.ip, now).await? {
        return Err(too_many(msg));
    }
    let ok = match c.user.two_factor {
        TwoFactor::Totp => match c.user.totp_secret.as_deref().and_then(|sec| totp::matched_step(sec, &b.code, now)) {
            Some(step) => totp_unused(&ctx, acc, uid, step, now).await?,
            None => false,
        },
        TwoFactor::Email => match store.take_code(acc, uid, "login").await? {
            Some(code) if code.expires_ms >= now => {
                let good = secret::ct_eq(&code.code_hash, &secret::sha256_hex(b.code.trim()));
                if !good {
                    // A wrong guess keeps the code; throttling limits guesses.
                    store.put_code(&code).await?;
                }
                good
            }
            _ => false,
        },
        TwoFactor::None => true,
    };
    if !ok {
        throttle::failed(store, acc, uid, c.ip, now).await?;
        return Err(ApiError::unauthorized(t("cloud-login-wrong-expired-code")));
    }
    throttle::succeeded(store, acc, uid, c.ip).await?;
    s.pending = c.user.must_change.then(|| PENDING_CHANGE.to_string());
    store.update_session(&s).await?;
    Ok(Json(CodeReply { pending: s.pending, must_change_password: c.user.must_change, second_factor: TwoFactor::None }))
}

/// Refuses an authenticator code whose step was already used (someone who
/// saw it cannot log in with it again); records the step otherwise. The
/// step number is no secret, so it sits in the code slot as is.
async fn totp_unused(ctx: &Ctx, account: &str, user: &str, step: u64, now: i64) -> ApiResult<bool> {
    let store = ctx.store();
    let last = store.take_code(account, user, "totp_step").await?;
    let used = last.as_ref().filter(|c| c.expires_ms >= now).and_then(|c| c.code_hash.parse::<u64>().ok());
    if used.is_some_and(|u| step <= u) {
        if let Some(last) = last {
            store.put_code(&last).await?;
        }
        return Ok(false);
    }
    store
        .put_code(&OneTimeCode {
            account: account.into(),
            user: user.into(),
            purpose: "totp_step".into(),
            code_hash: step.to_string(),
            // Past the skew window a used step cannot match again anyway.
            expires_ms: now + 3 * 60 * 1000,
        })
        .await?;
    Ok(true)
}

/// End this session
#[utoipa::path(post, path = "/api/v1/logout", tag = "login", security(("bearer" = [])), responses(
    (status = 204, description = "Logged out"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn logout(
    State(ctx): State<Ctx>,
    secure: browser::CookieSecure,
    AnyCaller(c): AnyCaller,
) -> ApiResult<Response> {
    match c.session_hash() {
        Some(h) => {
            ctx.store().delete_session(h).await?;
            // A browser's session cookies go with it.
            let mut resp = StatusCode::NO_CONTENT.into_response();
            for v in browser::clear_cookies(secure.0) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        None => Err(ApiError::bad_request(t("cloud-login-api-token-logged"))),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountBrief {
    id: String,
    name: String,
    plan: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeReply {
    account: AccountBrief,
    user: UserView,
    /// "session" or "token".
    via: String,
}

/// The caller: user and account
#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])), responses(
    (status = 200, description = "The caller", body = MeReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn me(Full(c): Full) -> Json<MeReply> {
    Json(MeReply {
        account: AccountBrief { id: c.account.id.clone(), name: c.account.name.clone(), plan: c.account.plan.clone() },
        user: UserView::from(&c.user),
        via: match c.bearer {
            Bearer::Session(_) => "session",
            Bearer::Token(_) => "token",
        }
        .into(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    current: String,
    new: String,
}

/// What is still pending of the login (nothing after a password change).
#[derive(Serialize, ToSchema)]
pub struct PendingReply {
    pending: Option<String>,
}

/// Change the own password
///
/// Also the temporary one at first login; ends the user's other sessions.
#[utoipa::path(post, path = "/api/v1/password", tag = "login", request_body = ChangeBody,
    security(("bearer" = [])), responses(
    (status = 200, description = "Changed", body = PendingReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn change_password(
    State(ctx): State<Ctx>,
    AnyCaller(c): AnyCaller,
    Json(b): Json<ChangeBody>,
) -> ApiResult<Json<PendingReply>> {
    let Bearer::Session(mut s) = c.bearer.clone() else {
        return Err(ApiError::forbidden(t("cloud-login-change-password-after")));
    };
    if s.pending.as_deref() == Some(PENDING_CODE) {
        return Err(ApiError::forbidden(t("cloud-login-code-first")));
    }
    let now = ctx.now();
    let store = ctx.store();
    if let Some(msg) = throttle::blocked(store, &c.account.id, &c.user.id, c.ip, now).await? {
        return Err(too_many(msg));
    }
    password::check_policy(&b.new).map_err(|e| ApiError::bad_request(e.text()))?;
    if !verify(b.current.clone(), c.user.password_hash.clone()).await {
        throttle::failed(store, &c.account.id, &c.user.id, c.ip, now).await?;
        return Err(ApiError::forbidden(t("cloud-login-current-password-wrong")));
    }
    if b.new == b.current {
        return Err(ApiError::bad_request(t("cloud-login-new-password-must")));
    }
    let mut user = c.user.clone();
    user.password_hash = hash(b.new).await?;
    user.must_change = false;
    store.update_user(&user).await?;
    // Whoever else holds a session (maybe the reason for the change) is out;
    // this one goes on.
    store.delete_sessions_of(&c.account.id, &c.user.id, Some(&s.token_hash)).await?;
    if s.pending.is_some() {
        s.pending = None;
        store.update_session(&s).await?;
    }
    Ok(Json(PendingReply { pending: None }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    account: String,
    user: String,
}

#[derive(Serialize, ToSchema)]
pub struct MessageReply {
    message: String,
}

/// Mail a password-reset link valid 30 minutes
///
/// The same answer whether or not the user exists.
#[utoipa::path(post, path = "/api/v1/password/reset-request", tag = "login", request_body = ResetRequestBody,
    responses(
    (status = 202, description = "A link is on its way if the user exists", body = MessageReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
    (status = 503, description = "This server cannot send mail", body = ErrorBody),
))]
pub async fn reset_request(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(b): Json<ResetRequestBody>,
) -> ApiResult<(StatusCode, Json<MessageReply>)> {
    let Some(mail) = ctx.app.mail.clone() else {
        return Err(ApiError::unavailable(t("cloud-login-no-mail-reset")));
    };
    let store = ctx.store();
    // At most 3 reset mails per user in 15 minutes (no mail-bombing).
    let key = format!("reset:{}/{}", b.account, b.user);
    let now = ctx.now();
    if store.login_failed(&key, now, now - throttle::WINDOW_MS).await? > 3 {
        return Err(too_many(t("cloud-throttle-reset")));
    }
    let user = match store.account(&b.account).await? {
        Some(_) => store.user(&b.account, &b.user).await?,
        None => None,
    };
    // The same answer whether or not the user exists (no enumeration).
    let reply = (
        StatusCode::ACCEPTED,
        Json(MessageReply {
            message: "if that user exists and has an email address, a reset link valid 30 minutes is on its way".into(),
        }),
    );
    let Some(user) = user.filter(|u| !u.email.is_empty()) else { return Ok(reply) };
    let code = secret::new_token("");
    store
        .put_code(&OneTimeCode {
            account: user.account.clone(),
            user: user.id.clone(),
            purpose: "reset".into(),
            code_hash: secret::sha256_hex(&code),
            expires_ms: ctx.now() + RESET_MS,
        })
        .await?;
    let link = format!(
        "{}/reset?account={}&user={}&code={code}",
        mail.public_url.trim_end_matches('/'),
        user.account,
        user.id
    );
    let lang = crate::mail::request_language(&headers);
    let who = format!("{}/{}", user.account, user.id);
    let body = format!(
        "{}\n\n{}\n{link}\n\n{}\n",
        tr(lang, "mail-reset-asked", &[("who", &who)]),
        tr(lang, "mail-reset-here", &[]),
        tr(lang, "mail-reset-not-you", &[])
    );
    if let Err(e) = crate::mail::send(&mail, &user.email, &tr(lang, "mail-reset-subject", &[]), &body).await {
        tracing::warn!(error = %e, "reset mail");
    }
    Ok(reply)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    account: String,
    user: String,
    /// The code from the reset link.
    code: String,
    new: String,
}

/// Set a new password with the code from the reset link
///
/// Works once; ends the user's sessions.
#[utoipa::path(post, path = "/api/v1/password/reset", tag = "login", request_body = ResetBody, responses(
    (status = 200, description = "Password set", body = MessageReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn reset(State(ctx): State<Ctx>, Json(b): Json<ResetBody>) -> ApiResult<Json<MessageReply>> {
    password::check_policy(&b.new).map_err(|e| ApiError::bad_request(e.text()))?;
    let store = ctx.store();
    let bad = || ApiError::bad_request(t("cloud-login-reset-link-invalid"));
    if store.account(&b.account).await?.is_none() {
        return Err(bad());
    }
    // Taken, so the link works once. A wrong code puts it back: 256 random
    // bits cannot be guessed, and burning it would let anyone who knows the
    // user id spoil their reset mail.
    let code = store.take_code(&b.account, &b.user, "reset").await?.ok_or_else(bad)?;
    if code.expires_ms < ctx.now() {
        return Err(bad());
    }
    if !secret::ct_eq(&code.code_hash, &secret::sha256_hex(b.code.trim())) {
        store.put_code(&code).await?;
        return Err(bad());
    }
    let mut user = store.user(&b.account, &b.user).await?.ok_or_else(bad)?;
    user.password_hash = hash(b.new).await?;
    user.must_change = false;
    store.update_user(&user).await?;
    // A reset means the old password may be known: no session of it stays.
    store.delete_sessions_of(&b.account, &b.user, None).await?;
    throttle::reset(store, &b.account, &b.user).await?;
    Ok(Json(MessageReply { message: "password set; log in with it".into() }))
}

#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32, for apps that take it typed in.
    secret: String,
    otpauth_url: String,
    next: String,
}

/// Start authenticator-app setup: the secret and the otpauth URL
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "me", security(("bearer" = [])), responses(
    (status = 200, description = "Add it to the app, then confirm", body = TotpSetup),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn totp_setup(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<TotpSetup>> {
    if c.user.two_factor == TwoFactor::Totp {
        return Err(ApiError::conflict(t("cloud-login-totp-set-up")));
    }
    let secret = totp::new_secret();
    let url = totp::otpauth_url(&secret, &c.account.id, &c.user.id).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut user = c.user.clone();
    user.totp_secret = Some(secret.clone());
    ctx.store().update_user(&user).await?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url: url,
        next: "add it to your authenticator app, then POST /api/v1/me/totp/confirm with a code it shows".into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactorReply {
    two_factor: TwoFactor,
}

/// Turn the authenticator app on with a code it shows
///
/// The code is spent: it cannot log in within its 30-second step.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "me", request_body = CodeBody,
    security(("bearer" = [])), responses(
    (status = 200, description = "The app is the second factor now", body = TwoFactorReply),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn totp_confirm(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(b): Json<CodeBody>,
) -> ApiResult<Json<TwoFactorReply>> {
    let Some(sec) = c.user.totp_secret.clone() else {
        return Err(ApiError::conflict(t("cloud-login-set-up-authenticator")));
    };
    if c.user.two_factor == TwoFactor::Totp {
        return Err(ApiError::conflict(t("cloud-login-totp-on")));
    }
    let now = ctx.now();
    // The step of the confirming code is recorded as used: whoever saw it
    // cannot log in with it in the same 30 s (`login_code` refuses it).
    let fresh = match totp::matched_step(&sec, &b.code, now) {
        Some(step) => totp_unused(&ctx, &c.account.id, &c.user.id, step, now).await?,
        None => false,
    };
    if !fresh {
        return Err(ApiError::bad_request(t("cloud-login-totp-mismatch")));
    }
    let mut user = c.user.clone();
    user.two_factor = TwoFactor::Totp;
    ctx.store().update_user(&user).await?;
    Ok(Json(TwoFactorReply { two_factor: TwoFactor::Totp }))
}
