//! The one error type of the export module.

/// What went wrong while building (or checking the signature of) an export bundle.
///
/// Messages name the failing step or field, never payload content or a user-supplied value.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading a payload file or writing the bundle failed.
    #[error("export I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// A payload path or the export id cannot name a file in the bag; the reason is given.
    #[error("invalid bundle path: {0}")]
    InvalidPath(&'static str),
    /// A `bag-info.txt` value is unusable; the message names the field and the reason.
    #[error("invalid bag info: {0}")]
    InvalidInfo(&'static str),
    /// A payload file yielded different bytes (size or digest) when packed than when hashed.
    #[error("payload file {path} changed between hashing and packing")]
    PayloadChanged {
        /// The payload path, relative to the bag root.
        path: String,
    },
    /// Signing the tag manifest failed.
    #[error("signing the tag manifest failed")]
    Sign,
    /// The tag manifest signature does not verify for this key and namespace (opaque on purpose).
    #[error("the tag manifest signature is not valid")]
    BadSignature,
    /// Setting up age encryption to the recipient failed.
    #[error("encrypting the bundle failed")]
    Encrypt,
}
