//! Building an approved export: gather the audit entries about the export and its calls,
//! prove each against one fresh checkpoint, write the custody record, then run the bundle
//! builder on a blocking thread, streaming its age output into the blob store.
//!
//! Nothing unencrypted is written anywhere: the payload is produced from the sealed
//! masters as the builder reads it, and only the age ciphertext reaches the store.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::source::{pretty_json, ExportSource, EXPORT_VIEW};
use crate::audit::{AuditEntry, Outcome, MAX_SEARCH};
use crate::catalog::{CallRecord, ExportRecord};
use crate::export::bag::BagInfo;
use crate::export::pack::{build_bundle, BundleSpec, Phase, Progress};
use crate::export::BUNDLE_VERSION;
use crate::store::BlobKey;
use crate::vault::Vault;

/// The spec-only audit verifier, shipped in every bundle as the tag file `verify_audit.py`.
const VERIFY_AUDIT_PY: &[u8] = include_bytes!("../../../tests/verify_audit.py");
/// The actor named in the entries the vault writes on its own behalf.
const SYSTEM_ACTOR: &str = "callvault";
/// How often build progress is written to the catalog.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Ciphertext chunks buffered between the builder thread and the store upload.
const PIPE_DEPTH: usize = 8;
/// Size of the chunks handed to the store.
const PIPE_CHUNK: usize = 256 << 10;

/// Why a build failed: a short machine-readable kind, never content.
type Failure = &'static str;

/// One step of the export's custody, as recorded in `data/custody.json`.
#[derive(Serialize)]
struct Step {
    by: String,
    at: i64,
    /// Index of the audit entry that records the step (proved in `data/audit/`).
    audit_index: Option<u64>,
}

/// `data/custody.json`.
#[derive(Serialize)]
struct Custody<'a> {
    bundle_version: u32,
    export_id: &'a str,
    case_id: &'a str,
    legal_basis: &'a str,
    regulator: &'a str,
    recipient: &'a str,
    view: &'static str,
    calls: Vec<String>,
    request: Step,
    approval: Step,
    export: Step,
    /// The checkpoint (tree size) every audit proof in the bundle is against.
    checkpoint_size: u64,
}

impl Vault {
    /// Builds export `id` (which the caller has just moved to `building`) and records the
    /// outcome: `ready` with the bundle blob, or `failed` with a reason. Both are audited.
    pub(super) async fn build_export(self: Arc<Self>, id: &str) {
        let started = Instant::now();
        let outcome = self.clone().try_build(id).await;
        let (event, result) = match &outcome {
            Ok(()) => ("export.ready", Outcome::Success),
            Err(_) => ("export.failed", Outcome::Failure),
        };
        if let Err(kind) = outcome {
            tracing::error!(export = %id, kind, "export build failed");
            if let Err(e) = self.catalog.fail_export(id, kind).await {
                tracing::error!(export = %id, error = %e, "could not record a failed export");
            }
        } else {
            tracing::info!(export = %id, secs = started.elapsed().as_secs_f64(), "export built");
        }
        let mut entry = system_entry(event, result).object(id.to_string());
        if let Err(kind) = &outcome {
            entry = entry.reason(*kind);
        }
        if let Err(e) = self.audit.append(&entry).await {
            tracing::error!(export = %id, error = %e, "could not audit the end of an export build");
        }
    }

    async fn try_build(self: Arc<Self>, id: &str) -> Result<(), Failure> {
        let rec = self
            .catalog
            .get_export(id)
            .await
            .ok()
            .flatten()
            .ok_or("catalog")?;
        let call_ids: Vec<String> =
            serde_json::from_str(&rec.call_ids_json).map_err(|_| "catalog")?;
        let mut calls = Vec::with_capacity(call_ids.len());
        for c in &call_ids {
            let call = self.catalog.get_call(c).await.ok().flatten();
            calls.push(call.ok_or("call-missing")?);
        }
        let prepared = self.audit_material(&rec, &call_ids).await?;
        let blob = format!("exports/{id}.tar.age");
        let (summary, bytes, sha) = self.pack(&rec, calls, prepared, &blob).await?;
        tracing::debug!(
            export = %id,
            files = summary.payload_files,
            payload_bytes = summary.payload_bytes,
            "export packed"
        );
        let bytes = i64::try_from(bytes).map_err(|_| "size")?;
        self.catalog
            .finish_export(id, &blob, bytes, &sha)
            .await
            .map_err(|_| "catalog")
    }

    /// `data/custody.json` and `data/audit/*`: the entries naming the export or one of its
    /// calls, each with an inclusion proof against one checkpoint that covers the
    /// `export.build` entry written now.
    async fn audit_material(
        &self,
        rec: &ExportRecord,
        call_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
        let mut build = system_entry("export.build", Outcome::Success).object(rec.id.clone());
        for c in call_ids {
            build = build.object(c.clone());
        }
        let build_index = self.audit.append(&build).await.map_err(|_| "audit")?;
        let size = build_index + 1;
        let mut leaves: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for object in std::iter::once(&rec.id).chain(call_ids) {
            let mut start = 0;
            loop {
                let page = self
                    .catalog
                    .audit_by_object(object, start, MAX_SEARCH)
                    .await
                    .map_err(|_| "audit")?;
                let full = page.len() == MAX_SEARCH as usize;
                let Some(last) = page.last().map(|(i, _)| *i) else {
                    break;
                };
                leaves.extend(page.into_iter().filter(|(i, _)| *i < size));
                if !full || last + 1 >= size {
                    break;
                }
                start = last + 1;
            }
        }
        let indices: Vec<u64> = leaves.keys().copied().collect();
        let (checkpoint, proofs) = self
            .tlog
            .inclusion_batch(&indices, size)
            .await
            .map_err(|_| "audit")?;
        let step_of = |event: &str| find_step(&leaves, event, &rec.id);
        let custody = Custody {
            bundle_version: BUNDLE_VERSION,
            export_id: &rec.id,
            case_id: &rec.case_id,
            legal_basis: &rec.legal_basis,
            regulator: &rec.regulator,
            recipient: &rec.recipient,
            view: EXPORT_VIEW,
            calls: call_ids.to_vec(),
            request: Step {
                by: rec.requested_by.clone(),
                at: rec.requested_at,
                audit_index: step_of("export.create"),
            },
            approval: Step {
                by: rec.approved_by.clone().unwrap_or_default(),
                at: rec.approved_at.unwrap_or_default(),
                audit_index: step_of("export.approve"),
            },
            export: Step {
                by: SYSTEM_ACTOR.into(),
                at: self.now(),
                audit_index: Some(build_index),
            },
            checkpoint_size: size,
        };
        let mut files = BTreeMap::new();
        let custody_json = pretty_json(&custody).map_err(|_| "json")?;
        files.insert("data/custody.json".to_string(), custody_json);
        files.insert(
            "data/audit/log-key.txt".to_string(),
            format!("{}\n", self.tlog.vkey()).into_bytes(),
        );
        files.insert(
            "data/audit/checkpoint.txt".to_string(),
            checkpoint.into_bytes(),
        );
        for ((index, leaf), proof) in leaves.into_iter().zip(proofs) {
            files.insert(format!("data/audit/entries/{index:012}.json"), leaf);
            files.insert(
                format!("data/audit/entries/{index:012}.tlog-proof"),
                proof.into_bytes(),
            );
        }
        Ok(files)
    }

    /// Runs the builder on a blocking thread and uploads its output as it comes. Returns
    /// the summary, the ciphertext's size and its SHA-256 (hex).
    async fn pack(
        self: &Arc<Self>,
        rec: &ExportRecord,
        calls: Vec<CallRecord>,
        prepared: BTreeMap<String, Vec<u8>>,
        blob: &str,
    ) -> Result<(crate::export::pack::BundleSummary, u64, String), Failure> {
        let recipient: age::x25519::Recipient = rec.recipient.parse().map_err(|_| "recipient")?;
        let approved_at = rec.approved_at.unwrap_or(rec.requested_at);
        let spec = BundleSpec {
            export_id: rec.id.clone(),
            info: BagInfo {
                source_organization: self.source_organization.clone(),
                external_identifier: rec.case_id.clone(),
                bagging_date: bagging_date(approved_at),
                legal_basis: rec.legal_basis.clone(),
                export_id: rec.id.clone(),
                regulator: rec.regulator.clone(),
            },
            mtime: u64::try_from(approved_at).unwrap_or(0),
            verify_script: VERIFY_AUDIT_PY.to_vec(),
        };
        let key = BlobKey::new(blob.to_string()).map_err(|_| "store")?;
        let upload_key = key.clone();
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(PIPE_DEPTH);
        let store = self.store.clone();
        let upload = tokio::spawn(async move {
            let body = Box::pin(tokio_stream_from(rx));
            store.put(&upload_key, body).await
        });
        let vault = Arc::clone(self);
        let handle = tokio::runtime::Handle::current();
        let id = rec.id.clone();
        let built = tokio::task::spawn_blocking(move || {
            let mut source = ExportSource::new(vault.clone(), handle.clone(), calls, prepared);
            let mut last = Instant::now();
            // Both passes read every payload file: progress counts file reads.
            let mut progress = |p: &Progress| {
                let packed = if p.phase == Phase::Packing {
                    p.files_total
                } else {
                    0
                };
                let (done, total) = (p.files_done + packed, 2 * p.files_total);
                if last.elapsed() < PROGRESS_EVERY && done != total {
                    return;
                }
                last = Instant::now();
                let (done, total) = (done as i64, total as i64);
                let _ = handle.block_on(vault.catalog.export_progress(&id, done, total));
            };
            let out = Pipe::new(tx);
            let signer = &vault.export_key;
            build_bundle(&spec, &mut source, signer, &recipient, out, &mut progress)
                .and_then(|(summary, out)| Ok((summary, out.finish()?)))
        })
        .await
        .map_err(|_| "builder-panicked")?;
        let (summary, (bytes, sha)) = match built {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "export builder failed");
                // The pipe, dropped unfinished, ended the upload's body with an error, so
                // the store keeps nothing; should one have kept a blob anyway, remove it.
                if let Ok(Ok(_)) = upload.await {
                    let _ = self.store.delete(&key).await;
                }
                return Err("build");
            }
        };
        let stored = upload.await.map_err(|_| "store")?.map_err(|e| {
            tracing::error!(error = %e, "storing an export bundle failed");
            "store"
        })?;
        if stored != bytes {
            let _ = self.store.delete(&key).await;
            return Err("store");
        }
        Ok((summary, bytes, sha))
    }
}

/// An entry the vault writes on its own behalf.
fn system_entry(event: &str, outcome: Outcome) -> AuditEntry {
    let mut e = AuditEntry::new(None, event, outcome, "local");
    e.actor = SYSTEM_ACTOR.into();
    e
}

/// The index of the first entry of `event` naming `export_id`.
fn find_step(leaves: &BTreeMap<u64, Vec<u8>>, event: &str, export_id: &str) -> Option<u64> {
    leaves.iter().find_map(|(i, leaf)| {
        let e: AuditEntry = serde_json::from_slice(leaf).ok()?;
        (e.event == event
            && e.outcome == Outcome::Success
            && e.objects.iter().any(|o| o == export_id))
        .then_some(*i)
    })
}

/// The UTC date of a unix time.
fn bagging_date(unix: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<io::Result<Bytes>>,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The builder's output: a blocking writer that hands ciphertext to the upload in
/// [`PIPE_CHUNK`] pieces, counting and hashing it on the way. Dropped without
/// [`Pipe::finish`], it sends an error, so the upload never stores a truncated bundle.
struct Pipe {
    tx: Option<mpsc::Sender<io::Result<Bytes>>>,
    buf: Vec<u8>,
    bytes: u64,
    sha: Sha256,
}

impl Pipe {
    fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> Self {
        Self {
            tx: Some(tx),
            buf: Vec::with_capacity(PIPE_CHUNK),
            bytes: 0,
            sha: Sha256::new(),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(PIPE_CHUNK),
        ));
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| io::Error::other("pipe closed"))?;
        tx.blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }

    /// Sends what is buffered and closes the pipe; returns the size and SHA-256 (hex).
    fn finish(mut self) -> io::Result<(u64, String)> {
        self.send()?;
        self.tx = None;
        let sha = std::mem::take(&mut self.sha);
        Ok((self.bytes, hex::encode(sha.finalize())))
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.sha.update(data);
        self.bytes += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIPE_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            // Always on the builder's blocking thread, where blocking is allowed.
            let _ = tx.blocking_send(Err(io::Error::other("the export build failed")));
        }
    }
}
