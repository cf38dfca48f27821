//! `POST /v1/login` (password and optional TOTP code → session token) and
//! `POST /v1/logout` (revokes the bearer token the request carries).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::auth::origin_of;
use super::problem::Problem;
use super::{AppState, Authenticated};
use crate::access::PasswordError;
use crate::vault::{LoginRequest, PrincipalError};

/// Largest login body read: a password of the maximum length, JSON-escaped, fits.
const MAX_LOGIN_BODY: usize = 16 * 1024;

/// The login body. Not `Debug`: it holds the password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// `POST /v1/login`: 200 with the session, 401 for any wrong credential (one answer for
/// unknown names and wrong passwords), 429 with `Retry-After` when rate-limited, 422 for
/// a malformed body.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let origin = origin_of(&parts.extensions);
    let request = match read_body(body).await {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    match state.vault.login(request, &origin).await {
        Ok(session) => {
            let body = Zeroizing::new(
                serde_json::json!({
                    "principal": session.principal,
                    "token": session.token.as_str(),
                    "token_type": "Bearer",
                    "expires_at": session.expires_at,
                    "second_factor": session.second_factor,
                })
                .to_string(),
            );
            let mut resp = (
                [(header::CONTENT_TYPE, "application/json")],
                body.as_bytes().to_vec(),
            )
                .into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            if matches!(e, PrincipalError::BadCredentials) {
                state.metrics.auth_failures.inc();
            }
            problem_response(e)
        }
    }
}

/// `POST /v1/logout`: revokes the token the request was made with; 204.
pub async fn logout(State(state): State<AppState>, auth: Authenticated) -> Response {
    match state
        .vault
        .logout(&auth.principal, &auth.token_hash, &auth.origin)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem_response(e),
    }
}

async fn read_body(body: Body) -> Result<LoginRequest, Problem> {
    let bytes = axum::body::to_bytes(body, MAX_LOGIN_BODY)
        .await
        .map_err(|_| invalid("the login body must be a JSON object of at most 16 KiB"))?;
    let raw = Zeroizing::new(Vec::from(bytes));
    // serde's messages can quote the input, so none of them reaches the caller.
    let parsed: LoginBody = serde_json::from_slice(&raw).map_err(|_| {
        invalid("the body must be a JSON object with string fields name and password, and optionally totp")
    })?;
    Ok(LoginRequest {
        name: parsed.name,
        password: Zeroizing::new(parsed.password),
        totp: parsed.totp.map(Zeroizing::new),
    })
}

fn invalid(detail: &str) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-request",
        "Invalid request",
        detail,
    )
}

fn problem_response(e: PrincipalError) -> Response {
    let retry_after = match &e {
        PrincipalError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    let mut resp = Problem::from(e).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

impl From<PrincipalError> for Problem {
    fn from(e: PrincipalError) -> Self {
        let (status, kind, title) = match &e {
            PrincipalError::InvalidName | PrincipalError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "Invalid request",
            ),
            PrincipalError::Password(PasswordError::Hash) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
            PrincipalError::Password(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak-password",
                "Password refused",
            ),
            PrincipalError::Exists => (StatusCode::CONFLICT, "conflict", "Conflict"),
            PrincipalError::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            PrincipalError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "bad-credentials",
                "Authentication failed",
            ),
            PrincipalError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many failed logins",
            ),
            PrincipalError::Keys => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "integrity",
                "Integrity failure",
            ),
            PrincipalError::Catalog(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            PrincipalError::Audit(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "audit-unavailable",
                "Service unavailable",
            ),
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "login request failed");
        }
        Problem::new(status, kind, title, e.to_string())
    }
}
