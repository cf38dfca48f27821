//! Streams between plaintext and sealed blobs: encrypt on the way into the store, decrypt
//! on the way out, hashing as the bytes pass. Memory stays at a few chunks per stream.

use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;
use sha2::{Digest, Sha256};

use crate::seal::{self, Backend, BlobContext, BlobKind, DataKey};
use crate::store::ByteStream;

/// The SHA-256 of everything a stream carried, available once it has ended.
#[derive(Clone, Default)]
pub struct DigestSlot(Arc<Mutex<Option<String>>>);

impl DigestSlot {
    /// The hex digest, if the stream ran to its end.
    pub fn get(&self) -> Option<String> {
        self.0.lock().expect("digest slot lock").clone()
    }

    fn set(&self, hex: String) {
        *self.0.lock().expect("digest slot lock") = Some(hex);
    }
}

/// The context bytes that bind a blob to its call, kind and format version.
pub fn context(call_id: &str, kind: BlobKind) -> Vec<u8> {
    BlobContext::new(call_id, kind).as_bytes().to_vec()
}

/// Seals `plain` under `key`; the returned slot receives the SHA-256 of the sealed bytes.
///
/// The output ends with the short final chunk only after `plain` ended cleanly; an input
/// error is passed on, so the store discards the partial object.
pub fn seal_stream<S>(
    plain: S,
    key: &DataKey,
    ctx: &[u8],
    backend: Backend,
) -> (ByteStream, DigestSlot)
where
    S: Stream<Item = io::Result<Bytes>> + Send + 'static,
{
    let slot = DigestSlot::default();
    let sealed = seal::seal_stream(plain, key, ctx, backend);
    (
        Box::pin(DigestOnEnd {
            inner: sealed,
            hasher: Some(Sha256::new()),
            slot: slot.clone(),
        }),
        slot,
    )
}

pin_project_lite::pin_project! {
    struct DigestOnEnd<S> {
        #[pin]
        inner: S,
        hasher: Option<Sha256>,
        slot: DigestSlot,
    }
}

impl<S: Stream<Item = io::Result<Bytes>>> Stream for DigestOnEnd<S> {
    type Item = io::Result<Bytes>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.project();
        match this.inner.poll_next(cx) {
            std::task::Poll::Ready(Some(Ok(b))) => {
                if let Some(h) = this.hasher.as_mut() {
                    h.update(&b);
                }
                std::task::Poll::Ready(Some(Ok(b)))
            }
            std::task::Poll::Ready(Some(Err(e))) => {
                *this.hasher = None;
                std::task::Poll::Ready(Some(Err(e)))
            }
            std::task::Poll::Ready(None) => {
                if let Some(h) = this.hasher.take() {
                    this.slot.set(hex::encode(h.finalize()));
                }
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// Opens a sealed stream: yields plaintext of verified chunks only, then an integrity
/// error (and nothing more) if the blob was modified, truncated or swapped.
pub fn open_stream(sealed: ByteStream, key: &DataKey, ctx: &[u8], backend: Backend) -> ByteStream {
    Box::pin(seal::open_stream(sealed, key, ctx, backend))
}

/// The one error a failed blob turns into on the way out.
pub fn integrity_io_error() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, crate::seal::IntegrityError)
}

/// Whether an I/O error from [`open_stream`] is an integrity failure.
pub fn is_integrity(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<crate::seal::IntegrityError>())
}
