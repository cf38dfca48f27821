//! Handlers of `/v1/audit/*`: the signed checkpoint, the verifier key, raw leaves,
//! inclusion and consistency proofs, and search by call id. Readers: the compliance and
//! auditor roles (the `audit-readers` Cedar policy).

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::problem::Problem;
use super::{AppState, Authenticated};
use crate::access::authz::{Action, Resource};
use crate::audit::signed::TreeError;
use crate::audit::{AuditEntry, Outcome};
use crate::formats::validate_call_id;
use crate::vault::VaultError;

/// Most leaves returned by one `GET /v1/audit/entries`.
const MAX_ENTRIES: u64 = 1000;

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

impl From<TreeError> for Problem {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::OutOfRange => Problem::new(
                StatusCode::BAD_REQUEST,
                "out-of-range",
                "Out of range",
                "index or size out of range",
            ),
            TreeError::Inconsistent => {
                tracing::error!(
                    "refusing to sign: the audit log is inconsistent with its last checkpoint"
                );
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "audit-inconsistent",
                    "Audit log inconsistent",
                    e.to_string(),
                )
            }
            TreeError::Storage(s) => VaultError::Audit(s).into(),
        }
    }
}

/// Decides `read_audit` with the Cedar policies; a refusal is audited with the deciding
/// policy ids before the caller hears of it.
async fn require_reader(
    state: &AppState,
    auth: &Authenticated,
    event: &str,
) -> Result<Vec<String>, Problem> {
    let decision = state
        .vault
        .authorize(
            &auth.principal,
            &auth.origin,
            event,
            Action::ReadAudit,
            Resource::AuditLog,
            None,
        )
        .await?;
    Ok(decision.policies)
}

/// `GET /v1/audit/checkpoint`: the latest signed checkpoint of the whole log.
pub async fn checkpoint(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, Problem> {
    require_reader(&state, &auth, "audit.checkpoint").await?;
    Ok(text(state.vault.tlog.checkpoint().await?))
}

/// `GET /v1/audit/key`: the verifier key, `<name>+<key id>+<base64 key>`.
pub async fn key(State(state): State<AppState>, auth: Authenticated) -> Result<Response, Problem> {
    require_reader(&state, &auth, "audit.key").await?;
    Ok(text(format!("{}\n", state.vault.tlog.vkey())))
}

/// Query of `GET /v1/audit/entries`.
#[derive(Debug, Deserialize)]
pub struct Range {
    start: u64,
    end: u64,
}

/// `GET /v1/audit/entries?start=N&end=M`: the exact leaf bytes, base64, `end` exclusive.
pub async fn entries(
    State(state): State<AppState>,
    auth: Authenticated,
    q: Result<Query<Range>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require_reader(&state, &auth, "audit.entries").await?;
    let Query(r) = q.map_err(|_| Problem::bad_request("start and end must be integers"))?;
    let size = state.vault.audit.size().await.map_err(VaultError::Audit)?;
    if r.start > r.end || r.end > size || r.end - r.start > MAX_ENTRIES {
        return Err(TreeError::OutOfRange.into());
    }
    let leaves = state
        .vault
        .catalog
        .audit_entries(r.start, r.end)
        .await
        .map_err(VaultError::from)?;
    let read = AuditEntry::new(
        Some(&auth.principal),
        "audit.entries",
        Outcome::Success,
        &auth.origin,
    )
    .object(format!("{}..{}", r.start, r.end));
    state
        .vault
        .audit
        .append(&read)
        .await
        .map_err(VaultError::Audit)?;
    Ok(Json(leaves.iter().map(|l| B64.encode(l)).collect::<Vec<_>>()).into_response())
}

/// Query of the inclusion proof.
#[derive(Debug, Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /v1/audit/proof/inclusion?index=N&size=M`: a C2SP tlog-proof.
pub async fn inclusion(
    State(state): State<AppState>,
    auth: Authenticated,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require_reader(&state, &auth, "audit.proof").await?;
    let Query(q) = q.map_err(|_| Problem::bad_request("index and size must be integers"))?;
    Ok(text(state.vault.tlog.inclusion(q.index, q.size).await?))
}

/// Query of the consistency proof.
#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    old: u64,
    new: u64,
}

/// `GET /v1/audit/proof/consistency?old=N&new=M`: base64 hashes, one a line.
pub async fn consistency(
    State(state): State<AppState>,
    auth: Authenticated,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require_reader(&state, &auth, "audit.proof").await?;
    let Query(q) = q.map_err(|_| Problem::bad_request("old and new must be integers"))?;
    let hashes = state.vault.tlog.consistency(q.old, q.new).await?;
    Ok(text(
        hashes
            .iter()
            .map(|h| format!("{}\n", B64.encode(h)))
            .collect(),
    ))
}

/// Query of `GET /v1/audit/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    call_id: String,
    /// First index to return (for the next page: one past the last index seen).
    #[serde(default)]
    start: u64,
}

/// One hit of `GET /v1/audit/search`: who touched the object, when, how, under which grant.
#[derive(Debug, Serialize)]
pub struct SearchHit {
    index: u64,
    time: String,
    actor: String,
    roles: Vec<String>,
    event: String,
    outcome: Outcome,
    grant: Option<String>,
    purpose: Option<String>,
    policies: Vec<String>,
}

/// `GET /v1/audit/search?call_id=X[&start=N]`: the entries naming call X, oldest first, at
/// most [`crate::audit::MAX_SEARCH`] a page, from the object index. The search is audited.
pub async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let policies = require_reader(&state, &auth, "audit.search").await?;
    let Query(q) = q.map_err(|_| Problem::bad_request("call_id is required"))?;
    let call_id = validate_call_id(&q.call_id)
        .map_err(|_| Problem::bad_request("call_id is not a valid call id"))?;
    let hits = state
        .vault
        .audit
        .search(call_id.as_str(), q.start)
        .await
        .map_err(VaultError::Audit)?;
    let done = AuditEntry::new(
        Some(&auth.principal),
        "audit.search",
        Outcome::Success,
        &auth.origin,
    )
    .object(call_id.as_str())
    .policies(policies);
    state
        .vault
        .audit
        .append(&done)
        .await
        .map_err(VaultError::Audit)?;
    let hits: Vec<SearchHit> = hits
        .into_iter()
        .map(|(index, e)| SearchHit {
            index,
            time: e.time,
            actor: e.actor,
            roles: e.roles,
            event: e.event,
            outcome: e.outcome,
            grant: e.grant,
            purpose: e.purpose,
            policies: e.policies,
        })
        .collect();
    Ok(Json(hits).into_response())
}
