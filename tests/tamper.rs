//! Tamper evidence on read: a flipped byte, a truncation or two swapped blobs give the one
//! opaque integrity error; an audio stream that fails midway is aborted, never ended
//! cleanly.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::TestServer;
use serde_json::Value;

const A: &str = "c20260301-010013";
const B: &str = "c20260301-010128";

/// The stored blob file of `call_id` whose key ends with `kind` (`master` or `audio`).
fn blob(data: &Path, call_id: &str, kind: &str) -> PathBuf {
    let found: Vec<PathBuf> = common::walk(&data.join("blobs"))
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.contains(call_id) && s.ends_with(kind)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} blob for {call_id}: {found:?}"
    );
    found[0].clone()
}

fn assert_integrity_problem(server: &TestServer, path: &str) {
    let r = server.get("auditor", path);
    assert_eq!(r.status().as_u16(), 500, "{path}");
    let body: Value = r.json().unwrap();
    assert_eq!(
        body["type"], "https://callvault.dev/problems/integrity",
        "{path}"
    );
    assert_eq!(body["detail"], "integrity check failed");
}

/// Ingests `ids` and grants the auditor access to them.
fn ingest(server: &TestServer, ids: &[&str]) {
    server.ingest(ids);
    server.grant("auditor", ids);
}

#[test]
fn modified_truncated_or_swapped_masters_are_integrity_errors() {
    let server = TestServer::start();
    ingest(&server, &[A, B]);
    let path = format!("/v1/calls/{A}/transcript");
    assert_eq!(server.get("auditor", &path).status().as_u16(), 200);
    let master = blob(server.data.path(), A, "master");
    let original = std::fs::read(&master).unwrap();

    // Flip one byte in the header, the first chunk and the last byte.
    for pos in [0, 30, 60, original.len() / 2, original.len() - 1] {
        let mut bad = original.clone();
        bad[pos] ^= 0x01;
        std::fs::write(&master, &bad).unwrap();
        assert_integrity_problem(&server, &path);
    }
    // Truncate.
    for len in [0, 55, original.len() - 1, original.len() - 17] {
        std::fs::write(&master, &original[..len]).unwrap();
        assert_integrity_problem(&server, &path);
    }
    // Append.
    let mut longer = original.clone();
    longer.extend_from_slice(&[0u8; 16]);
    std::fs::write(&master, &longer).unwrap();
    assert_integrity_problem(&server, &path);
    std::fs::write(&master, &original).unwrap();
    assert_eq!(server.get("auditor", &path).status().as_u16(), 200);

    // Swap the masters of two calls.
    let other = blob(server.data.path(), B, "master");
    let other_bytes = std::fs::read(&other).unwrap();
    std::fs::write(&master, &other_bytes).unwrap();
    std::fs::write(&other, &original).unwrap();
    assert_integrity_problem(&server, &path);
    assert_integrity_problem(&server, &format!("/v1/calls/{B}/transcript"));
    std::fs::write(&master, &original).unwrap();
    std::fs::write(&other, &other_bytes).unwrap();

    // The failures are counted.
    let metrics = server.get("admin", "/metrics").text().unwrap();
    assert!(
        metrics.contains("callvault_integrity_failures_total 12"),
        "{metrics}"
    );
}

#[test]
fn an_audio_stream_that_fails_midway_is_aborted_not_ended() {
    let server = TestServer::start();
    ingest(&server, &[A, B]);
    let audio = blob(server.data.path(), A, "audio");
    let original = std::fs::read(&audio).unwrap();
    let full = read_all(&server, A).expect("an intact blob streams whole");

    // Corrupt a chunk in the middle: the response starts (status 200) but must not end cleanly,
    // and nothing past the failing chunk arrives.
    let mut bad = original.clone();
    let mid = original.len() / 2;
    bad[mid] ^= 0x80;
    std::fs::write(&audio, &bad).unwrap();
    let got = read_all(&server, A);
    match got {
        Ok(bytes) => panic!(
            "a corrupted audio blob streamed to a clean end ({} of {} bytes)",
            bytes.len(),
            full.len()
        ),
        Err(received) => assert!(received < mid, "plaintext past the failing chunk was sent"),
    }

    // Truncated: same.
    std::fs::write(&audio, &original[..original.len() - 100]).unwrap();
    assert!(read_all(&server, A).is_err());

    // Swapped with another call's audio: refused before the response starts.
    let other = blob(server.data.path(), B, "audio");
    std::fs::write(&audio, std::fs::read(&other).unwrap()).unwrap();
    assert_integrity_problem(&server, &format!("/v1/calls/{A}/audio"));
    std::fs::write(&audio, &original).unwrap();
    assert_eq!(read_all(&server, A).unwrap(), full);
}

/// Reads the audio view: `Ok(bytes)` on a clean end; `Err(bytes received)` when the
/// response failed (aborted body or an error status).
fn read_all(server: &TestServer, id: &str) -> Result<Vec<u8>, usize> {
    let resp = server
        .http()
        .get(format!("{}/v1/calls/{id}/audio", server.addr))
        .bearer_auth(server.token("auditor"))
        .send();
    // A connection aborted before the head arrived is also a failed read.
    let Ok(mut resp) = resp else { return Err(0) };
    if !resp.status().is_success() {
        return Err(0);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match resp.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return Err(buf.len()),
        }
    }
}
