//! Sealing a batch of appends: the pure step run inside the append transaction. It checks
//! the stored tree state against the checkpoint signed for it, extends the frontier with
//! the new leaves (O(log n) per leaf, never a pass over the whole log), tags each leaf and
//! signs the new checkpoint.
//!
//! Cadence: every batch signs a checkpoint into the single tree-state row (one Ed25519
//! signature and one verification per batch, a few tens of microseconds), so the stored
//! state is always a signed tree and a truncated log is caught at the next append or
//! verify. The *history* of checkpoints keeps at most one per [`HISTORY_INTERVAL_MS`], so
//! it grows with time, not with traffic (86,400 rows a busy day).

use super::keys::AuditKeys;
use super::merkle::{leaf_hash, Frontier};
use super::note::{sign_note, Checkpoint};
use crate::catalog::{AuditRecord, AuditState, AuditTip, BatchSeal};

/// Least time between two checkpoints kept in the history, milliseconds.
pub const HISTORY_INTERVAL_MS: i64 = 1000;

/// Why a batch was not sealed; nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The stored tree state, leaves and last signed checkpoint disagree: the log was
    /// truncated, rolled back or rewritten. The vault refuses to sign anything more.
    #[error("the audit log is inconsistent with its last signed checkpoint")]
    Inconsistent,
}

/// Seals `records`, appended after `tip`, at time `now_ms`.
///
/// Errors: [`SealError::Inconsistent`] unless the tip is a tree this key signed, covering
/// exactly the stored leaves and no older than the history's newest checkpoint; or, with
/// no tree state at all, unless the stored leaves are dense, untagged and unsigned (a log
/// from before tree states, which is adopted).
pub fn seal_batch(
    keys: &AuditKeys,
    tip: &AuditTip,
    records: &[AuditRecord],
    now_ms: i64,
) -> Result<BatchSeal, SealError> {
    let (mut frontier, adopted_macs) = match &tip.state {
        Some(state) => (checked_frontier(keys, tip, state)?, Vec::new()),
        None => adopt(keys, tip)?,
    };
    let mut macs = Vec::with_capacity(records.len());
    for r in records {
        let hash = leaf_hash(&r.leaf);
        macs.push(keys.mac.tag(frontier.size(), &hash).to_vec());
        frontier.push(hash);
    }
    let note = sign(keys, &frontier)?;
    let history_due = tip
        .last_history
        .as_ref()
        .is_none_or(|h| now_ms - h.created_ms >= HISTORY_INTERVAL_MS);
    Ok(BatchSeal {
        macs,
        adopted_macs,
        state: AuditState {
            size: frontier.size(),
            frontier: frontier.to_bytes(),
            note,
        },
        history_ms: history_due.then_some(now_ms),
    })
}

/// The stored frontier, after checking it is exactly the tree the stored note signs, that
/// it covers every stored leaf, and that the history holds no larger tree.
fn checked_frontier(
    keys: &AuditKeys,
    tip: &AuditTip,
    state: &AuditState,
) -> Result<Frontier, SealError> {
    let bad = || {
        tracing::error!("audit tree state disagrees with its signed checkpoint; not signing");
        SealError::Inconsistent
    };
    let signed = Checkpoint::open(&state.note, &[keys.signer.verifier()]).map_err(|_| bad())?;
    let frontier = Frontier::from_bytes(&state.frontier).map_err(|_| bad())?;
    let behind_history = tip
        .last_history
        .as_ref()
        .is_some_and(|h| h.size > state.size);
    if signed.size != state.size
        || frontier.size() != state.size
        || frontier.root() != signed.root
        || tip.leaf_count != state.size
        || behind_history
    {
        return Err(bad());
    }
    Ok(frontier)
}

type Adopted = (Frontier, Vec<(u64, Vec<u8>)>);

/// Tags and hashes the leaves of a log that has no tree state yet.
fn adopt(keys: &AuditKeys, tip: &AuditTip) -> Result<Adopted, SealError> {
    let dense = tip.unadopted.len() as u64 == tip.leaf_count
        && tip
            .unadopted
            .iter()
            .enumerate()
            .all(|(i, r)| r.index == i as u64 && r.mac.is_none());
    // A history or a tag without a state means the state row was removed, not that the
    // log is old: refuse rather than re-sign whatever is there.
    if !dense || tip.last_history.is_some() {
        tracing::error!("audit log has leaves but no tree state; not signing");
        return Err(SealError::Inconsistent);
    }
    let mut frontier = Frontier::new();
    let mut macs = Vec::with_capacity(tip.unadopted.len());
    for r in &tip.unadopted {
        let hash = leaf_hash(&r.leaf);
        macs.push((r.index, keys.mac.tag(r.index, &hash).to_vec()));
        frontier.push(hash);
    }
    Ok((frontier, macs))
}

fn sign(keys: &AuditKeys, frontier: &Frontier) -> Result<String, SealError> {
    let text = Checkpoint {
        origin: keys.signer.name().to_string(),
        size: frontier.size(),
        root: frontier.root(),
        extensions: Vec::new(),
    }
    .to_text()
    .map_err(|_| SealError::Inconsistent)?;
    sign_note(&text, &[&keys.signer]).map_err(|_| SealError::Inconsistent)
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
