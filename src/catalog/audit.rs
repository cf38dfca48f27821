//! The audit log's storage: dense, append-only leaves, each with a MAC, the tree state
//! (frontier and the checkpoint signed for it), a history of signed checkpoints, and an
//! index from object ids to leaf indices.
//!
//! The storage knows nothing of MACs, trees or signatures: an append hands it a *sealer*,
//! a pure function the audit module supplies, which it calls inside the write transaction
//! with the tip of the log as the transaction sees it. Whatever the sealer returns is
//! written in that same transaction, so several processes sharing one database append
//! densely and every stored tree state matches the leaves under it.

use async_trait::async_trait;

use super::CatalogError;

/// One leaf to append, with the object ids it names (indexed for search).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// The leaf bytes, opaque to the catalog.
    pub leaf: Vec<u8>,
    /// Object ids (call ids, request ids) to index; never customer values.
    pub objects: Vec<String>,
}

/// The tree over the first `size` leaves, as last written by an append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditState {
    /// Number of leaves the state covers.
    pub size: u64,
    /// The serialised Merkle frontier of those leaves.
    pub frontier: Vec<u8>,
    /// The signed checkpoint note for exactly that tree.
    pub note: String,
}

/// A stored leaf as read back for verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Its index.
    pub index: u64,
    /// The leaf bytes.
    pub leaf: Vec<u8>,
    /// Its MAC; `None` only for rows written before MACs existed and not yet adopted.
    pub mac: Option<Vec<u8>>,
}

/// A checkpoint kept in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it signs.
    pub size: u64,
    /// The signed note.
    pub note: String,
    /// When it was stored, milliseconds since the Unix epoch.
    pub created_ms: i64,
}

/// The log's tip as read inside an append transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditTip {
    /// One past the highest stored index (`MAX(idx) + 1`, 0 when empty).
    pub leaf_count: u64,
    /// The stored tree state, if any append has written one.
    pub state: Option<AuditState>,
    /// The newest checkpoint of the history, if any.
    pub last_history: Option<StoredCheckpoint>,
    /// When there is no state yet: every stored row (leaves from before tree states
    /// existed), in index order, for the sealer to adopt. Empty otherwise.
    pub unadopted: Vec<AuditRow>,
}

/// What the sealer wants written with a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSeal {
    /// One MAC per appended record, in order.
    pub macs: Vec<Vec<u8>>,
    /// MACs for adopted rows (`AuditTip::unadopted`), by index.
    pub adopted_macs: Vec<(u64, Vec<u8>)>,
    /// The new tree state (replaces the stored one).
    pub state: AuditState,
    /// When set, also keep `state.note` in the checkpoint history, stamped with this time
    /// (milliseconds since the Unix epoch).
    pub history_ms: Option<i64>,
}

/// Computes a batch's seal from the tip; runs inside the write transaction, so it must be
/// quick and pure. An error aborts the transaction and nothing is written.
pub type Sealer<'a> =
    &'a (dyn Fn(&AuditTip, &[AuditRecord]) -> Result<BatchSeal, CatalogError> + Send + Sync);

/// Storage of the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `records` in one durable transaction and returns the index of the first.
    /// The transaction reads the tip, calls `seal` with it, and writes the leaves at
    /// `tip.leaf_count..`, their MACs, their object index entries and the returned state.
    /// Indices are dense and strictly increasing, even with appenders in several processes.
    ///
    /// Errors: a failing `seal` or database; then nothing of the batch is stored.
    async fn append_audit_batch(
        &self,
        records: &[AuditRecord],
        seal: Sealer<'_>,
    ) -> Result<u64, CatalogError>;

    /// The leaves with `start <= index < end`, in index order; shorter if `end` is past the
    /// end of the log, empty if `start >= end`.
    async fn audit_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, CatalogError>;

    /// Up to `limit` stored rows with index `>= start`, in index order, MACs included. Gaps
    /// are not filled: a verifier sees exactly what is stored.
    async fn audit_rows(&self, start: u64, limit: u32) -> Result<Vec<AuditRow>, CatalogError>;

    /// Number of leaves in the audit log (`MAX(idx) + 1`).
    async fn audit_size(&self) -> Result<u64, CatalogError>;

    /// The current tree state, if any append has written one.
    async fn audit_state(&self) -> Result<Option<AuditState>, CatalogError>;

    /// Every checkpoint of the history, by increasing size.
    async fn audit_checkpoints(&self) -> Result<Vec<StoredCheckpoint>, CatalogError>;

    /// Up to `limit` `(index, leaf)` pairs whose record named `object`, with index
    /// `>= start`, in index order. Uses the object index, not a scan.
    async fn audit_by_object(
        &self,
        object: &str,
        start: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>, CatalogError>;
}
