//! Principals and their credentials: API tokens and sessions (stored as hashes only),
//! password hashes, wrapped TOTP secrets, and the failed-login records of the rate limit.

use async_trait::async_trait;

use super::CatalogError;

/// A user or service known to the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// Unique name of the principal.
    pub name: String,
    /// Role names, in order (stored as a JSON array).
    pub roles: Vec<String>,
    /// Attributes for authorization, as a JSON object text.
    pub attrs_json: String,
    /// When the principal was created (ISO 8601 text).
    pub created_at: String,
    /// Whether the principal is barred from signing in.
    pub disabled: bool,
}

/// An API token, known to the catalog only by its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Hash of the token; the token itself is never stored.
    pub token_hash: Vec<u8>,
    /// Name of the principal the token acts for.
    pub principal: String,
    /// When the token was issued (ISO 8601 text).
    pub created_at: String,
    /// When the token stops working (ISO 8601 text), if ever.
    pub expires_at: Option<String>,
    /// Whether the token was revoked.
    pub revoked: bool,
    /// Whether the token was issued after a second authentication factor.
    pub second_factor: bool,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is left out: it identifies a live credential.
        f.debug_struct("TokenRecord")
            .field("principal", &self.principal)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("revoked", &self.revoked)
            .field("second_factor", &self.second_factor)
            .finish_non_exhaustive()
    }
}

/// How a principal logs in, in stored forms only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LoginRecord {
    /// Argon2id PHC string, if a password is set.
    pub password_hash: Option<String>,
    /// The TOTP secret wrapped under the key ring (JSON of a `WrappedKey`), if enrolled.
    pub totp_wrapped: Option<String>,
    /// The last TOTP time step accepted; later codes must belong to a later step.
    pub totp_last_step: Option<u64>,
}

impl std::fmt::Debug for LoginRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only whether each credential exists: even hashes and wrapped secrets stay out of
        // logs.
        f.debug_struct("LoginRecord")
            .field("has_password", &self.password_hash.is_some())
            .field("has_totp", &self.totp_wrapped.is_some())
            .field("totp_last_step", &self.totp_last_step)
            .finish()
    }
}

/// Failed logins counted in a window: how many, and when the oldest happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureWindow {
    /// Failures since the window start.
    pub count: u32,
    /// Unix seconds of the oldest of them.
    pub oldest: Option<i64>,
}

/// Storage of principals and credentials.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Creates the principal, or updates everything but `created_at` if it exists.
    async fn upsert_principal(&self, p: &PrincipalRecord) -> Result<(), CatalogError>;

    /// The principal named `name`, if any.
    async fn get_principal(&self, name: &str) -> Result<Option<PrincipalRecord>, CatalogError>;

    /// All principals, ordered by name.
    async fn list_principals(&self) -> Result<Vec<PrincipalRecord>, CatalogError>;

    /// Stores a token. [`CatalogError::Conflict`] if the hash exists or the principal does
    /// not.
    async fn insert_token(&self, t: &TokenRecord) -> Result<(), CatalogError>;

    /// The token with this hash, if any (revoked and expired ones included).
    async fn find_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>, CatalogError>;

    /// Marks the token with this hash revoked; false if there is no such token.
    async fn revoke_token(&self, token_hash: &[u8]) -> Result<bool, CatalogError>;

    /// Revokes every token of `principal`; returns how many were live before.
    async fn revoke_tokens_of(&self, principal: &str) -> Result<u64, CatalogError>;

    /// Every token of `principal` (revoked and expired ones included), oldest first.
    async fn tokens_of(&self, principal: &str) -> Result<Vec<TokenRecord>, CatalogError>;

    /// Sets whether `name` is barred from signing in; false if there is no such principal.
    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, CatalogError>;

    /// The login credentials of `name`; the default (nothing set) if none were ever set.
    async fn login_record(&self, name: &str) -> Result<LoginRecord, CatalogError>;

    /// Sets (or with `None` removes) the password hash of `name`.
    /// [`CatalogError::Conflict`] if the principal does not exist.
    async fn set_password_hash(&self, name: &str, phc: Option<&str>) -> Result<(), CatalogError>;

    /// Sets (or with `None` removes) the wrapped TOTP secret of `name`, forgetting the last
    /// accepted step. [`CatalogError::Conflict`] if the principal does not exist.
    async fn set_totp(&self, name: &str, wrapped_json: Option<&str>) -> Result<(), CatalogError>;

    /// Records `step` as the last accepted TOTP step of `name` if it is later than the
    /// stored one; false (a replay) otherwise. Atomic across connections and processes.
    async fn advance_totp_step(&self, name: &str, step: u64) -> Result<bool, CatalogError>;

    /// Records a login attempt as a failure until it succeeds; returns the record's id.
    async fn record_login_failure(
        &self,
        name: &str,
        origin: &str,
        at_unix: i64,
    ) -> Result<i64, CatalogError>;

    /// Failures recorded for `name` at or after `since` (unix seconds).
    async fn failures_by_name(&self, name: &str, since: i64)
        -> Result<FailureWindow, CatalogError>;

    /// Failures recorded from `origin` at or after `since` (unix seconds).
    async fn failures_by_origin(
        &self,
        origin: &str,
        since: i64,
    ) -> Result<FailureWindow, CatalogError>;

    /// Forgets one failure record (an attempt refused by the rate limit itself).
    async fn delete_login_failure(&self, id: i64) -> Result<(), CatalogError>;

    /// Forgets the failures of `name` from `origin` (after a successful login there).
    async fn clear_login_failures(&self, name: &str, origin: &str) -> Result<(), CatalogError>;

    /// Forgets failures older than `before` (unix seconds).
    async fn prune_login_failures(&self, before: i64) -> Result<(), CatalogError>;
}
