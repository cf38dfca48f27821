//! The root key: from an operator passphrase (Argon2id) or from a key file.
//!
//! Everything else derives from the root key (see `wrap`), so it is the one secret an
//! operator must keep. A passphrase goes through Argon2id with RFC 9106's second
//! recommended setting (t = 3, p = 4, 64 MiB) and a random 16-byte salt; the parameters,
//! salt included, are stored next to the data as [`KdfParams`] so that the same passphrase
//! gives the same key later.
//!
//! Key file format: exactly 32 raw bytes, or 64 hexadecimal digits optionally surrounded
//! by ASCII whitespace (a trailing newline is fine). On unix the file must not be readable
//! or writable by group or others (`chmod 600`), as ssh insists for private keys.

use std::fs;
use std::io::Write;
use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::SealError;

/// Length of the root key in bytes.
pub const ROOT_KEY_SIZE: usize = 32;
/// Length of the Argon2id salt in bytes.
pub const KDF_SALT_SIZE: usize = 16;

/// The passphrase KDF; only Argon2id (version 0x13) exists so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KdfAlgorithm {
    /// Argon2id, version 0x13 (RFC 9106).
    #[serde(rename = "argon2id")]
    Argon2id,
}

/// Argon2id parameters and salt, stored with the key so the derivation can be repeated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// The KDF.
    pub algorithm: KdfAlgorithm,
    /// Number of passes over memory (t).
    pub t_cost: u32,
    /// Memory in KiB (m).
    pub m_cost_kib: u32,
    /// Degree of parallelism (p).
    pub p_cost: u32,
    /// Random salt, hex-encoded when serialised.
    #[serde(with = "hex_salt")]
    pub salt: [u8; KDF_SALT_SIZE],
}

impl KdfParams {
    /// RFC 9106's second recommended setting (t = 3, p = 4, 64 MiB) with a fresh salt.
    pub fn recommended() -> Self {
        let mut salt = [0u8; KDF_SALT_SIZE];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KdfParams {
            algorithm: KdfAlgorithm::Argon2id,
            t_cost: 3,
            m_cost_kib: 64 * 1024,
            p_cost: 4,
            salt,
        }
    }
}

/// The key at the top of the hierarchy; key-encryption keys derive from it.
///
/// Wiped when dropped; neither `Debug` nor `Clone`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RootKey([u8; ROOT_KEY_SIZE]);

impl RootKey {
    /// Draws a fresh random root key (to be saved with [`RootKey::write_key_file`]).
    pub fn generate() -> Self {
        let mut key = RootKey([0u8; ROOT_KEY_SIZE]);
        rand::rngs::OsRng.fill_bytes(&mut key.0);
        key
    }

    /// Derives the root key from an operator passphrase with Argon2id.
    ///
    /// # Errors
    /// [`SealError::Kdf`] if Argon2 rejects the parameters or cannot allocate its memory.
    pub fn from_passphrase(passphrase: &[u8], params: &KdfParams) -> Result<Self, SealError> {
        let KdfAlgorithm::Argon2id = params.algorithm;
        let argon_params = argon2::Params::new(
            params.m_cost_kib,
            params.t_cost,
            params.p_cost,
            Some(ROOT_KEY_SIZE),
        )
        .map_err(|e| SealError::Kdf(e.to_string()))?;
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon_params,
        );
        let mut key = RootKey([0u8; ROOT_KEY_SIZE]);
        argon
            .hash_password_into(passphrase, &params.salt, &mut key.0)
            .map_err(|e| SealError::Kdf(e.to_string()))?;
        Ok(key)
    }

    /// Reads a key file (32 raw bytes or 64 hex digits, see the module docs).
    ///
    /// # Errors
    /// [`SealError::KeyFilePermissions`] if group or others may access the file (unix),
    /// [`SealError::BadKeyFile`] if its content has neither form, [`SealError::Io`] if it
    /// cannot be read.
    pub fn from_key_file(path: &Path) -> Result<Self, SealError> {
        check_permissions(path)?;
        let content = Zeroizing::new(fs::read(path)?);
        let mut key = RootKey([0u8; ROOT_KEY_SIZE]);
        if content.len() == ROOT_KEY_SIZE {
            key.0.copy_from_slice(&content);
            return Ok(key);
        }
        let text = content.trim_ascii();
        hex::decode_to_slice(text, &mut key.0).map_err(|_| SealError::BadKeyFile)?;
        Ok(key)
    }

    /// Writes this key as 64 hex digits and a newline to a new file, readable by the
    /// owner only on unix.
    ///
    /// # Errors
    /// [`SealError::Io`] if the file exists already or cannot be written.
    pub fn write_key_file(&self, path: &Path) -> Result<(), SealError> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        let mut text = Zeroizing::new(hex::encode(self.0));
        text.push('\n');
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        Ok(())
    }

    /// A fixed key for tests elsewhere in the module.
    #[cfg(test)]
    pub(crate) fn from_test_bytes(bytes: [u8; ROOT_KEY_SIZE]) -> Self {
        RootKey(bytes)
    }

    /// The raw key, for deriving key-encryption keys.
    pub(crate) fn expose(&self) -> &[u8; ROOT_KEY_SIZE] {
        &self.0
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), SealError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(SealError::KeyFilePermissions {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), SealError> {
    Ok(())
}

/// Serialises the salt as a hex string.
mod hex_salt {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use super::KDF_SALT_SIZE;

    pub fn serialize<S: Serializer>(salt: &[u8; KDF_SALT_SIZE], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(salt))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; KDF_SALT_SIZE], D::Error> {
        let text = String::deserialize(d)?;
        let mut salt = [0u8; KDF_SALT_SIZE];
        hex::decode_to_slice(text, &mut salt).map_err(D::Error::custom)?;
        Ok(salt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap_params(salt: u8) -> KdfParams {
        KdfParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
            salt: [salt; KDF_SALT_SIZE],
            ..KdfParams::recommended()
        }
    }

    #[test]
    fn the_recommended_setting_is_rfc_9106_second_and_deterministic_per_salt() {
        let params = KdfParams::recommended();
        assert_eq!(
            (params.t_cost, params.m_cost_kib, params.p_cost),
            (3, 65536, 4)
        );
        let a = RootKey::from_passphrase(b"correct horse", &params).unwrap();
        let cheap = RootKey::from_passphrase(b"correct horse", &cheap_params(0)).unwrap();
        assert_ne!(a.expose(), cheap.expose());
        assert_ne!(a.expose(), &[0u8; ROOT_KEY_SIZE]);
    }

    #[test]
    fn the_same_passphrase_and_salt_give_the_same_key() {
        let a = RootKey::from_passphrase(b"pass", &cheap_params(1)).unwrap();
        let b = RootKey::from_passphrase(b"pass", &cheap_params(1)).unwrap();
        let other_salt = RootKey::from_passphrase(b"pass", &cheap_params(2)).unwrap();
        let other_pass = RootKey::from_passphrase(b"Pass", &cheap_params(1)).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), other_salt.expose());
        assert_ne!(a.expose(), other_pass.expose());
    }

    #[test]
    fn params_round_trip_through_json_with_a_hex_salt() {
        let params = cheap_params(0xAB);
        let json = serde_json::to_string(&params).unwrap();
        assert!(json.contains("\"argon2id\""));
        assert!(json.contains(&"ab".repeat(KDF_SALT_SIZE)));
        assert_eq!(serde_json::from_str::<KdfParams>(&json).unwrap(), params);
    }

    #[test]
    fn invalid_argon2_params_are_a_kdf_error() {
        let params = KdfParams {
            p_cost: 0,
            ..cheap_params(0)
        };
        assert!(matches!(
            RootKey::from_passphrase(b"x", &params),
            Err(SealError::Kdf(_))
        ));
    }

    #[test]
    fn a_written_key_file_reads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let key = RootKey::generate();
        key.write_key_file(&path).unwrap();
        assert_eq!(
            RootKey::from_key_file(&path).unwrap().expose(),
            key.expose()
        );
        assert!(key.write_key_file(&path).is_err(), "never overwrites");
    }

    #[cfg(unix)]
    fn write_private(path: &Path, content: &[u8]) {
        use std::os::unix::fs::PermissionsExt;
        fs::write(path, content).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn key_files_may_be_raw_or_hex_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_private(&path, &[7u8; 32]);
        assert_eq!(RootKey::from_key_file(&path).unwrap().expose(), &[7u8; 32]);
        write_private(&path, format!("  {}\n", "07".repeat(32)).as_bytes());
        assert_eq!(RootKey::from_key_file(&path).unwrap().expose(), &[7u8; 32]);
        for bad in [
            &b"07"[..],
            &[7u8; 31],
            &[7u8; 33],
            "zz".repeat(32).as_bytes(),
        ] {
            write_private(&path, bad);
            assert!(matches!(
                RootKey::from_key_file(&path),
                Err(SealError::BadKeyFile)
            ));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_private(&path, &[7u8; 32]);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = RootKey::from_key_file(&path).err().unwrap();
        assert!(matches!(err, SealError::KeyFilePermissions { .. }));
        assert!(err.to_string().contains("chmod 600"));
    }
}
