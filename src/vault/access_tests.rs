//! Access requests and grants through the library, on a dev vault whose clock the test
//! drives: a grant works from approval until `not_after` and not a second longer.

use std::sync::Arc;

use crate::access::clock::ManualClock;
use crate::access::{Principal, Role};
use crate::config::Config;
use crate::formats::{ImportOptions, TranscriptKind};
use crate::vault::{open_vault, NewRequest, Upload, Vault, VaultError, Verdict};

const CALL: &str = "c20260301-010048";

fn who(name: &str, role: Role) -> Principal {
    Principal {
        name: name.into(),
        roles: vec![role],
        agents: Vec::new(),
        second_factor: true,
    }
}

async fn vault_at(t: i64) -> (tempfile::TempDir, Vault, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let mut vault = open_vault(&config, true).await.unwrap();
    let clock = Arc::new(ManualClock::new(t));
    vault.clock = clock.clone();
    let transcript = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/dev/calls/c20260301-010048.json"
    ))
    .unwrap();
    vault
        .ingest(
            &who("rec", Role::Recorder),
            "test",
            Upload {
                transcript: transcript.into(),
                kind: TranscriptKind::Json,
                options: ImportOptions::default(),
                file_call_id: None,
                audio: None,
            },
        )
        .await
        .unwrap();
    (dir, vault, clock)
}

fn request(level: Option<crate::access::authz::Level>, duration_s: i64) -> NewRequest {
    NewRequest {
        call_ids: Some(vec![CALL.into()]),
        query: None,
        purpose: "clock test".into(),
        duration_s: Some(duration_s),
        level,
    }
}

#[tokio::test]
async fn a_grant_opens_at_approval_and_closes_exactly_at_not_after() {
    let (_d, vault, clock) = vault_at(1_800_000_000).await;
    let auditor = who("aud", Role::Auditor);
    let r = vault
        .create_request(&auditor, "test", request(None, 600))
        .await
        .unwrap();
    assert!(matches!(
        vault.transcript(&auditor, "test", CALL).await,
        Err(VaultError::Forbidden)
    ));
    clock.advance(100); // approval time, not request time, starts the grant
    vault
        .decide_request(
            &who("c1", Role::Compliance),
            "test",
            &r.id,
            None,
            Verdict::Approve,
        )
        .await
        .unwrap();
    assert!(vault.transcript(&auditor, "test", CALL).await.is_ok());
    clock.advance(599);
    assert!(vault.transcript(&auditor, "test", CALL).await.is_ok());
    clock.advance(1);
    assert!(matches!(
        vault.transcript(&auditor, "test", CALL).await,
        Err(VaultError::Forbidden)
    ));
}

#[tokio::test]
async fn an_unmasked_grant_needs_two_distinct_approvers_and_a_second_factor() {
    use crate::access::authz::Level;
    let (_d, vault, _clock) = vault_at(1_800_000_000).await;
    let auditor = who("aud", Role::Auditor);
    let r = vault
        .create_request(&auditor, "test", request(Some(Level::Unmasked), 600))
        .await
        .unwrap();
    let c1 = who("c1", Role::Compliance);
    let v = vault
        .decide_request(&c1, "test", &r.id, None, Verdict::Approve)
        .await
        .unwrap();
    assert_eq!(v.status, "pending");
    assert!(matches!(
        vault
            .decide_request(&c1, "test", &r.id, None, Verdict::Approve)
            .await,
        Err(VaultError::Forbidden)
    ));
    let v = vault
        .decide_request(
            &who("c2", Role::Compliance),
            "test",
            &r.id,
            None,
            Verdict::Approve,
        )
        .await
        .unwrap();
    assert_eq!(v.status, "approved");
    assert_eq!(v.grant.as_ref().map(|g| g.approvers.len()), Some(2));
    // With a second factor: the break-glass view; without: refused (no masked grant).
    assert!(vault.transcript(&auditor, "test", CALL).await.is_ok());
    let weak = Principal {
        second_factor: false,
        ..auditor.clone()
    };
    assert!(matches!(
        vault.transcript(&weak, "test", CALL).await,
        Err(VaultError::Forbidden)
    ));
}
