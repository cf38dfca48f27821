//! Offline verification of a stored audit log: recomputes the tree from the stored
//! leaves and names the first index where storage and signatures disagree.
//!
//! What it catches, with the keys alone:
//! - an edited, inserted or moved leaf: its MAC binds leaf and index (bad MAC there);
//! - a deleted leaf in the middle: a gap (the missing index);
//! - a truncated log, while the tree state or a history checkpoint still signs the longer
//!   log (the first missing index is the log's size);
//! - a stored checkpoint that does not sign the recomputed root, or not with this key.
//!
//! What needs a checkpoint saved outside the data directory: a truncation that also
//! removes every later checkpoint and rewinds the tree state, and a restore of the whole
//! data directory from an earlier copy. Both leave a consistent, shorter (or forked) log
//! that only an earlier-signed larger tree contradicts.

use super::keys::MacKey;
use super::merkle::{leaf_hash, Frontier, Hash};
use super::note::{Checkpoint, Verifier};
use crate::catalog::{AuditRow, AuditStore, CatalogError};

/// Rows read per page, so a large log is never held in memory at once.
const PAGE: u32 = 4096;

/// What a verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries in the log.
    pub size: u64,
    /// The recomputed root of the whole log.
    pub root: Hash,
    /// Stored checkpoints (history and tree state) checked.
    pub checkpoints_checked: usize,
    /// Size of the outside checkpoint that was proved a prefix of the log, if one was given.
    pub outside_size: Option<u64>,
}

/// What is wrong at the first bad index.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    /// No entry is stored at this index although later ones are (deleted or moved).
    #[error("entry missing")]
    Missing,
    /// The entry's MAC does not match (edited, reordered or inserted).
    #[error("entry does not match its MAC")]
    BadMac,
    /// The entry has no MAC.
    #[error("entry has no MAC")]
    Untagged,
    /// A stored checkpoint for the first `size` entries is not signed by this log's key.
    #[error("stored checkpoint for size {size} is not validly signed")]
    BadSignature {
        /// Its tree size.
        size: u64,
    },
    /// A stored checkpoint for the first `size` entries signs another root.
    #[error("stored checkpoint for size {size} signs another root")]
    CheckpointMismatch {
        /// Its tree size.
        size: u64,
    },
    /// The stored tree state's frontier is not the tree of the first `size` entries.
    #[error("stored tree state for size {size} does not match the entries")]
    StateMismatch {
        /// Its tree size.
        size: u64,
    },
    /// A stored checkpoint signs more entries than are stored: the log was truncated.
    #[error("truncated: a stored checkpoint signs {signed} entries")]
    Truncated {
        /// The largest signed size.
        signed: u64,
    },
    /// The outside checkpoint signs more entries than are stored: rolled back.
    #[error("rolled back: the outside checkpoint signs {signed} entries")]
    RolledBack {
        /// Its size.
        signed: u64,
    },
    /// The outside checkpoint signs another tree of that size: the log forked.
    #[error("forked: the outside checkpoint for size {size} signs another root")]
    Forked {
        /// Its size.
        size: u64,
    },
}

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log is bad from `index` on.
    #[error("audit log fails verification at index {index}: {why}")]
    Bad {
        /// The first bad index.
        index: u64,
        /// What is wrong there.
        why: Tamper,
    },
    /// The outside checkpoint is malformed or not signed by this log's key.
    #[error("the given checkpoint is not a checkpoint signed by this log's key")]
    OutsideUnverified,
    /// The catalog could not be read.
    #[error("cannot read the audit log: {0}")]
    Storage(#[from] CatalogError),
}

/// A checkpoint to compare with the recomputed tree when it reaches `size`.
struct Expect {
    size: u64,
    root: Option<Hash>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stored,
    State,
    Outside,
}

/// Verifies the log in `store` with its MAC key and checkpoint verifier, and, given
/// `outside` (a signed checkpoint note saved earlier), that the log still extends it.
///
/// Errors: [`VerifyError::Bad`] naming the first bad index; [`VerifyError::OutsideUnverified`]
/// for an outside note this key did not sign; [`VerifyError::Storage`].
pub async fn verify_log(
    store: &dyn AuditStore,
    mac: &MacKey,
    verifier: &Verifier,
    outside: Option<&str>,
) -> Result<VerifyReport, VerifyError> {
    let (mut expects, state_frontier) = expectations(store, verifier, outside).await?;
    let checkpoints_checked = expects.iter().filter(|e| e.kind != Kind::Outside).count();
    expects.sort_by_key(|e| e.size);
    let mut pending = expects.into_iter().peekable();
    let mut frontier = Frontier::new();
    check_reached(&mut pending, &frontier, state_frontier.as_ref())?;
    let mut rows = store.audit_rows(0, PAGE).await?;
    while let Some(last) = rows.last() {
        // Read the next page while this one is checked (the database works on its own
        // thread once the query is sent).
        let after = last.index + 1;
        let (next, checked) = futures::join!(store.audit_rows(after, PAGE), async {
            check_page(
                &rows,
                mac,
                &mut frontier,
                &mut pending,
                state_frontier.as_ref(),
            )
        });
        checked?;
        rows = next?;
    }
    let size = frontier.size();
    if let Some(e) = pending.find(|e| e.kind != Kind::Outside) {
        let signed = e.size;
        return Err(VerifyError::Bad {
            index: size,
            why: Tamper::Truncated { signed },
        });
    }
    let outside_size = outside_size(outside, verifier)?;
    if let Some(signed) = outside_size.filter(|s| *s > size) {
        return Err(VerifyError::Bad {
            index: size,
            why: Tamper::RolledBack { signed },
        });
    }
    Ok(VerifyReport {
        size,
        root: frontier.root(),
        checkpoints_checked,
        outside_size,
    })
}

type Pending = std::iter::Peekable<std::vec::IntoIter<Expect>>;

/// Checks one page of rows: density, MACs, and the checkpoints the tree reaches.
fn check_page(
    rows: &[AuditRow],
    mac: &MacKey,
    frontier: &mut Frontier,
    pending: &mut Pending,
    state_frontier: Option<&Frontier>,
) -> Result<(), VerifyError> {
    for row in rows {
        let index = frontier.size();
        let bad = |why| VerifyError::Bad { index, why };
        if row.index != index {
            return Err(bad(Tamper::Missing));
        }
        let Some(tag) = &row.mac else {
            return Err(bad(Tamper::Untagged));
        };
        let hash = leaf_hash(&row.leaf);
        if !mac.check(index, &hash, tag) {
            return Err(bad(Tamper::BadMac));
        }
        frontier.push(hash);
        check_reached(pending, frontier, state_frontier)?;
    }
    Ok(())
}

/// Every checkpoint to check (history, tree state, outside) and the stored frontier.
async fn expectations(
    store: &dyn AuditStore,
    verifier: &Verifier,
    outside: Option<&str>,
) -> Result<(Vec<Expect>, Option<Frontier>), VerifyError> {
    let open = |note: &str| Checkpoint::open(note, std::slice::from_ref(verifier)).ok();
    let mut expects = Vec::new();
    for c in store.audit_checkpoints().await? {
        expects.push(expect(c.size, open(&c.note), Kind::Stored));
    }
    let mut state_frontier = None;
    if let Some(s) = store.audit_state().await? {
        expects.push(expect(s.size, open(&s.note), Kind::State));
        // An unreadable frontier is reported when the tree reaches its size.
        state_frontier = Some(Frontier::from_bytes(&s.frontier).unwrap_or_default());
    }
    if let Some(note) = outside {
        let cp = open(note).ok_or(VerifyError::OutsideUnverified)?;
        expects.push(expect(cp.size, Some(cp), Kind::Outside));
    }
    Ok((expects, state_frontier))
}

fn expect(size: u64, cp: Option<Checkpoint>, kind: Kind) -> Expect {
    // A note that opens but names another size is as bad as a forged one.
    let root = cp.filter(|c| c.size == size).map(|c| c.root);
    Expect { size, root, kind }
}

fn outside_size(outside: Option<&str>, verifier: &Verifier) -> Result<Option<u64>, VerifyError> {
    outside
        .map(|n| {
            Checkpoint::open(n, std::slice::from_ref(verifier))
                .map(|c| c.size)
                .map_err(|_| VerifyError::OutsideUnverified)
        })
        .transpose()
}

/// Checks every expectation whose size the tree has reached.
fn check_reached(
    pending: &mut Pending,
    frontier: &Frontier,
    state_frontier: Option<&Frontier>,
) -> Result<(), VerifyError> {
    let size = frontier.size();
    while let Some(e) = pending.next_if(|e| e.size == size) {
        let root = frontier.root();
        let index = size.saturating_sub(1);
        let bad = |why| Err(VerifyError::Bad { index, why });
        match (e.kind, e.root) {
            (Kind::Outside, Some(r)) if r != root => return bad(Tamper::Forked { size }),
            (Kind::Outside, _) => {}
            (_, None) => return bad(Tamper::BadSignature { size }),
            (_, Some(r)) if r != root => return bad(Tamper::CheckpointMismatch { size }),
            (Kind::State, _) if state_frontier != Some(frontier) => {
                return bad(Tamper::StateMismatch { size })
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
