//! Errors as `{"error": "<message a person can act on>"}` with the right
//! status, and the JSON/Path/Query extractors whose rejections become such
//! errors (axum's own answer plain text).
//!
//! A message given as a keyed [`Text`] (locales/*/cloud.ftl) is answered in
//! the request's language: the response carries it as [`ErrorText`] and
//! [`localize`] (a layer on the router) rewrites `error` for a request whose
//! `Accept-Language` names Japanese or German. `message` stays English (the
//! log's and the tests' words).

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meterdeck_wire::i18n::Text;
use serde::Serialize;

use crate::auth::session::BearerError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// English: what the log shows and the body carries when nobody asks
    /// for another language (`text` in English when there is one).
    pub message: String,
    /// The message by key, so it can be answered in the request's language.
    pub text: Option<Text>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// A plan limit refused the request: the body carries its fields.
    pub plan_limit: Option<Box<crate::licence::limits::PlanLimit>>,
    /// A stable code for programs (see `ErrorBody`).
    pub code: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What an error says: words as they are (English only) or a keyed
/// message answered in the caller's language.
pub enum Message {
    Plain(String),
    Text(Text),
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Plain(s.to_string())
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Plain(s)
    }
}

impl From<Text> for Message {
    fn from(t: Text) -> Self {
        Message::Text(t)
    }
}

/// The keyed message of an error answer, in the response's extensions for
/// [`localize`].
#[derive(Clone, Debug)]
pub struct ErrorText(pub Text);

/// A cloud message: `Text::new(key)` (keys in locales/*/cloud.ftl).
pub fn t(key: &str) -> Text {
    Text::new(key)
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Message>) -> Self {
        let (message, text) = match message.into() {
            Message::Plain(s) => (s, None),
            Message::Text(t) => (t.to_string(), Some(t)),
        };
        ApiError { status, message, text, retry_after: None, plan_limit: None, code: None }
    }
    pub fn bad_request(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    pub fn not_found(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    pub fn conflict(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn unprocessable(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, m)
    }
    pub fn too_many(m: impl Into<Message>, retry_after: u64) -> Self {
        ApiError { retry_after: Some(retry_after), ..Self::new(StatusCode::TOO_MANY_REQUESTS, m) }
    }
    pub fn unavailable(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }
    pub fn internal(m: impl Into<Message>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
    }
    /// 403 with `code: "plan_limit"` and the limit's fields.
    pub fn plan_limit(l: crate::licence::limits::PlanLimit) -> Self {
        ApiError { plan_limit: Some(Box::new(l.clone())), ..Self::forbidden(l.text) }
    }
}

impl From<crate::licence::limits::PlanLimit> for ApiError {
    fn from(l: crate::licence::limits::PlanLimit) -> Self {
        ApiError::plan_limit(l)
    }
}

impl From<crate::licence::LicenceOpError> for ApiError {
    fn from(e: crate::licence::LicenceOpError) -> Self {
        use crate::licence::LicenceOpError as E;
        match e {
            E::Store(s) => s.into(),
            E::NoAccount(a) => ApiError::not_found(t("cloud-licence-no-account").arg("account", format!("{a:?}"))),
            E::UnknownCard => ApiError::bad_request(t("cloud-licence-card-unknown")).with_code("licence_card_unknown"),
            E::CardUsed(at) => {
                ApiError::conflict(t("cloud-licence-card-used").arg("at", at)).with_code("licence_card_used")
            }
            E::Term(_) => ApiError::conflict(e.to_string()).with_code("licence_refused"),
            E::Invalid(_) => ApiError::bad_request(e.to_string()),
        }
    }
}

/// Every error answer: what was wrong and what to do; `code` (stable, for
/// programs) on some: `plan_limit` (then also `limit`, `plan`, `max`,
/// `count`), `licence_card_unknown`, `licence_card_used`, `licence_refused`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The field of the plan's limits that refused (users, teams, agents, groups, storage_bytes, web_api, ip_restriction, csv_import).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The plan in force (free, standard, pro).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl ApiError {
    /// Adds a stable `code` to the body.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let l = self.plan_limit.as_deref();
        let body = ErrorBody {
            error: self.message,
            code: if l.is_some() { Some("plan_limit".into()) } else { self.code.map(str::to_string) },
            limit: l.map(|l| l.limit.to_string()),
            plan: l.map(|l| format!("{:?}", l.plan).to_lowercase()),
            max: l.map(|l| l.max),
            count: l.map(|l| l.count),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(t) = self.text {
            resp.extensions_mut().insert(ErrorText(t));
        }
        resp
    }
}

/// Largest error body [`localize`] rewrites (ours are a few hundred bytes).
const MAX_LOCALIZED_BODY: usize = 64 * 1024;

/// Middleware: an error answer with a keyed message, to a request that asks
/// for Japanese or German (`Accept-Language`), gets its `error` in that
/// language (and `Content-Language`). Anything else passes untouched.
pub async fn localize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = crate::mail::request_language(req.headers());
    let resp = next.run(req).await;
    if lang == "en" {
        return resp;
    }
    let Some(ErrorText(text)) = resp.extensions().get::<ErrorText>().cloned() else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    // Only a body known to be small is read (an error of ours always is).
    let small = axum::body::HttpBody::size_hint(&body).upper().is_some_and(|n| n <= MAX_LOCALIZED_BODY as u64);
    if !small {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_LOCALIZED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            // Cannot happen for a body of known size; the English is lost
            // with the body, so the translation stands alone.
            tracing::warn!(error = %e, "error body unreadable");
            axum::body::Bytes::from(serde_json::json!({ "error": text.render(lang) }).to_string())
        }
    };
    let out = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) if v.get("error").is_some_and(serde_json::Value::is_string) => {
            v["error"] = serde_json::Value::String(text.render(lang));
            parts.headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang));
            axum::body::Bytes::from(serde_json::to_vec(&v).unwrap_or_else(|_| bytes.to_vec()))
        }
        _ => bytes,
    };
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, axum::body::Body::from(out))
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists(what) => ApiError::conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::Refused(why) => ApiError::bad_request(why),
            StoreError::Conflict(why) => ApiError::conflict(why),
            other => {
                // The details go to the log, not to the caller.
                tracing::error!(error = %other, "storage");
                ApiError::internal("the service could not read or write its database; try again later")
            }
        }
    }
}

impl From<BearerError> for ApiError {
    fn from(e: BearerError) -> Self {
        match e {
            BearerError::Store(s) => s.into(),
            BearerError::Malformed => ApiError::unauthorized(t("cloud-bearer-malformed")),
            BearerError::Unknown => ApiError::unauthorized(t("cloud-bearer-unknown")),
            BearerError::Expired => ApiError::unauthorized(t("cloud-bearer-expired")),
            BearerError::PendingExpired => ApiError::unauthorized(t("cloud-bearer-pending-expired")),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let message: Message = match &r {
            JsonRejection::MissingJsonContentType(_) => t("cloud-json-content-type").into(),
            JsonRejection::JsonSyntaxError(_) => t("cloud-json-syntax").arg("error", r.body_text()).into(),
            JsonRejection::JsonDataError(_) => t("cloud-json-data").arg("error", r.body_text()).into(),
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
                t("cloud-json-too-large").arg("max", super::MAX_BODY_BYTES.to_string()).into()
            }
            _ => Message::Plain(r.body_text()),
        };
        ApiError::new(status, message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(t("cloud-bad-path").arg("error", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(t("cloud-bad-query").arg("error", r.body_text()))
    }
}

/// `axum::Json` with JSON errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    /// A tiny router behind [`localize`]: a keyed refusal, a plan limit, a
    /// plain one and a success.
    async fn serve() -> String {
        let limit = || {
            let (plan, limits) = (meterdeck_wire::licence::Plan::Free, meterdeck_wire::licence::Plan::Free.limits());
            ApiError::from(crate::licence::limits::check_count("acme", plan, &limits, "users", 3).unwrap_err())
        };
        let app = axum::Router::new()
            .route("/keyed", get(|| async { ApiError::unauthorized(t("cloud-login-wrong")) }))
            .route("/limit", get(move || async move { limit() }))
            .route("/plain", get(|| async { ApiError::bad_request("plain words") }))
            .route("/ok", get(|| async { axum::Json(serde_json::json!({"error": "not an error"})) }))
            .layer(axum::middleware::from_fn(localize));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        format!("http://{addr}")
    }

    async fn get_in(base: &str, path: &str, lang: Option<&str>) -> (u16, Option<String>, String) {
        let mut req = reqwest::Client::new().get(format!("{base}{path}"));
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let cl = r.content_length();
        let lang = r.headers().get("content-language").map(|v| v.to_str().unwrap().to_string());
        let body = r.bytes().await.unwrap();
        assert_eq!(cl, Some(body.len() as u64), "Content-Length matches the body");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (status, lang, v["error"].as_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn keyed_errors_answer_in_the_requests_language() {
        let base = serve().await;
        let en = "wrong account, user or password";
        assert_eq!(ApiError::unauthorized(t("cloud-login-wrong")).message, en);
        assert_eq!(get_in(&base, "/keyed", None).await, (401, None, en.to_string()));
        assert_eq!(get_in(&base, "/keyed", Some("en-US,en;q=0.9")).await, (401, None, en.to_string()));
        assert_eq!(
            get_in(&base, "/keyed", Some("de-DE,de;q=0.9")).await,
            (401, Some("de".into()), "Konto, Benutzer oder Passwort ist falsch".to_string())
        );
        let (status, lang, ja) = get_in(&base, "/keyed", Some("ja")).await;
        assert_eq!((status, lang.as_deref()), (401, Some("ja")));
        assert_eq!(ja, "アカウント、ユーザー、またはパスワードが正しくありません");
        // A plan limit: the nested parts in German too; the fields stay.
        let (status, _, de) = get_in(&base, "/limit", Some("de")).await;
        assert_eq!(status, 403);
        assert_eq!(
            de,
            "Der Tarif Free erlaubt 3 Benutzer, und das Konto acme hat 3; nichts wurde angelegt: \
             Wenden Sie eine Standard-Lizenzkarte an (sie erlaubt 10) oder entfernen Sie zuerst einen Eintrag"
        );
        let (_, _, en) = get_in(&base, "/limit", None).await;
        assert!(en.starts_with("the Free plan allows 3 users and account acme has 3"), "{en}");
        // Words without a key, and answers that are no error, pass untouched.
        assert_eq!(get_in(&base, "/plain", Some("de")).await, (400, None, "plain words".to_string()));
        assert_eq!(get_in(&base, "/ok", Some("ja")).await, (200, None, "not an error".to_string()));
    }

    #[test]
    fn english_is_the_message_and_the_translations_differ() {
        let cases = [
            t("cloud-login-wrong"),
            t("cloud-limit-feature")
                .text_arg("what", t("cloud-limit-feature-web-api"))
                .arg("account", "acme")
                .arg("plan", "Standard"),
        ];
        for text in cases {
            let e = ApiError::forbidden(text.clone());
            assert_eq!(e.message, text.render("en"));
            assert_eq!(e.text.as_ref(), Some(&text));
            assert_ne!(text.render("de"), e.message, "{}", text.key);
            assert_ne!(text.render("ja"), e.message, "{}", text.key);
        }
        assert_eq!(
            cases_de(),
            "Für Web-API-Tokens ist der Tarif Pro nötig; das Konto acme hat den Tarif Standard: \
             Wenden Sie eine Pro-Lizenzkarte an oder wechseln Sie zum Tarif Pro, um sie zu nutzen"
        );
        fn cases_de() -> String {
            t("cloud-limit-feature")
                .text_arg("what", t("cloud-limit-feature-web-api"))
                .arg("account", "acme")
                .arg("plan", "Standard")
                .render("de")
        }
    }
}
