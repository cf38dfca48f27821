//! The audit log as a transparency log: an RFC 6962 tree over the stored leaves, signed
//! checkpoints (C2SP tlog-checkpoint), inclusion proofs (C2SP tlog-proof) and consistency
//! proofs.
//!
//! The vault never signs a checkpoint inconsistent with the last one it signed: appends
//! sign each new tree from the stored frontier of the previous one (see [`super::seal`]),
//! and a checkpoint signed here on demand is first checked against that latest stored
//! one; a log that shrank or changed fails closed.

use std::sync::Arc;

use super::merkle::{self, Hash};
use super::note::{sign_note, Checkpoint, Signer, Verifier};
use super::proof::TlogProof;
use super::AuditError;
use crate::catalog::Catalog;

/// Why a checkpoint or proof could not be served.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] AuditError),
    /// The requested index or sizes are out of range.
    #[error("index or size out of range")]
    OutOfRange,
    /// The stored leaves disagree with the last signed checkpoint: the log was rewritten,
    /// truncated or rolled back. Nothing is signed.
    #[error("the audit log is inconsistent with its last signed checkpoint")]
    Inconsistent,
}

/// Signs checkpoints and builds proofs over the audit leaves in a catalog.
#[derive(Clone)]
pub struct TransparencyLog {
    catalog: Arc<dyn Catalog>,
    signer: Arc<Signer>,
}

impl TransparencyLog {
    /// A log over `catalog`'s audit leaves, signed by `signer` (whose name is the origin).
    pub fn new(catalog: Arc<dyn Catalog>, signer: Arc<Signer>) -> Self {
        Self { catalog, signer }
    }

    /// The verifier key in signed-note vkey form.
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// The verifier for this log's checkpoints.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The leaf hashes of the first `size` leaves, read a page at a time so that only the
    /// hashes (32 bytes a leaf), never all the leaves, are in memory at once.
    async fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>, TreeError> {
        const PAGE: u64 = 16_384;
        let mut hashes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut start = 0;
        while start < size {
            let end = size.min(start + PAGE);
            let leaves = self
                .catalog
                .audit_entries(start, end)
                .await
                .map_err(AuditError::from)?;
            if leaves.len() as u64 != end - start {
                return Err(TreeError::Inconsistent);
            }
            hashes.extend(leaves.iter().map(|l| merkle::leaf_hash(l)));
            start = end;
        }
        Ok(hashes)
    }

    /// The latest checkpoint, as signed and stored by the last append (the empty tree's,
    /// signed now, before the first). Costs no pass over the log.
    ///
    /// Errors: [`TreeError::Inconsistent`] if the stored note is not signed by this key.
    pub async fn checkpoint(&self) -> Result<String, TreeError> {
        let state = self.catalog.audit_state().await.map_err(AuditError::from)?;
        match state {
            Some(s) => {
                Checkpoint::open(&s.note, &[self.verifier()])
                    .map_err(|_| TreeError::Inconsistent)?;
                Ok(s.note)
            }
            None if self.catalog.audit_size().await.map_err(AuditError::from)? == 0 => {
                self.sign_consistent(None, &[], 0)
            }
            None => Err(TreeError::Inconsistent),
        }
    }

    /// A signed checkpoint for the first `size` leaves (`size` ≤ the current size).
    pub async fn checkpoint_at(&self, size: u64) -> Result<String, TreeError> {
        // The latest stored checkpoint first: appends store it with their leaves, so the
        // leaves read next always cover it.
        let last = self.latest().await?;
        let current = self.catalog.audit_size().await.map_err(AuditError::from)?;
        if size > current {
            return Err(TreeError::OutOfRange);
        }
        let hashes = self.leaf_hashes(current).await?;
        self.sign_consistent(last, &hashes, size)
    }

    /// Signs the tree over `hashes[..size]` after checking it against the last signed
    /// checkpoint (in whichever direction the sizes lie).
    fn sign_consistent(
        &self,
        last: Option<Checkpoint>,
        hashes: &[Hash],
        size: u64,
    ) -> Result<String, TreeError> {
        if let Some(last) = last {
            if last.size as usize > hashes.len() {
                return Err(TreeError::Inconsistent);
            }
            let last_root = merkle::root(&hashes[..last.size as usize]);
            if last_root != last.root {
                tracing::error!(
                    size = last.size,
                    "audit leaves disagree with the last signed checkpoint"
                );
                return Err(TreeError::Inconsistent);
            }
        }
        let root = merkle::root(&hashes[..size as usize]);
        let text = Checkpoint {
            origin: self.signer.name().to_string(),
            size,
            root,
            extensions: Vec::new(),
        }
        .to_text()
        .map_err(|_| TreeError::Inconsistent)?;
        sign_note(&text, &[&self.signer]).map_err(|_| TreeError::Inconsistent)
    }

    /// The last checkpoint this vault stored, verified with its own key.
    async fn latest(&self) -> Result<Option<Checkpoint>, TreeError> {
        let Some(state) = self.catalog.audit_state().await.map_err(AuditError::from)? else {
            return Ok(None);
        };
        Checkpoint::open(&state.note, &[self.verifier()])
            .map(Some)
            .map_err(|_| TreeError::Inconsistent)
    }

    /// A C2SP tlog-proof that leaf `index` is in the tree of `size`, with a checkpoint
    /// signed for that size.
    pub async fn inclusion(&self, index: u64, size: u64) -> Result<String, TreeError> {
        if index >= size {
            return Err(TreeError::OutOfRange);
        }
        let note = self.checkpoint_at(size).await?;
        let hashes = self.leaf_hashes(size).await?;
        let proof =
            merkle::inclusion_proof(&hashes, index, size).map_err(|_| TreeError::OutOfRange)?;
        Ok(TlogProof {
            extra: None,
            index,
            hashes: proof,
            checkpoint_note: note,
        }
        .to_text())
    }

    /// C2SP tlog-proofs that each leaf of `indices` is in the tree of `size`, all against
    /// one checkpoint signed for that size, which is returned first. Reads the leaves once
    /// however many proofs are asked for.
    pub async fn inclusion_batch(
        &self,
        indices: &[u64],
        size: u64,
    ) -> Result<(String, Vec<String>), TreeError> {
        if indices.iter().any(|&i| i >= size) {
            return Err(TreeError::OutOfRange);
        }
        let note = self.checkpoint_at(size).await?;
        let hashes = self.leaf_hashes(size).await?;
        let proofs = indices
            .iter()
            .map(|&index| {
                let path = merkle::inclusion_proof(&hashes, index, size)
                    .map_err(|_| TreeError::OutOfRange)?;
                Ok(TlogProof {
                    extra: None,
                    index,
                    hashes: path,
                    checkpoint_note: note.clone(),
                }
                .to_text())
            })
            .collect::<Result<_, TreeError>>()?;
        Ok((note, proofs))
    }

    /// The RFC 6962 consistency proof between the trees of `old` and `new` leaves.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
        let current = self.catalog.audit_size().await.map_err(AuditError::from)?;
        if old == 0 || old > new || new > current {
            return Err(TreeError::OutOfRange);
        }
        let hashes = self.leaf_hashes(new).await?;
        merkle::consistency_proof(&hashes, old, new).map_err(|_| TreeError::OutOfRange)
    }
}
