//! Per-call data keys and the Cobblestone key derivation.
//!
//! A [`DataKey`] is the input key of c2sp.org/chunked-encryption. For each blob, a fresh
//! 24-byte salt and the blob's context are fed with it through HKDF-Expand (SHA-512, the
//! data key used directly as the PRK, no Extract step) to produce the blob's AES key,
//! base nonce and key commitment.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha512;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::aead::{KEY_SIZE, NONCE_SIZE};
use super::error::SealError;

/// Length of the random per-blob salt at the start of the header.
pub const SALT_SIZE: usize = 24;
/// Length of the key commitment that follows the salt in the header.
pub const COMMITMENT_SIZE: usize = 32;

/// The HKDF info prefix of Cobblestone-256; the salt and context follow it.
const INFO_LABEL: &[u8] = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0";

/// A call's 256-bit data key: every blob of the call is sealed under it.
///
/// Wiped from memory when dropped. Deliberately neither `Debug` nor `Clone`, so it cannot
/// end up in a log line or be copied by accident; it leaves the process only wrapped
/// (see `KeyRing::wrap`).
///
/// ```compile_fail
/// fn debug<T: std::fmt::Debug>() {}
/// debug::<callvault::seal::DataKey>();
/// ```
/// ```compile_fail
/// fn clone<T: Clone>() {}
/// clone::<callvault::seal::DataKey>();
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_SIZE]);

impl DataKey {
    /// Draws a fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = DataKey([0u8; KEY_SIZE]);
        rand::rngs::OsRng.fill_bytes(&mut key.0);
        key
    }

    /// Takes a key from raw bytes (test vectors, unwrapping).
    ///
    /// # Errors
    /// [`SealError::BadKeyLength`] unless `bytes` is exactly 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let array: [u8; KEY_SIZE] = bytes.try_into().map_err(|_| SealError::BadKeyLength {
            expected: KEY_SIZE,
            actual: bytes.len(),
        })?;
        Ok(DataKey(array))
    }

    /// The raw key, for the modules that wrap it or derive from it.
    pub(crate) fn expose(&self) -> &[u8; KEY_SIZE] {
        &self.0
    }

    /// A second copy, for a decryptor that must keep the key until the header arrives.
    /// Crate-private so that copies are never made by accident.
    pub(crate) fn duplicate(&self) -> Self {
        DataKey(self.0)
    }
}

/// What one blob's salt and context derive from its data key.
pub(crate) struct BlobKeys {
    /// The AES-256-GCM key that seals the chunks.
    pub aead_key: Zeroizing<[u8; KEY_SIZE]>,
    /// The base nonce that chunk indices are XORed into.
    pub base_nonce: [u8; NONCE_SIZE],
    /// The key commitment stored in the header.
    pub commitment: [u8; COMMITMENT_SIZE],
}

/// Runs Cobblestone-256's HKDF-Expand(SHA-512, PRK = key, info = label ‖ salt ‖ ctx, 76).
pub(crate) fn derive(key: &DataKey, salt: &[u8; SALT_SIZE], ctx: &[u8]) -> BlobKeys {
    let mut okm = Zeroizing::new([0u8; 128]);
    let mut previous: Option<[u8; 64]> = None;
    for (counter, block) in (1u8..).zip(okm.chunks_mut(64)) {
        // The PRK is 32 bytes, shorter than HashLen; HMAC accepts any key length, and the
        // format uses the key as-is rather than running HKDF-Extract first.
        let mut mac =
            Hmac::<Sha512>::new_from_slice(key.expose()).expect("HMAC accepts keys of any length");
        if let Some(t) = previous {
            mac.update(&t);
        }
        mac.update(INFO_LABEL);
        mac.update(salt);
        mac.update(ctx);
        mac.update(&[counter]);
        let t: [u8; 64] = mac.finalize().into_bytes().into();
        block.copy_from_slice(&t);
        previous = Some(t);
    }
    if let Some(mut t) = previous {
        t.zeroize();
    }
    let mut keys = BlobKeys {
        aead_key: Zeroizing::new([0u8; KEY_SIZE]),
        base_nonce: [0u8; NONCE_SIZE],
        commitment: [0u8; COMMITMENT_SIZE],
    };
    keys.aead_key.copy_from_slice(&okm[..32]);
    keys.base_nonce.copy_from_slice(&okm[32..44]);
    keys.commitment.copy_from_slice(&okm[44..76]);
    keys
}

/// Draws a fresh random salt for one blob.
pub(crate) fn fresh_salt() -> [u8; SALT_SIZE] {
    let mut salt = [0u8; SALT_SIZE];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_wrong_length_are_refused() {
        for len in [0, 16, 31, 33, 64] {
            assert!(matches!(
                DataKey::from_bytes(&vec![0u8; len]),
                Err(SealError::BadKeyLength { expected: 32, actual }) if actual == len
            ));
        }
        assert!(DataKey::from_bytes(&[0u8; 32]).is_ok());
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(DataKey::generate().expose(), DataKey::generate().expose());
    }

    #[test]
    fn derivation_depends_on_salt_and_context() {
        let key = DataKey::from_bytes(&[3u8; 32]).unwrap();
        let a = derive(&key, &[0u8; SALT_SIZE], b"ctx");
        let b = derive(&key, &[1u8; SALT_SIZE], b"ctx");
        let c = derive(&key, &[0u8; SALT_SIZE], b"ctx2");
        assert_ne!(a.commitment, b.commitment);
        assert_ne!(a.commitment, c.commitment);
        assert_ne!(*a.aead_key, *c.aead_key);
    }
}
