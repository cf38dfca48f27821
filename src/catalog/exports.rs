//! Regulator exports and the age recipients registered on principals.
//!
//! An export moves `pending → building → ready | failed`. The move out of `pending` is a
//! compare-and-swap on the state, so two approvers racing (possibly in two server
//! instances) start one build. The catalog never holds bundle content, only the key of
//! the stored (already encrypted) bundle blob and its digest.

use async_trait::async_trait;

use super::CatalogError;

/// An export as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRecord {
    /// Export id (`exp-…`).
    pub id: String,
    /// The regulator's case id.
    pub case_id: String,
    /// Why the data may leave the vault.
    pub legal_basis: String,
    /// The calls, as a JSON array text, sorted.
    pub call_ids_json: String,
    /// The principal the export is addressed to.
    pub regulator: String,
    /// The age X25519 recipient (`age1…`) the bundle is encrypted to.
    pub recipient: String,
    /// Who created it.
    pub requested_by: String,
    /// When (unix seconds).
    pub requested_at: i64,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When (unix seconds).
    pub approved_at: Option<i64>,
    /// `pending`, `building`, `ready` or `failed`.
    pub state: String,
    /// Payload files packed so far.
    pub files_done: i64,
    /// Payload files in all.
    pub files_total: i64,
    /// Blob key of the encrypted bundle, once ready.
    pub bundle_blob: Option<String>,
    /// Size of the encrypted bundle, bytes.
    pub bundle_bytes: Option<i64>,
    /// SHA-256 (hex) of the encrypted bundle.
    pub bundle_sha256: Option<String>,
    /// Why the build failed (a short machine-readable kind).
    pub failure: Option<String>,
}

/// Storage of exports.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Stores a new export. [`CatalogError::Conflict`] if the id exists.
    async fn insert_export(&self, e: &ExportRecord) -> Result<(), CatalogError>;

    /// The export with this id.
    async fn get_export(&self, id: &str) -> Result<Option<ExportRecord>, CatalogError>;

    /// Moves a pending export to `building`, recording its approver. False if it was not
    /// pending (someone else approved first, or it is finished).
    async fn approve_export(&self, id: &str, by: &str, at: i64) -> Result<bool, CatalogError>;

    /// Records build progress.
    async fn export_progress(&self, id: &str, done: i64, total: i64) -> Result<(), CatalogError>;

    /// Marks a building export ready, with its bundle blob.
    async fn finish_export(
        &self,
        id: &str,
        blob: &str,
        bytes: i64,
        sha256: &str,
    ) -> Result<(), CatalogError>;

    /// Marks a building export failed, with a short reason.
    async fn fail_export(&self, id: &str, reason: &str) -> Result<(), CatalogError>;

    /// Marks every export still `building` failed (`interrupted`); run at start-up, when
    /// no build of this process can be running. Returns how many.
    async fn fail_interrupted_exports(&self) -> Result<u64, CatalogError>;

    /// Registers (or replaces) the age recipient of a principal.
    async fn set_recipient(&self, name: &str, recipient: &str) -> Result<(), CatalogError>;

    /// The age recipient registered on a principal.
    async fn recipient_of(&self, name: &str) -> Result<Option<String>, CatalogError>;
}
