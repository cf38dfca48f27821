use super::*;
use crate::audit::test_support::{entry, exec, keys, open, TestLog};
use crate::audit::{AuditKeys, AuditLog};

async fn check(t: &TestLog, outside: Option<&str>) -> Result<VerifyReport, VerifyError> {
    check_store(t.catalog.as_ref(), &t.keys, outside).await
}

async fn check_store(
    store: &dyn AuditStore,
    keys: &AuditKeys,
    outside: Option<&str>,
) -> Result<VerifyReport, VerifyError> {
    verify_log(store, &keys.mac, &keys.signer.verifier(), outside).await
}

fn first_bad(r: Result<VerifyReport, VerifyError>) -> (u64, Tamper) {
    match r {
        Err(VerifyError::Bad { index, why }) => (index, why),
        other => panic!("expected a bad index, got {other:?}"),
    }
}

async fn forty() -> TestLog {
    let t = TestLog::new().await;
    t.fill(40, 7).await;
    t
}

async fn latest_note(t: &TestLog) -> String {
    t.catalog.audit_state().await.unwrap().unwrap().note
}

#[tokio::test]
async fn a_clean_log_verifies_with_its_own_latest_checkpoint() {
    let t = forty().await;
    let note = latest_note(&t).await;
    let report = check(&t, Some(&note)).await.unwrap();
    assert_eq!(report.size, 40);
    assert_eq!(report.outside_size, Some(40));
    assert!(report.checkpoints_checked >= 2, "history and state");
}

#[tokio::test]
async fn an_empty_log_verifies() {
    let t = TestLog::new().await;
    assert_eq!(check(&t, None).await.unwrap().size, 0);
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let t = forty().await;
    exec(
        &t.raw().await,
        "UPDATE audit_log SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), 'n17', 'n99') AS BLOB) \
         WHERE idx = 17",
    )
    .await;
    assert_eq!(first_bad(check(&t, None).await), (17, Tamper::BadMac));
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let t = forty().await;
    exec(&t.raw().await, "DELETE FROM audit_log WHERE idx = 17").await;
    assert_eq!(first_bad(check(&t, None).await), (17, Tamper::Missing));
}

#[tokio::test]
async fn reordered_entries_are_named_at_the_lower_index() {
    let t = forty().await;
    let raw = t.raw().await;
    for sql in [
        "UPDATE audit_log SET idx = 1000 WHERE idx = 11",
        "UPDATE audit_log SET idx = 11 WHERE idx = 23",
        "UPDATE audit_log SET idx = 23 WHERE idx = 1000",
    ] {
        exec(&raw, sql).await;
    }
    assert_eq!(first_bad(check(&t, None).await), (11, Tamper::BadMac));
}

#[tokio::test]
async fn a_truncated_log_is_named_at_its_new_size() {
    let t = forty().await;
    exec(&t.raw().await, "DELETE FROM audit_log WHERE idx >= 30").await;
    assert_eq!(
        first_bad(check(&t, None).await),
        (30, Tamper::Truncated { signed: 40 })
    );
}

#[tokio::test]
async fn an_untagged_or_inserted_entry_is_named() {
    let t = forty().await;
    let raw = t.raw().await;
    exec(&raw, "UPDATE audit_log SET mac = NULL WHERE idx = 3").await;
    assert_eq!(first_bad(check(&t, None).await), (3, Tamper::Untagged));
    exec(
        &raw,
        "INSERT INTO audit_log (idx, leaf, mac) VALUES (40, x'00', x'00')",
    )
    .await;
    exec(&raw, "UPDATE audit_log SET mac = x'00' WHERE idx = 3").await;
    assert_eq!(first_bad(check(&t, None).await), (3, Tamper::BadMac));
}

#[tokio::test]
async fn a_stored_checkpoint_that_does_not_verify_is_named() {
    let t = forty().await;
    exec(
        &t.raw().await,
        "UPDATE audit_checkpoints SET note = REPLACE(note, 'test.example/log', 'x') \
         WHERE size = (SELECT MIN(size) FROM audit_checkpoints)",
    )
    .await;
    let (_, why) = first_bad(check(&t, None).await);
    assert!(matches!(why, Tamper::BadSignature { size: 7 }), "{why:?}");
}

#[tokio::test]
async fn a_rewritten_tree_state_is_named() {
    let t = forty().await;
    exec(&t.raw().await, "UPDATE audit_state SET frontier = x'00'").await;
    assert_eq!(
        first_bad(check(&t, None).await),
        (39, Tamper::StateMismatch { size: 40 })
    );
}

#[tokio::test]
async fn restoring_an_earlier_copy_is_caught_by_a_later_outside_checkpoint() {
    let t = TestLog::new().await;
    t.fill(20, 6).await;
    let copy = t.dir.path().join("earlier.db");
    exec(&t.raw().await, &format!("VACUUM INTO '{}'", copy.display())).await;
    t.fill(15, 6).await;
    let saved = latest_note(&t).await;
    let restored = open(&copy).await;
    // Alone, the earlier copy is a consistent log: only the outside checkpoint tells.
    assert_eq!(
        check_store(restored.as_ref(), &t.keys, None)
            .await
            .unwrap()
            .size,
        20
    );
    assert_eq!(
        first_bad(check_store(restored.as_ref(), &t.keys, Some(&saved)).await),
        (20, Tamper::RolledBack { signed: 35 })
    );
}

#[tokio::test]
async fn a_fork_of_an_earlier_copy_is_caught_by_an_outside_checkpoint() {
    let t = TestLog::new().await;
    t.fill(20, 6).await;
    let copy = t.dir.path().join("earlier.db");
    exec(&t.raw().await, &format!("VACUUM INTO '{}'", copy.display())).await;
    t.fill(15, 6).await;
    let saved = latest_note(&t).await;
    // The restored copy goes on logging other entries, up to the same size.
    let restored = open(&copy).await;
    let fork = AuditLog::new(restored.clone(), t.keys.clone());
    let other: Vec<_> = (0..15).map(|i| entry(1000 + i)).collect();
    fork.append_batch(&other).await.unwrap();
    assert_eq!(
        first_bad(check_store(restored.as_ref(), &t.keys, Some(&saved)).await),
        (34, Tamper::Forked { size: 35 })
    );
}

#[tokio::test]
async fn an_outside_checkpoint_signed_by_another_key_is_refused() {
    let t = forty().await;
    let other = keys();
    let o = TestLog::new().await;
    let forged_log = AuditLog::new(o.catalog.clone(), other.clone());
    forged_log.append_batch(&[entry(0)]).await.unwrap();
    let forged = latest_note(&o).await;
    assert!(matches!(
        check(&t, Some(&forged)).await,
        Err(VerifyError::OutsideUnverified)
    ));
}
