//! The audit log as served by a running vault, checked by the independent Python verifier
//! (`tests/verify_audit.py`, written from RFC 6962 and the C2SP specs only): checkpoint
//! signature, inclusion of a chosen entry, consistency between two checkpoints.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestServer;
use serde_json::Value;

fn verify(args: &[&str], files: &Path) -> bool {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_audit.py"))
        .args(args)
        .current_dir(files)
        .output()
        .unwrap();
    out.status.success()
}

#[test]
fn the_independent_verifier_accepts_checkpoints_and_proofs_and_refuses_tampering() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path();
    server.ingest(&["c20260301-010048"]);
    server.grant("auditor", &["c20260301-010048"]);
    assert_eq!(
        server
            .get("auditor", "/v1/calls/c20260301-010048/transcript")
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        server
            .get("recorder", "/v1/calls/c20260301-010048/transcript")
            .status()
            .as_u16(),
        403
    );

    let vkey = server.get("auditor", "/v1/audit/key").text().unwrap();
    std::fs::write(files.join("vkey"), vkey.trim()).unwrap();
    let note1 = server
        .get("auditor", "/v1/audit/checkpoint")
        .text()
        .unwrap();
    std::fs::write(files.join("cp1"), &note1).unwrap();
    assert!(
        verify(&["--vkey", "@vkey", "checkpoint", "cp1"], files),
        "checkpoint 1 must verify"
    );
    let size1: u64 = note1.lines().nth(1).unwrap().parse().unwrap();
    assert!(
        size1 >= 3,
        "the ingest, the read and the refusal are entries"
    );

    // Every entry is metadata only, and the refusal is there.
    let leaves: Vec<String> = server
        .get(
            "compliance",
            &format!("/v1/audit/entries?start=0&end={size1}"),
        )
        .json()
        .unwrap();
    assert_eq!(leaves.len() as u64, size1);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let entries: Vec<Value> = leaves
        .iter()
        .map(|l| serde_json::from_slice(&b64.decode(l).unwrap()).unwrap())
        .collect();
    assert!(entries
        .iter()
        .any(|e| e["event"] == "call.ingest" && e["outcome"] == "success"));
    assert!(entries
        .iter()
        .any(|e| e["actor"] == "recorder" && e["outcome"] == "denied"));

    // Inclusion of a chosen entry in checkpoint 1.
    let chosen = 1usize;
    let proof = server
        .get(
            "auditor",
            &format!("/v1/audit/proof/inclusion?index={chosen}&size={size1}"),
        )
        .text()
        .unwrap();
    std::fs::write(files.join("incl"), &proof).unwrap();
    assert!(
        verify(
            &[
                "--vkey",
                "@vkey",
                "inclusion",
                "--leaf-b64",
                &leaves[chosen],
                "incl"
            ],
            files
        ),
        "inclusion must verify"
    );
    assert!(
        !verify(
            &[
                "--vkey",
                "@vkey",
                "inclusion",
                "--leaf-b64",
                &leaves[chosen + 1],
                "incl"
            ],
            files
        ),
        "another leaf must not verify"
    );

    // More activity, a second checkpoint, and the consistency proof between them.
    server.ingest(&["c20260301-010063"]);
    let note2 = server
        .get("auditor", "/v1/audit/checkpoint")
        .text()
        .unwrap();
    std::fs::write(files.join("cp2"), &note2).unwrap();
    let size2: u64 = note2.lines().nth(1).unwrap().parse().unwrap();
    assert!(size2 > size1);
    let cons = server
        .get(
            "auditor",
            &format!("/v1/audit/proof/consistency?old={size1}&new={size2}"),
        )
        .text()
        .unwrap();
    std::fs::write(files.join("cons"), &cons).unwrap();
    assert!(
        verify(
            &[
                "--vkey",
                "@vkey",
                "consistency",
                "--old",
                "cp1",
                "--new",
                "cp2",
                "cons"
            ],
            files
        ),
        "consistency must verify"
    );
    assert!(!verify(
        &[
            "--vkey",
            "@vkey",
            "consistency",
            "--old",
            "cp2",
            "--new",
            "cp1",
            "cons"
        ],
        files
    ));

    // A tampered checkpoint fails.
    std::fs::write(
        files.join("bad"),
        note1.replacen(&size1.to_string(), &(size1 + 1).to_string(), 1),
    )
    .unwrap();
    assert!(!verify(&["--vkey", "@vkey", "checkpoint", "bad"], files));

    // Only compliance and auditors read the audit log.
    for who in ["recorder", "qa_reviewer", "regulator", "admin"] {
        assert_eq!(
            server.get(who, "/v1/audit/checkpoint").status().as_u16(),
            403,
            "{who}"
        );
    }
}
