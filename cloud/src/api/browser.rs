//! The browser's session (issue 15): beside bearer tokens, the portal's
//! session token travels in an HttpOnly cookie (script never sees it:
//! nothing for an injected script to steal, nothing in localStorage),
//! SameSite=Strict, Secure under TLS. A request authenticated by the cookie
//! that changes something must also carry the CSRF token in a header: the
//! token is derived from the session token and set as a readable cookie, so
//! the portal's own script can copy it into the header while another site,
//! which can make the browser send cookies but not read them, cannot.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use cookie::{Cookie, SameSite};

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
}
