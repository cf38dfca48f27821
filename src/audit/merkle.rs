//! RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashes, roots, proofs and their verifiers.
//!
//! Leaves hash as `SHA-256(0x00 ‖ data)`, interior nodes as `SHA-256(0x01 ‖ left ‖ right)`,
//! and a tree over `n > 1` leaves splits at the largest power of two strictly below `n`.
//! Everything here is pure: proofs are computed from any [`HashSource`] (a slice, or the
//! server's storage), and [`Frontier`] keeps the right edge of the tree so that appending is
//! O(log n) and its state fits in a few hundred bytes.

use sha2::{Digest, Sha256};

/// Size in bytes of every hash in the tree.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node or a root.
pub type Hash = [u8; HASH_SIZE];

/// Domain-separation prefix of leaf hashes (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior node hashes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// Why a proof could not be built or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf index is outside the tree")]
    IndexOutOfRange,
    /// The requested tree size is larger than the leaves available.
    #[error("tree size exceeds the number of leaves")]
    SizeOutOfRange,
    /// The two sizes of a consistency proof are not `0 < old <= new`.
    #[error("invalid pair of tree sizes")]
    InvalidSizes,
    /// The proof does not lead to the expected root(s).
    #[error("Merkle proof does not verify")]
    InvalidProof,
    /// Serialised frontier bytes are malformed.
    #[error("malformed frontier")]
    MalformedFrontier,
}

/// The hash of a leaf: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Random access to leaf hashes, so proofs can be computed from storage as well as memory.
pub trait HashSource {
    /// Number of leaf hashes available (indices `0..leaf_count()`).
    fn leaf_count(&self) -> u64;
    /// The hash of leaf `i`; only called with `i < leaf_count()`.
    fn leaf_hash(&self, i: u64) -> Hash;
}

impl HashSource for [Hash] {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }
    fn leaf_hash(&self, i: u64) -> Hash {
        self[usize::try_from(i).expect("index below the slice length fits usize")]
    }
}

impl HashSource for Vec<Hash> {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }
    fn leaf_hash(&self, i: u64) -> Hash {
        self.as_slice().leaf_hash(i)
    }
}

/// The Merkle Tree Hash (RFC 6962 MTH) of `leaf_hashes`; the empty tree hashes to `SHA-256("")`.
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    subtree_root(leaf_hashes, 0, leaf_hashes.len() as u64)
}

/// MTH of the leaves `start..end` of `source`; the caller guarantees `end <= leaf_count()`.
fn subtree_root<S: HashSource + ?Sized>(source: &S, start: u64, end: u64) -> Hash {
    let mut frontier = Frontier::new();
    for i in start..end {
        frontier.push(source.leaf_hash(i));
    }
    frontier.root()
}

/// The largest power of two strictly less than `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The inclusion proof (RFC 6962 PATH) of leaf `index` in the tree of the first `size` leaves,
/// ordered from the leaf's sibling upward.
///
/// Errors: [`MerkleError::IndexOutOfRange`] unless `index < size`,
/// [`MerkleError::SizeOutOfRange`] if `source` holds fewer than `size` leaves. Costs O(size).
pub fn inclusion_proof<S: HashSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if size > source.leaf_count() {
        return Err(MerkleError::SizeOutOfRange);
    }
    if index >= size {
        return Err(MerkleError::IndexOutOfRange);
    }
    let mut proof = Vec::new();
    path(source, index, 0, size, &mut proof);
    proof.reverse();
    Ok(proof)
}

/// Pushes PATH(m, D[start..end]) top-down (the caller reverses it).
fn path<S: HashSource + ?Sized>(source: &S, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        out.push(subtree_root(source, start + k, end));
        path(source, m, start, start + k, out);
    } else {
        out.push(subtree_root(source, start, start + k));
        path(source, m - k, start + k, end, out);
    }
}

/// The consistency proof (RFC 6962 PROOF(old, D[new])) between the trees of the first `old`
/// and `new` leaves. Empty when `old == new`.
///
/// Errors: [`MerkleError::InvalidSizes`] unless `0 < old <= new`,
/// [`MerkleError::SizeOutOfRange`] if `source` holds fewer than `new` leaves. Costs O(new).
pub fn consistency_proof<S: HashSource + ?Sized>(
    source: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if new > source.leaf_count() {
        return Err(MerkleError::SizeOutOfRange);
    }
    if old == 0 || old > new {
        return Err(MerkleError::InvalidSizes);
    }
    let mut proof = Vec::new();
    subproof(source, old, 0, new, true, &mut proof);
    proof.reverse();
    Ok(proof)
}

/// Pushes SUBPROOF(m, D[start..end], complete) top-down (the caller reverses it).
fn subproof<S: HashSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(subtree_root(source, start, end));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        out.push(subtree_root(source, start + k, end));
        subproof(source, m, start, start + k, complete, out);
    } else {
        out.push(subtree_root(source, start, start + k));
        subproof(source, m - k, start + k, end, false, out);
    }
}

/// Checks that `proof` shows `leaf_hash` at `index` in the tree of `size` leaves with `root`
/// (RFC 9162 §2.1.3.2).
///
/// Errors: [`MerkleError::IndexOutOfRange`] unless `index < size`; otherwise
/// [`MerkleError::InvalidProof`] for any mismatch.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(MerkleError::InvalidProof);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(MerkleError::InvalidProof)
    }
}

/// Checks that `proof` shows the tree of `old_size` leaves with `old_root` is a prefix of the
/// tree of `new_size` leaves with `new_root` (RFC 9162 §2.1.4.2).
///
/// Pre-checks: `old_size > new_size` and `old_size == 0` are [`MerkleError::InvalidSizes`];
/// equal sizes verify only with an empty proof and equal roots. Any other mismatch is
/// [`MerkleError::InvalidProof`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old_size > new_size || old_size == 0 {
        return Err(MerkleError::InvalidSizes);
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::InvalidProof)
        };
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(MerkleError::InvalidProof);
    };
    // For a power-of-two old size the old root is itself the first node of the path.
    let (start, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (*first, rest)
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (start, start);
    for c in rest {
        if s == 0 {
            return Err(MerkleError::InvalidProof);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr == *old_root && sr == *new_root && s == 0 {
        Ok(())
    } else {
        Err(MerkleError::InvalidProof)
    }
}

/// The right edge of a Merkle tree: one perfect-subtree root per set bit of the size, largest
/// first. Appending is O(log n); the root is computed from the edge alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the first `size` leaves of `source`. Costs O(size).
    ///
    /// Errors: [`MerkleError::SizeOutOfRange`] if `source` holds fewer than `size` leaves.
    pub fn from_source<S: HashSource + ?Sized>(source: &S, size: u64) -> Result<Self, MerkleError> {
        if size > source.leaf_count() {
            return Err(MerkleError::SizeOutOfRange);
        }
        let mut frontier = Self::new();
        for i in 0..size {
            frontier.push(source.leaf_hash(i));
        }
        Ok(frontier)
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash (not the leaf data: hash it with [`leaf_hash`] first).
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut node = leaf_hash;
        let mut size = self.size;
        // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        while size & 1 == 1 {
            let left = self.nodes.pop().expect("one node per set bit of the size");
            node = node_hash(&left, &node);
            size >>= 1;
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The Merkle Tree Hash of all leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(*last, |acc, left| node_hash(left, &acc))
    }

    /// Serialises as the size (8 bytes, big-endian) followed by the edge hashes, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.nodes.len() * HASH_SIZE);
        out.extend_from_slice(&self.size.to_be_bytes());
        for node in &self.nodes {
            out.extend_from_slice(node);
        }
        out
    }

    /// Parses the output of [`Frontier::to_bytes`].
    ///
    /// Errors: [`MerkleError::MalformedFrontier`] if the length does not match the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MerkleError> {
        let (size, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(MerkleError::MalformedFrontier)?;
        let size = u64::from_be_bytes(*size);
        if rest.len() != size.count_ones() as usize * HASH_SIZE {
            return Err(MerkleError::MalformedFrontier);
        }
        let nodes = rest
            .chunks_exact(HASH_SIZE)
            .map(|c| c.try_into().expect("chunks are HASH_SIZE long"))
            .collect();
        Ok(Self { size, nodes })
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
