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

use super::{CallRecord, CallSummary, Catalog, CatalogError, InsertOutcome};

mod access;
mod audit;
mod credentials;
mod exports;

/// The schema migrations, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("src/catalog/migrations");

/// How long a query waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in the pool; SQLite runs one writer at a time anyway.
const MAX_CONNECTIONS: u32 = 4;

const CALL_COLUMNS: &str = "call_id, started_at, agent_id, language, has_audio, duration_s, \
    upload_id, transcript_blob, audio_blob, key_version, wrapped_key, transcript_sha256, \
    audio_sha256, sealed_transcript_sha256, sealed_audio_sha256, receipt_json, created_at";

/// A [`Catalog`] in a SQLite database file (mode 0600), safe to share between tasks.
#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    pub(super) pool: SqlitePool,
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

pub(super) fn to_u64(value: i64, what: &'static str) -> Result<u64, CatalogError> {
    u64::try_from(value).map_err(|_| CatalogError::Corrupt(what))
}

pub(super) fn clamp_i64(value: u64) -> i64 {
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
