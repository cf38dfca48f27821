//! Handlers of `/v1/exports` (create, status, approve, bundle download) and
//! `GET /v1/keys/export` (the public key that signs bundles).

use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::access::body;
use super::problem::Problem;
use super::{AppState, Authenticated};
use crate::vault::NewExport;

/// `POST /v1/exports`: a compliance officer opens an export; `201` with its view.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    b: Result<Json<NewExport>, JsonRejection>,
) -> Result<Response, Problem> {
    let new = body(b)?;
    let view = state
        .vault
        .create_export(&auth.principal, &auth.origin, new)
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `GET /v1/exports/{id}`: status and build progress.
pub async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let view = state
        .vault
        .get_export(&auth.principal, &auth.origin, &id)
        .await?;
    Ok(Json(view).into_response())
}

/// `POST /v1/exports/{id}/approve`: a second compliance officer approves; the build
/// starts in the background (`202`).
pub async fn approve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let view = state
        .vault
        .approve_export(&auth.principal, &auth.origin, &id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// `GET /v1/exports/{id}/bundle`: the age-encrypted bundle, streamed.
pub async fn bundle(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let bundle = state
        .vault
        .download_export(&auth.principal, &auth.origin, &id)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, bundle.bytes.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", bundle.file_name),
            ),
        ],
        Body::from_stream(bundle.body),
    )
        .into_response())
}

/// `GET /v1/keys/export`: the public key that signs bundles' tag manifests, in OpenSSH
/// form. Public: a regulator fetches it out of band to check bundles.
pub async fn public_key(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", state.vault.export_public_key()),
    )
        .into_response()
}
