//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Every error kind has a stable `type` URI; `detail` says what was wrong with the request
//! but never quotes its content.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::vault::VaultError;

/// Base of every problem `type` URI.
pub const TYPE_BASE: &str = "https://callvault.dev/problems/";

/// A problem+json response.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// Stable URI naming the error kind.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short human summary of the kind.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// What was wrong with this request (no content, no secrets).
    pub detail: String,
}

impl Problem {
    /// A problem of `kind` with `status`.
    pub fn new(
        status: StatusCode,
        kind: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            type_uri: format!("{TYPE_BASE}{kind}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// 401: missing or unknown credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            "a valid bearer token is required",
        )
    }

    /// 400 for a malformed request outside the vault pipeline (query strings, multipart).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-upload", "Bad request", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("problems serialise");
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<VaultError> for Problem {
    fn from(e: VaultError) -> Self {
        let kind = e.kind();
        let (status, title) = match &e {
            VaultError::Format(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid transcript"),
            VaultError::Audio(_) if kind == "too-large" => {
                (StatusCode::PAYLOAD_TOO_LARGE, "Upload too large")
            }
            VaultError::Audio(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid audio"),
            VaultError::BadUpload(_) | VaultError::Body => (StatusCode::BAD_REQUEST, "Bad upload"),
            VaultError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "Upload too large"),
            VaultError::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
            VaultError::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            VaultError::Conflict => (StatusCode::CONFLICT, "Conflict"),
            VaultError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid request"),
            VaultError::WrongState(_) => (StatusCode::CONFLICT, "Wrong state"),
            VaultError::Integrity => (StatusCode::INTERNAL_SERVER_ERROR, "Integrity failure"),
            VaultError::Redact(_) => (StatusCode::FORBIDDEN, "No view for this role"),
            VaultError::Store(_) | VaultError::Catalog(_) | VaultError::Audit(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
            }
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        Problem::new(status, kind, title, e.to_string())
    }
}

impl From<VaultError> for Response {
    fn from(e: VaultError) -> Self {
        Problem::from(e).into_response()
    }
}
