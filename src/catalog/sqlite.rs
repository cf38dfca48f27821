//! [`SqliteCatalog`]: the embedded catalog, one SQLite file in WAL mode.
//!
//! Queries use `$N` placeholders and `ON CONFLICT` clauses that PostgreSQL reads the same
//! way, so a server backend can reuse them.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use super::{
    CallRecord, CallSummary, Catalog, CatalogError, InsertOutcome, PrincipalRecord, TokenRecord,
};

/// The schema migrations, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("src/catalog/migrations");

/// How long a query waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in the pool; SQLite runs one writer at a time anyway.
const MAX_CONNECTIONS: u32 = 4;
/// Attempts at an audit append before giving up on contention.
const APPEND_ATTEMPTS: u32 = 64;

const CALL_COLUMNS: &str = "call_id, started_at, agent_id, language, has_audio, duration_s, \
    upload_id, transcript_blob, audio_blob, key_version, wrapped_key, transcript_sha256, \
    audio_sha256, sealed_transcript_sha256, sealed_audio_sha256, receipt_json, created_at";

/// A [`Catalog`] in a SQLite database file (mode 0600), safe to share between tasks.
#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    pool: SqlitePool,
}

impl SqliteCatalog {
    /// Opens the database at `path`, creating it (mode 0600) if absent, and applies any
    /// pending migration. Reopening an up-to-date database changes nothing.
    pub async fn open(path: &Path) -> Result<Self, CatalogError> {
        create_private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn try_append(&self, leaf: &[u8]) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO audit_log (idx, leaf) \
             SELECT COALESCE(MAX(idx) + 1, 0), $1 FROM audit_log RETURNING idx",
        )
        .bind(leaf)
        .fetch_one(&self.pool)
        .await
    }
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn insert_call(&self, rec: &CallRecord) -> Result<InsertOutcome, CatalogError> {
        // A concurrent delete can remove the winning row between our two statements.
        for _ in 0..3 {
            if insert_call_row(&self.pool, rec).await? {
                return Ok(InsertOutcome::Inserted);
            }
            if let Some(existing) = self.get_call(&rec.call_id).await? {
                return Ok(InsertOutcome::Exists(existing));
            }
        }
        Err(CatalogError::Conflict("call record changed concurrently"))
    }

    async fn get_call(&self, call_id: &str) -> Result<Option<CallRecord>, CatalogError> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = $1");
        let row = sqlx::query(&sql)
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(call_from_row).transpose()
    }

    async fn list_calls(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CallSummary>, CatalogError> {
        const COLUMNS: &str = "call_id, started_at, agent_id, has_audio, duration_s";
        let rows = match after {
            Some(after) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM calls WHERE call_id > $1 ORDER BY call_id LIMIT $2"
                );
                let query = sqlx::query(&sql).bind(after).bind(i64::from(limit));
                query.fetch_all(&self.pool).await?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM calls ORDER BY call_id LIMIT $1");
                let query = sqlx::query(&sql).bind(i64::from(limit));
                query.fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(summary_from_row).collect()
    }

    async fn set_receipt(&self, call_id: &str, receipt_json: &str) -> Result<(), CatalogError> {
        sqlx::query("UPDATE calls SET receipt_json = $1 WHERE call_id = $2")
            .bind(receipt_json)
            .bind(call_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_call(&self, call_id: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM calls WHERE call_id = $1")
            .bind(call_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn append_audit(&self, leaf: &[u8]) -> Result<u64, CatalogError> {
        // SQLite serialises writers, so the first attempt normally wins; the loop covers
        // databases (and lock states) where two appenders can pick the same index.
        for attempt in 0..APPEND_ATTEMPTS {
            match self.try_append(leaf).await {
                Ok(idx) => return to_u64(idx, "negative audit index"),
                Err(e) if is_contention(&e) => {
                    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CatalogError::Conflict("audit append kept colliding"))
    }

    async fn audit_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, CatalogError> {
        let (start, end) = (clamp_i64(start), clamp_i64(end));
        let leaves = sqlx::query_scalar(
            "SELECT leaf FROM audit_log WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        Ok(leaves)
    }

    async fn audit_size(&self) -> Result<u64, CatalogError> {
        let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        to_u64(size, "negative audit size")
    }

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

    async fn get_setting(&self, key: &str) -> Result<Option<String>, CatalogError> {
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Inserts the row unless its call id exists; true if inserted.
async fn insert_call_row(pool: &SqlitePool, rec: &CallRecord) -> Result<bool, CatalogError> {
    let sql = format!(
        "INSERT INTO calls ({CALL_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (call_id) DO NOTHING"
    );
    let done = sqlx::query(&sql)
        .bind(&rec.call_id)
        .bind(&rec.started_at)
        .bind(&rec.agent_id)
        .bind(&rec.language)
        .bind(rec.has_audio)
        .bind(rec.duration_s)
        .bind(&rec.upload_id)
        .bind(&rec.transcript_blob)
        .bind(&rec.audio_blob)
        .bind(i64::from(rec.key_version))
        .bind(&rec.wrapped_key)
        .bind(&rec.transcript_sha256)
        .bind(&rec.audio_sha256)
        .bind(&rec.sealed_transcript_sha256)
        .bind(&rec.sealed_audio_sha256)
        .bind(&rec.receipt_json)
        .bind(&rec.created_at)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

fn call_from_row(row: &SqliteRow) -> Result<CallRecord, CatalogError> {
    let key_version: i64 = row.try_get("key_version")?;
    Ok(CallRecord {
        call_id: row.try_get("call_id")?,
        started_at: row.try_get("started_at")?,
        agent_id: row.try_get("agent_id")?,
        language: row.try_get("language")?,
        has_audio: row.try_get("has_audio")?,
        duration_s: row.try_get("duration_s")?,
        upload_id: row.try_get("upload_id")?,
        transcript_blob: row.try_get("transcript_blob")?,
        audio_blob: row.try_get("audio_blob")?,
        key_version: u32::try_from(key_version)
            .map_err(|_| CatalogError::Corrupt("key version out of range"))?,
        wrapped_key: row.try_get("wrapped_key")?,
        transcript_sha256: row.try_get("transcript_sha256")?,
        audio_sha256: row.try_get("audio_sha256")?,
        sealed_transcript_sha256: row.try_get("sealed_transcript_sha256")?,
        sealed_audio_sha256: row.try_get("sealed_audio_sha256")?,
        receipt_json: row.try_get("receipt_json")?,
        created_at: row.try_get("created_at")?,
    })
}

fn summary_from_row(row: &SqliteRow) -> Result<CallSummary, CatalogError> {
    Ok(CallSummary {
        call_id: row.try_get("call_id")?,
        started_at: row.try_get("started_at")?,
        agent_id: row.try_get("agent_id")?,
        has_audio: row.try_get("has_audio")?,
        duration_s: row.try_get("duration_s")?,
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

/// Whether a failed append may succeed when retried: another appender took the index, or
/// the database was locked past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED families).
fn is_contention(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else {
        return false;
    };
    let primary = e
        .code()
        .and_then(|c| c.parse::<i32>().ok())
        .map(|c| c & 0xff);
    e.is_unique_violation() || matches!(primary, Some(5 | 6))
}

fn to_u64(value: i64, what: &'static str) -> Result<u64, CatalogError> {
    u64::try_from(value).map_err(|_| CatalogError::Corrupt(what))
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Creates the database file with mode 0600 if absent, and tightens an existing one.
fn create_private_file(path: &Path) -> Result<(), CatalogError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(test)]
mod tests;
