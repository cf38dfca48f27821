//! Streaming decryption: releases plaintext only of chunks whose tag has verified.

use subtle::ConstantTimeEq;

use super::aead::{Backend, KEY_SIZE, NONCE_SIZE, TAG_SIZE};
use super::chunk::{ChunkCipher, SEALED_CHUNK_SIZE};
use super::datakey::{derive, DataKey, SALT_SIZE};
use super::encrypt::HEADER_SIZE;
use super::error::IntegrityError;

/// Where the decryptor is in the blob.
enum State {
    /// Collecting the 56-byte header; the key and context wait for its salt.
    Header {
        key: DataKey,
        ctx: Vec<u8>,
        backend: Backend,
        got: Vec<u8>,
    },
    /// Opening chunks; `buffer` holds an incomplete chunk (less than 16400 bytes).
    Body {
        cipher: ChunkCipher,
        index: u64,
        buffer: Vec<u8>,
    },
    /// An integrity check failed; every later call fails too.
    Failed,
}

/// Opens one sealed blob chunk by chunk, in memory proportional to one chunk.
///
/// Plaintext is released only for chunks whose tag verified; a full chunk is released as
/// soon as it verifies, since a full chunk is never the last. Only
/// [`finish`](Self::finish) confirms the blob is complete, so treat released plaintext as
/// provisional until it returns `Ok`. After any error every further call errors.
pub struct Decryptor {
    state: State,
}

impl Decryptor {
    /// Starts opening a blob sealed under `key` with context `ctx`.
    pub fn new(key: &DataKey, ctx: &[u8], backend: Backend) -> Self {
        Decryptor {
            state: State::Header {
                key: key.duplicate(),
                ctx: ctx.to_vec(),
                backend,
                got: Vec::with_capacity(HEADER_SIZE),
            },
        }
    }

    /// Raw mode: opens a header-less chunk stream under a given AEAD key and base nonce.
    pub fn raw(aead_key: &[u8; KEY_SIZE], base_nonce: [u8; NONCE_SIZE], backend: Backend) -> Self {
        Decryptor {
            state: State::Body {
                cipher: ChunkCipher::new(aead_key, base_nonce, backend),
                index: 0,
                buffer: Vec::with_capacity(SEALED_CHUNK_SIZE),
            },
        }
    }

    /// Takes more ciphertext and appends the plaintext of every chunk that completed and
    /// verified to `out`.
    ///
    /// # Errors
    /// [`IntegrityError`] on a wrong key, context or commitment, a failed tag or a chunk
    /// out of place. `out` then holds the plaintext of the chunks verified before the
    /// failure, never a byte of the failing one.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), IntegrityError> {
        if let State::Header { got, .. } = &mut self.state {
            let take = input.len().min(HEADER_SIZE - got.len());
            got.extend_from_slice(&input[..take]);
            input = &input[take..];
            if got.len() < HEADER_SIZE {
                return Ok(());
            }
            self.state = check_header(std::mem::replace(&mut self.state, State::Failed));
        }
        let result = self.push_body(input, out);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// Ends the blob: opens the final, short chunk and appends its plaintext to `out`.
    ///
    /// # Errors
    /// [`IntegrityError`] if the blob is truncated (no header, a missing final chunk, a
    /// piece shorter than a tag), the final chunk fails, or an earlier call failed.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<(), IntegrityError> {
        match self.state {
            State::Body {
                cipher,
                index,
                buffer,
            } if buffer.len() >= TAG_SIZE => cipher.open_into(index, &buffer, out),
            _ => Err(IntegrityError),
        }
    }

    fn push_body(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), IntegrityError> {
        let State::Body {
            cipher,
            index,
            buffer,
        } = &mut self.state
        else {
            return Err(IntegrityError);
        };
        if !buffer.is_empty() {
            let take = input.len().min(SEALED_CHUNK_SIZE - buffer.len());
            buffer.extend_from_slice(&input[..take]);
            input = &input[take..];
            if buffer.len() < SEALED_CHUNK_SIZE {
                return Ok(());
            }
            cipher.open_into(*index, buffer, out)?;
            buffer.clear();
            *index += 1;
        }
        while input.len() >= SEALED_CHUNK_SIZE {
            let (chunk, rest) = input.split_at(SEALED_CHUNK_SIZE);
            cipher.open_into(*index, chunk, out)?;
            *index += 1;
            input = rest;
        }
        buffer.extend_from_slice(input);
        Ok(())
    }
}

/// Derives the blob keys from a complete header and checks the key commitment in
/// constant time, before any chunk is touched.
fn check_header(state: State) -> State {
    let State::Header {
        key,
        ctx,
        backend,
        got,
    } = state
    else {
        return State::Failed;
    };
    let (salt, commitment) = got.split_at(SALT_SIZE);
    let salt: &[u8; SALT_SIZE] = match salt.try_into() {
        Ok(salt) => salt,
        Err(_) => return State::Failed,
    };
    let keys = derive(&key, salt, &ctx);
    if !bool::from(keys.commitment.ct_eq(commitment)) {
        return State::Failed;
    }
    State::Body {
        cipher: ChunkCipher::new(&keys.aead_key, keys.base_nonce, backend),
        index: 0,
        buffer: Vec::with_capacity(SEALED_CHUNK_SIZE),
    }
}

/// Opens a whole in-memory blob (convenience over [`Decryptor`] for small blobs and
/// tests; the pipeline streams).
///
/// # Errors
/// [`IntegrityError`] if any check fails; no plaintext is returned then.
pub fn open(
    key: &DataKey,
    ctx: &[u8],
    blob: &[u8],
    backend: Backend,
) -> Result<Vec<u8>, IntegrityError> {
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(blob.len()));
    let mut dec = Decryptor::new(key, ctx, backend);
    dec.push(blob, &mut out)?;
    dec.finish(&mut out)?;
    Ok(std::mem::take(&mut *out))
}
