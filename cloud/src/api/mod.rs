//! The Web API: `/api/v1/...`, JSON in and out, bearer tokens (`mds_`
//! sessions from login, `mdt_` API tokens). Every endpoint checks the
//! caller's account and role; ids of another account answer 404, as if
//! they did not exist. `ROUTES` lists every endpoint (the OpenAPI document
//! and the security tests are built from it).

mod account;
mod agents;
mod boards;
pub mod browser;
mod caller;
mod cloud_alarms;
mod csv;
pub mod error;
mod export;
mod files;
mod invite;
mod licence;
mod login;
mod notices;
pub mod openapi;
mod prefs;
mod remote;
mod sites;
mod users;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{delete, get, patch, post, put};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::cidr::Cidr;
use crate::auth::{Clock, SystemClock};
use crate::state::AppState;
use error::t;

pub use caller::{Caller, ClientIp};
pub use error::{ApiError, ApiResult};
pub use openapi::{Access, ROUTES, RouteDoc};

/// Largest request body (JSON); more answers 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the router needs beyond `AppState`.
#[derive(Clone)]
pub struct ApiOptions {
    /// Tests move time (session idle expiry, code expiry).
    pub clock: Arc<dyn Clock>,
    /// Proxies (`serve --trusted-proxy`) whose `X-Forwarded-For` names the
    /// caller; from anyone else the header is ignored (it could be forged).
    pub trusted_proxies: Vec<Cidr>,
    /// The web portal (the UI) at `/` beside the API (`serve` does).
    pub portal: bool,
    /// Browser session cookies are `Secure` (the API is served over TLS).
    pub secure_cookies: bool,
    /// Signs and checks view-only links (`serve`: the key file; default a
    /// key of this process only).
    pub link_key: crate::viewlink::LinkKey,
    /// Seals the accounts' alarm destinations (`serve`: the key file; default
    /// a key of this process only).
    pub alarm_key: crate::alarms::SealKey,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            clock: Arc::new(SystemClock),
            trusted_proxies: Vec::new(),
            portal: false,
            secure_cookies: false,
            link_key: crate::viewlink::LinkKey::random(),
            alarm_key: crate::alarms::SealKey::random(),
        }
    }
}

pub(crate) struct Inner {
    pub app: AppState,
    pub clock: Arc<dyn Clock>,
    pub trusted_proxies: Vec<Cidr>,
    pub secure_cookies: bool,
    pub link_key: crate::viewlink::LinkKey,
    pub alarm_key: crate::alarms::SealKey,
}

pub(crate) type Ctx = Arc<Inner>;

impl Inner {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn store(&self) -> &dyn crate::store::Storage {
        &*self.app.store
    }
}

/// The API with the system clock. Serve it with
/// `axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())`
/// so it knows the caller's address (IP allow-lists, throttling, the log).
pub fn router(state: AppState) -> Router {
    router_with(state, ApiOptions::default())
}

pub fn router_with(state: AppState, opts: ApiOptions) -> Router {
    let ctx: Ctx = Arc::new(Inner {
        app: state,
        clock: opts.clock,
        trusted_proxies: opts.trusted_proxies,
        secure_cookies: opts.secure_cookies,
        link_key: opts.link_key,
        alarm_key: opts.alarm_key,
    });
    let v1 = Router::new()
        .route("/health", get(account::health))
        .route("/openapi.json", get(openapi::serve_doc))
        .route("/login", post(login::login))
        .route("/login/code", post(login::login_code))
        .route("/logout", post(login::logout))
        .route("/me", get(login::me))
        .route("/me/preferences", get(prefs::get_prefs).put(prefs::put_prefs))
        .route("/me/totp", post(login::totp_setup))
        .route("/me/totp/confirm", post(login::totp_confirm))
        .route("/password", post(login::change_password))
        .route("/password/reset-request", post(login::reset_request))
        .route("/password/reset", post(login::reset))
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{id}", patch(users::update_user).delete(users::delete_user))
        .route("/users/{id}/temporary-password", post(users::temporary_password))
        .route("/teams", get(users::list_teams).post(users::create_team))
        .route("/teams/{id}", put(users::put_team).delete(users::delete_team))
        .route("/groups", get(users::list_groups).post(users::create_group))
        .route("/groups/{id}", put(users::put_group).delete(users::delete_group))
        .route("/agents", get(agents::list_agents).post(agents::register_agent))
        .route("/agents/{id}", get(agents::get_agent).delete(agents::delete_agent))
        .route("/agents/{id}/channels", get(agents::agent_channels))
        .route("/agents/{id}/secret", post(agents::rotate_secret))
        .route("/agents/{id}/records", get(sites::records))
        .route("/agents/{id}/alarms", get(sites::alarms))
        .route("/agents/{id}/alarms/{alarm}/ack", post(sites::ack_alarm))
        .route("/agents/{id}/commands", post(remote::send_command))
        .route("/agents/{id}/links", post(view::create_link))
        .route("/view/{token}", get(view::view))
        .route("/account/offline-alarm", get(sites::offline_setting).put(sites::set_offline_setting))
        .route("/account/alarm-destinations", get(cloud_alarms::get_destinations).put(cloud_alarms::put_destinations))
        .route("/account/cloud-alarms", get(cloud_alarms::list_cloud_alarms))
        .route("/account/cloud-alarms/{id}/ack", post(cloud_alarms::ack_cloud_alarm_of_account))
        .route("/channels/{id}/raw", get(agents::raw))
        .route("/channels/{id}/minmax", get(agents::minmax))
        .route("/channels/{id}/latest", get(agents::latest))
        .route("/channels/{id}/csv", get(agents::csv))
        .route("/channels/{id}/zip", get(export::export_zip))
        .route("/tokens", get(account::list_tokens).post(account::create_token))
        .route("/tokens/{id}", delete(account::delete_token))
        .route("/account", get(account::get_account).delete(account::delete_account))
        .route("/account/ip-allow", put(account::set_ip_allow))
        .route("/access-log", get(account::access_log))
        .route("/notifications", get(notices::notices))
        .route("/licence", get(licence::document))
        .route("/licence/key", get(licence::key))
        .route("/licence/status", get(licence::status))
        .route("/licence/history", get(licence::history))
        .route("/licence/storage", get(licence::storage))
        .route("/licence/cards", post(licence::apply_card))
        .route("/licence/plan", post(licence::change_plan))
        .route("/boards", get(boards::list_boards).post(boards::create_board))
        .route("/boards/import", post(boards::import_board))
        .route("/boards/order", put(boards::reorder_boards))
        .route("/boards/{id}", get(boards::get_board).put(boards::put_board).delete(boards::delete_board))
        .route("/boards/{id}/export", get(boards::export_board))
        .route("/files", get(files::list))
        .route("/files/{id}", get(files::get_file))
        .route("/files/{id}/content", get(files::content))
        .route("/files/uploads", post(files::announce))
        // A chunk is up to 4 MiB: its own limit, checked by the handler.
        .route("/files/uploads/{id}", put(files::chunk).layer(DefaultBodyLimit::disable()))
        .route("/files/uploads/{id}/complete", post(files::complete))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(ctx.clone(), caller::authenticate))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(ctx)
        // Tokens and secrets in bodies must not be kept by caches.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    // Headers on every answer: nothing is sniffed into another type, and
    // what sets no caching of its own (the portal does) is not stored. HSTS
    // is added where the API is served over TLS (`serve`).
    let root = Router::new().nest("/api/v1", v1);
    let root = if opts.portal { root.fallback_service(crate::web::service()) } else { root.fallback(not_found) };
    // Errors in the request's language: outermost, so the refusals of the
    // other layers (sign-in, panics) and of the fallbacks are translated too.
    root.layer(axum::middleware::from_fn(error::localize))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// `Strict-Transport-Security` for the API over TLS: browsers use HTTPS
/// only for a year.
pub fn hsts() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"))
}

/// A bug must not leak details or drop the connection: 500 with the usual
/// error body (the panic message goes to the log).
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = what, "API handler panicked");
    axum::response::IntoResponse::into_response(ApiError::internal(t("cloud-internal-panic")))
}

async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::not_found(t("cloud-no-endpoint").arg("path", uri.path()))
}

async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        t("cloud-method-not-allowed").arg("method", method.to_string()).arg("path", uri.path()),
    )
}

/// For `serve`: binds nothing, just the make-service with client addresses.
pub fn into_service(router: Router) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router.into_make_service_with_connect_info::<SocketAddr>()
}
