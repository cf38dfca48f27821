//! Tests of the login credentials, token revocation and failed-login records.

use super::*;

async fn catalog_with(names: &[&str]) -> (tempfile::TempDir, SqliteCatalog) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
        .await
        .unwrap();
    for name in names {
        catalog
            .upsert_principal(&PrincipalRecord {
                name: (*name).into(),
                roles: vec!["auditor".into()],
                attrs_json: "{}".into(),
                created_at: "2025-01-01T00:00:00Z".into(),
                disabled: false,
            })
            .await
            .unwrap();
    }
    (dir, catalog)
}

fn token(hash: u8, principal: &str) -> TokenRecord {
    TokenRecord {
        token_hash: vec![hash; 32],
        principal: principal.into(),
        created_at: format!("2025-01-01T00:00:{hash:02}Z"),
        expires_at: None,
        revoked: false,
        second_factor: false,
    }
}

#[tokio::test]
async fn a_revoked_token_reads_back_revoked_and_others_are_untouched() {
    let (_dir, c) = catalog_with(&["alice", "bob"]).await;
    for (h, p) in [(1, "alice"), (2, "alice"), (3, "bob")] {
        c.insert_token(&token(h, p)).await.unwrap();
    }
    assert!(c.revoke_token(&[1; 32]).await.unwrap());
    assert!(!c.revoke_token(&[9; 32]).await.unwrap());
    assert!(c.find_token(&[1; 32]).await.unwrap().unwrap().revoked);
    assert!(!c.find_token(&[2; 32]).await.unwrap().unwrap().revoked);

    assert_eq!(c.revoke_tokens_of("alice").await.unwrap(), 1);
    assert_eq!(c.revoke_tokens_of("alice").await.unwrap(), 0);
    let alices = c.tokens_of("alice").await.unwrap();
    assert_eq!(alices.len(), 2);
    assert!(alices.iter().all(|t| t.revoked));
    assert!(!c.find_token(&[3; 32]).await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn disabling_a_principal_is_stored_and_unknown_names_say_so() {
    let (_dir, c) = catalog_with(&["alice"]).await;
    assert!(c.set_disabled("alice", true).await.unwrap());
    assert!(c.get_principal("alice").await.unwrap().unwrap().disabled);
    assert!(!c.set_disabled("nobody", true).await.unwrap());
}

#[tokio::test]
async fn login_credentials_are_set_independently_and_need_a_principal() {
    let (_dir, c) = catalog_with(&["alice"]).await;
    assert_eq!(
        c.login_record("alice").await.unwrap(),
        LoginRecord::default()
    );
    c.set_password_hash("alice", Some("$argon2id$x"))
        .await
        .unwrap();
    c.set_totp("alice", Some("{\"wrapped\":1}")).await.unwrap();
    let rec = c.login_record("alice").await.unwrap();
    assert_eq!(rec.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(rec.totp_wrapped.as_deref(), Some("{\"wrapped\":1}"));
    assert_eq!(rec.totp_last_step, None);
    let debug = format!("{rec:?}");
    assert!(!debug.contains("argon2id") && !debug.contains("wrapped\\\""));

    assert!(matches!(
        c.set_password_hash("nobody", Some("$argon2id$x")).await,
        Err(CatalogError::Conflict(_))
    ));
    assert!(matches!(
        c.set_totp("nobody", Some("{}")).await,
        Err(CatalogError::Conflict(_))
    ));
}

#[tokio::test]
async fn the_totp_step_only_moves_forward_and_resets_on_enrolment() {
    let (_dir, c) = catalog_with(&["alice", "bob"]).await;
    c.set_password_hash("bob", Some("$argon2id$x"))
        .await
        .unwrap();
    assert!(
        !c.advance_totp_step("bob", 10).await.unwrap(),
        "no TOTP enrolled"
    );
    c.set_totp("alice", Some("{}")).await.unwrap();
    assert!(c.advance_totp_step("alice", 10).await.unwrap());
    assert!(!c.advance_totp_step("alice", 10).await.unwrap(), "replay");
    assert!(!c.advance_totp_step("alice", 9).await.unwrap(), "older");
    assert!(c.advance_totp_step("alice", 11).await.unwrap());
    assert_eq!(
        c.login_record("alice").await.unwrap().totp_last_step,
        Some(11)
    );
    c.set_totp("alice", Some("{\"new\":1}")).await.unwrap();
    assert_eq!(c.login_record("alice").await.unwrap().totp_last_step, None);
}

#[tokio::test]
async fn failures_are_counted_per_name_and_origin_within_the_window() {
    let (_dir, c) = catalog_with(&[]).await;
    let a = c
        .record_login_failure("alice", "10.0.0.1", 100)
        .await
        .unwrap();
    c.record_login_failure("alice", "10.0.0.2", 200)
        .await
        .unwrap();
    c.record_login_failure("bob", "10.0.0.1", 300)
        .await
        .unwrap();

    let w = c.failures_by_name("alice", 0).await.unwrap();
    assert_eq!((w.count, w.oldest), (2, Some(100)));
    let w = c.failures_by_name("alice", 150).await.unwrap();
    assert_eq!((w.count, w.oldest), (1, Some(200)));
    let w = c.failures_by_origin("10.0.0.1", 0).await.unwrap();
    assert_eq!((w.count, w.oldest), (2, Some(100)));
    assert_eq!(
        c.failures_by_name("carol", 0).await.unwrap(),
        FailureWindow::default()
    );

    c.delete_login_failure(a).await.unwrap();
    assert_eq!(c.failures_by_name("alice", 0).await.unwrap().count, 1);
    c.clear_login_failures("alice", "10.0.0.2").await.unwrap();
    assert_eq!(c.failures_by_name("alice", 0).await.unwrap().count, 0);
    c.prune_login_failures(301).await.unwrap();
    assert_eq!(c.failures_by_origin("10.0.0.1", 0).await.unwrap().count, 0);
}
