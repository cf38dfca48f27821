//! Group commit: one writer task per process takes every append waiting in its queue (up
//! to [`MAX_BATCH`]) and stores them in one durable transaction; each caller learns its
//! index only after the commit. If the transaction fails, every caller of the batch gets
//! the error, so no request succeeds without its entry on disk (fail closed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::keys::AuditKeys;
use super::seal::seal_batch;
use super::AuditError;
use crate::catalog::{AuditRecord, AuditStore, AuditTip, CatalogError};

/// Most appends stored by one transaction.
pub const MAX_BATCH: usize = 1024;
/// Appends that may wait in the queue before callers wait to enqueue.
const QUEUE: usize = 4 * MAX_BATCH;

struct Job {
    record: AuditRecord,
    reply: oneshot::Sender<Result<u64, AuditError>>,
}

/// The sending side of the writer's queue; the task stops when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Spawns the writer task on the current Tokio runtime.
    pub(super) fn spawn(store: Arc<dyn AuditStore>, keys: AuditKeys) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, keys, rx));
        Self { queue }
    }

    /// Queues `record` and waits for its index.
    pub(super) async fn append(&self, record: AuditRecord) -> Result<u64, AuditError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { record, reply })
            .await
            .map_err(|_| AuditError::WriterStopped)?;
        answer.await.map_err(|_| AuditError::WriterStopped)?
    }
}

async fn run(store: Arc<dyn AuditStore>, keys: AuditKeys, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (records, replies): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|j| (j.record, j.reply)).unzip();
        let result = commit(store.as_ref(), &keys, &records).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, batch = records.len(), "audit append failed");
        }
        for (i, reply) in replies.into_iter().enumerate() {
            // A caller that gave up waiting is no reason to stop.
            let _ = reply.send(result.clone().map(|first| first + i as u64));
        }
    }
}

/// Stores `records` in one transaction; returns the index of the first.
pub(super) async fn commit(
    store: &dyn AuditStore,
    keys: &AuditKeys,
    records: &[AuditRecord],
) -> Result<u64, AuditError> {
    let refused = AtomicBool::new(false);
    let seal = |tip: &AuditTip, records: &[AuditRecord]| {
        seal_batch(keys, tip, records, now_ms()).map_err(|_| {
            refused.store(true, Ordering::Relaxed);
            CatalogError::Corrupt("audit log inconsistent with its last signed checkpoint")
        })
    };
    match store.append_audit_batch(records, &seal).await {
        Ok(first) => Ok(first),
        Err(_) if refused.load(Ordering::Relaxed) => Err(AuditError::Inconsistent),
        Err(e) => Err(e.into()),
    }
}

fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
