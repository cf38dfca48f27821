//! The vault's Ed25519 export signing key and SSHSIG over the tag manifest.

use rand::RngCore;
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use zeroize::Zeroizing;

use super::{ExportError, SIG_NAMESPACE};

/// The comment on the export key's OpenSSH public line.
pub const KEY_COMMENT: &str = "callvault-export";

/// The vault's Ed25519 export signing key.
///
/// Neither `Clone` nor a `Debug` that shows the secret: the private half is zeroized when the
/// key is dropped, and `Debug` prints only the public key's fingerprint.
pub struct ExportKey {
    private: PrivateKey,
}

impl ExportKey {
    /// Builds the key from its 32-byte Ed25519 seed; the caller keeps (and zeroizes) the seed.
    pub fn from_seed(seed: &[u8; 32]) -> ExportKey {
        let keypair = Ed25519Keypair::from_seed(seed);
        // An Ed25519 keypair with a non-empty comment is always a valid private key.
        let private = PrivateKey::new(KeypairData::Ed25519(keypair), KEY_COMMENT)
            .expect("an Ed25519 keypair is a valid private key");
        ExportKey { private }
    }

    /// Generates a fresh key from the operating system's random number generator.
    pub fn generate() -> ExportKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(seed.as_mut());
        ExportKey::from_seed(&seed)
    }

    /// The public half, with the comment `callvault-export`.
    pub fn public_key(&self) -> PublicKey {
        self.private.public_key().clone()
    }

    /// The public half as one OpenSSH line, `ssh-ed25519 AAAA... callvault-export`, without
    /// a trailing newline.
    pub fn public_openssh(&self) -> String {
        self.public_key()
            .to_openssh()
            .expect("an Ed25519 public key always encodes")
    }

    /// Signs `msg` as an armored `SSH SIGNATURE` (namespace [`SIG_NAMESPACE`], hash sha512),
    /// ending with a newline, as `ssh-keygen -Y sign` writes it.
    ///
    /// Ed25519 is deterministic, so the same key and message give the same signature.
    ///
    /// # Errors
    /// [`ExportError::Sign`] if signing or encoding fails.
    pub fn sign_sshsig(&self, msg: &[u8]) -> Result<String, ExportError> {
        let sig = self
            .private
            .sign(SIG_NAMESPACE, HashAlg::Sha512, msg)
            .map_err(|_| ExportError::Sign)?;
        let mut pem = sig.to_pem(LineEnding::LF).map_err(|_| ExportError::Sign)?;
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        Ok(pem)
    }
}

impl std::fmt::Debug for ExportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportKey")
            .field(
                "public",
                &self.private.fingerprint(HashAlg::Sha256).to_string(),
            )
            .finish_non_exhaustive()
    }
}

/// Checks an armored SSHSIG over `msg` made by `public` in namespace [`SIG_NAMESPACE`] with
/// hash sha512.
///
/// # Errors
/// [`ExportError::BadSignature`] for any failure — malformed armor, another key, another
/// namespace, another hash or a signature that does not match — so callers learn nothing more.
pub fn verify_sshsig(public: &PublicKey, msg: &[u8], armored: &str) -> Result<(), ExportError> {
    let sig = SshSig::from_pem(armored.trim_end()).map_err(|_| ExportError::BadSignature)?;
    if sig.hash_alg() != HashAlg::Sha512 {
        return Err(ExportError::BadSignature);
    }
    public
        .verify(SIG_NAMESPACE, msg, &sig)
        .map_err(|_| ExportError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ExportKey {
        ExportKey::from_seed(&[7u8; 32])
    }

    #[test]
    fn public_openssh_is_one_ed25519_line_with_the_export_comment() {
        let line = key().public_openssh();
        assert!(line.starts_with("ssh-ed25519 AAAA"), "{line}");
        assert!(line.ends_with(" callvault-export"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_same_seed_gives_the_same_key_and_signature() {
        assert_eq!(key().public_openssh(), key().public_openssh());
        assert_eq!(
            key().sign_sshsig(b"m").unwrap(),
            key().sign_sshsig(b"m").unwrap()
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            ExportKey::generate().public_openssh(),
            ExportKey::generate().public_openssh()
        );
    }

    #[test]
    fn a_signature_is_armored_and_verifies() {
        let sig = key().sign_sshsig(b"tag manifest").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");
        assert!(sig.ends_with("-----END SSH SIGNATURE-----\n"), "{sig}");
        verify_sshsig(&key().public_key(), b"tag manifest", &sig).unwrap();
    }

    #[test]
    fn a_changed_message_does_not_verify() {
        let sig = key().sign_sshsig(b"tag manifest").unwrap();
        let err = verify_sshsig(&key().public_key(), b"tag manifesT", &sig).unwrap_err();
        assert!(matches!(err, ExportError::BadSignature));
    }

    #[test]
    fn another_key_does_not_verify() {
        let sig = key().sign_sshsig(b"m").unwrap();
        let other = ExportKey::from_seed(&[8u8; 32]).public_key();
        assert!(matches!(
            verify_sshsig(&other, b"m", &sig),
            Err(ExportError::BadSignature)
        ));
    }

    #[test]
    fn another_namespace_does_not_verify() {
        let sig = key()
            .private
            .sign("file", HashAlg::Sha512, b"m")
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap();
        assert!(matches!(
            verify_sshsig(&key().public_key(), b"m", &sig),
            Err(ExportError::BadSignature)
        ));
    }

    #[test]
    fn a_sha256_signature_is_refused() {
        let sig = key()
            .private
            .sign(SIG_NAMESPACE, HashAlg::Sha256, b"m")
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap();
        assert!(matches!(
            verify_sshsig(&key().public_key(), b"m", &sig),
            Err(ExportError::BadSignature)
        ));
    }

    #[test]
    fn garbage_armor_does_not_verify() {
        assert!(matches!(
            verify_sshsig(&key().public_key(), b"m", "not a signature"),
            Err(ExportError::BadSignature)
        ));
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let shown = format!("{:?}", key());
        assert!(shown.contains("SHA256:"), "{shown}");
        assert!(!shown.contains("0707"), "{shown}");
    }
}
