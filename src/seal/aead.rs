//! The one seam to the AES-256-GCM implementations.
//!
//! Two backends sit behind [`Aead`]: aws-lc-rs (the production default, several times
//! faster thanks to its assembly AES-GCM) and RustCrypto's `aes-gcm` (pure Rust, kept as a
//! second opinion and a fallback). Both produce the same bytes, so a blob sealed by one
//! opens with the other.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::KeyInit;
use aws_lc_rs::aead::{self as lc, LessSafeKey, UnboundKey, AES_256_GCM};

use super::error::IntegrityError;

/// Length of an AES-256-GCM key in bytes.
pub const KEY_SIZE: usize = 32;
/// Length of an AES-GCM nonce in bytes.
pub const NONCE_SIZE: usize = 12;
/// Length of an AES-GCM authentication tag in bytes.
pub const TAG_SIZE: usize = 16;

/// An AES-256-GCM key ready to seal and open single messages in place.
///
/// Callers guarantee that a nonce is never used twice with the same key; the chunk layer
/// does so by deriving a fresh key per blob and a distinct nonce per chunk.
pub trait Aead: Send + Sync {
    /// Encrypts `in_out` in place, authenticating `aad` too, and returns the tag.
    ///
    /// # Panics
    /// Only if `in_out` exceeds AES-GCM's limit of about 64 GiB, which no caller does.
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; TAG_SIZE];

    /// Verifies `tag` over `in_out` and `aad`, then decrypts `in_out` in place.
    ///
    /// # Errors
    /// [`IntegrityError`] when the tag does not verify; `in_out` then holds garbage that
    /// the caller must discard.
    fn open_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_SIZE],
    ) -> Result<(), IntegrityError>;
}

/// Which AES-256-GCM implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// aws-lc-rs `LessSafeKey` with `AES_256_GCM` (the default: fastest).
    #[default]
    AwsLc,
    /// RustCrypto `aes-gcm` 0.10 (pure Rust).
    RustCrypto,
}

impl Backend {
    /// Both backends, for tests and benchmarks that compare them.
    pub const ALL: [Backend; 2] = [Backend::AwsLc, Backend::RustCrypto];

    /// Builds a key of this backend.
    pub fn key(self, key: &[u8; KEY_SIZE]) -> Box<dyn Aead> {
        match self {
            Backend::AwsLc => Box::new(AwsLcAead::new(key)),
            Backend::RustCrypto => Box::new(RustCryptoAead::new(key)),
        }
    }
}

/// AES-256-GCM from aws-lc-rs; the library wipes its key schedule when dropped.
pub struct AwsLcAead {
    key: LessSafeKey,
}

impl AwsLcAead {
    /// Builds the key schedule for `key`.
    pub fn new(key: &[u8; KEY_SIZE]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .expect("a 32-byte key is always valid for AES-256-GCM");
        AwsLcAead {
            key: LessSafeKey::new(unbound),
        }
    }
}

impl Aead for AwsLcAead {
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; TAG_SIZE] {
        let nonce = lc::Nonce::assume_unique_for_key(*nonce);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, lc::Aad::from(aad), in_out)
            .expect("AES-GCM seals any input below 64 GiB");
        let mut out = [0u8; TAG_SIZE];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn open_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_SIZE],
    ) -> Result<(), IntegrityError> {
        let nonce = lc::Nonce::assume_unique_for_key(*nonce);
        self.key
            .open_in_place_separate_tag(nonce, lc::Aad::from(aad), tag, in_out)
            .map(|_| ())
            .map_err(|_| IntegrityError)
    }
}

/// AES-256-GCM from RustCrypto's `aes-gcm` crate.
pub struct RustCryptoAead {
    cipher: aes_gcm::Aes256Gcm,
}

impl RustCryptoAead {
    /// Builds the key schedule for `key`.
    pub fn new(key: &[u8; KEY_SIZE]) -> Self {
        RustCryptoAead {
            cipher: aes_gcm::Aes256Gcm::new(key.into()),
        }
    }
}

impl Aead for RustCryptoAead {
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; TAG_SIZE] {
        let tag = self
            .cipher
            .encrypt_in_place_detached(nonce.into(), aad, in_out)
            .expect("AES-GCM seals any input below 64 GiB");
        tag.into()
    }

    fn open_in_place(
        &self,
        nonce: &[u8; NONCE_SIZE],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_SIZE],
    ) -> Result<(), IntegrityError> {
        self.cipher
            .decrypt_in_place_detached(nonce.into(), aad, in_out, tag.into())
            .map_err(|_| IntegrityError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_produce_the_same_ciphertext_and_open_each_other() {
        let key = [7u8; KEY_SIZE];
        let nonce = [9u8; NONCE_SIZE];
        let (lc, rc) = (Backend::AwsLc.key(&key), Backend::RustCrypto.key(&key));
        let mut a = b"some plaintext".to_vec();
        let mut b = a.clone();
        let tag_a = lc.seal_in_place(&nonce, b"aad", &mut a);
        let tag_b = rc.seal_in_place(&nonce, b"aad", &mut b);
        assert_eq!((a.clone(), tag_a), (b, tag_b));
        rc.open_in_place(&nonce, b"aad", &mut a, &tag_a).unwrap();
        assert_eq!(a, b"some plaintext");
    }

    #[test]
    fn a_wrong_aad_or_tag_fails_on_both_backends() {
        for backend in Backend::ALL {
            let aead = backend.key(&[1u8; KEY_SIZE]);
            let nonce = [0u8; NONCE_SIZE];
            let mut buf = b"hello".to_vec();
            let mut tag = aead.seal_in_place(&nonce, b"x", &mut buf);
            let ct = buf.clone();
            assert_eq!(
                aead.open_in_place(&nonce, b"y", &mut buf, &tag),
                Err(IntegrityError)
            );
            let mut buf = ct;
            tag[0] ^= 1;
            assert_eq!(
                aead.open_in_place(&nonce, b"x", &mut buf, &tag),
                Err(IntegrityError)
            );
        }
    }
}
