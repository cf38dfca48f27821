//! Tests of the principal operations and logins against a dev vault in a temporary
//! directory.

use super::*;
use crate::access::{hash_token, Principal, Role};
use crate::audit::AuditEntry;
use crate::config::Config;
use crate::vault::open_vault;

const PASSWORD: &str = "a long enough passphrase";

async fn vault() -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let vault = open_vault(&config, true).await.unwrap();
    (dir, vault)
}

fn admin() -> Actor {
    Actor::local_admin(Some("tester"))
}

fn alice(totp: bool) -> NewPrincipal {
    NewPrincipal {
        name: "alice".into(),
        roles: vec![Role::Compliance],
        agents: vec!["agent-7".into()],
        password: Some(Zeroizing::new(PASSWORD.into())),
        totp,
        token_ttl_secs: Some(3600),
    }
}

fn request(name: &str, password: &str, totp: Option<&str>) -> LoginRequest {
    LoginRequest {
        name: name.into(),
        password: Zeroizing::new(password.into()),
        totp: totp.map(|c| Zeroizing::new(c.into())),
    }
}

/// The current code of an enrolment, as an authenticator app computes it.
fn current_code(enrolment: &TotpEnrolment) -> String {
    let bytes = totp_rs::Secret::Encoded(enrolment.base32.to_string())
        .to_bytes()
        .unwrap();
    let secret = TotpSecret::from_bytes(&bytes).unwrap();
    let now = u64::try_from(unix_now()).unwrap();
    secret.code_at(now, crate::access::totp::DIGITS).to_string()
}

async fn events(vault: &Vault) -> Vec<AuditEntry> {
    let size = vault.audit.size().await.unwrap();
    vault.audit.entries(0, size).await.unwrap()
}

#[tokio::test]
async fn an_added_principal_lists_its_credentials_but_no_secret() {
    let (_dir, vault) = vault().await;
    let enrolment = vault.add_principal(&admin(), alice(true)).await.unwrap();
    let token = enrolment.token.unwrap();
    assert!(token.secret.starts_with("cvt_"));
    assert!(token.expires_at.is_some());
    assert!(enrolment
        .totp
        .unwrap()
        .otpauth_uri
        .contains("callvault:alice"));

    let list = vault.list_principals().await.unwrap();
    assert_eq!(
        list,
        vec![PrincipalSummary {
            name: "alice".into(),
            roles: vec!["compliance".into()],
            agents: vec!["agent-7".into()],
            disabled: false,
            has_password: true,
            has_totp: true,
            live_tokens: 1,
        }]
    );
    let stored = vault
        .catalog
        .find_token(&hash_token(&token.secret))
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.second_factor, "API tokens carry no second factor");

    let log = events(&vault).await;
    let names: Vec<&str> = log.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "principal.add",
            "principal.password.set",
            "principal.totp.enroll",
            "token.issue"
        ]
    );
    assert!(log.iter().all(|e| e.actor == "local-admin"
        && e.origin == "local:tester"
        && e.objects == ["principal:alice"]));
}

#[tokio::test]
async fn bad_names_roles_and_passwords_store_nothing() {
    let (_dir, vault) = vault().await;
    for name in ["", "a:b", "with space", &"x".repeat(MAX_NAME_BYTES + 1)] {
        let mut p = alice(false);
        p.name = name.into();
        let err = vault.add_principal(&admin(), p).await.err().unwrap();
        assert!(matches!(err, PrincipalError::InvalidName), "{name:?}");
    }
    let mut p = alice(false);
    p.roles.clear();
    assert!(matches!(
        vault.add_principal(&admin(), p).await,
        Err(PrincipalError::Invalid(_))
    ));
    let mut p = alice(false);
    p.password = Some(Zeroizing::new("short".into()));
    assert!(matches!(
        vault.add_principal(&admin(), p).await,
        Err(PrincipalError::Password(PasswordError::TooShort))
    ));
    assert!(vault.list_principals().await.unwrap().is_empty());
    assert!(events(&vault).await.is_empty());
    vault.add_principal(&admin(), alice(false)).await.unwrap();
    assert!(matches!(
        vault.add_principal(&admin(), alice(false)).await,
        Err(PrincipalError::Exists)
    ));
}

#[tokio::test]
async fn a_password_and_a_fresh_code_give_a_second_factor_session_once() {
    let (_dir, vault) = vault().await;
    let enrolment = vault.add_principal(&admin(), alice(true)).await.unwrap();
    let code = current_code(enrolment.totp.as_ref().unwrap());
    let session = vault
        .login(request("alice", PASSWORD, Some(&code)), "10.0.0.1")
        .await
        .unwrap();
    assert!(session.second_factor);
    assert_eq!(session.principal, "alice");
    let stored = vault
        .catalog
        .find_token(&hash_token(&session.token))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.second_factor && !stored.revoked);
    assert_eq!(
        stored.expires_at.as_deref(),
        Some(session.expires_at.as_str())
    );

    // The same code again is a replay.
    let replay = vault
        .login(request("alice", PASSWORD, Some(&code)), "10.0.0.1")
        .await;
    assert!(matches!(replay, Err(PrincipalError::BadCredentials)));
    let last = events(&vault).await.pop().unwrap();
    assert_eq!(
        (last.event.as_str(), last.outcome, last.reason.as_deref()),
        ("auth.login", Outcome::Denied, Some("bad-credentials"))
    );
}

#[tokio::test]
async fn a_password_alone_gives_a_session_without_second_factor() {
    let (_dir, vault) = vault().await;
    vault.add_principal(&admin(), alice(true)).await.unwrap();
    let session = vault
        .login(request("alice", PASSWORD, None), "10.0.0.1")
        .await
        .unwrap();
    assert!(!session.second_factor);
    let last = events(&vault).await.pop().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.outcome),
        ("alice", Outcome::Success)
    );
}

#[tokio::test]
async fn a_code_for_a_principal_without_totp_is_refused() {
    let (_dir, vault) = vault().await;
    vault.add_principal(&admin(), alice(false)).await.unwrap();
    let r = vault
        .login(request("alice", PASSWORD, Some("123456")), "10.0.0.1")
        .await;
    assert!(matches!(r, Err(PrincipalError::BadCredentials)));
}

#[tokio::test]
async fn unknown_names_and_wrong_passwords_are_the_same_refusal() {
    let (_dir, vault) = vault().await;
    vault.add_principal(&admin(), alice(false)).await.unwrap();
    let wrong = vault
        .login(request("alice", "not the password", None), "10.0.0.1")
        .await
        .err()
        .unwrap();
    let unknown = vault
        .login(request("mallory", PASSWORD, None), "10.0.0.1")
        .await
        .err()
        .unwrap();
    assert!(matches!(wrong, PrincipalError::BadCredentials));
    assert!(matches!(unknown, PrincipalError::BadCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
    let log = events(&vault).await;
    let denied: Vec<_> = log
        .iter()
        .filter(|e| e.outcome == Outcome::Denied)
        .collect();
    assert_eq!(denied.len(), 2);
    assert_eq!(denied[0].actor, "alice");
    assert_eq!(denied[1].actor, "anonymous");
    assert!(
        denied[1].objects.is_empty(),
        "an unknown name is not logged"
    );
}

#[tokio::test]
async fn the_sixth_failed_login_is_rate_limited_even_with_the_right_password() {
    let (_dir, vault) = vault().await;
    vault.add_principal(&admin(), alice(false)).await.unwrap();
    for _ in 0..5 {
        let r = vault
            .login(request("alice", "not the password", None), "10.0.0.1")
            .await;
        assert!(matches!(r, Err(PrincipalError::BadCredentials)));
    }
    let r = vault
        .login(request("alice", PASSWORD, None), "10.0.0.2")
        .await;
    let Err(PrincipalError::RateLimited { retry_after_secs }) = r else {
        panic!("expected a rate limit");
    };
    assert!((1..=900).contains(&retry_after_secs));
    let last = events(&vault).await.pop().unwrap();
    assert_eq!(last.reason.as_deref(), Some("rate-limited"));
    // Another name from the same origin is not limited.
    let r = vault
        .login(request("bob", PASSWORD, None), "10.0.0.1")
        .await;
    assert!(matches!(r, Err(PrincipalError::BadCredentials)));
}

#[tokio::test]
async fn a_revoked_principal_cannot_log_in_and_its_tokens_are_revoked() {
    let (_dir, vault) = vault().await;
    let token = vault
        .add_principal(&admin(), alice(false))
        .await
        .unwrap()
        .token
        .unwrap();
    let session = vault
        .login(request("alice", PASSWORD, None), "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(vault.revoke_principal(&admin(), "alice").await.unwrap(), 2);
    for t in [&token.secret, &session.token] {
        let rec = vault.catalog.find_token(&hash_token(t)).await.unwrap();
        assert!(rec.unwrap().revoked);
    }
    let r = vault
        .login(request("alice", PASSWORD, None), "10.0.0.1")
        .await;
    assert!(matches!(r, Err(PrincipalError::BadCredentials)));
    let summary = &vault.list_principals().await.unwrap()[0];
    assert!(summary.disabled);
    assert_eq!(summary.live_tokens, 0);
    assert!(matches!(
        vault.revoke_principal(&admin(), "nobody").await,
        Err(PrincipalError::NotFound)
    ));
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let (_dir, vault) = vault().await;
    vault.add_principal(&admin(), alice(false)).await.unwrap();
    let session = vault
        .login(request("alice", PASSWORD, None), "10.0.0.1")
        .await
        .unwrap();
    let who = Principal {
        name: "alice".into(),
        roles: vec![Role::Compliance],
        agents: Vec::new(),
        second_factor: false,
    };
    let hash = hash_token(&session.token);
    vault.logout(&who, &hash, "10.0.0.1").await.unwrap();
    let rec = vault.catalog.find_token(&hash).await.unwrap().unwrap();
    assert!(rec.revoked);
    assert_eq!(events(&vault).await.pop().unwrap().event, "auth.logout");
}
