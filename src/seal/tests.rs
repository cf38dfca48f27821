//! Adversarial tests of the sealed-blob format: round trips at the boundaries, every
//! flipped byte, every truncation, swapped chunks, wrong contexts, both backends.

use std::io::Cursor;

use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};

use super::*;

const SIZES: [usize; 7] = [0, 1, 16383, 16384, 16385, 3 * 16384, 3 * 16384 + 100];

fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn ctx(call: &str) -> BlobContext {
    BlobContext::new(call, BlobKind::Transcript)
}

/// Decrypts in pushes of `piece` bytes; returns what was released and whether it all held.
fn open_pieces(key: &DataKey, ctx: &[u8], blob: &[u8], piece: usize) -> (Vec<u8>, bool) {
    let mut dec = Decryptor::new(key, ctx, Backend::AwsLc);
    let mut out = Vec::new();
    for part in blob.chunks(piece) {
        if dec.push(part, &mut out).is_err() {
            return (out, false);
        }
    }
    let ok = dec.finish(&mut out).is_ok();
    (out, ok)
}

#[test]
fn blobs_of_boundary_sizes_round_trip_across_backends_and_push_sizes() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    for len in SIZES {
        let msg = message(len);
        for sealer in Backend::ALL {
            for push in [1usize, 1000, 16384, 16385, len.max(1)] {
                let mut enc = Encryptor::new(&key, ctx.as_bytes(), sealer);
                let mut blob = Vec::new();
                for part in msg.chunks(push) {
                    enc.push(part, &mut blob);
                }
                enc.finish(&mut blob);
                let chunks = len / CHUNK_SIZE + 1;
                assert_eq!(
                    blob.len(),
                    HEADER_SIZE + len + chunks * TAG_SIZE,
                    "len {len}"
                );
                for opener in Backend::ALL {
                    let opened = open(&key, ctx.as_bytes(), &blob, opener).unwrap();
                    assert!(
                        opened == msg,
                        "len {len} push {push} {sealer:?}->{opener:?}"
                    );
                }
                let (out, ok) = open_pieces(&key, ctx.as_bytes(), &blob, 777);
                assert!(ok && out == msg);
            }
        }
    }
}

#[test]
fn the_header_comes_first_and_two_blobs_never_share_a_salt() {
    let key = DataKey::generate();
    let mut enc = Encryptor::new(&key, b"", Backend::AwsLc);
    let mut out = Vec::new();
    enc.push(b"abc", &mut out);
    assert_eq!(out.len(), HEADER_SIZE);
    let a = seal(&key, b"", b"same", Backend::AwsLc);
    let b = seal(&key, b"", b"same", Backend::AwsLc);
    assert_ne!(a[..SALT_SIZE], b[..SALT_SIZE]);
    assert_ne!(a, b);
}

#[test]
fn every_flipped_byte_of_a_sealed_blob_is_an_integrity_error() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    let msg = message(40_000);
    let blob = seal(&key, ctx.as_bytes(), &msg, Backend::AwsLc);
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x01 << (i % 8);
        let (out, ok) = open_pieces(&key, ctx.as_bytes(), &bad, 4096);
        assert!(!ok, "byte {i}");
        // Plaintext stops before the chunk holding the flipped byte.
        let chunk_of_byte = i.saturating_sub(HEADER_SIZE) / SEALED_CHUNK_SIZE;
        let allowed = if i < HEADER_SIZE {
            0
        } else {
            chunk_of_byte * CHUNK_SIZE
        };
        assert_eq!(out.len(), allowed, "byte {i}");
        assert!(out == msg[..allowed]);
    }
}

#[test]
fn every_truncation_and_extension_of_a_sealed_blob_fails() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    let msg = message(40_000);
    let blob = seal(&key, ctx.as_bytes(), &msg, Backend::AwsLc);
    for len in 0..blob.len() {
        let cut = &blob[..len];
        let (out, ok) = open_pieces(&key, ctx.as_bytes(), cut, 5000);
        assert!(!ok, "length {len}");
        let full = len.saturating_sub(HEADER_SIZE) / SEALED_CHUNK_SIZE;
        assert!(out.len() <= full * CHUNK_SIZE && out == msg[..out.len()]);
        let ra = RandomAccess::new(Cursor::new(cut), &key, ctx.as_bytes(), Backend::AwsLc);
        assert!(ra.is_err(), "length {len} random access");
    }
    for extra in [&[0u8][..], &[0u8; 15], &[0u8; 16], &blob[HEADER_SIZE..]] {
        let mut long = blob.clone();
        long.extend_from_slice(extra);
        assert!(open(&key, ctx.as_bytes(), &long, Backend::AwsLc).is_err());
    }
}

#[test]
fn chunks_swapped_within_or_between_blobs_fail() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    let a = seal(&key, ctx.as_bytes(), &message(40_000), Backend::AwsLc);
    let b = seal(&key, ctx.as_bytes(), &message(40_000), Backend::AwsLc);
    let chunk = |blob: &[u8], k: usize| {
        let start = HEADER_SIZE + k * SEALED_CHUNK_SIZE;
        blob[start..(start + SEALED_CHUNK_SIZE).min(blob.len())].to_vec()
    };
    let mut swapped = a[..HEADER_SIZE].to_vec();
    for k in [1, 0, 2] {
        swapped.extend(chunk(&a, k));
    }
    let mut mixed = a[..HEADER_SIZE].to_vec();
    for (blob, k) in [(&a, 0), (&b, 1), (&a, 2)] {
        mixed.extend(chunk(blob, k));
    }
    let mut other_header = b[..HEADER_SIZE].to_vec();
    other_header.extend_from_slice(&a[HEADER_SIZE..]);
    for bad in [swapped, mixed, other_header] {
        assert!(matches!(
            open(&key, ctx.as_bytes(), &bad, Backend::AwsLc),
            Err(IntegrityError)
        ));
    }
}

#[test]
fn a_wrong_call_kind_version_or_key_fails_before_any_plaintext() {
    let key = DataKey::generate();
    let right = ctx("call-1");
    let blob = seal(&key, right.as_bytes(), &message(20_000), Backend::AwsLc);
    let wrong = [
        ctx("call-2"),
        BlobContext::new("call-1", BlobKind::Audio),
        BlobContext::with_version("call-1", BlobKind::Transcript, FORMAT_VERSION + 1),
    ];
    for ctx in &wrong {
        let (out, ok) = open_pieces(&key, ctx.as_bytes(), &blob, blob.len());
        assert!(!ok && out.is_empty());
    }
    let (out, ok) = open_pieces(&DataKey::generate(), right.as_bytes(), &blob, blob.len());
    assert!(!ok && out.is_empty());
}

#[test]
fn random_access_reads_any_range_and_refuses_tampered_chunks() {
    let key = DataKey::generate();
    let ctx = ctx("c");
    let msg = message(3 * CHUNK_SIZE + 100);
    let blob = seal(&key, ctx.as_bytes(), &msg, Backend::RustCrypto);
    let mut ra =
        RandomAccess::new(Cursor::new(&blob), &key, ctx.as_bytes(), Backend::AwsLc).unwrap();
    assert_eq!(ra.len(), msg.len() as u64);
    for (start, end) in [
        (0, 0),
        (0, msg.len()),
        (16380, 16390),
        (5, 40_000),
        (49_152, 49_252),
    ] {
        assert_eq!(
            ra.read_range(start as u64..end as u64).unwrap(),
            msg[start..end]
        );
    }
    let mut bad = blob.clone();
    bad[HEADER_SIZE + SEALED_CHUNK_SIZE + 10] ^= 1;
    let mut ra =
        RandomAccess::new(Cursor::new(&bad), &key, ctx.as_bytes(), Backend::AwsLc).unwrap();
    assert_eq!(ra.read_range(0..100).unwrap(), msg[..100]);
    let mut buf = vec![0xFFu8; 20_000];
    assert!(matches!(ra.read_at(0, &mut buf), Err(SealError::Integrity)));
    assert!(
        buf.iter().all(|&b| b == 0),
        "a failed read leaves no plaintext behind"
    );
    assert!(open_range(&bad, &key, ctx.as_bytes(), 16384..16400, Backend::AwsLc).is_err());
    assert_eq!(
        open_range(&blob, &key, ctx.as_bytes(), 7..9, Backend::AwsLc).unwrap(),
        msg[7..9]
    );
}

fn input(data: &[u8], piece: usize) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    let items: Vec<_> = data
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(items)
}

#[tokio::test]
async fn streams_round_trip_in_bounded_items() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    let msg = message(300_000);
    let sealed: Vec<Bytes> =
        seal_stream(input(&msg, 200_000), &key, ctx.as_bytes(), Backend::AwsLc)
            .try_collect()
            .await
            .unwrap();
    assert!(sealed
        .iter()
        .all(|b| !b.is_empty() && b.len() <= 5 * SEALED_CHUNK_SIZE));
    let blob = sealed.concat();
    assert_eq!(
        open(&key, ctx.as_bytes(), &blob, Backend::RustCrypto).unwrap(),
        msg
    );
    let opened: Vec<Bytes> =
        open_stream(input(&blob, 100_000), &key, ctx.as_bytes(), Backend::AwsLc)
            .try_collect()
            .await
            .unwrap();
    assert!(opened.iter().all(|b| b.len() <= 5 * CHUNK_SIZE));
    assert_eq!(opened.concat(), msg);
}

#[tokio::test]
async fn a_tampered_stream_ends_with_one_integrity_error() {
    let key = DataKey::generate();
    let ctx = ctx("call-1");
    let mut blob = seal(&key, ctx.as_bytes(), &message(100_000), Backend::AwsLc);
    let last = blob.len() - 1;
    blob[last] ^= 1;
    let items: Vec<_> = open_stream(input(&blob, 20_000), &key, ctx.as_bytes(), Backend::AwsLc)
        .collect()
        .await;
    let (last, good) = items.split_last().unwrap();
    assert!(good.iter().all(|item| item.is_ok()));
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err
        .get_ref()
        .unwrap()
        .downcast_ref::<IntegrityError>()
        .is_some());
    assert_eq!(err.to_string(), "integrity check failed");
    let truncated = &blob[..blob.len() - 30];
    let items: Vec<_> = open_stream(
        input(truncated, 1 << 20),
        &key,
        ctx.as_bytes(),
        Backend::AwsLc,
    )
    .collect()
    .await;
    assert!(items.last().unwrap().is_err());
}
