//! The two error types of the seal module.
//!
//! Decryption failures are deliberately opaque: a bad tag, a truncated stream, trailing
//! bytes, a swapped chunk, a wrong key and a wrong context all become the same
//! [`IntegrityError`], so no caller (and no log line) learns which check failed.

use std::io;
use std::path::PathBuf;

/// A sealed blob, chunk or wrapped key failed authentication.
///
/// Opaque on purpose: it carries no detail about which chunk or check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("integrity check failed")]
pub struct IntegrityError;

/// Everything that can go wrong with keys and random-access reads.
///
/// No variant carries key material, plaintext or a customer value.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Authentication failed (the same opaque failure as [`IntegrityError`]); this is
    /// also what unwrapping a data key with the wrong call id or key returns.
    #[error("integrity check failed")]
    Integrity,
    /// A key had the wrong length.
    #[error("key must be {expected} bytes, got {actual}")]
    BadKeyLength {
        /// The required length in bytes.
        expected: usize,
        /// The length that was supplied.
        actual: usize,
    },
    /// A key file held neither 32 raw bytes nor 64 hexadecimal digits.
    #[error("key file must hold 32 raw bytes or 64 hex digits")]
    BadKeyFile,
    /// A key file can be read or written by group or others.
    #[error("key file {path} is accessible by group or others; run chmod 600 on it")]
    KeyFilePermissions {
        /// The offending file.
        path: PathBuf,
    },
    /// Argon2id refused its parameters (or ran out of memory).
    #[error("passphrase key derivation failed: {0}")]
    Kdf(String),
    /// A wrapped key names a key-encryption-key version the key ring does not hold.
    #[error("key version {0} is not in the key ring")]
    UnknownKeyVersion(u32),
    /// A random-access read asked for bytes past the end of the plaintext.
    #[error("range lies outside the sealed blob")]
    OutOfRange,
    /// Reading a key file or a sealed blob failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl From<IntegrityError> for SealError {
    fn from(_: IntegrityError) -> Self {
        SealError::Integrity
    }
}

impl From<IntegrityError> for io::Error {
    fn from(e: IntegrityError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}
