//! Random access into a sealed blob: decrypt only the chunks a range touches.
//!
//! Chunk `k` starts at byte `56 + k * 16400`, so any plaintext range maps to a run of
//! chunks. Opening the reader authenticates the blob's length by opening its final chunk
//! (only the true final chunk, at its true index, is both short and valid); each read then
//! opens the chunks it needs. A read succeeds only if every chunk it touches verifies.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::aead::{Backend, KEY_SIZE, NONCE_SIZE, TAG_SIZE};
use super::chunk::{ChunkCipher, CHUNK_SIZE, SEALED_CHUNK_SIZE};
use super::datakey::{derive, DataKey, SALT_SIZE};
use super::encrypt::HEADER_SIZE;
use super::error::SealError;

/// A reader that decrypts chunk `k` of a sealed blob on demand.
///
/// Holds at most one decrypted chunk (the last one read), wiped when replaced or dropped.
pub struct RandomAccess<R> {
    reader: R,
    cipher: ChunkCipher,
    body_start: u64,
    body_len: u64,
    len: u64,
    cached: Option<(u64, Zeroizing<Vec<u8>>)>,
}

impl<R: Read + Seek> RandomAccess<R> {
    /// Opens a blob sealed under `key` with context `ctx`: checks the key commitment and
    /// authenticates the length through the final chunk.
    ///
    /// # Errors
    /// [`SealError::Integrity`] if the blob is too short, the commitment or the final chunk
    /// fails; [`SealError::Io`] if reading fails.
    pub fn new(
        mut reader: R,
        key: &DataKey,
        ctx: &[u8],
        backend: Backend,
    ) -> Result<Self, SealError> {
        let total = reader.seek(SeekFrom::End(0))?;
        if total < HEADER_SIZE as u64 {
            return Err(SealError::Integrity);
        }
        let mut header = [0u8; HEADER_SIZE];
        reader.seek(SeekFrom::Start(0))?;
        reader.read_exact(&mut header)?;
        let (salt, commitment) = header.split_at(SALT_SIZE);
        let salt: &[u8; SALT_SIZE] = salt.try_into().map_err(|_| SealError::Integrity)?;
        let keys = derive(key, salt, ctx);
        if !bool::from(keys.commitment.ct_eq(commitment)) {
            return Err(SealError::Integrity);
        }
        let cipher = ChunkCipher::new(&keys.aead_key, keys.base_nonce, backend);
        Self::start(reader, cipher, HEADER_SIZE as u64, total)
    }

    /// Raw mode: a header-less chunk stream under a given AEAD key and base nonce.
    ///
    /// # Errors
    /// As for [`RandomAccess::new`].
    pub fn raw(
        mut reader: R,
        aead_key: &[u8; KEY_SIZE],
        base_nonce: [u8; NONCE_SIZE],
        backend: Backend,
    ) -> Result<Self, SealError> {
        let total = reader.seek(SeekFrom::End(0))?;
        Self::start(
            reader,
            ChunkCipher::new(aead_key, base_nonce, backend),
            0,
            total,
        )
    }

    fn start(
        reader: R,
        cipher: ChunkCipher,
        body_start: u64,
        total: u64,
    ) -> Result<Self, SealError> {
        let body_len = total - body_start;
        let sealed = SEALED_CHUNK_SIZE as u64;
        let (final_index, last) = (body_len / sealed, body_len % sealed);
        if last < TAG_SIZE as u64 {
            return Err(SealError::Integrity);
        }
        let mut ra = RandomAccess {
            reader,
            cipher,
            body_start,
            body_len,
            len: final_index * CHUNK_SIZE as u64 + (last - TAG_SIZE as u64),
            cached: None,
        };
        ra.load(final_index)?;
        Ok(ra)
    }

    /// Length of the plaintext in bytes, as authenticated by the final chunk.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fills `buf` with the plaintext starting at `offset`.
    ///
    /// # Errors
    /// [`SealError::OutOfRange`] if the range passes the end of the plaintext;
    /// [`SealError::Integrity`] if a chunk it touches fails; `buf` is zeroed then.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SealError> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&end| end <= self.len)
            .ok_or(SealError::OutOfRange)?;
        let chunk = CHUNK_SIZE as u64;
        if buf.is_empty() {
            return Ok(());
        }
        let mut pos = offset;
        let mut written = 0;
        while pos < end {
            let index = pos / chunk;
            let plain = match self.load(index) {
                Ok(plain) => plain,
                Err(e) => {
                    // A failure releases nothing: wipe what earlier chunks put in `buf`.
                    buf.zeroize();
                    return Err(e);
                }
            };
            let from = (pos - index * chunk) as usize;
            let n = (plain.len() - from).min((end - pos) as usize);
            buf[written..written + n].copy_from_slice(&plain[from..from + n]);
            written += n;
            pos += n as u64;
        }
        Ok(())
    }

    /// The plaintext in `range`.
    ///
    /// # Errors
    /// As for [`RandomAccess::read_at`].
    pub fn read_range(&mut self, range: Range<u64>) -> Result<Vec<u8>, SealError> {
        let len = range
            .end
            .checked_sub(range.start)
            .ok_or(SealError::OutOfRange)?;
        let mut buf = vec![0u8; usize::try_from(len).map_err(|_| SealError::OutOfRange)?];
        self.read_at(range.start, &mut buf)?;
        Ok(buf)
    }

    /// Returns chunk `index` decrypted, reading and opening it unless it is cached.
    fn load(&mut self, index: u64) -> Result<&[u8], SealError> {
        if self.cached.as_ref().map(|(i, _)| *i) != Some(index) {
            self.cached = None;
            let sealed = self.read_sealed(index)?;
            let mut plain = Zeroizing::new(Vec::with_capacity(CHUNK_SIZE));
            self.cipher.open_into(index, &sealed, &mut plain)?;
            self.cached = Some((index, plain));
        }
        match &self.cached {
            Some((_, plain)) => Ok(plain),
            None => Err(SealError::Integrity),
        }
    }

    fn read_sealed(&mut self, index: u64) -> Result<Vec<u8>, SealError> {
        let sealed = SEALED_CHUNK_SIZE as u64;
        let start = index * sealed;
        let len = sealed.min(self.body_len - start);
        self.reader.seek(SeekFrom::Start(self.body_start + start))?;
        let mut buf = vec![0u8; len as usize];
        self.reader.read_exact(&mut buf)?;
        Ok(buf)
    }
}

/// Decrypts `range` of an in-memory blob, opening only the chunks it touches (plus the
/// final chunk, which authenticates the length).
///
/// # Errors
/// As for [`RandomAccess::new`] and [`RandomAccess::read_at`].
pub fn open_range(
    blob: &[u8],
    key: &DataKey,
    ctx: &[u8],
    range: Range<u64>,
    backend: Backend,
) -> Result<Vec<u8>, SealError> {
    RandomAccess::new(std::io::Cursor::new(blob), key, ctx, backend)?.read_range(range)
}
