//! The catalog: what the vault knows about its calls, behind one [`Catalog`] trait.
//!
//! It holds call metadata, wrapped data keys, blob digests, the audit log's leaves,
//! principals, token hashes and small settings; never transcript text or audio. The
//! embedded default is [`SqliteCatalog`]; schema changes go through the versioned
//! migrations in `src/catalog/migrations/`. Every operation is safe with several server
//! instances sharing one database: uniqueness is enforced by the database, not by the
//! process.

mod access;
mod audit;
mod credentials;
mod exports;
mod sqlite;

pub use access::{AccessStore, CallSelector, GrantRecord, RequestRecord};
pub use audit::{
    AuditRecord, AuditRow, AuditState, AuditStore, AuditTip, BatchSeal, Sealer, StoredCheckpoint,
};
pub use credentials::{CredentialStore, FailureWindow, LoginRecord, PrincipalRecord, TokenRecord};
pub use exports::{ExportRecord, ExportStore};
pub use sqlite::SqliteCatalog;

use async_trait::async_trait;

/// One stored call: where its sealed blobs are, how their key is wrapped, their digests.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// Caller-chosen identifier of the call, unique in the catalog.
    pub call_id: String,
    /// When the call started (ISO 8601 text).
    pub started_at: String,
    /// Identifier of the agent who took the call.
    pub agent_id: String,
    /// Language tag of the transcript (e.g. `en-GB`).
    pub language: String,
    /// Whether an audio blob was stored.
    pub has_audio: bool,
    /// Length of the call in seconds, when known.
    pub duration_s: Option<f64>,
    /// Identifier of the upload that created this record.
    pub upload_id: String,
    /// Blob key of the sealed transcript.
    pub transcript_blob: String,
    /// Blob key of the sealed audio, if any.
    pub audio_blob: Option<String>,
    /// Version of the key-encryption key that wrapped `wrapped_key`.
    pub key_version: u32,
    /// The call's data key, wrapped (encrypted) under the key-encryption key.
    pub wrapped_key: Vec<u8>,
    /// Hex SHA-256 of the (redacted) transcript before sealing.
    pub transcript_sha256: String,
    /// Hex SHA-256 of the audio before sealing, if any.
    pub audio_sha256: Option<String>,
    /// Hex SHA-256 of the sealed transcript blob.
    pub sealed_transcript_sha256: String,
    /// Hex SHA-256 of the sealed audio blob, if any.
    pub sealed_audio_sha256: Option<String>,
    /// The ingest receipt, as JSON text.
    pub receipt_json: String,
    /// When the record was created (ISO 8601 text).
    pub created_at: String,
}

/// What the call list shows about a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSummary {
    /// Identifier of the call.
    pub call_id: String,
    /// When the call started (ISO 8601 text).
    pub started_at: String,
    /// Identifier of the agent who took the call.
    pub agent_id: String,
    /// Whether an audio blob was stored.
    pub has_audio: bool,
    /// Length of the call in seconds, when known.
    pub duration_s: Option<f64>,
}

/// Result of [`Catalog::insert_call`].
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per insert; a Box would only make callers' matches clumsier"
)]
pub enum InsertOutcome {
    /// The record was stored.
    Inserted,
    /// A record with that call id already existed; it is returned unchanged.
    Exists(CallRecord),
}

/// What went wrong in the catalog. Texts never carry stored values.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The database refused or failed a query.
    #[error("catalog database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("catalog migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Preparing the database file failed.
    #[error("catalog file error: {0}")]
    Io(#[from] std::io::Error),
    /// The write conflicts with stored data (e.g. a duplicate token, an unknown principal).
    #[error("catalog conflict: {0}")]
    Conflict(&'static str),
    /// A stored value cannot be read back as its type (e.g. a negative index).
    #[error("corrupt catalog value: {0}")]
    Corrupt(&'static str),
}

/// The vault's metadata store: calls and settings here; the audit leaves, credentials and
/// access requests and exports in the sub-traits, each in its own file.
#[async_trait]
pub trait Catalog: AuditStore + CredentialStore + AccessStore + ExportStore + Send + Sync {
    /// Stores `rec` unless its call id exists; then returns the existing row unchanged.
    /// Atomic (a unique constraint decides), so concurrent inserts of one id yield exactly
    /// one [`InsertOutcome::Inserted`].
    async fn insert_call(&self, rec: &CallRecord) -> Result<InsertOutcome, CatalogError>;

    /// The record for `call_id`, if any.
    async fn get_call(&self, call_id: &str) -> Result<Option<CallRecord>, CatalogError>;

    /// Up to `limit` calls ordered by call id, starting after the id `after` (keyset
    /// pagination: pass the last id of the previous page).
    async fn list_calls(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CallSummary>, CatalogError>;

    /// Replaces the stored receipt of a call (written once its audit index is known).
    async fn set_receipt(&self, call_id: &str, receipt_json: &str) -> Result<(), CatalogError>;

    /// Removes the record for `call_id`; an absent record is not an error.
    async fn delete_call(&self, call_id: &str) -> Result<(), CatalogError>;

    /// The setting named `key`, if any.
    async fn get_setting(&self, key: &str) -> Result<Option<String>, CatalogError>;

    /// Creates or replaces the setting named `key`.
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), CatalogError>;
}
