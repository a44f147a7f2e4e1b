//! Errors as `{"error": "<message a person can act on>"}` with the right
//! status, and the JSON/Path/Query extractors whose rejections become such
//! errors (axum's own answer plain text).

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::session::BearerError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// A plan limit refused the request: the body carries its fields.
    pub plan_limit: Option<Box<crate::licence::limits::PlanLimit>>,
    /// A stable code for programs (see `ErrorBody`).
    pub code: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None, plan_limit: None, code: None }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn unprocessable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, m)
    }
    pub fn too_many(m: impl Into<String>, retry_after: u64) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: m.into(),
            retry_after: Some(retry_after),
            plan_limit: None,
            code: None,
        }
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
    }
    /// 403 with `code: "plan_limit"` and the limit's fields.
    pub fn plan_limit(l: crate::licence::limits::PlanLimit) -> Self {
        ApiError { plan_limit: Some(Box::new(l.clone())), ..Self::forbidden(l.message) }
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
            E::NoAccount(_) => ApiError::not_found(e.to_string()),
            E::UnknownCard => ApiError::bad_request(e.to_string()).with_code("licence_card_unknown"),
            E::CardUsed(_) => ApiError::conflict(e.to_string()).with_code("licence_card_used"),
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
        resp
    }
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
            other => ApiError::unauthorized(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "the body must be JSON with the header Content-Type: application/json".to_string()
            }
            JsonRejection::JsonSyntaxError(_) => {
                format!("the body is not valid JSON (or not UTF-8): {}", r.body_text())
            }
            JsonRejection::JsonDataError(_) => format!("the JSON does not fit this endpoint: {}", r.body_text()),
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
                format!("the body is larger than {} bytes", super::MAX_BODY_BYTES)
            }
            _ => r.body_text(),
        };
        ApiError::new(status, message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("bad path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(format!("bad query: {}", r.body_text()))
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
