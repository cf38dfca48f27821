//! Audit log benchmark (not a test): prints `name=value` lines.
//!
//!   audit_appends_per_s  durable appends per second through `AuditLog::append` (group
//!                        commit), 64 concurrent appenders, fresh SQLite catalog on disk
//!   audit_verify_1m_s    seconds to verify a log of 1,000,000 entries (MACs, tree,
//!                        stored checkpoints), built beforehand with large batches
//!
//! `AUDIT_BENCH_DIR` chooses where the catalogs go (default: a temporary directory under
//! the current one, so on disk rather than tmpfs); `AUDIT_BENCH_VERIFY_N` overrides the
//! size of the verified log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use callvault::audit::note::Signer;
use callvault::audit::verify::verify_log;
use callvault::audit::{AuditEntry, AuditKeys, AuditLog, MacKey, Outcome, MAX_BATCH};
use callvault::catalog::{Catalog, SqliteCatalog};

const APPENDERS: usize = 64;
const APPEND_RUN: Duration = Duration::from_secs(5);

fn entry(i: u64) -> AuditEntry {
    AuditEntry::new(
        None,
        "call.read.transcript",
        Outcome::Success,
        "10.1.2.3:51234",
    )
    .object(format!("c20260301-{:06}", i % 100_000))
    .policies(["qa-reads-masked".to_string()])
    .purpose("quality review")
    .grant(format!("g-{}", i % 97))
}

async fn fresh(dir: &std::path::Path, name: &str) -> (Arc<dyn Catalog>, AuditKeys) {
    let catalog: Arc<dyn Catalog> = Arc::new(
        SqliteCatalog::open(&dir.join(name))
            .await
            .expect("catalog opens"),
    );
    let keys = AuditKeys::new(
        Signer::generate("bench.example/audit").expect("valid name"),
        MacKey::generate(),
    );
    (catalog, keys)
}

async fn appends_per_s(dir: &std::path::Path) -> f64 {
    let (catalog, keys) = fresh(dir, "appends.db").await;
    let log = AuditLog::new(catalog, keys);
    let start = Instant::now();
    let tasks: Vec<_> = (0..APPENDERS as u64)
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < APPEND_RUN {
                    log.append(&entry(t * 1_000_000 + n)).await.expect("append");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("appender");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn verify_s(dir: &std::path::Path, n: u64) -> f64 {
    let (catalog, keys) = fresh(dir, "verify.db").await;
    let log = AuditLog::new(catalog.clone(), keys.clone());
    let built = Instant::now();
    let mut next = 0;
    while next < n {
        let batch: Vec<_> = (next..n.min(next + MAX_BATCH as u64)).map(entry).collect();
        log.append_batch(&batch).await.expect("bulk append");
        next += batch.len() as u64;
    }
    eprintln!(
        "# built {n} entries in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let report = verify_log(catalog.as_ref(), &keys.mac, &keys.signer.verifier(), None)
        .await
        .expect("the log verifies");
    assert_eq!(report.size, n);
    start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let base = std::env::var_os("AUDIT_BENCH_DIR").map_or_else(|| ".".into(), Into::into);
    let dir = tempfile::tempdir_in::<std::path::PathBuf>(base).expect("bench directory");
    let n = std::env::var("AUDIT_BENCH_VERIFY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("audit_appends_per_s={:.0}", appends_per_s(dir.path()).await);
    println!("audit_verify_1m_s={:.1}", verify_s(dir.path(), n).await);
}
