//! The audit log: one entry per access, refusal and change, appended through the catalog.
//!
//! Entries name who, what, when, outcome, origin, objects, policies, purpose and grant —
//! never call content or a customer value. Appending is fail-closed: callers turn an
//! append failure into a failed request.
//!
//! Appends go through one writer task per process ([`writer`]) that stores all waiting
//! entries in one durable transaction. That transaction ([`seal`]) tags every leaf with an
//! index-bound MAC, extends the Merkle frontier and signs a checkpoint consistent with the
//! last one, so [`verify`] can name the first bad index of a log edited on disk, and a
//! checkpoint saved elsewhere exposes a rollback. Several processes may share one log:
//! the catalog transaction, not the process, decides the next index.

pub mod entry;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod seal;
pub mod signed;
pub mod verify;
mod writer;

use std::sync::Arc;

pub use entry::{now_rfc3339, AuditEntry, Outcome, ENTRY_SCHEMA};
pub use keys::{AuditKeys, MacKey};
pub use writer::MAX_BATCH;

use crate::catalog::{AuditRecord, Catalog, CatalogError};
use writer::Writer;

/// Most entries returned by one [`AuditLog::search`].
pub const MAX_SEARCH: u32 = 1000;

/// The audit log could not be written; the request that caused it must fail.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AuditError {
    /// The catalog failed (the batch was rolled back).
    #[error("audit log unavailable")]
    Storage(#[source] Arc<CatalogError>),
    /// The stored log disagrees with its last signed checkpoint; nothing more is signed.
    #[error("the audit log is inconsistent with its last signed checkpoint")]
    Inconsistent,
    /// The writer task is gone (the runtime is shutting down).
    #[error("audit log unavailable: the writer stopped")]
    WriterStopped,
}

impl From<CatalogError> for AuditError {
    fn from(e: CatalogError) -> Self {
        Self::Storage(Arc::new(e))
    }
}

/// Appends and reads entries; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    catalog: Arc<dyn Catalog>,
    keys: AuditKeys,
    writer: Writer,
}

impl AuditLog {
    /// A log stored in `catalog`, tagged and signed with `keys`. Spawns the writer task, so
    /// it must be called inside a Tokio runtime.
    pub fn new(catalog: Arc<dyn Catalog>, keys: AuditKeys) -> Self {
        let writer = Writer::spawn(catalog.clone(), keys.clone());
        Self {
            catalog,
            keys,
            writer,
        }
    }

    /// Appends `entry` and returns its 0-based index, once it is durably stored with the
    /// rest of its batch.
    ///
    /// Errors: the batch's transaction failed or the log is inconsistent; the entry is not
    /// stored and the caller's request must fail.
    pub async fn append(&self, entry: &AuditEntry) -> Result<u64, AuditError> {
        let index = self.writer.append(record(entry)).await?;
        tracing::debug!(index, event = %entry.event, "audit entry appended");
        Ok(index)
    }

    /// Appends `entries` in one transaction, bypassing the writer's queue (bulk imports and
    /// benchmarks); returns the index of the first. At most [`MAX_BATCH`] at a time is
    /// advisable: the transaction holds the write lock while it runs.
    pub async fn append_batch(&self, entries: &[AuditEntry]) -> Result<u64, AuditError> {
        let records: Vec<AuditRecord> = entries.iter().map(record).collect();
        writer::commit(self.catalog.as_ref(), &self.keys, &records).await
    }

    /// Number of entries.
    pub async fn size(&self) -> Result<u64, AuditError> {
        Ok(self.catalog.audit_size().await?)
    }

    /// Entries `[start, end)` decoded.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<AuditEntry>, AuditError> {
        let leaves = self.catalog.audit_entries(start, end).await?;
        Ok(leaves
            .iter()
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect())
    }

    /// Up to [`MAX_SEARCH`] entries naming `object`, with index `>= start`, as
    /// `(index, entry)` in index order. Uses the object index.
    pub async fn search(
        &self,
        object: &str,
        start: u64,
    ) -> Result<Vec<(u64, AuditEntry)>, AuditError> {
        let found = self
            .catalog
            .audit_by_object(object, start, MAX_SEARCH)
            .await?;
        Ok(found
            .iter()
            .filter_map(|(i, l)| Some((*i, serde_json::from_slice(l).ok()?)))
            .collect())
    }
}

fn record(entry: &AuditEntry) -> AuditRecord {
    let mut objects = entry.objects.clone();
    objects.sort();
    objects.dedup();
    AuditRecord {
        leaf: entry.to_leaf(),
        objects,
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
