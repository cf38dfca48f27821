//! [`AuditStore`] for SQLite.

use std::time::Duration;

use async_trait::async_trait;

use super::{clamp_i64, to_u64, SqliteCatalog};
use crate::catalog::{AuditStore, CatalogError};

/// Attempts at an audit append before giving up on contention.
const APPEND_ATTEMPTS: u32 = 64;

impl SqliteCatalog {
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
impl AuditStore for SqliteCatalog {
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
