//! The web portal (issue 15): the built UI (`ui/dist`, embedded at build
//! time, see build.rs) served at `/` beside the API. Hashed assets are
//! cached for a year, everything else is revalidated (ETag); a path that
//! names no file is a route of the UI (`/reset?...` from the reset mail,
//! `/agents`...) and gets `index.html`. Every answer carries a
//! Content-Security-Policy without inline script or style, and may not be
//! framed.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$MD_UI_DIR"]
struct Ui;

/// Whether the binary carries the real UI (not the "UI not built" page).
pub fn ui_built() -> bool {
    env!("MD_UI_BUILT") == "1"
}

/// Only the portal's own files: no inline script or style (the built
/// index.html has none; `cloud/tests/portal_web.rs` checks it), no other
/// origin, no framing (clickjacking), no plugins, forms only to itself.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Vite's content-hashed output: a new build gets new names.
const HASHED_DIR: &str = "assets/";

/// The portal: `GET`/`HEAD` of a UI file or route. Mounted as the fallback
/// of the router, so `/api/v1` stays the API's.
pub async fn portal(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    // Not an API version this server has: the API's own 404, not a page.
    if path == "api" || path.starts_with("api/") {
        return crate::api::ApiError::not_found(crate::api::error::t("cloud-no-endpoint").arg("path", uri.path()))
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return with_security(
            (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "the portal only answers GET and HEAD\n")
                .into_response(),
        );
    }
    // The bundle's paths are relative (`./assets/...`): a page of a nested
    // route (`/v/<token>`) asks for them under its own folder.
    let path = match path.find(HASHED_DIR) {
        Some(i) if i > 0 && path[..i].ends_with('/') && Ui::get(path).is_none() => &path[i..],
        _ => path,
    };
    let (file, name) = match Ui::get(path).filter(|_| !path.is_empty()) {
        Some(f) => (f, path),
        // A route of the single-page app (no file extension): its page.
        // A view-only link's page (`/v/<token>`): its token has a dot.
        None if !last_segment(path).contains('.') || is_view_link(path) => match Ui::get("index.html") {
            Some(f) => (f, "index.html"),
            None => return with_security((StatusCode::NOT_FOUND, "no UI in this build\n").into_response()),
        },
        None => {
            return with_security(
                (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    format!("no such file: /{path}\n"),
                )
                    .into_response(),
            );
        }
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if name.starts_with(HASHED_DIR) { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = if method == Method::HEAD { Body::empty() } else { Body::from(file.data.into_owned()) };
        let mut r = Response::new(body);
        let mime = file.metadata.mimetype();
        let mime = if mime.starts_with("text/") || mime.ends_with("javascript") || mime.ends_with("json") {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    with_security(resp)
}

/// `v/<token>`: one segment after `v/`.
fn is_view_link(path: &str) -> bool {
    path.strip_prefix("v/").is_some_and(|t| !t.is_empty() && !t.contains('/'))
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The headers every portal answer carries.
fn with_security(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    resp
}

/// The portal as a service with gzip/br for what compresses (text, JS,
/// CSS; tower-http leaves images and tiny bodies alone). Level 9: brotli's
/// default level here came out larger than gzip for the bundle, and the
/// hashed assets are fetched once per browser.
pub fn service() -> axum::Router {
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    axum::Router::new().fallback(portal).layer(CompressionLayer::new().quality(CompressionLevel::Precise(9)))
}
