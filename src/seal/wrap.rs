//! Key-encryption keys and the wrapping of per-call data keys.
//!
//! Design: KEK version `v` is *derived* from the root key,
//! `KEK_v = HKDF-SHA-256(salt = "callvault/kek", IKM = root, info = "callvault kek v" ‖ v)`
//! with `v` as 4 big-endian bytes. Nothing but the version number is stored, and every
//! version can be re-derived, so rotating to a new KEK is "bump the current version and
//! re-wrap"; changing the root key means re-wrapping every data key.
//!
//! A data key is wrapped with AES-256-GCM under the current KEK, a random 12-byte nonce and
//! AAD binding the call id and the KEK version (length-prefixed), so a wrapped key copied
//! to another call, or relabelled with another version, does not unwrap.

use std::collections::BTreeMap;
use std::fmt;

use hkdf::Hkdf;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::aead::{Backend, KEY_SIZE, NONCE_SIZE, TAG_SIZE};
use super::context::put_field;
use super::datakey::DataKey;
use super::error::SealError;
use super::root::RootKey;

/// Length of a wrapped data key: nonce ‖ encrypted key ‖ tag.
pub const WRAPPED_KEY_SIZE: usize = NONCE_SIZE + KEY_SIZE + TAG_SIZE;

/// A versioned key-encryption key. Wiped when dropped; not `Debug`, not `Clone`.
pub struct Kek {
    version: u32,
    key: Zeroizing<[u8; KEY_SIZE]>,
}

impl Kek {
    /// Derives KEK `version` from the root key (see the module docs).
    pub fn derive(root: &RootKey, version: u32) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"callvault/kek"), root.expose());
        let mut key = Zeroizing::new([0u8; KEY_SIZE]);
        let mut info = b"callvault kek v".to_vec();
        info.extend_from_slice(&version.to_be_bytes());
        hkdf.expand(&info, key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA-256 output length");
        Kek { version, key }
    }

    /// This key's version.
    pub fn version(&self) -> u32 {
        self.version
    }
}

/// A data key encrypted under a KEK: safe to store in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// Version of the KEK that wrapped it.
    pub version: u32,
    /// Nonce ‖ ciphertext ‖ tag ([`WRAPPED_KEY_SIZE`] bytes), hex when serialised.
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
}

/// The KEK versions in service and which one wraps new keys.
pub struct KeyRing {
    keks: BTreeMap<u32, Kek>,
    current: u32,
    backend: Backend,
}

impl KeyRing {
    /// Derives KEK versions `1..=current` from the root key; `current` wraps new keys.
    ///
    /// # Errors
    /// [`SealError::UnknownKeyVersion`] if `current` is 0 (versions start at 1).
    pub fn from_root(root: &RootKey, current: u32) -> Result<Self, SealError> {
        if current == 0 {
            return Err(SealError::UnknownKeyVersion(0));
        }
        let keks = (1..=current).map(|v| (v, Kek::derive(root, v))).collect();
        Ok(KeyRing {
            keks,
            current,
            backend: Backend::default(),
        })
    }

    /// Uses `backend` for wrapping instead of the default.
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The version that wraps new keys.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Wraps `key` for call `call_id` under the current KEK.
    pub fn wrap(&self, call_id: &str, key: &DataKey) -> WrappedKey {
        let kek = &self.keks[&self.current];
        let mut nonce = [0u8; NONCE_SIZE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut bytes = Vec::with_capacity(WRAPPED_KEY_SIZE);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(key.expose());
        let aad = wrap_aad(call_id, kek.version);
        let tag = self
            .backend
            .key(&kek.key)
            .seal_in_place(&nonce, &aad, &mut bytes[NONCE_SIZE..]);
        bytes.extend_from_slice(&tag);
        WrappedKey {
            version: kek.version,
            bytes,
        }
    }

    /// Unwraps the data key of call `call_id`.
    ///
    /// # Errors
    /// [`SealError::UnknownKeyVersion`] if the ring lacks the KEK version;
    /// [`SealError::Integrity`] if the wrapped key is malformed, was altered, belongs to
    /// another call or version, or was wrapped under another root key.
    pub fn unwrap(&self, call_id: &str, wrapped: &WrappedKey) -> Result<DataKey, SealError> {
        let kek = self
            .keks
            .get(&wrapped.version)
            .ok_or(SealError::UnknownKeyVersion(wrapped.version))?;
        if wrapped.bytes.len() != WRAPPED_KEY_SIZE {
            return Err(SealError::Integrity);
        }
        let (nonce, rest) = wrapped.bytes.split_at(NONCE_SIZE);
        let (ct, tag) = rest.split_at(KEY_SIZE);
        let nonce: &[u8; NONCE_SIZE] = nonce.try_into().map_err(|_| SealError::Integrity)?;
        let tag: &[u8; TAG_SIZE] = tag.try_into().map_err(|_| SealError::Integrity)?;
        let mut key = Zeroizing::new([0u8; KEY_SIZE]);
        key.copy_from_slice(ct);
        self.backend.key(&kek.key).open_in_place(
            nonce,
            &wrap_aad(call_id, kek.version),
            key.as_mut(),
            tag,
        )?;
        DataKey::from_bytes(key.as_ref())
    }

    /// Re-wraps a key under the current KEK (for rotation).
    ///
    /// # Errors
    /// As for [`KeyRing::unwrap`].
    pub fn rewrap(&self, call_id: &str, wrapped: &WrappedKey) -> Result<WrappedKey, SealError> {
        Ok(self.wrap(call_id, &self.unwrap(call_id, wrapped)?))
    }
}

impl fmt::Debug for KeyRing {
    /// Shows versions only, never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("versions", &self.keks.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .field("backend", &self.backend)
            .finish()
    }
}

/// AAD of a wrapped key: a label, the call id and the KEK version, each length-prefixed.
fn wrap_aad(call_id: &str, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(call_id.len() + 32);
    put_field(&mut aad, b"callvault/wrap");
    put_field(&mut aad, call_id.as_bytes());
    put_field(&mut aad, &version.to_be_bytes());
    aad
}

/// Serialises bytes as a hex string.
mod hex_bytes {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(byte: u8) -> RootKey {
        RootKey::from_test_bytes([byte; 32])
    }

    fn ring(current: u32) -> KeyRing {
        KeyRing::from_root(&root(1), current).unwrap()
    }

    #[test]
    fn a_wrapped_key_unwraps_for_its_call_on_both_backends() {
        let dk = DataKey::generate();
        for backend in Backend::ALL {
            let wrapped = ring(2).with_backend(backend).wrap("call-1", &dk);
            assert_eq!(wrapped.version, 2);
            assert_eq!(wrapped.bytes.len(), WRAPPED_KEY_SIZE);
            for other in Backend::ALL {
                let back = ring(2)
                    .with_backend(other)
                    .unwrap("call-1", &wrapped)
                    .unwrap();
                assert_eq!(back.expose(), dk.expose());
            }
        }
    }

    #[test]
    fn a_wrapped_key_moved_to_another_call_fails() {
        let wrapped = ring(1).wrap("call-1", &DataKey::generate());
        for other in ["call-2", "call-1 ", "", "call-"] {
            assert!(matches!(
                ring(1).unwrap(other, &wrapped),
                Err(SealError::Integrity)
            ));
        }
    }

    #[test]
    fn a_relabelled_version_or_another_root_fails() {
        let wrapped = ring(2).wrap("c", &DataKey::generate());
        let relabelled = WrappedKey {
            version: 1,
            ..wrapped.clone()
        };
        assert!(matches!(
            ring(2).unwrap("c", &relabelled),
            Err(SealError::Integrity)
        ));
        let other_root = KeyRing::from_root(&root(2), 2).unwrap();
        assert!(matches!(
            other_root.unwrap("c", &wrapped),
            Err(SealError::Integrity)
        ));
        assert!(matches!(
            ring(1).unwrap("c", &wrapped),
            Err(SealError::UnknownKeyVersion(2))
        ));
    }

    #[test]
    fn every_flipped_bit_or_truncation_of_a_wrapped_key_fails() {
        let wrapped = ring(1).wrap("c", &DataKey::generate());
        for i in 0..wrapped.bytes.len() * 8 {
            let mut bad = wrapped.clone();
            bad.bytes[i / 8] ^= 1 << (i % 8);
            assert!(ring(1).unwrap("c", &bad).is_err(), "bit {i}");
        }
        for len in 0..wrapped.bytes.len() {
            let mut bad = wrapped.clone();
            bad.bytes.truncate(len);
            assert!(ring(1).unwrap("c", &bad).is_err(), "length {len}");
        }
    }

    #[test]
    fn rewrapping_moves_a_key_to_the_current_version() {
        let dk = DataKey::generate();
        let old = ring(1).wrap("c", &dk);
        let new = ring(3).rewrap("c", &old).unwrap();
        assert_eq!(new.version, 3);
        assert_eq!(ring(3).unwrap("c", &new).unwrap().expose(), dk.expose());
    }

    #[test]
    fn keks_differ_by_version_and_version_zero_is_refused() {
        let r = root(1);
        assert_ne!(*Kek::derive(&r, 1).key, *Kek::derive(&r, 2).key);
        assert_eq!(*Kek::derive(&r, 1).key, *Kek::derive(&r, 1).key);
        assert!(KeyRing::from_root(&r, 0).is_err());
    }

    #[test]
    fn wrapped_keys_serialise_as_hex_and_debug_shows_no_key() {
        let wrapped = ring(1).wrap("c", &DataKey::generate());
        let json = serde_json::to_string(&wrapped).unwrap();
        assert!(json.contains(&hex::encode(&wrapped.bytes)));
        assert_eq!(serde_json::from_str::<WrappedKey>(&json).unwrap(), wrapped);
        let debug = format!("{:?}", ring(2));
        assert_eq!(
            debug,
            "KeyRing { versions: [1, 2], current: 2, backend: AwsLc }"
        );
    }
}
