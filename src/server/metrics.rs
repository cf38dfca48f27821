//! Prometheus metrics: counts and sizes only, never ids or content.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, e.g. `/v1/calls/{id}`.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// The metrics the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Calls stored.
    pub ingested: Counter,
    /// Bytes of audio uploaded.
    pub audio_bytes: Counter,
    /// Blobs that failed authentication on read.
    pub integrity_failures: Counter,
    /// Requests with a missing or unknown token.
    pub auth_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("callvault");
        let requests = Family::<RequestLabels, Counter>::default();
        let ingested = Counter::default();
        let audio_bytes = Counter::default();
        let integrity_failures = Counter::default();
        let auth_failures = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register("calls_ingested", "Calls newly stored", ingested.clone());
        registry.register(
            "audio_upload_bytes",
            "Audio bytes uploaded",
            audio_bytes.clone(),
        );
        registry.register(
            "integrity_failures",
            "Sealed blobs that failed authentication",
            integrity_failures.clone(),
        );
        registry.register(
            "auth_failures",
            "Requests with missing or unknown credentials",
            auth_failures.clone(),
        );
        Self {
            registry,
            requests,
            ingested,
            audio_bytes,
            integrity_failures,
            auth_failures,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
