//! The browser's session (issue 15): beside bearer tokens, the portal's
//! session token travels in an HttpOnly cookie (script never sees it:
//! nothing for an injected script to steal, nothing in localStorage),
//! SameSite=Strict, Secure under TLS. A request authenticated by the cookie
//! that changes something must also carry the CSRF token in a header: the
//! token is derived from the session token and set as a readable cookie, so
//! the portal's own script can copy it into the header while another site,
//! which can make the browser send cookies but not read them, cannot.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use cookie::{Cookie, SameSite};

use crate::auth::cidr::Cidr;
use crate::auth::secret;

/// The HttpOnly cookie holding the session token (`mds_...`).
pub const SESSION_COOKIE: &str = "md_session";
/// The readable cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "md_csrf";
/// The header a cookie-authenticated, state-changing request must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sent with `POST /login` by the portal: answer with the session cookies
/// (and no token in the body). A custom header cannot be sent by another
/// site without a CORS preflight, which this server never grants.
pub const COOKIE_LOGIN_HEADER: &str = "x-meterdeck-session";

/// The CSRF token of a session: a hash of its token under its own label
/// (not the session's stored hash, which is its id in the database).
pub fn csrf_of(session_token: &str) -> String {
    secret::sha256_hex(&format!("meterdeck-csrf\n{session_token}"))
}

/// The session token from the `Cookie` headers, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Methods that change nothing need no CSRF token.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a request authenticated by `session_token` carries its CSRF token.
pub fn csrf_ok(headers: &HeaderMap, session_token: &str) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else { return false };
    secret::ct_eq(sent.trim(), &csrf_of(session_token))
}

/// Whether `POST /login` asked for the session as cookies.
pub fn wants_cookie(headers: &HeaderMap) -> bool {
    headers.get(COOKIE_LOGIN_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == "cookie")
}

fn build(name: &'static str, value: String, http_only: bool, secure: bool, remove: bool) -> HeaderValue {
    let mut c = Cookie::build((name, value)).path("/").same_site(SameSite::Strict).http_only(http_only).secure(secure);
    if remove {
        c = c.max_age(cookie::time::Duration::ZERO);
    }
    // Cookie text is ASCII by construction (token alphabets).
    HeaderValue::from_str(&c.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Whether this request's cookies are to be `Secure`: always when the API
/// itself is served over TLS; behind a TLS-terminating proxy when the peer
/// is one of the trusted proxies (`serve --trusted-proxy`, none by default)
/// and its `X-Forwarded-Proto` says `https`. From anyone else the header is
/// ignored: a client could write anything into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieSecure(pub bool);

/// [`CookieSecure`] of a request from `peer` with `headers`.
pub fn cookie_secure(tls: bool, peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> CookieSecure {
    if tls {
        return CookieSecure(true);
    }
    let from_proxy = peer.is_some_and(|ip| trusted.iter().any(|c| c.contains(ip)));
    if !from_proxy {
        return CookieSecure(false);
    }
    // The hop our proxy added is the last one (proxies append).
    let proto = headers.get_all(FORWARDED_PROTO).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let last = proto.rsplit(',').map(str::trim).find(|p| !p.is_empty());
    CookieSecure(last.is_some_and(|p| p.eq_ignore_ascii_case("https")))
}

/// The header a TLS-terminating proxy names the client's scheme in.
pub const FORWARDED_PROTO: &str = "x-forwarded-proto";

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CookieSecure {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<CookieSecure>().copied().unwrap_or_default())
    }
}

/// The `Set-Cookie` values that open a browser session. No Max-Age: the
/// server ends the session (24 h idle), the browser forgets it when closed.
pub fn set_cookies(session_token: &str, secure: bool) -> [HeaderValue; 2] {
    [
        build(SESSION_COOKIE, session_token.to_string(), true, secure, false),
        build(CSRF_COOKIE, csrf_of(session_token), false, secure, false),
    ]
}

/// The `Set-Cookie` values that end it (logout, expired session).
pub fn clear_cookies(secure: bool) -> [HeaderValue; 2] {
    [build(SESSION_COOKIE, String::new(), true, secure, true), build(CSRF_COOKIE, String::new(), false, secure, true)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_the_flags_and_the_csrf_token_fits_only_its_session() {
        let [s, c] = set_cookies("mds_abc", true);
        let s = s.to_str().unwrap();
        assert!(s.starts_with("md_session=mds_abc;"), "{s}");
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(s.contains(flag), "{flag} in {s}");
        }
        let c = c.to_str().unwrap();
        assert!(!c.contains("HttpOnly") && c.contains("SameSite=Strict"), "{c}");
        let [plain, _] = set_cookies("mds_abc", false);
        assert!(!plain.to_str().unwrap().contains("Secure"));

        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; md_session=mds_abc; md_csrf=x"));
        assert_eq!(session_cookie(&h).as_deref(), Some("mds_abc"));
        assert!(!csrf_ok(&h, "mds_abc"));
        h.insert(CSRF_HEADER, HeaderValue::from_str(&csrf_of("mds_abc")).unwrap());
        assert!(csrf_ok(&h, "mds_abc"));
        assert!(!csrf_ok(&h, "mds_other"));
        let [gone, _] = clear_cookies(false);
        assert!(gone.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn forwarded_proto_counts_only_from_a_trusted_proxy() {
        let proxy: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let mut https = HeaderMap::new();
        https.insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
        let none = HeaderMap::new();
        assert_eq!(cookie_secure(true, ip("192.0.2.1"), &none, &[]), CookieSecure(true));
        assert_eq!(cookie_secure(false, ip("10.1.2.3"), &https, &proxy), CookieSecure(true));
        // Not from the proxy, or no proxy configured: the header is the client's word.
        assert_eq!(cookie_secure(false, ip("192.0.2.1"), &https, &proxy), CookieSecure(false));
        assert_eq!(cookie_secure(false, ip("10.1.2.3"), &https, &[]), CookieSecure(false));
        assert_eq!(cookie_secure(false, ip("10.1.2.3"), &none, &proxy), CookieSecure(false));
        let mut chain = HeaderMap::new();
        chain.insert(FORWARDED_PROTO, HeaderValue::from_static("https, http"));
        assert_eq!(cookie_secure(false, ip("10.1.2.3"), &chain, &proxy), CookieSecure(false));
        chain.insert(FORWARDED_PROTO, HeaderValue::from_static("http, HTTPS"));
        assert_eq!(cookie_secure(false, ip("10.1.2.3"), &chain, &proxy), CookieSecure(true));
    }
}
