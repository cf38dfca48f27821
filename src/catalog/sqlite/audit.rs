//! [`AuditStore`] for SQLite.
//!
//! An append is one `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock first, so
//! the tip it reads cannot move under it, even with other processes appending to the same
//! file. PostgreSQL will do the same with `SELECT ... FOR UPDATE` on the state row.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{clamp_i64, to_u64, SqliteCatalog};
use crate::catalog::{
    AuditRecord, AuditRow, AuditState, AuditStore, AuditTip, BatchSeal, CatalogError, Sealer,
    StoredCheckpoint,
};

/// Attempts at an audit append before giving up on lock contention.
const APPEND_ATTEMPTS: u32 = 16;
/// Rows per multi-row INSERT (three bound values each, far below SQLite's limit).
const ROWS_PER_INSERT: usize = 256;

impl SqliteCatalog {
    async fn try_append(
        &self,
        records: &[AuditRecord],
        seal: Sealer<'_>,
    ) -> Result<u64, CatalogError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let tip = read_tip(&mut tx).await?;
        let sealed = seal(&tip, records)?;
        if sealed.macs.len() != records.len() {
            return Err(CatalogError::Corrupt("one MAC per audit record"));
        }
        write_batch(&mut tx, tip.leaf_count, records, &sealed).await?;
        tx.commit().await?;
        Ok(tip.leaf_count)
    }
}

async fn read_tip(conn: &mut SqliteConnection) -> Result<AuditTip, CatalogError> {
    let count: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?;
    let leaf_count = to_u64(count, "negative audit size")?;
    let state = sqlx::query("SELECT size, frontier, note FROM audit_state WHERE id = 0")
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| state_from_row(&r))
        .transpose()?;
    let last_history = sqlx::query(
        "SELECT size, note, created_ms FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| checkpoint_from_row(&r))
    .transpose()?;
    let unadopted = if state.is_none() && leaf_count > 0 {
        sqlx::query("SELECT idx, leaf, mac FROM audit_log ORDER BY idx")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(row_from_row)
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok(AuditTip {
        leaf_count,
        state,
        last_history,
        unadopted,
    })
}

async fn write_batch(
    conn: &mut SqliteConnection,
    first: u64,
    records: &[AuditRecord],
    sealed: &BatchSeal,
) -> Result<(), CatalogError> {
    let first = clamp_i64(first);
    let rows: Vec<(i64, &AuditRecord, &Vec<u8>)> = records
        .iter()
        .zip(&sealed.macs)
        .enumerate()
        .map(|(i, (r, m))| (first + i as i64, r, m))
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO audit_log (idx, leaf, mac) ");
        q.push_values(chunk, |mut b, (idx, rec, mac)| {
            b.push_bind(*idx)
                .push_bind(rec.leaf.as_slice())
                .push_bind(mac.as_slice());
        });
        q.build().execute(&mut *conn).await?;
    }
    let objects: Vec<(i64, &str)> = rows
        .iter()
        .flat_map(|(idx, rec, _)| rec.objects.iter().map(|o| (*idx, o.as_str())))
        .collect();
    for chunk in objects.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO audit_objects (object, idx) ");
        q.push_values(chunk, |mut b, (idx, object)| {
            b.push_bind(*object).push_bind(*idx);
        });
        q.push(" ON CONFLICT (object, idx) DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    for (idx, mac) in &sealed.adopted_macs {
        sqlx::query("UPDATE audit_log SET mac = $1 WHERE idx = $2")
            .bind(mac.as_slice())
            .bind(clamp_i64(*idx))
            .execute(&mut *conn)
            .await?;
    }
    write_state(conn, &sealed.state, sealed.history_ms).await
}

async fn write_state(
    conn: &mut SqliteConnection,
    state: &AuditState,
    history_ms: Option<i64>,
) -> Result<(), CatalogError> {
    let size = clamp_i64(state.size);
    sqlx::query(
        "INSERT INTO audit_state (id, size, frontier, note) VALUES (0, $1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier, \
         note = excluded.note",
    )
    .bind(size)
    .bind(state.frontier.as_slice())
    .bind(&state.note)
    .execute(&mut *conn)
    .await?;
    if let Some(ms) = history_ms {
        sqlx::query(
            "INSERT INTO audit_checkpoints (size, note, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(size)
        .bind(&state.note)
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn state_from_row(r: &SqliteRow) -> Result<AuditState, CatalogError> {
    Ok(AuditState {
        size: to_u64(r.try_get("size")?, "negative audit state size")?,
        frontier: r.try_get("frontier")?,
        note: r.try_get("note")?,
    })
}

fn checkpoint_from_row(r: &SqliteRow) -> Result<StoredCheckpoint, CatalogError> {
    Ok(StoredCheckpoint {
        size: to_u64(r.try_get("size")?, "negative checkpoint size")?,
        note: r.try_get("note")?,
        created_ms: r.try_get("created_ms")?,
    })
}

fn row_from_row(r: &SqliteRow) -> Result<AuditRow, CatalogError> {
    Ok(AuditRow {
        index: to_u64(r.try_get("idx")?, "negative audit index")?,
        leaf: r.try_get("leaf")?,
        mac: r.try_get("mac")?,
    })
}

#[async_trait]
impl AuditStore for SqliteCatalog {
    async fn append_audit_batch(
        &self,
        records: &[AuditRecord],
        seal: Sealer<'_>,
    ) -> Result<u64, CatalogError> {
        // BEGIN IMMEDIATE waits up to the busy timeout for the write lock; the loop covers
        // lock states where SQLite answers BUSY at once (e.g. a checkpointing WAL).
        for attempt in 0..APPEND_ATTEMPTS {
            match self.try_append(records, seal).await {
                Err(CatalogError::Database(e)) if is_contention(&e) => {
                    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                }
                other => return other,
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

    async fn audit_rows(&self, start: u64, limit: u32) -> Result<Vec<AuditRow>, CatalogError> {
        sqlx::query("SELECT idx, leaf, mac FROM audit_log WHERE idx >= $1 ORDER BY idx LIMIT $2")
            .bind(clamp_i64(start))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row_from_row)
            .collect()
    }

    async fn audit_size(&self) -> Result<u64, CatalogError> {
        let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        to_u64(size, "negative audit size")
    }

    async fn audit_state(&self) -> Result<Option<AuditState>, CatalogError> {
        sqlx::query("SELECT size, frontier, note FROM audit_state WHERE id = 0")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| state_from_row(&r))
            .transpose()
    }

    async fn audit_checkpoints(&self) -> Result<Vec<StoredCheckpoint>, CatalogError> {
        sqlx::query("SELECT size, note, created_ms FROM audit_checkpoints ORDER BY size")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(checkpoint_from_row)
            .collect()
    }

    async fn audit_by_object(
        &self,
        object: &str,
        start: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>, CatalogError> {
        let rows = sqlx::query(
            "SELECT l.idx AS idx, l.leaf AS leaf FROM audit_objects o \
             JOIN audit_log l ON l.idx = o.idx \
             WHERE o.object = $1 AND o.idx >= $2 ORDER BY o.idx LIMIT $3",
        )
        .bind(object)
        .bind(clamp_i64(start))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    to_u64(r.try_get("idx")?, "negative audit index")?,
                    r.try_get("leaf")?,
                ))
            })
            .collect()
    }
}

/// Whether a failed append may succeed when retried: the database was locked past the
/// busy timeout (SQLITE_BUSY, SQLITE_LOCKED families) or an index collided.
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
