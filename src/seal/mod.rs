//! Envelope encryption of call blobs.
//!
//! Each call gets a fresh random 256-bit [`DataKey`]. Its blobs are sealed in the
//! [c2sp.org/chunked-encryption](https://c2sp.org/chunked-encryption) format, AES-256-GCM
//! instantiation (Cobblestone-256): a 56-byte header (random salt ‖ key commitment), then
//! 16 KiB chunks each sealed with AES-256-GCM, the last one shorter than 16 KiB (possibly
//! empty) to mark the end. The [`BlobContext`] (call id, blob kind, format version) is bound
//! into the key derivation, so a blob opened under any other context fails before any
//! chunk is decrypted.
//!
//! Data keys are stored only wrapped under a versioned key-encryption key ([`KeyRing`]),
//! which derives from the [`RootKey`] (an operator passphrase through Argon2id, or a key
//! file). Every key type wipes itself on drop and none implements `Debug`.
//!
//! Any modified, truncated, extended or swapped blob fails with one opaque
//! [`IntegrityError`]. Streaming readers release plaintext only of verified chunks; only a
//! successful `finish` (or the end of [`open_stream`] without error) says the blob is whole.
//!
//! The AEAD sits behind the [`Aead`] trait with two backends ([`Backend`]): aws-lc-rs (the
//! default) and RustCrypto `aes-gcm`; they are byte-for-byte interchangeable.

mod aead;
mod chunk;
mod context;
mod datakey;
mod decrypt;
mod encrypt;
mod error;
mod random;
mod root;
mod stream;
mod wrap;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use aead::{Aead, AwsLcAead, Backend, RustCryptoAead, KEY_SIZE, NONCE_SIZE, TAG_SIZE};
pub use chunk::{CHUNK_SIZE, SEALED_CHUNK_SIZE};
pub use context::{BlobContext, BlobKind, FORMAT_VERSION};
pub use datakey::{DataKey, COMMITMENT_SIZE, SALT_SIZE};
pub use decrypt::{open, Decryptor};
pub use encrypt::{seal, Encryptor, HEADER_SIZE};
pub use error::{IntegrityError, SealError};
pub use random::{open_range, RandomAccess};
pub use root::{KdfAlgorithm, KdfParams, RootKey, KDF_SALT_SIZE, ROOT_KEY_SIZE};
pub use stream::{open_stream, seal_stream};
pub use wrap::{Kek, KeyRing, WrappedKey, WRAPPED_KEY_SIZE};
