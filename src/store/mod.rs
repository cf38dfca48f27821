//! Blob stores: where sealed call blobs live, behind one [`BlobStore`] trait.
//!
//! Two implementations: [`FsStore`] (local filesystem, the embedded default) and [`S3Store`]
//! (any S3-compatible server). Both stream in both directions, so peak memory does not grow
//! with the size of a blob, and both publish an object only once it is complete.

mod fs;
mod s3;

pub use fs::FsStore;
pub use s3::{S3Config, S3Store, DEFAULT_PART_SIZE, MIN_PART_SIZE};

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

/// A stream of byte chunks, the unit of transfer in and out of a [`BlobStore`].
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Longest key a store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// A validated object key, safe to use both as an S3 key and as a relative file path.
///
/// Invariants: 1 to [`MAX_KEY_LEN`] ASCII characters from `[A-Za-z0-9._/-]`; no `..`
/// anywhere; made of `/`-separated segments that are non-empty and do not start with `.`
/// (so no leading or trailing `/`, no `//`, no hidden or `.`/`..` segments). Distinct keys
/// therefore always name distinct files.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Validates `key`; [`StoreError::InvalidKey`] if it breaks an invariant of [`BlobKey`].
    pub fn new(key: impl Into<String>) -> Result<Self, StoreError> {
        let key = key.into();
        if is_valid_key(&key) {
            Ok(Self(key))
        } else {
            Err(StoreError::InvalidKey)
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_valid_key(key: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-');
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(allowed)
        && !key.contains("..")
        && key
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.'))
}

/// What went wrong in a blob store. Texts name the failure, never a key's content or a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object exists under the key.
    #[error("blob not found")]
    NotFound,
    /// An object already exists under the key; stores never overwrite.
    #[error("blob already exists")]
    AlreadyExists,
    /// The key breaks the rules of [`BlobKey`].
    #[error("invalid blob key")]
    InvalidKey,
    /// Local I/O failed, or the body stream handed to `put` yielded an error.
    #[error("blob store I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The storage backend (e.g. the S3 server) refused or failed a request.
    #[error("blob store backend error: {0}")]
    Backend(String),
}

/// A place to keep immutable blobs by key. Implementations are shared across tasks.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `body` into the object under `key` and returns the number of bytes written.
    ///
    /// Atomic: the object becomes visible only when the whole body has been written; if the
    /// stream yields an error (returned as [`StoreError::Io`]) or the future is dropped,
    /// nothing is visible and temporary data is removed (best effort on drop). Refuses to
    /// overwrite an existing key with [`StoreError::AlreadyExists`].
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64, StoreError>;

    /// Streams the object back; [`StoreError::NotFound`] if absent.
    async fn get(&self, key: &BlobKey) -> Result<ByteStream, StoreError>;

    /// Removes the object; an absent object is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError>;

    /// Lists the keys that start with `prefix` (plain string prefix), sorted. For tests and
    /// operations, not for hot paths: it may walk every object under the prefix.
    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_are_accepted() {
        for key in [
            "a",
            "calls/0123/transcript.sealed",
            "A-b_c.d/e",
            "x/y/z-1.2",
        ] {
            assert_eq!(BlobKey::new(key).unwrap().as_str(), key);
        }
    }

    #[test]
    fn longest_allowed_key_is_accepted_and_one_more_is_refused() {
        assert!(BlobKey::new("a".repeat(MAX_KEY_LEN)).is_ok());
        assert!(matches!(
            BlobKey::new("a".repeat(MAX_KEY_LEN + 1)),
            Err(StoreError::InvalidKey)
        ));
    }

    #[test]
    fn keys_that_could_escape_or_alias_are_refused() {
        for key in [
            "",
            "/abs",
            "a/../b",
            "..",
            "a..b",
            "a/",
            "a//b",
            ".",
            "./a",
            "a/./b",
            ".tmp/x",
            "a/.hidden",
            "a b",
            "a\\b",
            "é",
            "a\0b",
            "a?b",
            "a%2e",
        ] {
            assert!(
                matches!(BlobKey::new(key), Err(StoreError::InvalidKey)),
                "{key:?} was accepted"
            );
        }
    }
}
