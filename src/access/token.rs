//! API tokens: high-entropy random strings, stored only as a SHA-256 hash.
//!
//! A plain hash is enough here because the token has 256 bits of entropy; low-entropy
//! secrets (passwords, customer identifiers) never use this.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Every callvault API token starts with this, so secret scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "cvt_";

/// A freshly minted token: shown once to its owner, then only its hash is kept.
pub struct ApiToken {
    /// The secret token text.
    pub secret: Zeroizing<String>,
    /// SHA-256 of the token text, what the catalog stores.
    pub hash: [u8; 32],
}

/// Mints a new random token (256 bits from the OS generator).
pub fn new_token() -> ApiToken {
    let mut raw = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(raw.as_mut());
    let secret = Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(&raw[..])
    ));
    let hash = hash_token(&secret);
    ApiToken { secret, hash }
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let a = new_token();
        let b = new_token();
        assert!(a.secret.starts_with(TOKEN_PREFIX));
        assert_ne!(*a.secret, *b.secret);
        assert_eq!(hash_token(&a.secret), a.hash);
    }
}
