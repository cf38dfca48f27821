//! `callvault audit verify` on a real data directory: a server records some activity and
//! stops; verify passes; a rolled-back copy of the data directory fails against a
//! checkpoint saved in between; an edited entry fails naming its index. Also
//! `GET /v1/audit/search`, `audit who`, `audit checkpoint` and `audit proof`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bin, TestServer};
use serde_json::Value;

const CALL: &str = "c20260301-010048";

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn verify(data: &Path, checkpoint: Option<&Path>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(["audit", "verify", "--config", "/nonexistent.toml", "--data"])
        .arg(data);
    if let Some(c) = checkpoint {
        cmd.arg("--checkpoint").arg(c);
    }
    cmd.output().unwrap()
}

fn refused_with(out: Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(needle), "{err}");
}

/// The catalog files (database, WAL, shared memory) copied from `from` to `to`.
fn copy_catalog(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

fn edit_leaf(db: &Path, index: i64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::query("UPDATE audit_log SET leaf = leaf || x'20' WHERE idx = $1")
            .bind(index)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn search_and_who_name_the_callers_of_a_call() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let request = server.grant("auditor", &[CALL]);
    assert_eq!(
        server
            .get("auditor", &format!("/v1/calls/{CALL}/transcript"))
            .status()
            .as_u16(),
        200
    );
    let hits: Vec<Value> = server
        .get("compliance", &format!("/v1/audit/search?call_id={CALL}"))
        .json()
        .unwrap();
    let events: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| (h["actor"].as_str().unwrap(), h["event"].as_str().unwrap()))
        .collect();
    assert!(events.contains(&("recorder", "call.ingest")), "{events:?}");
    assert!(events.iter().any(|(a, _)| *a == "auditor"), "{events:?}");
    // The read names the grant it went through and the request's purpose.
    let read = hits
        .iter()
        .find(|h| h["actor"] == "auditor" && h["event"] == "call.read.transcript")
        .expect("the auditor's read");
    assert!(
        read["grant"]
            .as_str()
            .is_some_and(|g| g.starts_with("grant-")),
        "{read}"
    );
    assert_eq!(read["purpose"], "test reads");
    assert!(
        events.contains(&("compliance", "access.approve")),
        "{events:?}"
    );
    let _ = request;
    assert!(hits
        .iter()
        .all(|h| h["index"].is_u64() && h["time"].is_string()));
    for who in ["recorder", "qa_reviewer", "admin"] {
        let path = format!("/v1/audit/search?call_id={CALL}");
        assert_eq!(server.get(who, &path).status().as_u16(), 403, "{who}");
    }
    assert_eq!(
        server
            .get("auditor", "/v1/audit/search?call_id=../x")
            .status()
            .as_u16(),
        400
    );
    let table = ok(server
        .cli("auditor")
        .args(["audit", "who", CALL])
        .output()
        .unwrap());
    assert!(table.contains("call.ingest"), "{table}");
    assert!(
        table.contains("audit.search"),
        "the search by compliance is itself audited: {table}"
    );
    let proof = ok(server
        .cli("auditor")
        .args(["audit", "proof", "0"])
        .output()
        .unwrap());
    assert!(proof.starts_with("c2sp.org/tlog-proof@v1\n"), "{proof}");
}

#[test]
fn verify_passes_and_catches_a_rollback_and_an_edited_entry() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let data = server.stop();
    let outside = tempfile::tempdir().unwrap();
    let earlier = outside.path().join("earlier");
    copy_catalog(data.path(), &earlier);

    let server = TestServer::start_in(data, &[]);
    server.ingest(&["c20260301-010063"]);
    let note = ok(server
        .cli("auditor")
        .args(["audit", "checkpoint"])
        .output()
        .unwrap());
    let saved = outside.path().join("checkpoint");
    std::fs::write(&saved, &note).unwrap();
    let data = server.stop();

    let report = ok(verify(data.path(), Some(&saved)));
    assert!(report.starts_with("audit log OK"), "{report}");

    // Restore the catalog from the earlier copy: consistent alone, caught by the checkpoint.
    let later = outside.path().join("later");
    copy_catalog(data.path(), &later);
    copy_catalog(&earlier, data.path());
    ok(verify(data.path(), None));
    refused_with(verify(data.path(), Some(&saved)), "rolled back");

    // An edited entry is named by its index.
    copy_catalog(&later, data.path());
    edit_leaf(&data.path().join("catalog.db"), 1);
    refused_with(verify(data.path(), None), "index 1:");
}
