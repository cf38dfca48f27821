//! The HTTP API: an axum router of small handlers over the [`Vault`], bearer-token
//! authentication, problem+json errors, Prometheus metrics and the OpenAPI document.

mod access;
mod audit;
mod auth;
mod calls;
pub mod dev;
mod exports;
mod login;
mod metrics;
pub mod problem;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use tower_http::trace::TraceLayer;

pub use auth::Authenticated;
pub use metrics::Metrics;

use crate::config::Config;
use crate::vault::Vault;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The pipelines.
    pub vault: Arc<Vault>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
}

/// Errors that stop the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("cannot load the TLS certificate or key: {0}")]
    Tls(std::io::Error),
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the router with all routes and middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics_text))
        .route("/v1/login", post(login::login))
        .route("/v1/logout", post(login::logout))
        .route("/v1/calls", post(calls::upload).get(calls::list))
        .route("/v1/calls/search", post(access::search))
        .route("/v1/calls/{id}", get(calls::metadata))
        .route("/v1/calls/{id}/transcript", get(calls::transcript))
        .route("/v1/calls/{id}/audio", get(calls::audio))
        .route(
            "/v1/access-requests",
            post(access::create).get(access::list),
        )
        .route("/v1/access-requests/{id}", get(access::show))
        .route("/v1/access-requests/{id}/approve", post(access::approve))
        .route("/v1/access-requests/{id}/deny", post(access::deny))
        .route("/v1/access-requests/{id}/revoke", post(access::revoke))
        .route("/v1/exports", post(exports::create))
        .route("/v1/exports/{id}", get(exports::show))
        .route("/v1/exports/{id}/approve", post(exports::approve))
        .route("/v1/exports/{id}/bundle", get(exports::bundle))
        .route("/v1/keys/export", get(exports::public_key))
        .route("/v1/audit/checkpoint", get(audit::checkpoint))
        .route("/v1/audit/key", get(audit::key))
        .route("/v1/audit/entries", get(audit::entries))
        .route("/v1/audit/proof/inclusion", get(audit::inclusion))
        .route("/v1/audit/proof/consistency", get(audit::consistency))
        .route("/v1/audit/search", get(audit::search))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("unmatched", |m| m.as_str());
            tracing::info_span!(
                "request",
                method = %req.method(),
                route = %route,
                principal = tracing::field::Empty,
                call_id = tracing::field::Empty,
            )
        }))
        // Limits are enforced per part by the handlers; the body itself streams.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// Serves `router` on the configured address, with TLS when a certificate is configured,
/// until Ctrl-C.
pub async fn serve(config: &Config, app: Router) -> Result<(), ServeError> {
    let addr = config.listen;
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match &config.tls {
        Some(tls) => {
            // Two rustls providers are linked (aws-lc-rs, and ring through the HTTP
            // client); the server uses aws-lc-rs. Installing twice is harmless.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(ServeError::Tls)?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            tracing::info!(%addr, "listening (https)");
            axum_server::bind_rustls(addr, rustls)
                .handle(handle)
                .serve(make)
                .await?;
        }
        None => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?;
            tracing::info!(addr = %listener.local_addr()?, "listening (http)");
            axum::serve(listener, make)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
    }
    Ok(())
}

async fn health(State(state): State<AppState>) -> Response {
    match state.vault.catalog.audit_size().await {
        Ok(_) => axum::Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn metrics_text(State(state): State<AppState>, _auth: Authenticated) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> problem::Problem {
    problem::Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        "Not found",
        "no such endpoint",
    )
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let resp = next.run(req).await;
    state
        .metrics
        .requests
        .get_or_create(&metrics::RequestLabels {
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
