//! The bearer-token extractor: every handler that takes an [`Authenticated`] is protected.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::problem::Problem;
use super::AppState;
use crate::access::{hash_token, Principal, Role, TOKEN_PREFIX};
use crate::audit::{AuditEntry, Outcome};

/// Longest bearer token accepted before lookup.
const MAX_TOKEN_LEN: usize = 256;

/// An authenticated caller and where the request came from.
pub struct Authenticated {
    /// Who is calling.
    pub principal: Principal,
    /// Peer address, for audit entries.
    pub origin: String,
    /// SHA-256 of the bearer token the request carried (what logout revokes).
    pub token_hash: [u8; 32],
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let origin = origin_of(&parts.extensions);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token.filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() <= MAX_TOKEN_LEN)
        else {
            return Err(Problem::unauthorized());
        };
        // The catalog is keyed by the token's hash, so lookup time does not depend on how
        // much of a guessed token is right.
        let hash = hash_token(token);
        let principal = match lookup(state, &hash).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                state.metrics.auth_failures.inc();
                let entry = AuditEntry::new(None, "auth.token", Outcome::Denied, &origin)
                    .reason("unknown-token");
                if let Err(e) = state.vault.audit.append(&entry).await {
                    return Err(Problem::from(crate::vault::VaultError::Audit(e)));
                }
                return Err(Problem::unauthorized());
            }
            Err(()) => {
                return Err(Problem::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "the catalog is unavailable",
                ))
            }
        };
        tracing::Span::current().record("principal", principal.name.as_str());
        Ok(Authenticated {
            principal,
            origin,
            token_hash: hash,
        })
    }
}

/// The peer's IP address, the origin in audit entries and the rate limit.
pub(super) fn origin_of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

/// The principal a live token acts for. Revocation, expiry and disabling are read from the
/// catalog on every request (nothing is cached), so they take effect at once.
async fn lookup(state: &AppState, hash: &[u8; 32]) -> Result<Option<Principal>, ()> {
    let catalog = &state.vault.catalog;
    let Some(token) = catalog.find_token(hash).await.map_err(|_| ())? else {
        return Ok(None);
    };
    if token.revoked || token.expires_at.as_deref().is_some_and(expired) {
        return Ok(None);
    }
    let Some(p) = catalog
        .get_principal(&token.principal)
        .await
        .map_err(|_| ())?
    else {
        return Ok(None);
    };
    if p.disabled {
        return Ok(None);
    }
    let roles = p.roles.iter().filter_map(|r| Role::parse(r)).collect();
    let agents = agents_of(&p.attrs_json);
    Ok(Some(Principal {
        name: p.name,
        roles,
        agents,
        second_factor: token.second_factor,
    }))
}

/// The `agents` list of a principal's attributes; anything unreadable yields none.
fn agents_of(attrs_json: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Attrs {
        #[serde(default)]
        agents: Vec<String>,
    }
    serde_json::from_str::<Attrs>(attrs_json)
        .map(|a| a.agents)
        .unwrap_or_default()
}

fn expired(rfc3339: &str) -> bool {
    match time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) {
        Ok(t) => t <= time::OffsetDateTime::now_utc(),
        Err(_) => true, // an unreadable expiry fails closed
    }
}
