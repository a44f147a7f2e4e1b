//! Every endpoint in one table: the OpenAPI document is built from it, and
//! the security tests walk it (so a new endpoint is tested by adding it
//! here). Bodies are documented by example.

use axum::response::IntoResponse;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required,
};

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token.
    Public,
    /// Any valid token, also a session still finishing its login.
    Pending,
    /// Logged in, any role (what is visible to them).
    Viewer,
    /// Member or admin.
    Member,
    Admin,
}

#[derive(Clone, Copy, Debug)]
pub struct RouteDoc {
    pub method: &'static str,
    /// Under /api/v1, with `{id}` parameters.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// Example JSON body, if it takes one.
    pub body: Option<&'static str>,
    /// Query parameters.
    pub query: &'static [&'static str],
}

const fn r(method: &'static str, path: &'static str, access: Access, summary: &'static str) -> RouteDoc {
    RouteDoc { method, path, access, summary, body: None, query: &[] }
}
const fn rb(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    body: &'static str,
) -> RouteDoc {
    RouteDoc { method, path, access, summary, body: Some(body), query: &[] }
}
const fn rq(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    query: &'static [&'static str],
) -> RouteDoc {
    RouteDoc { method, path, access, summary, body: None, query }
}

use Access::*;

pub const ROUTES: &[RouteDoc] = &[
    r("GET", "/health", Public, "Database, broker and disk state; 503 when something is down"),
    r("GET", "/openapi.json", Public, "This document"),
    rb(
        "POST",
        "/login",
        Public,
        "Log in with account, user and password; returns a session token (mds_...) and the pending step, if any. 5 failures in 15 minutes per user (20 per address) answer 429 with Retry-After",
        r#"{"account":"acme","user":"ann","password":"Secret-pass1"}"#,
    ),
    rb(
        "POST",
        "/login/code",
        Pending,
        "Give the second-factor code (email or authenticator app)",
        r#"{"code":"123456"}"#,
    ),
    r("POST", "/logout", Pending, "End this session"),
    r("GET", "/me", Viewer, "The caller: user and account"),
    r("POST", "/me/totp", Viewer, "Start authenticator-app setup: returns the secret and otpauth URL"),
    rb(
        "POST",
        "/me/totp/confirm",
        Viewer,
        "Turn the authenticator app on with a code it shows",
        r#"{"code":"123456"}"#,
    ),
    rb(
        "POST",
        "/password",
        Pending,
        "Change the own password (also the temporary one at first login); ends the user's other sessions",
        r#"{"current":"Old-pass1","new":"New-pass2"}"#,
    ),
    rb(
        "POST",
        "/password/reset-request",
        Public,
        "Mail a reset link valid 30 minutes (same answer whether the user exists)",
        r#"{"account":"acme","user":"ann"}"#,
    ),
    rb(
        "POST",
        "/password/reset",
        Public,
        "Set a new password with the code from the reset link (works once); ends the user's sessions",
        r#"{"account":"acme","user":"ann","code":"...","new":"New-pass2"}"#,
    ),
    r("GET", "/users", Admin, "Users of the account"),
    rb(
        "POST",
        "/users",
        Admin,
        "Create a user; returns a temporary password once",
        r#"{"id":"bob","name":"Bob","email":"bob@example.com","role":"viewer"}"#,
    ),
    rb(
        "PATCH",
        "/users/{id}",
        Admin,
        "Change a user's name, email, role or second factor (none/email); a lowered role ends their sessions",
        r#"{"role":"member"}"#,
    ),
    r(
        "POST",
        "/users/{id}/temporary-password",
        Admin,
        "Give a user a new temporary password (returned once; must be changed at the next login); ends their sessions",
    ),
    r("DELETE", "/users/{id}", Admin, "Delete a user (ends their sessions and tokens)"),
    r("GET", "/teams", Viewer, "Teams (admins: all; others: their own)"),
    rb("POST", "/teams", Admin, "Create a team", r#"{"id":"field","name":"Field team","members":["bob"]}"#),
    rb("PUT", "/teams/{id}", Admin, "Replace a team's name and members", r#"{"name":"Field team","members":[]}"#),
    r("DELETE", "/teams/{id}", Admin, "Delete a team"),
    r("GET", "/groups", Viewer, "Measurement groups (admins: all; others: those granted to them or their teams)"),
    rb(
        "POST",
        "/groups",
        Admin,
        "Create a measurement group",
        r#"{"id":"north","name":"North site","agents":[],"users":[],"teams":[]}"#,
    ),
    rb(
        "PUT",
        "/groups/{id}",
        Admin,
        "Replace a group's agents and grants",
        r#"{"name":"North site","agents":[],"users":[],"teams":[]}"#,
    ),
    r("DELETE", "/groups/{id}", Admin, "Delete a group"),
    r(
        "GET",
        "/agents",
        Viewer,
        "Visible agents with sync state (last batch, backlog, samples, rejected, last error, online), this month's traffic and the allowance",
    ),
    rb(
        "POST",
        "/agents",
        Admin,
        "Register an agent: returns id, secret (once), broker endpoint and topic prefix",
        r#"{"name":"Site box 1"}"#,
    ),
    r("GET", "/agents/{id}", Viewer, "One visible agent"),
    r("DELETE", "/agents/{id}", Admin, "Delete an agent with its channels and data"),
    r("GET", "/agents/{id}/channels", Viewer, "Channels of a visible agent"),
    r("POST", "/agents/{id}/secret", Admin, "Give the agent a new secret (returned once); the old one stops working"),
    rq(
        "GET",
        "/channels/{id}/raw",
        Viewer,
        "Samples with from <= t < to (ms since 1970 or ISO-8601), at most limit (default 10000)",
        &["from", "to", "limit"],
    ),
    rq(
        "GET",
        "/channels/{id}/minmax",
        Viewer,
        "Min/max per bucket of [from, to) (default 1000 buckets)",
        &["from", "to", "buckets"],
    ),
    r("GET", "/channels/{id}/latest", Viewer, "The newest sample"),
    rq("GET", "/channels/{id}/csv", Viewer, "Samples as CSV (time in ISO-8601 UTC, value)", &["from", "to"]),
    r("GET", "/tokens", Viewer, "API tokens (own; admins: all of the account)"),
    rb(
        "POST",
        "/tokens",
        Member,
        "Create an API token (mdt_..., shown once) acting as the caller",
        r#"{"name":"grafana"}"#,
    ),
    r("DELETE", "/tokens/{id}", Member, "Revoke an API token (own; admins: any)"),
    r("GET", "/account", Viewer, "The account"),
    rb(
        "PUT",
        "/account/ip-allow",
        Admin,
        "Set the IP allow-list (CIDR, IPv4 and IPv6; empty = anywhere)",
        r#"{"ip_allow":["192.0.2.0/24","2001:db8::/32"]}"#,
    ),
    rb(
        "DELETE",
        "/account",
        Admin,
        "Delete the account and all its data, agents and users (password required)",
        r#"{"password":"Secret-pass1"}"#,
    ),
    rq("GET", "/access-log", Admin, "Authenticated requests and logins, newest first", &["limit"]),
];

/// Whether `method path` (under /api/v1) is an endpoint that takes no token.
pub fn is_public(method: &str, path: &str) -> bool {
    ROUTES.iter().any(|r| r.access == Access::Public && r.method == method && r.path == path)
}

/// Example replies (method, path, status, JSON; CSV for the export).
const REPLIES: &[(&str, &str, u16, &str)] = &[
    (
        "GET",
        "/health",
        200,
        r#"{"status":"ok","database":{"ok":true,"kind":"sqlite","error":null},"broker":{"ok":true,"connected":true},"disk":{"ok":true,"free_bytes":52000000000,"min_free_bytes":104857600,"error":null}}"#,
    ),
    ("POST", "/login", 200, r#"{"token":"mds_...","pending":null,"two_factor":"none","idle_timeout_s":86400}"#),
    ("POST", "/login/code", 200, r#"{"pending":null}"#),
    ("POST", "/logout", 204, "null"),
    (
        "GET",
        "/me",
        200,
        r#"{"account":{"id":"acme","name":"Acme Ltd","plan":"pro"},"user":{"id":"ann","name":"Ann","email":"ann@example.com","role":"member","two_factor":"none","must_change":false,"created_ms":1800000000000},"via":"session"}"#,
    ),
    (
        "POST",
        "/me/totp",
        200,
        r#"{"secret":"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP","otpauth_url":"otpauth://totp/Meterdeck:ann%40acme?secret=...&issuer=Meterdeck","next":"..."}"#,
    ),
    ("POST", "/me/totp/confirm", 200, r#"{"two_factor":"totp"}"#),
    ("POST", "/password", 200, r#"{"pending":null}"#),
    (
        "POST",
        "/password/reset-request",
        202,
        r#"{"message":"if that user exists and has an email address, a reset link valid 30 minutes is on its way"}"#,
    ),
    ("POST", "/password/reset", 200, r#"{"message":"password set; log in with it"}"#),
    (
        "GET",
        "/users",
        200,
        r#"[{"id":"ann","name":"Ann","email":"ann@example.com","role":"member","two_factor":"email","must_change":false,"created_ms":1800000000000}]"#,
    ),
    (
        "POST",
        "/users",
        201,
        r#"{"user":{"id":"bob","name":"Bob","email":"bob@example.com","role":"viewer","two_factor":"none","must_change":true,"created_ms":1800000000000},"temporary_password":"x7Kd..."}"#,
    ),
    (
        "PATCH",
        "/users/{id}",
        200,
        r#"{"id":"bob","name":"Bob","email":"bob@example.com","role":"member","two_factor":"none","must_change":true,"created_ms":1800000000000}"#,
    ),
    (
        "POST",
        "/users/{id}/temporary-password",
        200,
        r#"{"user":{"id":"bob","name":"Bob","email":"bob@example.com","role":"viewer","two_factor":"none","must_change":true,"created_ms":1800000000000},"temporary_password":"x7Kd..."}"#,
    ),
    ("GET", "/teams", 200, r#"[{"account":"acme","id":"field","name":"Field team","members":["bob"]}]"#),
    ("POST", "/teams", 201, r#"{"account":"acme","id":"field","name":"Field team","members":["bob"]}"#),
    (
        "GET",
        "/groups",
        200,
        r#"[{"account":"acme","id":"north","name":"North site","agents":["a-0123456789abcdef"],"users":["ann"],"teams":["field"]}]"#,
    ),
    (
        "POST",
        "/groups",
        201,
        r#"{"account":"acme","id":"north","name":"North site","agents":[],"users":[],"teams":[]}"#,
    ),
    (
        "GET",
        "/agents",
        200,
        r#"[{"id":"a-0123456789abcdef","name":"Site box 1","created_ms":1800000000000,"online":true,"sync":{"last_batch_ms":1800000060000,"backlog":0,"samples":120000,"batches":40,"rejected":0,"last_error":null},"traffic_month":"2027-01","traffic_bytes":1048576,"traffic_allowance":5000000000,"topic_prefix":"md/v1/a-0123456789abcdef"}]"#,
    ),
    (
        "POST",
        "/agents",
        201,
        r#"{"id":"a-0123456789abcdef","name":"Site box 1","secret":"...","broker":{"host":"cloud.example.com","port":8883,"tls":true},"topic_prefix":"md/v1/a-0123456789abcdef","note":"the secret is shown only now; ..."}"#,
    ),
    (
        "GET",
        "/agents/{id}/channels",
        200,
        r#"[{"id":7,"agent":"a-0123456789abcdef","path":"dmm1/voltage","unit":"V","samples":86400,"t_first":1800000000000,"t_last":1800086399000}]"#,
    ),
    (
        "GET",
        "/channels/{id}/raw",
        200,
        r#"{"channel":7,"from":1800000000000,"to":1800000002000,"truncated":false,"points":[{"t":1800000000000,"v":1.25},{"t":1800000001000,"v":null}]}"#,
    ),
    (
        "GET",
        "/channels/{id}/minmax",
        200,
        r#"{"channel":7,"from":1800000000000,"to":1800086400000,"buckets":[{"t_start":1800000000000,"t_end":1800000086400,"count":86,"min":{"t":1800000004000,"v":1.1},"max":{"t":1800000050000,"v":1.4}}]}"#,
    ),
    (
        "GET",
        "/channels/{id}/latest",
        200,
        r#"{"channel":7,"path":"dmm1/voltage","unit":"V","point":{"t":1800086399000,"v":1.3}}"#,
    ),
    (
        "GET",
        "/tokens",
        200,
        r#"[{"id":"t-0011223344556677","user":"ann","name":"grafana","created_ms":1800000000000,"last_used_ms":null}]"#,
    ),
    (
        "POST",
        "/tokens",
        201,
        r#"{"id":"t-0011223344556677","name":"grafana","token":"mdt_...","note":"the token is shown only now; it acts as you"}"#,
    ),
    (
        "GET",
        "/account",
        200,
        r#"{"id":"acme","name":"Acme Ltd","plan":"pro","ip_allow":[],"traffic_allowance":5000000000,"created_ms":1800000000000}"#,
    ),
    ("PUT", "/account/ip-allow", 200, r#"{"ip_allow":["192.0.2.0/24","2001:db8::/32"]}"#),
    (
        "GET",
        "/access-log",
        200,
        r#"[{"t_ms":1800000000000,"account":"acme","user":"ann","ip":"192.0.2.7","method":"GET","path":"/api/v1/agents","status":200}]"#,
    ),
];

fn method(m: &str) -> HttpMethod {
    match m {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        other => unreachable!("method {other} in ROUTES"),
    }
}

fn reply(route: &RouteDoc) -> Option<(u16, &'static str)> {
    REPLIES.iter().find(|(m, p, _, _)| *m == route.method && *p == route.path).map(|(_, _, st, ex)| (*st, *ex))
}

fn ok_status(route: &RouteDoc) -> String {
    match reply(route) {
        Some((st, _)) => st.to_string(),
        None if route.method == "DELETE" => "204".into(),
        None => "200".into(),
    }
}

fn ok_response(route: &RouteDoc) -> ResponseBuilder {
    match reply(route) {
        Some((204, _)) => ResponseBuilder::new().description("Done, no body"),
        Some((st, ex)) => {
            let example: serde_json::Value = serde_json::from_str(ex).expect("REPLIES example is JSON");
            let desc = if st == 201 {
                "Created"
            } else if st == 202 {
                "Accepted"
            } else {
                "OK"
            };
            ResponseBuilder::new()
                .description(desc)
                .content("application/json", ContentBuilder::new().example(Some(example)).build())
        }
        None if route.path.ends_with("/csv") => {
            ResponseBuilder::new().description("CSV: time (ISO-8601 UTC), value").content(
                "text/csv",
                ContentBuilder::new()
                    .example(Some("time,\"dmm1/voltage [V]\"\n2027-01-15T08:00:00.000Z,1.25\n".into()))
                    .build(),
            )
        }
        None if route.method == "DELETE" => ResponseBuilder::new().description("Deleted, no body"),
        None => ResponseBuilder::new().description("OK"),
    }
}

pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let who = match route.access {
            Public => "No token.",
            Pending => "Any valid token, also while finishing the login.",
            Viewer => "Any role; only what is visible to the caller.",
            Member => "Members and admins.",
            Admin => "Admins of the account.",
        };
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .description(Some(format!("{who} Errors: {{\"error\": \"<message>\"}}.")))
            .tag(route.path.trim_start_matches('/').split('/').next().unwrap_or(""))
            .response(ok_status(route), ok_response(route))
            .response("4XX", ResponseBuilder::new().description("{\"error\": \"<what was wrong>\"}"));
        if route.access != Public {
            op = op.security(SecurityRequirement::new::<_, _, &str>("bearer", []));
        }
        for p in route.path.split('/').filter(|s| s.starts_with('{')) {
            let name = p.trim_matches(|c| c == '{' || c == '}');
            op = op
                .parameter(ParameterBuilder::new().name(name).parameter_in(ParameterIn::Path).required(Required::True));
        }
        for q in route.query {
            op = op
                .parameter(ParameterBuilder::new().name(*q).parameter_in(ParameterIn::Query).required(Required::False));
        }
        if let Some(body) = route.body {
            let example: serde_json::Value = serde_json::from_str(body).expect("ROUTES example is JSON");
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().example(Some(example)).build())
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        paths = paths.path(format!("/api/v1{}", route.path), PathItem::new(method(route.method), op));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Meterdeck cloud API")
                .version("1")
                .description(Some("Accounts, agents and measurement data of the Meterdeck cloud. Bearer tokens: mds_ (login sessions, 24 h idle timeout) or mdt_ (API tokens).")),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new().security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer))).build(),
        ))
        .build()
}

pub(crate) async fn serve_doc() -> axum::response::Response {
    axum::Json(document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_reply_belongs_to_a_route() {
        for (m, p, _, ex) in REPLIES {
            assert!(ROUTES.iter().any(|r| r.method == *m && r.path == *p), "{m} {p} is not in ROUTES");
            serde_json::from_str::<serde_json::Value>(ex).unwrap_or_else(|e| panic!("{m} {p}: {e}"));
        }
    }

    #[test]
    fn document_lists_every_route() {
        let doc = serde_json::to_value(document()).unwrap();
        for r in ROUTES {
            let p = &doc["paths"][format!("/api/v1{}", r.path)][r.method.to_lowercase()];
            assert!(p.is_object(), "{} {} missing", r.method, r.path);
        }
    }
}
