//! The chunk layer of c2sp.org/chunked-encryption: one AES-GCM message per 16 KiB chunk.
//!
//! Chunk `k` is sealed with the nonce `base_nonce XOR k` (k as a 96-bit big-endian
//! integer) and an empty AAD. There is no final-chunk flag: the last chunk is the one
//! whose plaintext is shorter than [`CHUNK_SIZE`], possibly empty. So a full chunk is
//! never the last one, which lets both directions process a full chunk as soon as it is
//! complete.

use super::aead::{Aead, Backend, KEY_SIZE, NONCE_SIZE, TAG_SIZE};
use super::error::IntegrityError;
use zeroize::Zeroize;

/// Plaintext bytes per chunk; every chunk but the last holds exactly this many.
pub const CHUNK_SIZE: usize = 16384;
/// Bytes of a full chunk on the wire: plaintext plus tag.
pub const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;
/// The format allows chunk indices below 2^38; a blob never reaches that (4 PiB).
pub(crate) const MAX_CHUNKS: u64 = 1 << 38;

/// An AEAD key plus base nonce: everything needed to seal or open chunk `k`.
pub(crate) struct ChunkCipher {
    aead: Box<dyn Aead>,
    base_nonce: [u8; NONCE_SIZE],
}

impl ChunkCipher {
    /// Sets up the chunk layer for one blob (raw mode: the caller supplies key and nonce).
    pub(crate) fn new(
        key: &[u8; KEY_SIZE],
        base_nonce: [u8; NONCE_SIZE],
        backend: Backend,
    ) -> Self {
        ChunkCipher {
            aead: backend.key(key),
            base_nonce,
        }
    }

    /// The nonce of chunk `index`: the index XORed into the low bytes, big-endian.
    fn nonce(&self, index: u64) -> [u8; NONCE_SIZE] {
        let mut nonce = self.base_nonce;
        for (n, i) in nonce[NONCE_SIZE - 8..].iter_mut().zip(index.to_be_bytes()) {
            *n ^= i;
        }
        nonce
    }

    /// Seals `plaintext` as chunk `index` and appends ciphertext and tag to `out`.
    ///
    /// # Panics
    /// If `index` reaches 2^38 (a 4 PiB blob).
    pub(crate) fn seal_into(&self, index: u64, plaintext: &[u8], out: &mut Vec<u8>) {
        assert!(
            index < MAX_CHUNKS,
            "chunked encryption is limited to 2^38 chunks"
        );
        debug_assert!(plaintext.len() <= CHUNK_SIZE);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .aead
            .seal_in_place(&self.nonce(index), &[], &mut out[start..]);
        out.extend_from_slice(&tag);
    }

    /// Opens chunk `index` (ciphertext followed by its tag) and appends its plaintext
    /// to `out`; on failure `out` is left as it was.
    pub(crate) fn open_into(
        &self,
        index: u64,
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), IntegrityError> {
        if index >= MAX_CHUNKS || sealed.len() < TAG_SIZE || sealed.len() > SEALED_CHUNK_SIZE {
            return Err(IntegrityError);
        }
        let (body, tag) = sealed.split_at(sealed.len() - TAG_SIZE);
        let tag: &[u8; TAG_SIZE] = tag.try_into().map_err(|_| IntegrityError)?;
        let start = out.len();
        out.extend_from_slice(body);
        let opened = self
            .aead
            .open_in_place(&self.nonce(index), &[], &mut out[start..], tag);
        if opened.is_err() {
            // The buffer now holds unauthenticated garbage; never let it be released.
            out[start..].zeroize();
            out.truncate(start);
        }
        opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> ChunkCipher {
        ChunkCipher::new(&[5u8; KEY_SIZE], [0xAA; NONCE_SIZE], Backend::AwsLc)
    }

    #[test]
    fn the_index_is_xored_big_endian_into_the_nonce() {
        let c = cipher();
        let n = c.nonce(0x0102);
        assert_eq!(&n[..10], &[0xAA; 10]);
        assert_eq!(n[10..], [0xAA ^ 0x01, 0xAA ^ 0x02]);
        assert_eq!(c.nonce(0), [0xAA; NONCE_SIZE]);
    }

    #[test]
    fn a_chunk_opens_only_at_its_own_index() {
        let c = cipher();
        let mut sealed = Vec::new();
        c.seal_into(3, b"chunk", &mut sealed);
        let mut out = b"prefix".to_vec();
        assert_eq!(c.open_into(4, &sealed, &mut out), Err(IntegrityError));
        assert_eq!(out, b"prefix");
        c.open_into(3, &sealed, &mut out).unwrap();
        assert_eq!(out, b"prefixchunk");
    }

    #[test]
    fn pieces_shorter_than_a_tag_or_longer_than_a_chunk_are_refused() {
        let c = cipher();
        let mut out = Vec::new();
        assert!(c.open_into(0, &[0u8; TAG_SIZE - 1], &mut out).is_err());
        assert!(c
            .open_into(0, &vec![0u8; SEALED_CHUNK_SIZE + 1], &mut out)
            .is_err());
        assert!(c.open_into(MAX_CHUNKS, &[0u8; TAG_SIZE], &mut out).is_err());
        assert!(out.is_empty());
    }
}
