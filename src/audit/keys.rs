//! The audit log's two secrets: the Ed25519 key that signs checkpoints and the HMAC key
//! that tags every leaf with its index. Both are made at first start and kept in the
//! catalog wrapped under the root key, so whoever can rewrite the database without the
//! root key can neither forge a checkpoint nor re-tag an edited, moved or inserted leaf.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::merkle::Hash;
use super::note::Signer;

/// Size of a leaf MAC and of the MAC key, bytes.
pub const MAC_SIZE: usize = 32;

/// The key of the per-leaf MACs. Zeroized on drop; not `Debug`.
pub struct MacKey(Zeroizing<[u8; MAC_SIZE]>);

impl MacKey {
    /// A key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; MAC_SIZE]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key from the operating system.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; MAC_SIZE]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes[..]);
        Self::from_bytes(*bytes)
    }

    fn hmac(&self, index: u64, leaf_hash: &Hash) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("HMAC accepts any key length");
        mac.update(&index.to_be_bytes());
        mac.update(leaf_hash);
        mac
    }

    /// `HMAC-SHA-256(key, big-endian index ‖ leaf hash)`, the leaf hash being the RFC 6962
    /// one ([`super::merkle::leaf_hash`]): binds the leaf to its position. Tagging the
    /// hash rather than the leaf costs one short HMAC instead of a second pass over the
    /// leaf, and is as binding since the hash is collision-resistant.
    pub fn tag(&self, index: u64, leaf_hash: &Hash) -> [u8; MAC_SIZE] {
        self.hmac(index, leaf_hash).finalize().into_bytes().into()
    }

    /// Whether `mac` is the tag of the leaf hashing to `leaf_hash` at `index`
    /// (constant-time comparison).
    pub fn check(&self, index: u64, leaf_hash: &Hash, mac: &[u8]) -> bool {
        self.hmac(index, leaf_hash).verify_slice(mac).is_ok()
    }
}

/// Both audit secrets; cheap to clone.
#[derive(Clone)]
pub struct AuditKeys {
    /// Signs checkpoints; its name is the log's origin.
    pub signer: Arc<Signer>,
    /// Tags leaves.
    pub mac: Arc<MacKey>,
}

impl AuditKeys {
    /// Keys from a signer and a MAC key.
    pub fn new(signer: Signer, mac: MacKey) -> Self {
        Self {
            signer: Arc::new(signer),
            mac: Arc::new(mac),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::leaf_hash;

    #[test]
    fn a_tag_checks_only_for_its_index_leaf_and_key() {
        let key = MacKey::from_bytes([7; 32]);
        let (leaf, other) = (leaf_hash(b"leaf"), leaf_hash(b"leaf!"));
        let tag = key.tag(3, &leaf);
        assert!(key.check(3, &leaf, &tag));
        assert!(!key.check(4, &leaf, &tag));
        assert!(!key.check(3, &other, &tag));
        assert!(!MacKey::from_bytes([8; 32]).check(3, &leaf, &tag));
        assert!(!key.check(3, &leaf, &tag[..31]));
    }
}
