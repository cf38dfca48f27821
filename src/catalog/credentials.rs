//! Principals and their credentials: API tokens (stored as hashes only).

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
}
