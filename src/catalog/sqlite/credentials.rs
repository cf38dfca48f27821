//! [`CredentialStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::SqliteCatalog;
use crate::catalog::{CatalogError, CredentialStore, PrincipalRecord, TokenRecord};

#[async_trait]
impl CredentialStore for SqliteCatalog {
    async fn upsert_principal(&self, p: &PrincipalRecord) -> Result<(), CatalogError> {
        let roles = serde_json::Value::from(p.roles.clone()).to_string();
        sqlx::query(
            "INSERT INTO principals (name, roles_json, attrs_json, created_at, disabled) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET roles_json = excluded.roles_json, \
             attrs_json = excluded.attrs_json, disabled = excluded.disabled",
        )
        .bind(&p.name)
        .bind(roles)
        .bind(&p.attrs_json)
        .bind(&p.created_at)
        .bind(p.disabled)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_principal(&self, name: &str) -> Result<Option<PrincipalRecord>, CatalogError> {
        let row = sqlx::query(
            "SELECT name, roles_json, attrs_json, created_at, disabled \
             FROM principals WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(principal_from_row).transpose()
    }

    async fn list_principals(&self) -> Result<Vec<PrincipalRecord>, CatalogError> {
        let rows = sqlx::query(
            "SELECT name, roles_json, attrs_json, created_at, disabled \
             FROM principals ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(principal_from_row).collect()
    }

    async fn insert_token(&self, t: &TokenRecord) -> Result<(), CatalogError> {
        let result = sqlx::query(
            "INSERT INTO api_tokens \
             (token_hash, principal, created_at, expires_at, revoked, second_factor) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.token_hash)
        .bind(&t.principal)
        .bind(&t.created_at)
        .bind(&t.expires_at)
        .bind(t.revoked)
        .bind(t.second_factor)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CatalogError::Conflict("token already exists"))
            }
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(CatalogError::Conflict("token for an unknown principal"))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn find_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>, CatalogError> {
        let row = sqlx::query(
            "SELECT token_hash, principal, created_at, expires_at, revoked, second_factor \
             FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }
}

fn principal_from_row(row: &SqliteRow) -> Result<PrincipalRecord, CatalogError> {
    let roles: String = row.try_get("roles_json")?;
    Ok(PrincipalRecord {
        name: row.try_get("name")?,
        roles: serde_json::from_str(&roles)
            .map_err(|_| CatalogError::Corrupt("principal roles are not a JSON string list"))?,
        attrs_json: row.try_get("attrs_json")?,
        created_at: row.try_get("created_at")?,
        disabled: row.try_get("disabled")?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<TokenRecord, CatalogError> {
    Ok(TokenRecord {
        token_hash: row.try_get("token_hash")?,
        principal: row.try_get("principal")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked: row.try_get("revoked")?,
        second_factor: row.try_get("second_factor")?,
    })
}
