//! Streaming encryption: a synchronous state machine that turns plaintext into a sealed blob.

use zeroize::Zeroizing;

use super::aead::{Backend, KEY_SIZE, NONCE_SIZE};
use super::chunk::{ChunkCipher, CHUNK_SIZE};
use super::datakey::{derive, fresh_salt, DataKey, SALT_SIZE};

/// Bytes of the blob header: the salt followed by the key commitment.
pub const HEADER_SIZE: usize = 56;

/// Seals one blob chunk by chunk, in memory proportional to one chunk.
///
/// Feed plaintext with [`push`](Self::push) and end with [`finish`](Self::finish): **call
/// `finish`, or a truncated stream goes unnoticed** — only the short final chunk it writes
/// tells a reader that the blob is complete. The 56-byte header is the first output.
///
/// Each encryptor draws a fresh random 24-byte salt, so the derived (key, nonce) pairs are
/// never reused even when one data key seals many blobs.
pub struct Encryptor {
    cipher: ChunkCipher,
    header: Option<[u8; HEADER_SIZE]>,
    index: u64,
    pending: Zeroizing<Vec<u8>>,
}

impl Encryptor {
    /// Starts a blob sealed under `key`, bound to `ctx` (see `BlobContext`).
    pub fn new(key: &DataKey, ctx: &[u8], backend: Backend) -> Self {
        Self::with_salt(key, ctx, &fresh_salt(), backend)
    }

    /// Starts a blob with a chosen salt. Crate-private: reusing a salt reuses nonces.
    pub(crate) fn with_salt(
        key: &DataKey,
        ctx: &[u8],
        salt: &[u8; SALT_SIZE],
        backend: Backend,
    ) -> Self {
        let keys = derive(key, salt, ctx);
        let mut header = [0u8; HEADER_SIZE];
        header[..SALT_SIZE].copy_from_slice(salt);
        header[SALT_SIZE..].copy_from_slice(&keys.commitment);
        let mut enc = Self::raw(&keys.aead_key, keys.base_nonce, backend);
        enc.header = Some(header);
        enc
    }

    /// Raw mode: the chunk layer alone, with no header, under a caller-supplied AEAD key and
    /// base nonce. The caller must never reuse the pair.
    pub fn raw(aead_key: &[u8; KEY_SIZE], base_nonce: [u8; NONCE_SIZE], backend: Backend) -> Self {
        Encryptor {
            cipher: ChunkCipher::new(aead_key, base_nonce, backend),
            header: None,
            index: 0,
            pending: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
        }
    }

    /// Takes more plaintext and appends the header (on the first call) and the sealed form
    /// of every chunk completed so far to `out`; a partial chunk is kept back.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        self.write_header(out);
        if !self.pending.is_empty() {
            let take = input.len().min(CHUNK_SIZE - self.pending.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() < CHUNK_SIZE {
                return;
            }
            self.seal_chunk(None, out);
        }
        while input.len() >= CHUNK_SIZE {
            let (chunk, rest) = input.split_at(CHUNK_SIZE);
            self.seal_chunk(Some(chunk), out);
            input = rest;
        }
        self.pending.extend_from_slice(input);
    }

    /// Seals the final, short chunk (empty if the plaintext filled its last chunk) and
    /// appends it to `out`, completing the blob.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        self.write_header(out);
        self.cipher.seal_into(self.index, &self.pending, out);
    }

    fn write_header(&mut self, out: &mut Vec<u8>) {
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
    }

    /// Seals a full chunk: `chunk`, or the pending buffer when `None`.
    fn seal_chunk(&mut self, chunk: Option<&[u8]>, out: &mut Vec<u8>) {
        match chunk {
            Some(chunk) => self.cipher.seal_into(self.index, chunk, out),
            None => {
                self.cipher.seal_into(self.index, &self.pending, out);
                self.pending.clear();
            }
        }
        self.index += 1;
    }
}

/// Seals a whole in-memory plaintext into a blob (convenience over [`Encryptor`] for small
/// blobs and tests; the pipeline streams).
pub fn seal(key: &DataKey, ctx: &[u8], plaintext: &[u8], backend: Backend) -> Vec<u8> {
    let chunks = plaintext.len() / CHUNK_SIZE + 1;
    let mut out = Vec::with_capacity(HEADER_SIZE + plaintext.len() + chunks * 16);
    let mut enc = Encryptor::new(key, ctx, backend);
    enc.push(plaintext, &mut out);
    enc.finish(&mut out);
    out
}
