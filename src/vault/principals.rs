//! Principals and their credentials as vault operations: add, list, revoke, set a
//! password, enrol TOTP, issue API tokens; and (in `session`) log in and out.
//!
//! Every change of a credential is an audit entry (PCI DSS 10.2), appended after the change
//! is stored; an append failure fails the operation. Secrets are returned once to the
//! caller in zeroizing strings and stored only as hashes (tokens, passwords) or wrapped
//! under the key ring (TOTP secrets, key id `totp:<name>`).

mod session;
mod types;

pub use session::{LoginRequest, Session, SESSION_TTL_SECS};
pub use types::{Actor, Enrolment, IssuedToken, NewPrincipal, PrincipalSummary, TotpEnrolment};

use zeroize::Zeroizing;

use super::Vault;
use crate::access::{hash_password, new_token, PasswordError, TotpError, TotpSecret};
use crate::audit::{now_rfc3339, AuditError, Outcome};
use crate::catalog::{CatalogError, PrincipalRecord, TokenRecord};
use crate::seal::{DataKey, WrappedKey};

/// Longest principal name, bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Prefix of the key-ring id a principal's TOTP secret is wrapped under.
const TOTP_KEY_PREFIX: &str = "totp:";

/// What a principal operation can fail with. Texts never carry secrets or names.
#[derive(Debug, thiserror::Error)]
pub enum PrincipalError {
    /// The name is empty, too long, or has characters other than letters, digits, `.`,
    /// `_`, `-` and `@`.
    #[error("a principal name has 1 to {MAX_NAME_BYTES} letters, digits, '.', '_', '-' or '@'")]
    InvalidName,
    /// The request is malformed (e.g. no role).
    #[error("{0}")]
    Invalid(&'static str),
    /// The password does not meet the policy.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// A principal with this name exists.
    #[error("a principal with this name exists")]
    Exists,
    /// No principal with this name.
    #[error("no such principal")]
    NotFound,
    /// The name, password or TOTP code is wrong (which one is not said).
    #[error("the name, password or one-time code is wrong")]
    BadCredentials,
    /// Too many failed logins for this name or from this origin.
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until an attempt may succeed the limit.
        retry_after_secs: u64,
    },
    /// A stored TOTP secret could not be unwrapped or used.
    #[error("a stored credential cannot be read")]
    Keys,
    /// The catalog failed.
    #[error("catalog unavailable")]
    Catalog(#[from] CatalogError),
    /// The audit log could not be written, so the operation fails closed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<TotpError> for PrincipalError {
    fn from(_: TotpError) -> Self {
        PrincipalError::Keys
    }
}

/// Checks a principal name (see [`PrincipalError::InvalidName`]).
pub fn check_name(name: &str) -> Result<(), PrincipalError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if name.is_empty() || name.len() > MAX_NAME_BYTES || !name.chars().all(ok_char) {
        return Err(PrincipalError::InvalidName);
    }
    Ok(())
}

impl Vault {
    /// Creates a principal with the requested credentials; audited as `principal.add`,
    /// then `principal.password.set`, `principal.totp.enroll`, `token.issue`.
    ///
    /// # Errors
    /// [`PrincipalError::Exists`] for a taken name; the policy errors before anything is
    /// stored.
    pub async fn add_principal(
        &self,
        actor: &Actor,
        new: NewPrincipal,
    ) -> Result<Enrolment, PrincipalError> {
        check_name(&new.name)?;
        if new.roles.is_empty() {
            return Err(PrincipalError::Invalid(
                "a principal needs at least one role",
            ));
        }
        let phc = match &new.password {
            Some(p) => Some(hash_blocking(p.clone()).await?),
            None => None,
        };
        if self.catalog.get_principal(&new.name).await?.is_some() {
            return Err(PrincipalError::Exists);
        }
        let attrs = if new.agents.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::json!({ "agents": new.agents })
        };
        self.catalog
            .upsert_principal(&PrincipalRecord {
                name: new.name.clone(),
                roles: new.roles.iter().map(|r| r.as_str().to_string()).collect(),
                attrs_json: attrs.to_string(),
                created_at: now_rfc3339(),
                disabled: false,
            })
            .await?;
        let object = principal_object(&new.name);
        let entry = actor.entry("principal.add", Outcome::Success, &object);
        self.audit.append(&entry).await?;
        if let Some(phc) = phc {
            self.store_password(actor, &new.name, &phc).await?;
        }
        let totp = match new.totp {
            true => Some(self.enrol_totp(actor, &new.name).await?),
            false => None,
        };
        let token = match new.token_ttl_secs {
            Some(ttl) => Some(self.issue_token(actor, &new.name, Some(ttl)).await?),
            None => None,
        };
        Ok(Enrolment { totp, token })
    }

    /// Sets the password of `name` (after the policy check); audited as
    /// `principal.password.set`.
    pub async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password: Zeroizing<String>,
    ) -> Result<(), PrincipalError> {
        let phc = hash_blocking(password).await?;
        self.require(name).await?;
        self.store_password(actor, name, &phc).await
    }

    async fn store_password(
        &self,
        actor: &Actor,
        name: &str,
        phc: &str,
    ) -> Result<(), PrincipalError> {
        self.catalog.set_password_hash(name, Some(phc)).await?;
        let entry = actor.entry(
            "principal.password.set",
            Outcome::Success,
            &principal_object(name),
        );
        self.audit.append(&entry).await?;
        Ok(())
    }

    /// Enrols a new TOTP secret for `name`, replacing any earlier one; audited as
    /// `principal.totp.enroll`. The secret is stored wrapped and returned once.
    pub async fn enrol_totp(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<TotpEnrolment, PrincipalError> {
        self.require(name).await?;
        let secret = TotpSecret::generate();
        let key = DataKey::from_bytes(secret.expose()).map_err(|_| PrincipalError::Keys)?;
        let wrapped = self.keys.wrap(&totp_key_id(name), &key);
        let json = serde_json::to_string(&wrapped).expect("wrapped keys serialise");
        self.catalog.set_totp(name, Some(&json)).await?;
        let entry = actor.entry(
            "principal.totp.enroll",
            Outcome::Success,
            &principal_object(name),
        );
        self.audit.append(&entry).await?;
        Ok(TotpEnrolment {
            base32: secret.base32(),
            otpauth_uri: secret.otpauth_uri(name)?,
        })
    }

    /// The TOTP secret of `name`, unwrapped, if one is enrolled.
    pub(crate) fn unwrap_totp(
        &self,
        name: &str,
        wrapped_json: &str,
    ) -> Result<TotpSecret, PrincipalError> {
        let wrapped: WrappedKey =
            serde_json::from_str(wrapped_json).map_err(|_| PrincipalError::Keys)?;
        let key = self
            .keys
            .unwrap(&totp_key_id(name), &wrapped)
            .map_err(|_| PrincipalError::Keys)?;
        Ok(TotpSecret::from_bytes(key.expose())?)
    }

    /// Issues an API token for `name`, valid for `ttl_secs` seconds (forever with `None`),
    /// without the second factor; audited as `token.issue`.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        name: &str,
        ttl_secs: Option<i64>,
    ) -> Result<IssuedToken, PrincipalError> {
        if ttl_secs.is_some_and(|t| t <= 0) {
            return Err(PrincipalError::Invalid(
                "a token's lifetime must be positive",
            ));
        }
        self.require(name).await?;
        let expires_at = ttl_secs.map(|t| rfc3339_at(unix_now().saturating_add(t)));
        let token = self.insert_token(name, expires_at.clone(), false).await?;
        let entry = actor.entry("token.issue", Outcome::Success, &principal_object(name));
        self.audit.append(&entry).await?;
        Ok(IssuedToken {
            secret: token,
            expires_at,
        })
    }

    async fn insert_token(
        &self,
        name: &str,
        expires_at: Option<String>,
        second_factor: bool,
    ) -> Result<Zeroizing<String>, PrincipalError> {
        let token = new_token();
        self.catalog
            .insert_token(&TokenRecord {
                token_hash: token.hash.to_vec(),
                principal: name.into(),
                created_at: now_rfc3339(),
                expires_at,
                revoked: false,
                second_factor,
            })
            .await?;
        Ok(token.secret)
    }

    /// Disables `name` and revokes all its tokens at once; returns how many tokens were
    /// still unrevoked. Audited as `principal.revoke`.
    pub async fn revoke_principal(&self, actor: &Actor, name: &str) -> Result<u64, PrincipalError> {
        if !self.catalog.set_disabled(name, true).await? {
            return Err(PrincipalError::NotFound);
        }
        let revoked = self.catalog.revoke_tokens_of(name).await?;
        let entry = actor.entry(
            "principal.revoke",
            Outcome::Success,
            &principal_object(name),
        );
        self.audit.append(&entry).await?;
        Ok(revoked)
    }

    /// Registers the age X25519 recipient (`age1…`) that exports to `name` default to.
    /// Audited as `principal.recipient`.
    pub async fn set_recipient(
        &self,
        actor: &Actor,
        name: &str,
        recipient: &str,
    ) -> Result<(), PrincipalError> {
        if recipient.len() > 200 || recipient.parse::<age::x25519::Recipient>().is_err() {
            return Err(PrincipalError::Invalid(
                "the recipient is not an age X25519 recipient (age1…)",
            ));
        }
        if self.catalog.get_principal(name).await?.is_none() {
            return Err(PrincipalError::NotFound);
        }
        self.catalog.set_recipient(name, recipient).await?;
        let entry = actor.entry(
            "principal.recipient",
            Outcome::Success,
            &principal_object(name),
        );
        self.audit.append(&entry).await?;
        Ok(())
    }

    /// Every principal with what credentials it has, ordered by name.
    pub async fn list_principals(&self) -> Result<Vec<PrincipalSummary>, PrincipalError> {
        let mut out = Vec::new();
        for p in self.catalog.list_principals().await? {
            let login = self.catalog.login_record(&p.name).await?;
            let tokens = self.catalog.tokens_of(&p.name).await?;
            let live = tokens
                .iter()
                .filter(|t| !t.revoked && !t.expires_at.as_deref().is_some_and(is_past))
                .count();
            out.push(PrincipalSummary {
                agents: agents_of(&p.attrs_json),
                name: p.name,
                roles: p.roles,
                disabled: p.disabled,
                has_password: login.password_hash.is_some(),
                has_totp: login.totp_wrapped.is_some(),
                live_tokens: live,
            });
        }
        Ok(out)
    }

    async fn require(&self, name: &str) -> Result<PrincipalRecord, PrincipalError> {
        self.catalog
            .get_principal(name)
            .await?
            .ok_or(PrincipalError::NotFound)
    }
}

/// Argon2id off the async runtime.
async fn hash_blocking(password: Zeroizing<String>) -> Result<String, PrincipalError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| PrincipalError::Password(PasswordError::Hash))?
        .map_err(PrincipalError::from)
}

fn totp_key_id(name: &str) -> String {
    format!("{TOTP_KEY_PREFIX}{name}")
}

fn principal_object(name: &str) -> String {
    format!("principal:{name}")
}

fn agents_of(attrs_json: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(attrs_json)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("agents")?.clone()).ok())
        .unwrap_or_default()
}

/// Unix seconds now, from the system clock.
pub(crate) fn unix_now() -> i64 {
    use crate::access::clock::{Clock, SystemClock};
    SystemClock.now()
}

pub(crate) fn rfc3339_at(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formatting a UTC time cannot fail")
}

fn is_past(rfc3339: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(rfc3339, &Rfc3339)
        .map_or(true, |t| t <= time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests;
