//! Single-thread sealing throughput of both AEAD backends.
//!
//! Seals 256 MiB held in memory, pushed 64 KiB at a time, as the ingest pipeline does, once per backend, and prints
//! `seal_aws_lc_mb_s=<float>` and `seal_rustcrypto_mb_s=<float>` (MB = 10^6 bytes).
//! Run with `cargo run --release --example seal_bench`.

use std::hint::black_box;
use std::time::Instant;

use callvault::seal::{
    Backend, BlobContext, BlobKind, DataKey, Encryptor, CHUNK_SIZE, HEADER_SIZE, TAG_SIZE,
};

const TOTAL: usize = 256 << 20;
/// The pipeline hands the sealer 64 KiB chunks (the HTTP body and the CLI reader), so
/// the bench does too: the working set stays in cache as it does in production.
const PUSH: usize = 64 << 10;

fn main() {
    let input: Vec<u8> = (0..PUSH).map(|i| (i * 131 % 251) as u8).collect();
    let key = DataKey::generate();
    let ctx = BlobContext::new("bench-call", BlobKind::Audio);
    for (name, backend) in [
        ("aws_lc", Backend::AwsLc),
        ("rustcrypto", Backend::RustCrypto),
    ] {
        let mb_s = seal_throughput(&key, ctx.as_bytes(), &input, backend);
        println!("seal_{name}_mb_s={mb_s:.1}");
    }
}

/// Seals `TOTAL` bytes in `PUSH`-sized pushes and returns MB/s.
fn seal_throughput(key: &DataKey, ctx: &[u8], input: &[u8], backend: Backend) -> f64 {
    let mut out = Vec::with_capacity(HEADER_SIZE + PUSH + (PUSH / CHUNK_SIZE + 1) * TAG_SIZE);
    let start = Instant::now();
    let mut enc = Encryptor::new(key, ctx, backend);
    let mut sealed = 0usize;
    for _ in 0..TOTAL / PUSH {
        out.clear();
        enc.push(black_box(input), &mut out);
        sealed += black_box(&out).len();
    }
    out.clear();
    enc.finish(&mut out);
    sealed += out.len();
    let secs = start.elapsed().as_secs_f64();
    assert!(sealed > TOTAL, "every byte was sealed");
    TOTAL as f64 / 1e6 / secs
}
