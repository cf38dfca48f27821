//! The audit checks: the bundled checkpoint is signed by the log key, and every bundled
//! audit entry has a proof of inclusion under exactly that checkpoint.

use std::collections::BTreeMap;

use super::scan::Bag;
use crate::audit::note::{Checkpoint, Verifier};
use crate::audit::proof::TlogProof;

/// The bundled log verifier key.
pub const LOG_KEY: &str = "data/audit/log-key.txt";
/// The bundled checkpoint every proof is against.
pub const CHECKPOINT: &str = "data/audit/checkpoint.txt";
/// The folder of audit entries and their proofs.
const ENTRIES: &str = "data/audit/entries/";
/// Digits of a zero-padded entry index.
const INDEX_DIGITS: usize = 12;

/// What is wrong with the audit material. Texts name files and indices, never entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditCheckError {
    /// A required file is not in the bag.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A file is not UTF-8.
    #[error("{0} is not UTF-8")]
    NotUtf8(String),
    /// The bundled log key is not a vkey.
    #[error("{LOG_KEY} is not a valid verifier key")]
    BadLogKey,
    /// The checkpoint does not open with the key.
    #[error("checkpoint rejected with key {key}: {reason}")]
    Checkpoint {
        /// The key's name.
        key: String,
        /// Why (a `NoteError` text).
        reason: String,
    },
    /// A file in the entries folder is neither `<index>.json` nor `<index>.tlog-proof`.
    #[error("unexpected file {0}")]
    Unexpected(String),
    /// An entry has no proof.
    #[error("entry {0} has no proof")]
    NoProof(String),
    /// A proof has no entry.
    #[error("proof {0} has no entry")]
    Orphan(String),
    /// A proof does not parse.
    #[error("proof {0} is malformed")]
    Malformed(String),
    /// A proof's index is not its file's.
    #[error("proof {0} is for index {1}")]
    WrongIndex(String, u64),
    /// A proof's checkpoint is not `checkpoint.txt`.
    #[error("proof {0} is against another checkpoint")]
    OtherCheckpoint(String),
    /// A proof does not verify for its entry.
    #[error("proof {0} does not verify: {1}")]
    Rejected(String, String),
    /// No entries at all.
    #[error("no audit entries in the bundle")]
    NoEntries,
}

/// Where the trusted log key came from, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Given by the caller (`--log-key`).
    Given,
    /// `data/audit/log-key.txt`, trusted because the signed manifests cover it.
    Bundled,
}

/// The bundled log key.
pub fn bundled_key(bag: &Bag) -> Result<Verifier, AuditCheckError> {
    let raw = bag
        .content(LOG_KEY)
        .ok_or(AuditCheckError::Missing(LOG_KEY))?;
    let text = std::str::from_utf8(raw).map_err(|_| AuditCheckError::NotUtf8(LOG_KEY.into()))?;
    Verifier::from_vkey(text.trim()).map_err(|_| AuditCheckError::BadLogKey)
}

/// Opens `checkpoint.txt` with `key`; returns its text (the exact note) and checkpoint.
pub fn check_checkpoint<'a>(
    bag: &'a Bag,
    key: &Verifier,
) -> Result<(&'a str, Checkpoint), AuditCheckError> {
    let raw = bag
        .content(CHECKPOINT)
        .ok_or(AuditCheckError::Missing(CHECKPOINT))?;
    let note = std::str::from_utf8(raw).map_err(|_| AuditCheckError::NotUtf8(CHECKPOINT.into()))?;
    let checkpoint = Checkpoint::open(note, std::slice::from_ref(key)).map_err(|e| {
        AuditCheckError::Checkpoint {
            key: key.name().into(),
            reason: e.to_string(),
        }
    })?;
    Ok((note, checkpoint))
}

/// One index's files.
#[derive(Default)]
struct Pair<'a> {
    entry: Option<&'a [u8]>,
    proof: Option<&'a [u8]>,
}

/// Every entry has a proof for its index, against `note`, that verifies with `key`; no
/// proof without an entry; at least one entry. Returns the number of entries.
pub fn check_inclusion(
    bag: &Bag,
    note: &str,
    key: &Verifier,
) -> Result<usize, Vec<AuditCheckError>> {
    let mut pairs: BTreeMap<(u64, &str), Pair<'_>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, record) in bag.files.range(ENTRIES.to_owned()..) {
        let Some(name) = path.strip_prefix(ENTRIES) else {
            break;
        };
        let content = record.content.as_deref().unwrap_or_default();
        match split_name(name) {
            Some((index, stem, true)) => {
                pairs.entry((index, stem)).or_default().entry = Some(content)
            }
            Some((index, stem, false)) => {
                pairs.entry((index, stem)).or_default().proof = Some(content)
            }
            None => problems.push(AuditCheckError::Unexpected(path.clone())),
        }
    }
    let verifiers = std::slice::from_ref(key);
    for ((index, stem), pair) in &pairs {
        match (pair.entry, pair.proof) {
            (Some(entry), Some(proof)) => {
                if let Err(e) = check_one(*index, stem, entry, proof, note, verifiers) {
                    problems.push(e);
                }
            }
            (Some(_), None) => problems.push(AuditCheckError::NoProof(format!("{stem}.json"))),
            (None, _) => problems.push(AuditCheckError::Orphan(format!("{stem}.tlog-proof"))),
        }
    }
    if pairs.is_empty() && problems.is_empty() {
        problems.push(AuditCheckError::NoEntries);
    }
    if problems.is_empty() {
        Ok(pairs.len())
    } else {
        Err(problems)
    }
}

/// Checks one entry against its proof.
fn check_one(
    index: u64,
    stem: &str,
    entry: &[u8],
    proof: &[u8],
    note: &str,
    verifiers: &[Verifier],
) -> Result<(), AuditCheckError> {
    let name = format!("{stem}.tlog-proof");
    let text = std::str::from_utf8(proof).map_err(|_| AuditCheckError::NotUtf8(name.clone()))?;
    let proof = TlogProof::parse(text).map_err(|_| AuditCheckError::Malformed(name.clone()))?;
    if proof.index != index {
        return Err(AuditCheckError::WrongIndex(name, proof.index));
    }
    if proof.checkpoint_note != note {
        return Err(AuditCheckError::OtherCheckpoint(name));
    }
    proof
        .verify(entry, verifiers)
        .map_err(|e| AuditCheckError::Rejected(name, e.to_string()))?;
    Ok(())
}

/// `<index>.json` or `<index>.tlog-proof` with a zero-padded decimal index: returns the
/// index, the stem and whether it is the entry. Indices wider than the padding carry no
/// leading zero.
fn split_name(name: &str) -> Option<(u64, &str, bool)> {
    let (stem, is_entry) = match name.strip_suffix(".json") {
        Some(stem) => (stem, true),
        None => (name.strip_suffix(".tlog-proof")?, false),
    };
    let digits = stem.len() >= INDEX_DIGITS && stem.bytes().all(|b| b.is_ascii_digit());
    let padded = stem.len() == INDEX_DIGITS || !stem.starts_with('0');
    if !digits || !padded {
        return None;
    }
    Some((stem.parse().ok()?, stem, is_entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_twelve_digit_indices() {
        assert_eq!(
            split_name("000000000007.json"),
            Some((7, "000000000007", true))
        );
        assert_eq!(
            split_name("000000000007.tlog-proof"),
            Some((7, "000000000007", false))
        );
        assert_eq!(
            split_name("1234567890123.json").map(|t| t.0),
            Some(1234567890123)
        );
        for bad in [
            "7.json",
            "00000000000x.json",
            "000000000007.txt",
            "0000000000007.json",
        ] {
            assert_eq!(split_name(bad), None, "{bad}");
        }
    }
}
