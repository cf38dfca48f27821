use std::sync::Arc;

use super::*;
use crate::catalog::{
    AuditRecord, AuditState, AuditStore, AuditTip, BatchSeal, CredentialStore, PrincipalRecord,
    TokenRecord,
};

/// Appends one leaf with a stand-in seal (the real one lives in `audit::seal`).
async fn append_leaf(catalog: &SqliteCatalog, leaf: &[u8]) -> Result<u64, CatalogError> {
    let seal = |tip: &AuditTip, records: &[AuditRecord]| {
        Ok(BatchSeal {
            macs: records.iter().map(|_| vec![0; 32]).collect(),
            adopted_macs: Vec::new(),
            state: AuditState {
                size: tip.leaf_count + records.len() as u64,
                frontier: Vec::new(),
                note: String::new(),
            },
            history_ms: None,
        })
    };
    let record = AuditRecord {
        leaf: leaf.to_vec(),
        objects: Vec::new(),
    };
    catalog
        .append_audit_batch(std::slice::from_ref(&record), &seal)
        .await
}

fn call(call_id: &str) -> CallRecord {
    CallRecord {
        call_id: call_id.to_owned(),
        started_at: "2025-01-02T03:04:05Z".into(),
        agent_id: "agent-7".into(),
        language: "en-GB".into(),
        has_audio: true,
        duration_s: Some(12.5),
        upload_id: format!("upload-{call_id}"),
        transcript_blob: format!("calls/{call_id}/transcript"),
        audio_blob: Some(format!("calls/{call_id}/audio")),
        key_version: 3,
        wrapped_key: vec![0, 1, 2, 255],
        transcript_sha256: "aa".repeat(32),
        audio_sha256: Some("bb".repeat(32)),
        sealed_transcript_sha256: "cc".repeat(32),
        sealed_audio_sha256: None,
        receipt_json: r#"{"ok":true}"#.into(),
        created_at: "2025-01-02T03:05:00Z".into(),
    }
}

async fn open_temp() -> (tempfile::TempDir, SqliteCatalog) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
        .await
        .unwrap();
    (dir, catalog)
}

fn principal(name: &str) -> PrincipalRecord {
    PrincipalRecord {
        name: name.into(),
        roles: vec!["auditor".into(), "agent".into()],
        attrs_json: r#"{"team":"blue"}"#.into(),
        created_at: "2025-01-01T00:00:00Z".into(),
        disabled: false,
    }
}

#[tokio::test]
async fn an_inserted_call_reads_back_identical() {
    let (_dir, catalog) = open_temp().await;
    let rec = call("c1");
    assert_eq!(
        catalog.insert_call(&rec).await.unwrap(),
        InsertOutcome::Inserted
    );
    assert_eq!(catalog.get_call("c1").await.unwrap(), Some(rec));
    assert_eq!(catalog.get_call("c2").await.unwrap(), None);
}

#[tokio::test]
async fn a_second_insert_of_one_call_id_returns_the_first_row_unchanged() {
    let (_dir, catalog) = open_temp().await;
    let first = call("c1");
    catalog.insert_call(&first).await.unwrap();
    let mut second = call("c1");
    second.upload_id = "another-upload".into();
    assert_eq!(
        catalog.insert_call(&second).await.unwrap(),
        InsertOutcome::Exists(first.clone())
    );
    assert_eq!(catalog.get_call("c1").await.unwrap(), Some(first));
}

#[tokio::test]
async fn concurrent_inserts_of_one_call_id_insert_exactly_once() {
    let (_dir, catalog) = open_temp().await;
    let catalog = Arc::new(catalog);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let catalog = Arc::clone(&catalog);
            tokio::spawn(async move {
                let mut rec = call("same");
                rec.upload_id = format!("upload-{i}");
                catalog.insert_call(&rec).await.unwrap()
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        if task.await.unwrap() == InsertOutcome::Inserted {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 1);
}

#[tokio::test]
async fn list_calls_pages_through_all_calls_in_id_order() {
    let (_dir, catalog) = open_temp().await;
    for id in ["c3", "c1", "c5", "c2", "c4"] {
        catalog.insert_call(&call(id)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = catalog.list_calls(after.as_deref(), 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|s| s.call_id.clone());
        seen.extend(page.into_iter().map(|s| s.call_id));
    }
    assert_eq!(seen, ["c1", "c2", "c3", "c4", "c5"]);
    let summary = &catalog.list_calls(None, 1).await.unwrap()[0];
    assert_eq!(summary.agent_id, "agent-7");
    assert!(summary.has_audio);
    assert_eq!(summary.duration_s, Some(12.5));
    assert!(catalog.list_calls(None, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_call_is_gone_and_deleting_again_is_fine() {
    let (_dir, catalog) = open_temp().await;
    catalog.insert_call(&call("c1")).await.unwrap();
    catalog.delete_call("c1").await.unwrap();
    assert_eq!(catalog.get_call("c1").await.unwrap(), None);
    catalog.delete_call("c1").await.unwrap();
}

#[tokio::test]
async fn concurrent_audit_appends_from_eight_tasks_get_dense_indices() {
    let (_dir, catalog) = open_temp().await;
    let catalog = Arc::new(catalog);
    let per_task = 25u64;
    let tasks: Vec<_> = (0..8u8)
        .map(|t| {
            let catalog = Arc::clone(&catalog);
            tokio::spawn(async move {
                let mut indices = Vec::new();
                for i in 0..per_task {
                    let leaf = [t, i as u8];
                    indices.push((append_leaf(&catalog, &leaf).await.unwrap(), leaf));
                }
                indices
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let indices = task.await.unwrap();
        assert!(
            indices.windows(2).all(|w| w[0].0 < w[1].0),
            "not increasing per task"
        );
        all.extend(indices);
    }
    all.sort();
    let total = 8 * per_task;
    assert_eq!(
        all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..total).collect::<Vec<_>>()
    );
    assert_eq!(catalog.audit_size().await.unwrap(), total);
    let stored = catalog.audit_entries(0, total).await.unwrap();
    let expected: Vec<Vec<u8>> = all.iter().map(|(_, leaf)| leaf.to_vec()).collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn audit_entries_is_a_half_open_range_clipped_to_the_log() {
    let (_dir, catalog) = open_temp().await;
    assert_eq!(catalog.audit_size().await.unwrap(), 0);
    for leaf in [b"a", b"b", b"c"] {
        append_leaf(&catalog, leaf).await.unwrap();
    }
    assert_eq!(catalog.audit_entries(1, 2).await.unwrap(), [b"b".to_vec()]);
    assert_eq!(catalog.audit_entries(2, 99).await.unwrap(), [b"c".to_vec()]);
    assert!(catalog.audit_entries(2, 2).await.unwrap().is_empty());
    assert!(catalog.audit_entries(3, 1).await.unwrap().is_empty());
    assert_eq!(catalog.audit_entries(0, u64::MAX).await.unwrap().len(), 3);
}

#[tokio::test]
async fn reopening_keeps_data_and_reapplies_no_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let catalog = SqliteCatalog::open(&path).await.unwrap();
    catalog.insert_call(&call("c1")).await.unwrap();
    append_leaf(&catalog, b"leaf").await.unwrap();
    catalog.close().await;
    for _ in 0..2 {
        let catalog = SqliteCatalog::open(&path).await.unwrap();
        assert!(catalog.get_call("c1").await.unwrap().is_some());
        assert_eq!(catalog.audit_size().await.unwrap(), 1);
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&catalog.pool)
            .await
            .unwrap();
        assert_eq!(applied, MIGRATOR.iter().count() as i64);
        catalog.close().await;
    }
}

#[tokio::test]
async fn the_database_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let catalog = SqliteCatalog::open(&path).await.unwrap();
    catalog.put_setting("k", "v").await.unwrap();
    for name in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[tokio::test]
async fn upserting_a_principal_updates_it_but_keeps_its_creation_time() {
    let (_dir, catalog) = open_temp().await;
    let first = principal("alice");
    catalog.upsert_principal(&first).await.unwrap();
    assert_eq!(
        catalog.get_principal("alice").await.unwrap(),
        Some(first.clone())
    );
    let mut changed = principal("alice");
    changed.roles = vec!["supervisor".into()];
    changed.disabled = true;
    changed.created_at = "2030-01-01T00:00:00Z".into();
    catalog.upsert_principal(&changed).await.unwrap();
    changed.created_at = first.created_at;
    assert_eq!(catalog.get_principal("alice").await.unwrap(), Some(changed));
    catalog.upsert_principal(&principal("aaron")).await.unwrap();
    let names: Vec<String> = catalog
        .list_principals()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["aaron", "alice"]);
    assert_eq!(catalog.get_principal("bob").await.unwrap(), None);
}

#[tokio::test]
async fn tokens_are_found_by_hash_and_must_be_unique_and_owned() {
    let (_dir, catalog) = open_temp().await;
    catalog.upsert_principal(&principal("alice")).await.unwrap();
    let token = TokenRecord {
        token_hash: vec![9; 32],
        principal: "alice".into(),
        created_at: "2025-01-01T00:00:00Z".into(),
        expires_at: Some("2025-02-01T00:00:00Z".into()),
        revoked: false,
        second_factor: true,
    };
    catalog.insert_token(&token).await.unwrap();
    assert_eq!(
        catalog.find_token(&[9; 32]).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(catalog.find_token(&[8; 32]).await.unwrap(), None);
    assert!(matches!(
        catalog.insert_token(&token).await,
        Err(CatalogError::Conflict(_))
    ));
    let orphan = TokenRecord {
        token_hash: vec![7; 32],
        principal: "nobody".into(),
        ..token
    };
    assert!(matches!(
        catalog.insert_token(&orphan).await,
        Err(CatalogError::Conflict(_))
    ));
}

#[tokio::test]
async fn settings_are_created_and_replaced() {
    let (_dir, catalog) = open_temp().await;
    assert_eq!(catalog.get_setting("kdf").await.unwrap(), None);
    catalog.put_setting("kdf", "v1").await.unwrap();
    catalog.put_setting("kdf", "v2").await.unwrap();
    assert_eq!(
        catalog.get_setting("kdf").await.unwrap().as_deref(),
        Some("v2")
    );
}

fn export(id: &str) -> crate::catalog::ExportRecord {
    crate::catalog::ExportRecord {
        id: id.into(),
        case_id: "case-1".into(),
        legal_basis: "inquiry".into(),
        call_ids_json: r#"["c1"]"#.into(),
        regulator: "regulator".into(),
        recipient: "age1example".into(),
        requested_by: "compliance".into(),
        requested_at: 100,
        approved_by: None,
        approved_at: None,
        state: "pending".into(),
        files_done: 0,
        files_total: 0,
        bundle_blob: None,
        bundle_bytes: None,
        bundle_sha256: None,
        failure: None,
    }
}

#[tokio::test]
async fn an_export_is_approved_once_and_never_by_its_creator() {
    use crate::catalog::ExportStore;
    let (_dir, catalog) = open_temp().await;
    catalog.insert_export(&export("exp-1")).await.unwrap();
    assert!(matches!(
        catalog.insert_export(&export("exp-1")).await,
        Err(CatalogError::Conflict(_))
    ));
    assert!(!catalog
        .approve_export("exp-1", "compliance", 200)
        .await
        .unwrap());
    let (a, b) = tokio::join!(
        catalog.approve_export("exp-1", "compliance2", 200),
        catalog.approve_export("exp-1", "compliance3", 200)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|w| **w).count(),
        1,
        "exactly one approval wins"
    );
    let rec = catalog.get_export("exp-1").await.unwrap().unwrap();
    assert_eq!(rec.state, "building");
    catalog.export_progress("exp-1", 3, 8).await.unwrap();
    catalog
        .finish_export("exp-1", "exports/exp-1.tar.age", 1234, "ab")
        .await
        .unwrap();
    let rec = catalog.get_export("exp-1").await.unwrap().unwrap();
    assert_eq!(
        (rec.state.as_str(), rec.files_done, rec.bundle_bytes),
        ("ready", 8, Some(1234))
    );
    assert!(catalog.fail_export("exp-1", "late").await.is_ok());
    assert_eq!(
        catalog.get_export("exp-1").await.unwrap().unwrap().state,
        "ready"
    );
}

#[tokio::test]
async fn builds_cut_short_by_a_stop_are_marked_failed_at_start() {
    use crate::catalog::ExportStore;
    let (_dir, catalog) = open_temp().await;
    catalog.insert_export(&export("exp-2")).await.unwrap();
    catalog.insert_export(&export("exp-3")).await.unwrap();
    assert!(catalog
        .approve_export("exp-2", "compliance2", 1)
        .await
        .unwrap());
    assert_eq!(catalog.fail_interrupted_exports().await.unwrap(), 1);
    let rec = catalog.get_export("exp-2").await.unwrap().unwrap();
    assert_eq!(
        (rec.state.as_str(), rec.failure.as_deref()),
        ("failed", Some("interrupted"))
    );
    assert_eq!(
        catalog.get_export("exp-3").await.unwrap().unwrap().state,
        "pending"
    );
}

#[tokio::test]
async fn a_recipient_is_registered_only_on_an_existing_principal() {
    use crate::catalog::ExportStore;
    let (_dir, catalog) = open_temp().await;
    assert!(matches!(
        catalog.set_recipient("nobody", "age1x").await,
        Err(CatalogError::Conflict(_))
    ));
    catalog
        .upsert_principal(&principal("regulator"))
        .await
        .unwrap();
    catalog.set_recipient("regulator", "age1a").await.unwrap();
    catalog.set_recipient("regulator", "age1b").await.unwrap();
    assert_eq!(
        catalog.recipient_of("regulator").await.unwrap().as_deref(),
        Some("age1b")
    );
}
