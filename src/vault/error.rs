//! Everything a pipeline can refuse or fail with. Texts never carry content or secrets.

use crate::audit::AuditError;
use crate::catalog::CatalogError;
use crate::formats::FormatError;
use crate::redact::audio::AudioError;
use crate::redact::RedactError;
use crate::store::StoreError;

/// A pipeline failure; `server::problem` maps each variant to one problem type.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The transcript is malformed or invalid.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The audio part is malformed, does not fit the transcript, or is too large.
    #[error("audio: {0}")]
    Audio(#[from] AudioError),
    /// The upload is shaped wrongly (part order, missing part, ...).
    #[error("{0}")]
    BadUpload(&'static str),
    /// A part exceeds its configured limit.
    #[error("{part} part exceeds the limit of {limit} bytes")]
    TooLarge {
        /// `transcript` or `audio`.
        part: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The caller may not do this (or the object may not exist; the caller cannot tell).
    #[error("forbidden")]
    Forbidden,
    /// No such call (only said to callers who may read calls).
    #[error("no such call")]
    NotFound,
    /// The call id is taken by different content.
    #[error("a call with this id and different content exists")]
    Conflict,
    /// A stored blob failed authentication: modified, truncated or swapped.
    #[error("integrity check failed")]
    Integrity,
    /// The role has no view in the policy.
    #[error("redaction: {0}")]
    Redact(#[from] RedactError),
    /// The blob store failed.
    #[error("blob store unavailable")]
    Store(#[from] StoreError),
    /// The catalog failed.
    #[error("catalog unavailable")]
    Catalog(#[from] CatalogError),
    /// The audit log could not be written, so the request fails closed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The uploading client went away or its body failed.
    #[error("the upload body could not be read")]
    Body,
    /// A request body is well-formed JSON but not acceptable; the text names the field,
    /// never a submitted value.
    #[error("{0}")]
    Invalid(String),
    /// The object is not in a state that allows this (e.g. approving a denied request).
    #[error("{0}")]
    WrongState(&'static str),
}

impl VaultError {
    /// A short stable name of the error kind, used in audit reasons and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            VaultError::Format(_) => "invalid-transcript",
            VaultError::Audio(AudioError::TooLarge) => "too-large",
            VaultError::Audio(_) => "invalid-audio",
            VaultError::BadUpload(_) => "bad-upload",
            VaultError::TooLarge { .. } => "too-large",
            VaultError::Forbidden => "forbidden",
            VaultError::NotFound => "not-found",
            VaultError::Conflict => "conflict",
            VaultError::Integrity => "integrity",
            VaultError::Redact(_) => "no-view",
            VaultError::Store(_) | VaultError::Catalog(_) => "unavailable",
            VaultError::Audit(_) => "audit-unavailable",
            VaultError::Body => "bad-upload",
            VaultError::Invalid(_) => "invalid-request",
            VaultError::WrongState(_) => "wrong-state",
        }
    }
}
