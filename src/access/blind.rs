//! The keyed blind index for customer lookup: HMAC-SHA-256 under a dedicated key of a
//! canonical identifier. A plain hash would not do — there are only 10^11 mobile
//! numbers, so anyone with the catalog could hash them all; without the key the MACs
//! reveal nothing and cannot be tested against guesses.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::redact::identifiers::IdentifierKind;

/// Size of a blind-index MAC.
pub const MAC_SIZE: usize = 32;

/// The blind-index key; zeroized on drop, never printed.
pub struct BlindIndex {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndex(..)")
    }
}

impl BlindIndex {
    /// An index under `key` (a dedicated random secret, not reused for anything else).
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { key }
    }

    /// The MAC of a canonical identifier of `kind`. The kind is bound in, so a phone
    /// number never matches an equal digit string of another kind.
    pub fn mac(&self, kind: IdentifierKind, canonical: &str) -> [u8; MAC_SIZE] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .expect("HMAC takes keys of any length");
        m.update(b"callvault blind index v1\0");
        m.update(kind.as_str().as_bytes());
        m.update(b"\0");
        m.update(canonical.as_bytes());
        m.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_key_kind_and_value() {
        let a = BlindIndex::new(Zeroizing::new([1; 32]));
        let b = BlindIndex::new(Zeroizing::new([2; 32]));
        let m = a.mac(IdentifierKind::Phone, "13812345678");
        assert_eq!(m, a.mac(IdentifierKind::Phone, "13812345678"));
        assert_ne!(m, b.mac(IdentifierKind::Phone, "13812345678"));
        assert_ne!(m, a.mac(IdentifierKind::Phone, "13812345679"));
        assert_ne!(
            a.mac(IdentifierKind::CardNumber, "4111111111111111"),
            a.mac(IdentifierKind::IdNumber, "4111111111111111")
        );
        // The MAC is not the plain SHA-256 of the value.
        use sha2::Digest;
        let plain: [u8; 32] = Sha256::digest(b"13812345678").into();
        assert_ne!(m, plain);
    }

    #[test]
    fn debug_shows_no_key() {
        let a = BlindIndex::new(Zeroizing::new([7; 32]));
        assert_eq!(format!("{a:?}"), "BlindIndex(..)");
    }
}
