//! Cuts a body stream into upload parts of a fixed size, holding at most one part (plus
//! one incoming chunk) in memory.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::store::ByteStream;

/// Parts of exactly `part_size` bytes, except the last, which may be shorter.
pub(super) struct Parts {
    body: ByteStream,
    buf: BytesMut,
    part_size: usize,
    ended: bool,
    total: u64,
}

impl Parts {
    /// Parts of `body`; `part_size` must be positive.
    pub(super) fn new(body: ByteStream, part_size: usize) -> Self {
        Self {
            body,
            buf: BytesMut::new(),
            part_size,
            ended: false,
            total: 0,
        }
    }

    /// The next part, or `None` once the body is used up. Errors of the body pass through.
    pub(super) async fn next_part(&mut self) -> std::io::Result<Option<Bytes>> {
        while !self.ended && self.buf.len() < self.part_size {
            self.pull().await?;
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        let len = self.buf.len().min(self.part_size);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Whether no part follows, reading ahead at most one chunk to find out.
    pub(super) async fn is_exhausted(&mut self) -> std::io::Result<bool> {
        while !self.ended && self.buf.is_empty() {
            self.pull().await?;
        }
        Ok(self.buf.is_empty())
    }

    /// Bytes read from the body so far.
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    async fn pull(&mut self) -> std::io::Result<()> {
        match self.body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                self.total += chunk.len() as u64;
                self.buf.extend_from_slice(&chunk);
            }
            None => self.ended = true,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn body_of(chunks: &[usize]) -> ByteStream {
        let mut next = 0u8;
        let chunks: Vec<std::io::Result<Bytes>> = chunks
            .iter()
            .map(|&len| {
                let chunk: Vec<u8> = (0..len)
                    .map(|_| {
                        next = next.wrapping_add(1);
                        next
                    })
                    .collect();
                Ok(Bytes::from(chunk))
            })
            .collect();
        Box::pin(stream::iter(chunks))
    }

    async fn part_lengths(chunks: &[usize], part_size: usize) -> Vec<usize> {
        let mut parts = Parts::new(body_of(chunks), part_size);
        let mut lengths = Vec::new();
        while let Some(part) = parts.next_part().await.unwrap() {
            lengths.push(part.len());
        }
        assert!(parts.is_exhausted().await.unwrap());
        assert_eq!(parts.total(), chunks.iter().sum::<usize>() as u64);
        lengths
    }

    #[tokio::test]
    async fn parts_are_full_size_except_the_last_whatever_the_chunking() {
        assert_eq!(part_lengths(&[], 4).await, Vec::<usize>::new());
        assert_eq!(part_lengths(&[0, 0], 4).await, Vec::<usize>::new());
        assert_eq!(part_lengths(&[1], 4).await, [1]);
        assert_eq!(part_lengths(&[4], 4).await, [4]);
        assert_eq!(part_lengths(&[3, 2], 4).await, [4, 1]);
        assert_eq!(part_lengths(&[10], 4).await, [4, 4, 2]);
        assert_eq!(part_lengths(&[1, 1, 1, 1, 1, 1, 1, 1], 4).await, [4, 4]);
    }

    #[tokio::test]
    async fn parts_keep_the_bytes_in_order() {
        let mut parts = Parts::new(body_of(&[3, 5, 1]), 4);
        let mut joined = Vec::new();
        while let Some(part) = parts.next_part().await.unwrap() {
            joined.extend_from_slice(&part);
        }
        assert_eq!(joined, (1..=9).collect::<Vec<u8>>());
    }

    #[tokio::test]
    async fn exactly_one_full_part_is_exhausted_after_the_first_part() {
        let mut parts = Parts::new(body_of(&[2, 2]), 4);
        assert_eq!(parts.next_part().await.unwrap().unwrap().len(), 4);
        assert!(parts.is_exhausted().await.unwrap());
        let mut parts = Parts::new(body_of(&[2, 2, 1]), 4);
        parts.next_part().await.unwrap();
        assert!(!parts.is_exhausted().await.unwrap());
    }

    #[tokio::test]
    async fn an_error_in_the_body_is_returned() {
        let failing = stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("source failed")),
        ]);
        let mut parts = Parts::new(Box::pin(failing), 4);
        assert!(parts.next_part().await.is_err());
    }
}
