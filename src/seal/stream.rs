//! Async adapters: [`Encryptor`] and [`Decryptor`] over a `Stream` of `Bytes`.
//!
//! Input items are processed in pieces of a few chunks, so each output item, and the
//! memory in flight, stays bounded by a few chunks whatever the size of the blob or of
//! the input items.

use std::io;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use zeroize::Zeroize;

use super::aead::Backend;
use super::chunk::{CHUNK_SIZE, SEALED_CHUNK_SIZE};
use super::datakey::DataKey;
use super::decrypt::Decryptor;
use super::encrypt::Encryptor;

/// How many chunks' worth of input one output item covers at most.
const CHUNKS_PER_ITEM: usize = 4;

/// What the adapters need from the two state machines.
trait Transform: Send {
    /// Input bytes handled per output item.
    const PIECE: usize;
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()>;
    fn finish(self, out: &mut Vec<u8>) -> io::Result<()>;
}

impl Transform for Encryptor {
    const PIECE: usize = CHUNKS_PER_ITEM * CHUNK_SIZE;
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        Encryptor::push(self, input, out);
        Ok(())
    }
    fn finish(self, out: &mut Vec<u8>) -> io::Result<()> {
        Encryptor::finish(self, out);
        Ok(())
    }
}

impl Transform for Decryptor {
    const PIECE: usize = CHUNKS_PER_ITEM * SEALED_CHUNK_SIZE;
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        Ok(Decryptor::push(self, input, out)?)
    }
    fn finish(self, out: &mut Vec<u8>) -> io::Result<()> {
        Ok(Decryptor::finish(self, out)?)
    }
}

/// Seals a stream of plaintext into a stream of blob bytes (header first, then chunks).
///
/// The output ends after the final chunk once `input` ends. An input error is passed
/// through and ends the stream; the blob is then incomplete and will not open.
pub fn seal_stream<S>(
    input: S,
    key: &DataKey,
    ctx: &[u8],
    backend: Backend,
) -> impl Stream<Item = io::Result<Bytes>> + Send + use<S>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
{
    adapt(input, Encryptor::new(key, ctx, backend))
}

/// Opens a stream of blob bytes into a stream of plaintext.
///
/// Yields plaintext only of verified chunks. A failed check becomes an
/// [`io::ErrorKind::InvalidData`] error whose inner error is
/// [`IntegrityError`](super::IntegrityError), after which the stream ends; the stream ends
/// cleanly only if the whole blob verified. An input error is passed through and ends it too.
pub fn open_stream<S>(
    input: S,
    key: &DataKey,
    ctx: &[u8],
    backend: Backend,
) -> impl Stream<Item = io::Result<Bytes>> + Send + use<S>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
{
    adapt(input, Decryptor::new(key, ctx, backend))
}

/// The state the adapter carries between items.
struct Adapter<S, T> {
    input: Pin<Box<S>>,
    machine: Option<T>,
    current: Bytes,
}

fn adapt<S, T>(input: S, machine: T) -> impl Stream<Item = io::Result<Bytes>> + Send + use<S, T>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
    T: Transform,
{
    let state = Adapter {
        input: Box::pin(input),
        machine: Some(machine),
        current: Bytes::new(),
    };
    futures::stream::unfold(state, |mut state| async move {
        let item = next_item(&mut state).await?;
        Some((item, state))
    })
}

/// Produces the next non-empty output item, or `None` once the stream is over.
async fn next_item<S, T>(state: &mut Adapter<S, T>) -> Option<io::Result<Bytes>>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
    T: Transform,
{
    loop {
        let machine = state.machine.as_mut()?;
        let mut out = Vec::new();
        let result = if state.current.is_empty() {
            match state.input.next().await {
                Some(Ok(bytes)) => {
                    state.current = bytes;
                    continue;
                }
                Some(Err(e)) => Err(e),
                None => state.machine.take()?.finish(&mut out),
            }
        } else {
            let piece = state.current.split_to(state.current.len().min(T::PIECE));
            out.reserve(piece.len() + SEALED_CHUNK_SIZE);
            machine.push(&piece, &mut out)
        };
        match result {
            Err(e) => {
                // Nothing more after an error, not even plaintext verified just before it.
                out.zeroize();
                state.machine = None;
                return Some(Err(e));
            }
            Ok(()) if out.is_empty() => {}
            Ok(()) => return Some(Ok(Bytes::from(out))),
        }
    }
}
