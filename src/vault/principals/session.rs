//! Logging in with a password (and a TOTP code) for a session token, and logging out.
//!
//! Every attempt is recorded as a failure before any check, and forgotten only when it
//! succeeds; attempts over the [`RateLimit`] are refused before Argon2id runs. An unknown
//! name, a disabled principal and a principal without a password all cost one Argon2id
//! verification against a dummy hash, and all answer [`PrincipalError::BadCredentials`].

use zeroize::Zeroizing;

use super::{check_name, principal_object, rfc3339_at, unix_now, PrincipalError};
use crate::access::totp::step_of;
use crate::access::{hash_token, verify_password, FailureCounts, Principal, RateLimit};
use crate::audit::{AuditEntry, Outcome};
use crate::catalog::{LoginRecord, PrincipalRecord};
use crate::vault::Vault;

/// How long a session token lives: 8 hours.
pub const SESSION_TTL_SECS: i64 = 8 * 60 * 60;

/// A login attempt. Not `Debug`: it holds the password.
pub struct LoginRequest {
    /// Principal name as typed.
    pub name: String,
    /// The password.
    pub password: Zeroizing<String>,
    /// The current TOTP code, if the caller wants a second-factor session.
    pub totp: Option<Zeroizing<String>>,
}

/// A session, shown once to the caller.
pub struct Session {
    /// The principal logged in.
    pub principal: String,
    /// The bearer token (`cvt_…`).
    pub token: Zeroizing<String>,
    /// When the token stops working (RFC 3339).
    pub expires_at: String,
    /// Whether a valid TOTP code was given.
    pub second_factor: bool,
}

/// Reasons in `auth.login` audit entries.
const BAD_CREDENTIALS: &str = "bad-credentials";
const RATE_LIMITED: &str = "rate-limited";

impl Vault {
    /// Checks the credentials and issues a session token valid for [`SESSION_TTL_SECS`];
    /// `second_factor` is true only when a valid, unused TOTP code was given. Audited as
    /// `auth.login`: success, or denied with reason `bad-credentials` or `rate-limited`.
    ///
    /// # Errors
    /// [`PrincipalError::InvalidName`] for a malformed name (not counted, not audited);
    /// [`PrincipalError::RateLimited`]; [`PrincipalError::BadCredentials`] for anything
    /// wrong with name, password or code — including a code given for a principal without
    /// TOTP.
    pub async fn login(&self, req: LoginRequest, origin: &str) -> Result<Session, PrincipalError> {
        check_name(&req.name)?;
        let limit = RateLimit::default();
        let now = unix_now();
        let since = limit.window_start(now);
        let catalog = &self.catalog;
        catalog.prune_login_failures(since).await?;
        let attempt = catalog.record_login_failure(&req.name, origin, now).await?;
        let by_name = catalog.failures_by_name(&req.name, since).await?;
        let by_origin = catalog.failures_by_origin(origin, since).await?;
        let counts = FailureCounts {
            by_name: by_name.count,
            oldest_by_name: by_name.oldest,
            by_origin: by_origin.count,
            oldest_by_origin: by_origin.oldest,
        };
        let known = catalog.get_principal(&req.name).await?;
        if let Some(retry_after_secs) = limit.retry_after(&counts, now) {
            // The refused attempt does not count, so the limit lifts as the window slides.
            catalog.delete_login_failure(attempt).await?;
            self.audit_login(&req.name, known.as_ref(), origin, Some(RATE_LIMITED))
                .await?;
            return Err(PrincipalError::RateLimited { retry_after_secs });
        }
        let record = match known.as_ref().filter(|p| !p.disabled) {
            Some(p) => catalog.login_record(&p.name).await?,
            None => LoginRecord::default(),
        };
        let stored = record.password_hash.clone();
        let password = req.password;
        let password_ok =
            tokio::task::spawn_blocking(move || verify_password(stored.as_deref(), &password))
                .await
                .unwrap_or(false);
        let second_factor = match (password_ok, &req.totp) {
            (false, _) => None,
            (true, None) => Some(false),
            (true, Some(code)) => self
                .check_totp(&req.name, &record, code, now)
                .await?
                .then_some(true),
        };
        let (Some(second_factor), Some(principal)) = (second_factor, known.as_ref()) else {
            self.audit_login(&req.name, known.as_ref(), origin, Some(BAD_CREDENTIALS))
                .await?;
            return Err(PrincipalError::BadCredentials);
        };
        catalog.clear_login_failures(&req.name, origin).await?;
        let expires_at = rfc3339_at(now.saturating_add(SESSION_TTL_SECS));
        let token = self
            .insert_token(&principal.name, Some(expires_at.clone()), second_factor)
            .await?;
        if let Err(e) = self
            .audit_login(&req.name, Some(principal), origin, None)
            .await
        {
            // Fail closed: an unaudited session must not work.
            let _ = catalog.revoke_token(&hash_token(&token)).await;
            return Err(e);
        }
        Ok(Session {
            principal: principal.name.clone(),
            token,
            expires_at,
            second_factor,
        })
    }

    /// Whether `code` is a fresh TOTP code of the principal; records its step if so.
    async fn check_totp(
        &self,
        name: &str,
        record: &LoginRecord,
        code: &str,
        now: i64,
    ) -> Result<bool, PrincipalError> {
        let Some(wrapped) = record.totp_wrapped.as_deref() else {
            return Ok(false);
        };
        let secret = self.unwrap_totp(name, wrapped)?;
        let now = u64::try_from(now).unwrap_or(0);
        let Some(step) = secret.verify(code, now, record.totp_last_step) else {
            return Ok(false);
        };
        debug_assert!(step.abs_diff(step_of(now)) <= 1);
        // Two logins racing with one code: the catalog lets only one advance the step.
        Ok(self.catalog.advance_totp_step(name, step).await?)
    }

    /// Appends an `auth.login` entry: success without a reason, denied with one. The
    /// actor is the principal when the name is known; an unknown name is not recorded
    /// (it is often a password typed into the wrong field).
    async fn audit_login(
        &self,
        name: &str,
        known: Option<&PrincipalRecord>,
        origin: &str,
        reason: Option<&str>,
    ) -> Result<(), PrincipalError> {
        let outcome = match reason {
            None => Outcome::Success,
            Some(_) => Outcome::Denied,
        };
        let mut entry = AuditEntry::new(None, "auth.login", outcome, origin);
        if let Some(p) = known {
            entry.actor = p.name.clone();
            entry.roles = p.roles.clone();
            entry = entry.object(principal_object(name));
        }
        if let Some(r) = reason {
            entry = entry.reason(r);
        }
        self.audit.append(&entry).await?;
        Ok(())
    }

    /// Revokes the session (or API token) with `token_hash`, the one `who` called with;
    /// audited as `auth.logout`.
    pub async fn logout(
        &self,
        who: &Principal,
        token_hash: &[u8; 32],
        origin: &str,
    ) -> Result<(), PrincipalError> {
        self.catalog.revoke_token(token_hash).await?;
        let entry = AuditEntry::new(Some(who), "auth.logout", Outcome::Success, origin)
            .object(principal_object(&who.name));
        self.audit.append(&entry).await?;
        Ok(())
    }
}
