//! The vault service: the ingest and read pipelines over formats, redaction, sealing, the
//! blob store, the catalog and the audit log. The HTTP server and the library tests drive
//! calls through this one seam.

mod access;
#[cfg(test)]
mod access_tests;
mod authorize;
mod error;
mod export;
mod ingest;
mod open;
mod principals;
mod read;
mod sealing;

pub use access::{CustomerIn, GrantView, NewRequest, QueryIn, RequestView, Step, Verdict};
pub use authorize::CallAccess;
pub use error::VaultError;
pub use export::{Bundle, ExportView, NewExport};
pub use ingest::{Receipt, Upload};
pub use open::{open_audit, open_vault, published_keys, PublishedKeys};
pub use principals::{
    check_name, Actor, Enrolment, IssuedToken, LoginRequest, NewPrincipal, PrincipalError,
    PrincipalSummary, Session, TotpEnrolment, MAX_NAME_BYTES, SESSION_TTL_SECS,
};
pub use read::CallMetadata;

use std::sync::Arc;

use crate::access::authz::Authorizer;
use crate::access::blind::BlindIndex;
use crate::access::clock::Clock;
use crate::audit::signed::TransparencyLog;
use crate::audit::AuditLog;
use crate::catalog::Catalog;
use crate::export::key::ExportKey;
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
    /// Grant duration when a request names none, seconds.
    pub default_grant_s: i64,
    /// Longest grant a request may ask for, seconds.
    pub max_grant_s: i64,
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
    /// The Cedar policies that decide every action.
    pub authz: Authorizer,
    /// The server's clock: the only source of "now" for decisions and grants.
    pub clock: Arc<dyn Clock>,
    /// The keyed blind index of customer identifiers.
    pub blind: BlindIndex,
    /// Signs the tag manifest of export bundles.
    pub export_key: ExportKey,
    /// The `Source-Organization` of export bundles.
    pub source_organization: String,
}
