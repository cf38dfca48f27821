//! Handlers of `/v1/access-requests` (request, list, show, approve, deny, revoke) and
//! `POST /v1/calls/search` (customer lookup through the blind index).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::problem::Problem;
use super::{AppState, Authenticated};
use crate::vault::{CustomerIn, NewRequest, Verdict};

/// Longest request id accepted in a path.
const MAX_ID_LEN: usize = 64;

/// Turns a JSON body (or its rejection) into a value or a problem. Serde's messages can
/// quote submitted values, so none is echoed.
pub(super) fn body<T: DeserializeOwned>(b: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    match b {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad-request",
            "Unsupported media type",
            "send the body as application/json",
        )),
        Err(JsonRejection::JsonDataError(_)) => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            "the JSON body does not have the expected fields and types (see /v1/openapi.json)",
        )),
        Err(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            "the body is not valid JSON",
        )),
    }
}

fn check_id(id: &str) -> Result<(), Problem> {
    let ok = id.len() <= MAX_ID_LEN
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "no such access request",
        ))
    }
}

/// `POST /v1/access-requests`.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    b: Result<Json<NewRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    let new = body(b)?;
    let view = state
        .vault
        .create_request(&auth.principal, &auth.origin, new)
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `GET /v1/access-requests`.
pub async fn list(State(state): State<AppState>, auth: Authenticated) -> Result<Response, Problem> {
    let views = state
        .vault
        .list_requests(&auth.principal, &auth.origin)
        .await?;
    Ok(Json(serde_json::json!({ "requests": views })).into_response())
}

/// `GET /v1/access-requests/{id}`.
pub async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    check_id(&id)?;
    let view = state
        .vault
        .get_request(&auth.principal, &auth.origin, &id)
        .await?;
    Ok(Json(view).into_response())
}

/// Body of approve, deny and revoke.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An optional JSON body: absent (no content type, empty) is `Reason::default()`.
fn reason(b: Result<Json<Reason>, JsonRejection>) -> Result<Option<String>, Problem> {
    match b {
        Err(JsonRejection::MissingJsonContentType(_)) => Ok(None),
        other => Ok(body(other)?.reason),
    }
}

async fn decide(
    state: AppState,
    auth: Authenticated,
    id: String,
    b: Result<Json<Reason>, JsonRejection>,
    verdict: Verdict,
) -> Result<Response, Problem> {
    check_id(&id)?;
    let reason = reason(b)?;
    let view = state
        .vault
        .decide_request(&auth.principal, &auth.origin, &id, reason, verdict)
        .await?;
    Ok(Json(view).into_response())
}

/// `POST /v1/access-requests/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    b: Result<Json<Reason>, JsonRejection>,
) -> Result<Response, Problem> {
    decide(state, auth, id, b, Verdict::Approve).await
}

/// `POST /v1/access-requests/{id}/deny`.
pub async fn deny(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    b: Result<Json<Reason>, JsonRejection>,
) -> Result<Response, Problem> {
    decide(state, auth, id, b, Verdict::Deny).await
}

/// `POST /v1/access-requests/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    b: Result<Json<Reason>, JsonRejection>,
) -> Result<Response, Problem> {
    decide(state, auth, id, b, Verdict::Revoke).await
}

/// `POST /v1/calls/search` with exactly one of `phone`, `card_number`, `id_number`.
pub async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    b: Result<Json<CustomerIn>, JsonRejection>,
) -> Result<Response, Problem> {
    let customer = body(b)?;
    let ids = state
        .vault
        .search_customer(&auth.principal, &auth.origin, &customer)
        .await?;
    Ok(Json(serde_json::json!({ "call_ids": ids })).into_response())
}
