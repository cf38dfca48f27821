use std::collections::BTreeSet;
use std::sync::Arc;

use super::test_support::{entry, exec, keys, open, TestLog};
use super::verify::verify_log;
use super::*;

async fn verifies(t: &TestLog) -> u64 {
    let report = verify_log(
        t.catalog.as_ref(),
        &t.keys.mac,
        &t.keys.signer.verifier(),
        None,
    )
    .await
    .unwrap();
    report.size
}

#[tokio::test]
async fn concurrent_appends_get_dense_distinct_indices_and_a_verifiable_log() {
    let t = TestLog::new().await;
    let tasks: Vec<_> = (0..32)
        .map(|task| {
            let log = t.log.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for i in 0..10 {
                    got.push(log.append(&entry(task * 10 + i)).await.unwrap());
                }
                got
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for task in tasks {
        let got = task.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "increasing per task");
        all.extend(got);
    }
    assert_eq!(all, (0..320).collect());
    assert_eq!(verifies(&t).await, 320);
}

#[tokio::test]
async fn a_failing_database_fails_every_waiter_and_stores_nothing() {
    let t = TestLog::new().await;
    t.fill(5, 5).await;
    let raw = t.raw().await;
    exec(
        &raw,
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'down'); END",
    )
    .await;
    let waiters: Vec<_> = (0..16)
        .map(|i| {
            let log = t.log.clone();
            tokio::spawn(async move { log.append(&entry(i)).await })
        })
        .collect();
    for w in waiters {
        assert!(matches!(w.await.unwrap(), Err(AuditError::Storage(_))));
    }
    assert_eq!(t.log.size().await.unwrap(), 5);
    exec(&raw, "DROP TRIGGER no_audit").await;
    assert_eq!(t.log.append(&entry(0)).await.unwrap(), 5);
    assert_eq!(verifies(&t).await, 6);
}

#[tokio::test]
async fn two_writers_sharing_one_database_append_densely() {
    let t = TestLog::new().await;
    // A second catalog and writer on the same file, as a second server process would have.
    let other = AuditLog::new(open(&t.db()).await, t.keys.clone());
    let logs = [t.log.clone(), other];
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let log = logs[i % 2].clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for j in 0..15 {
                    got.push(log.append(&entry(i * 15 + j)).await.unwrap());
                }
                got
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all, (0..120).collect());
    assert_eq!(verifies(&t).await, 120);
}

#[tokio::test]
async fn a_truncated_log_refuses_every_further_append() {
    let t = TestLog::new().await;
    t.fill(10, 4).await;
    exec(&t.raw().await, "DELETE FROM audit_log WHERE idx = 9").await;
    assert!(matches!(
        t.log.append(&entry(0)).await,
        Err(AuditError::Inconsistent)
    ));
    assert_eq!(t.log.size().await.unwrap(), 9);
}

#[tokio::test]
async fn leaves_from_before_tree_states_are_adopted_by_the_first_append() {
    let t = TestLog::new().await;
    let raw = t.raw().await;
    for i in 0..3 {
        sqlx::query("INSERT INTO audit_log (idx, leaf) VALUES ($1, $2)")
            .bind(i)
            .bind(entry(i as usize).to_leaf())
            .execute(&raw)
            .await
            .unwrap();
    }
    assert_eq!(t.log.append(&entry(3)).await.unwrap(), 3);
    assert_eq!(verifies(&t).await, 4);
}

#[tokio::test]
async fn search_finds_the_entries_naming_an_object_through_the_index() {
    let t = TestLog::new().await;
    t.fill(10, 3).await;
    t.log
        .append(&entry(100).object("c-other").grant("g1"))
        .await
        .unwrap();
    let hits = t.log.search("c1", 0).await.unwrap();
    let indices: Vec<u64> = hits.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [1, 4, 7, 10]);
    assert_eq!(hits[3].1.grant.as_deref(), Some("g1"));
    assert_eq!(t.log.search("c1", 5).await.unwrap().len(), 2);
    assert!(t.log.search("c9", 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_append_with_another_signing_key_is_refused() {
    let t = TestLog::new().await;
    t.fill(3, 3).await;
    let intruder = AuditLog::new(Arc::clone(&t.catalog), keys());
    assert!(matches!(
        intruder.append(&entry(0)).await,
        Err(AuditError::Inconsistent)
    ));
}
