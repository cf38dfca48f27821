//! The audit log's storage: dense, append-only leaves.

use async_trait::async_trait;

use super::CatalogError;

/// Storage of the audit log's leaves.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an audit leaf (opaque bytes) and returns its 0-based index. Indices are
    /// dense and strictly increasing, even with concurrent appenders in several processes.
    async fn append_audit(&self, leaf: &[u8]) -> Result<u64, CatalogError>;

    /// The leaves with `start <= index < end`, in index order; shorter if `end` is past the
    /// end of the log, empty if `start >= end`.
    async fn audit_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, CatalogError>;

    /// Number of leaves in the audit log.
    async fn audit_size(&self) -> Result<u64, CatalogError>;
}
