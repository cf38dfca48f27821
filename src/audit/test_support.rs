//! Helpers shared by the audit module's tests: a temporary SQLite catalog, keys, and a
//! second raw connection for tampering with the file behind the catalog's back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use super::keys::{AuditKeys, MacKey};
use super::note::Signer;
use super::{AuditEntry, AuditLog, Outcome};
use crate::catalog::{Catalog, SqliteCatalog};

/// A log in a fresh catalog file; keep the directory alive.
pub struct TestLog {
    pub dir: tempfile::TempDir,
    pub catalog: Arc<dyn Catalog>,
    pub keys: AuditKeys,
    pub log: AuditLog,
}

pub fn keys() -> AuditKeys {
    AuditKeys::new(
        Signer::generate("test.example/log").unwrap(),
        MacKey::generate(),
    )
}

impl TestLog {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = keys();
        let catalog = open(&dir.path().join("catalog.db")).await;
        let log = AuditLog::new(catalog.clone(), keys.clone());
        Self {
            dir,
            catalog,
            keys,
            log,
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("catalog.db")
    }

    /// A raw connection pool to the same file.
    pub async fn raw(&self) -> SqlitePool {
        raw(&self.db()).await
    }

    /// Appends `n` entries in batches of `batch`, naming call `c{i % 3}`.
    pub async fn fill(&self, n: usize, batch: usize) {
        let entries: Vec<AuditEntry> = (0..n).map(entry).collect();
        for chunk in entries.chunks(batch) {
            self.log.append_batch(chunk).await.unwrap();
        }
    }
}

pub async fn open(path: &Path) -> Arc<dyn Catalog> {
    Arc::new(SqliteCatalog::open(path).await.unwrap())
}

pub async fn raw(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

pub fn entry(i: usize) -> AuditEntry {
    AuditEntry::new(None, "call.read", Outcome::Success, "127.0.0.1")
        .object(format!("c{}", i % 3))
        .reason(format!("n{i}"))
}

pub async fn exec(pool: &SqlitePool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}
