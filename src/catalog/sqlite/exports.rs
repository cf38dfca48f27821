//! [`ExportStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::SqliteCatalog;
use crate::catalog::{CatalogError, ExportRecord, ExportStore};

const EXPORT_COLUMNS: &str = "id, case_id, legal_basis, call_ids_json, regulator, recipient, \
    requested_by, requested_at, approved_by, approved_at, state, files_done, files_total, \
    bundle_blob, bundle_bytes, bundle_sha256, failure";

#[async_trait]
impl ExportStore for SqliteCatalog {
    async fn insert_export(&self, e: &ExportRecord) -> Result<(), CatalogError> {
        let sql = format!(
            "INSERT INTO exports ({EXPORT_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        );
        let result = sqlx::query(&sql)
            .bind(&e.id)
            .bind(&e.case_id)
            .bind(&e.legal_basis)
            .bind(&e.call_ids_json)
            .bind(&e.regulator)
            .bind(&e.recipient)
            .bind(&e.requested_by)
            .bind(e.requested_at)
            .bind(&e.approved_by)
            .bind(e.approved_at)
            .bind(&e.state)
            .bind(e.files_done)
            .bind(e.files_total)
            .bind(&e.bundle_blob)
            .bind(e.bundle_bytes)
            .bind(&e.bundle_sha256)
            .bind(&e.failure)
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CatalogError::Conflict("export id already exists"))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get_export(&self, id: &str) -> Result<Option<ExportRecord>, CatalogError> {
        let sql = format!("SELECT {EXPORT_COLUMNS} FROM exports WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(export_from_row).transpose()
    }

    async fn approve_export(&self, id: &str, by: &str, at: i64) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE exports SET state = 'building', approved_by = $2, approved_at = $3 \
             WHERE id = $1 AND state = 'pending' AND requested_by <> $2",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn export_progress(&self, id: &str, done: i64, total: i64) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE exports SET files_done = $2, files_total = $3 \
             WHERE id = $1 AND state = 'building'",
        )
        .bind(id)
        .bind(done)
        .bind(total)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn finish_export(
        &self,
        id: &str,
        blob: &str,
        bytes: i64,
        sha256: &str,
    ) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "UPDATE exports SET state = 'ready', files_done = files_total, bundle_blob = $2, \
             bundle_bytes = $3, bundle_sha256 = $4 WHERE id = $1 AND state = 'building'",
        )
        .bind(id)
        .bind(blob)
        .bind(bytes)
        .bind(sha256)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Err(CatalogError::Conflict("export is not building"));
        }
        Ok(())
    }

    async fn fail_export(&self, id: &str, reason: &str) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE exports SET state = 'failed', failure = $2 \
             WHERE id = $1 AND state = 'building'",
        )
        .bind(id)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn fail_interrupted_exports(&self) -> Result<u64, CatalogError> {
        let done = sqlx::query(
            "UPDATE exports SET state = 'failed', failure = 'interrupted' \
             WHERE state = 'building'",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_recipient(&self, name: &str, recipient: &str) -> Result<(), CatalogError> {
        let result = sqlx::query(
            "INSERT INTO principal_recipients (name, recipient) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET recipient = excluded.recipient",
        )
        .bind(name)
        .bind(recipient)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(CatalogError::Conflict("no such principal"))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn recipient_of(&self, name: &str) -> Result<Option<String>, CatalogError> {
        let row = sqlx::query("SELECT recipient FROM principal_recipients WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("recipient")).transpose()?)
    }
}

fn export_from_row(row: &SqliteRow) -> Result<ExportRecord, CatalogError> {
    Ok(ExportRecord {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        legal_basis: row.try_get("legal_basis")?,
        call_ids_json: row.try_get("call_ids_json")?,
        regulator: row.try_get("regulator")?,
        recipient: row.try_get("recipient")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: row.try_get("approved_at")?,
        state: row.try_get("state")?,
        files_done: row.try_get("files_done")?,
        files_total: row.try_get("files_total")?,
        bundle_blob: row.try_get("bundle_blob")?,
        bundle_bytes: row.try_get("bundle_bytes")?,
        bundle_sha256: row.try_get("bundle_sha256")?,
        failure: row.try_get("failure")?,
    })
}
