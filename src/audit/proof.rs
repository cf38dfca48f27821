//! The C2SP tlog-proof text format: an offline-verifiable proof that an entry is in the log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64 opaque data>]
//! index <decimal>
//! <base64 hash>            (zero or more, from the leaf's sibling upward)
//!
//! <signed checkpoint note, verbatim>
//! ```
//!
//! See c2sp.org/tlog-proof. The extra data is not authenticated.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

use super::merkle::{leaf_hash, verify_inclusion, Hash, MerkleError};
use super::note::{Checkpoint, NoteError, Verifier};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most proof hashes a proof may carry: a tree of at most 2^64 leaves is 64 levels deep.
const MAX_HASHES: usize = 64;

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The text does not follow the tlog-proof grammar.
    #[error("malformed tlog proof")]
    Malformed,
    /// The embedded checkpoint note did not open or parse.
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] NoteError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion proof rejected: {0}")]
    Inclusion(#[from] MerkleError),
}

/// A parsed tlog proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Optional opaque extra data; never trusted.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry.
    pub index: u64,
    /// RFC 6962 inclusion proof, from the leaf's sibling upward.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note, verbatim (ends in `\n`).
    pub checkpoint_note: String,
}

impl TlogProof {
    /// The proof text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.hashes {
            out.push_str(&B64.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint_note);
        out
    }

    /// Parses a proof text. The checkpoint note is kept verbatim, not yet verified.
    ///
    /// Errors: [`ProofError::Malformed`] for any deviation from the grammar.
    pub fn parse(text: &str) -> Result<Self, ProofError> {
        let (head, checkpoint_note) = text.split_once("\n\n").ok_or(ProofError::Malformed)?;
        if checkpoint_note.is_empty() {
            return Err(ProofError::Malformed);
        }
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(ProofError::Malformed);
        }
        let extra = match lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            Some(b64) => {
                lines.next();
                Some(B64.decode(b64).map_err(|_| ProofError::Malformed)?)
            }
            None => None,
        };
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .ok_or(ProofError::Malformed)?;
        let index = parse_decimal(index).ok_or(ProofError::Malformed)?;
        let hashes = lines.map(parse_hash).collect::<Result<Vec<_>, _>>()?;
        if hashes.len() > MAX_HASHES {
            return Err(ProofError::Malformed);
        }
        Ok(Self {
            extra,
            index,
            hashes,
            checkpoint_note: checkpoint_note.to_owned(),
        })
    }

    /// Verifies that `leaf` (the entry's bytes) is at `index` in the checkpointed tree, and
    /// that the checkpoint is signed by one of `verifiers`. Returns the checkpoint so the
    /// caller can check its origin and compare it with checkpoints it already trusts.
    ///
    /// Errors: [`ProofError::Checkpoint`] or [`ProofError::Inclusion`].
    pub fn verify(&self, leaf: &[u8], verifiers: &[Verifier]) -> Result<Checkpoint, ProofError> {
        self.verify_leaf_hash(&leaf_hash(leaf), verifiers)
    }

    /// As [`TlogProof::verify`], given the leaf hash instead of the leaf bytes.
    ///
    /// Errors: [`ProofError::Checkpoint`] or [`ProofError::Inclusion`].
    pub fn verify_leaf_hash(
        &self,
        leaf_hash: &Hash,
        verifiers: &[Verifier],
    ) -> Result<Checkpoint, ProofError> {
        let checkpoint = Checkpoint::open(&self.checkpoint_note, verifiers)?;
        verify_inclusion(
            leaf_hash,
            self.index,
            checkpoint.size,
            &self.hashes,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

/// An ASCII decimal without leading zeros (except `0` itself).
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// One base64 line holding exactly one 32-byte hash.
fn parse_hash(line: &str) -> Result<Hash, ProofError> {
    let raw = B64.decode(line).map_err(|_| ProofError::Malformed)?;
    raw.try_into().map_err(|_| ProofError::Malformed)
}

#[cfg(test)]
#[path = "proof_tests.rs"]
mod tests;
