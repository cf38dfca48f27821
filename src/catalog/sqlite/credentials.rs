//! [`CredentialStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{clamp_i64, to_u64, SqliteCatalog};
use crate::catalog::{
    CatalogError, CredentialStore, FailureWindow, LoginRecord, PrincipalRecord, TokenRecord,
};

const TOKEN_COLUMNS: &str = "token_hash, principal, created_at, expires_at, revoked, second_factor";

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
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn revoke_token(&self, token_hash: &[u8]) -> Result<bool, CatalogError> {
        let done = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_tokens_of(&self, principal: &str) -> Result<u64, CatalogError> {
        let done =
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE principal = $1 AND revoked = 0")
                .bind(principal)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn tokens_of(&self, principal: &str) -> Result<Vec<TokenRecord>, CatalogError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE principal = $1 ORDER BY created_at"
        );
        let rows = sqlx::query(&sql)
            .bind(principal)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, CatalogError> {
        let done = sqlx::query("UPDATE principals SET disabled = $2 WHERE name = $1")
            .bind(name)
            .bind(disabled)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn login_record(&self, name: &str) -> Result<LoginRecord, CatalogError> {
        let row = sqlx::query(
            "SELECT password_hash, totp_wrapped, totp_last_step \
             FROM principal_logins WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(LoginRecord::default());
        };
        let step: Option<i64> = row.try_get("totp_last_step")?;
        Ok(LoginRecord {
            password_hash: row.try_get("password_hash")?,
            totp_wrapped: row.try_get("totp_wrapped")?,
            totp_last_step: step.map(|s| to_u64(s, "negative TOTP step")).transpose()?,
        })
    }

    async fn set_password_hash(&self, name: &str, phc: Option<&str>) -> Result<(), CatalogError> {
        let query = sqlx::query(
            "INSERT INTO principal_logins (name, password_hash) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
        )
        .bind(name)
        .bind(phc);
        map_unknown_principal(query.execute(&self.pool).await)
    }

    async fn set_totp(&self, name: &str, wrapped_json: Option<&str>) -> Result<(), CatalogError> {
        let query = sqlx::query(
            "INSERT INTO principal_logins (name, totp_wrapped, totp_last_step) \
             VALUES ($1, $2, NULL) \
             ON CONFLICT (name) DO UPDATE SET totp_wrapped = excluded.totp_wrapped, \
             totp_last_step = NULL",
        )
        .bind(name)
        .bind(wrapped_json);
        map_unknown_principal(query.execute(&self.pool).await)
    }

    async fn advance_totp_step(&self, name: &str, step: u64) -> Result<bool, CatalogError> {
        // One conditional UPDATE: of two concurrent logins with the same code, one wins.
        let done = sqlx::query(
            "UPDATE principal_logins SET totp_last_step = $2 \
             WHERE name = $1 AND totp_wrapped IS NOT NULL \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(name)
        .bind(clamp_i64(step))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_login_failure(
        &self,
        name: &str,
        origin: &str,
        at_unix: i64,
    ) -> Result<i64, CatalogError> {
        let id = sqlx::query_scalar(
            "INSERT INTO login_failures (name, origin, at_unix) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(name)
        .bind(origin)
        .bind(at_unix)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn failures_by_name(
        &self,
        name: &str,
        since: i64,
    ) -> Result<FailureWindow, CatalogError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at_unix) AS oldest FROM login_failures \
             WHERE name = $1 AND at_unix >= $2",
        )
        .bind(name)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        window_from_row(&row)
    }

    async fn failures_by_origin(
        &self,
        origin: &str,
        since: i64,
    ) -> Result<FailureWindow, CatalogError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at_unix) AS oldest FROM login_failures \
             WHERE origin = $1 AND at_unix >= $2",
        )
        .bind(origin)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        window_from_row(&row)
    }

    async fn delete_login_failure(&self, id: i64) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, name: &str, origin: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM login_failures WHERE name = $1 AND origin = $2")
            .bind(name)
            .bind(origin)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn prune_login_failures(&self, before: i64) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM login_failures WHERE at_unix < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn map_unknown_principal(
    result: Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
) -> Result<(), CatalogError> {
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
            CatalogError::Conflict("credentials for an unknown principal"),
        ),
        Err(e) => Err(e.into()),
    }
}

fn window_from_row(row: &SqliteRow) -> Result<FailureWindow, CatalogError> {
    let count: i64 = row.try_get("n")?;
    Ok(FailureWindow {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        oldest: row.try_get("oldest")?,
    })
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

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
