//! The vault service: the ingest and read pipelines over formats, redaction, sealing, the
//! blob store, the catalog and the audit log. The HTTP server and the library tests drive
//! calls through this one seam.

mod error;
mod ingest;
mod open;
mod read;
mod sealing;

pub use error::VaultError;
pub use ingest::{Receipt, Upload};
pub use open::{open_audit, open_vault};
pub use read::CallMetadata;

use std::sync::Arc;

use crate::audit::signed::TransparencyLog;
use crate::audit::AuditLog;
use crate::catalog::Catalog;
use crate::redact::Policy;
use crate::seal::{Backend, KeyRing};
use crate::store::BlobStore;

/// Upload limits and redaction settings the pipelines enforce.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest audio part accepted, bytes.
    pub max_audio_bytes: u64,
    /// Largest transcript part accepted, bytes.
    pub max_transcript_bytes: u64,
    /// Padding around silenced audio spans, seconds.
    pub audio_pad_s: f64,
}

/// Everything the pipelines need, shared by all requests.
pub struct Vault {
    /// Sealed blobs.
    pub store: Arc<dyn BlobStore>,
    /// Call records, principals, audit leaves.
    pub catalog: Arc<dyn Catalog>,
    /// Key-encryption keys.
    pub keys: KeyRing,
    /// The redaction policy.
    pub policy: Policy,
    /// The audit log.
    pub audit: AuditLog,
    /// Checkpoints and proofs over the audit log.
    pub tlog: TransparencyLog,
    /// Limits.
    pub limits: Limits,
    /// The AEAD implementation used for blobs.
    pub backend: Backend,
}
