//! The 35 Wycheproof vectors of c2sp.org/chunked-encryption, AES-256-GCM (Cobblestone-256),
//! loaded at run time from ../shared/vectors/wycheproof.

use std::io::{Cursor, Read};

use serde::Deserialize;
use sha2::{Digest, Sha512};

use super::chunk::CHUNK_SIZE;
use super::datakey::{derive, SALT_SIZE};
use super::*;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json"
);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VectorFile {
    number_of_tests: usize,
    test_groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    tests: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    tc_id: u32,
    key: String,
    ctx: String,
    ct: String,
    aead_key: Option<String>,
    base_nonce: Option<String>,
    msg_length: Option<usize>,
    msg_sha512: Option<String>,
    result: String,
    flags: Vec<String>,
}

impl Case {
    fn valid(&self) -> bool {
        self.result == "valid"
    }
    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
    fn ctx(&self) -> Vec<u8> {
        hex::decode(&self.ctx).unwrap()
    }
    /// The decompressed ciphertext (the file stores it zlib-compressed, then hex).
    fn ct(&self) -> Vec<u8> {
        let compressed = hex::decode(&self.ct).unwrap();
        let mut ct = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .read_to_end(&mut ct)
            .unwrap();
        ct
    }
    fn raw_keys(&self) -> Option<([u8; KEY_SIZE], [u8; NONCE_SIZE])> {
        let key = hex::decode(self.aead_key.as_ref()?).unwrap();
        let nonce = hex::decode(self.base_nonce.as_ref()?).unwrap();
        Some((key.try_into().unwrap(), nonce.try_into().unwrap()))
    }
    /// What a streaming decryptor may release: the whole message for a valid case, the
    /// `PartialPlaintext` prefix for such an invalid case, nothing otherwise.
    fn allowed_release(&self) -> (usize, String) {
        match (&self.msg_length, &self.msg_sha512) {
            (Some(len), Some(sha)) if self.valid() || self.has("PartialPlaintext") => {
                (*len, sha.clone())
            }
            _ => (0, hex::encode(Sha512::digest([]))),
        }
    }
    /// Checks what a decryption released and returned against the case.
    fn check(&self, what: &str, released: &[u8], result: Result<(), IntegrityError>) {
        let id = self.tc_id;
        assert_eq!(result.is_ok(), self.valid(), "tc {id} {what}: result");
        let (len, sha) = self.allowed_release();
        assert_eq!(released.len(), len, "tc {id} {what}: released length");
        assert_eq!(
            hex::encode(Sha512::digest(released)),
            sha,
            "tc {id} {what}: SHA-512"
        );
    }
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(FILE).expect("vector file present");
    let file: VectorFile = serde_json::from_str(&text).unwrap();
    let cases: Vec<Case> = file.test_groups.into_iter().flat_map(|g| g.tests).collect();
    assert_eq!(cases.len(), file.number_of_tests);
    cases
}

/// Streams `ct` through `dec` in `piece`-sized pushes, checking that a failed push keeps
/// failing; returns what was released and the overall result.
fn stream(mut dec: Decryptor, ct: &[u8], piece: usize) -> (Vec<u8>, Result<(), IntegrityError>) {
    let mut out = Vec::new();
    for part in ct.chunks(piece.max(1)) {
        if let Err(e) = dec.push(part, &mut out) {
            let before = out.len();
            assert!(dec.push(&[], &mut out).is_err(), "keeps failing");
            assert!(dec.push(part, &mut out).is_err(), "keeps failing");
            assert!(dec.finish(&mut out).is_err(), "never a clean end");
            assert_eq!(out.len(), before, "nothing released after the error");
            return (out, Err(e));
        }
    }
    let result = dec.finish(&mut out);
    (out, result)
}

#[test]
fn the_file_holds_35_cases_and_invalid_key_sizes_are_refused() {
    let cases = cases();
    assert_eq!(cases.len(), 35);
    for case in cases.iter().filter(|c| c.has("InvalidKeySize")) {
        assert!(!case.valid());
        let key = hex::decode(&case.key).unwrap();
        assert!(matches!(
            DataKey::from_bytes(&key),
            Err(SealError::BadKeyLength { expected: 32, .. })
        ));
    }
}

#[test]
fn streaming_decryption_meets_every_vector_on_both_backends() {
    for case in cases() {
        let Ok(key) = DataKey::from_bytes(&hex::decode(&case.key).unwrap()) else {
            assert!(case.has("InvalidKeySize"), "tc {}", case.tc_id);
            continue;
        };
        let ct = case.ct();
        for backend in Backend::ALL {
            // Byte-sized pushes only where they stay cheap (not the 4 MiB cases).
            let tiny = if ct.len() < 100_000 { 7 } else { 1000 };
            for piece in [ct.len(), 1000, 16400, 16401, tiny] {
                let (out, result) = stream(Decryptor::new(&key, &case.ctx(), backend), &ct, piece);
                case.check(&format!("{backend:?} stream/{piece}"), &out, result);
            }
            let whole = open(&key, &case.ctx(), &ct, backend);
            assert_eq!(whole.is_ok(), case.valid(), "tc {} open", case.tc_id);
        }
    }
}

#[test]
fn raw_mode_meets_every_vector_with_an_aead_key() {
    let mut checked = 0;
    for case in cases() {
        let Some((aead_key, nonce)) = case.raw_keys() else {
            assert!(case.has("HeaderFailure"), "tc {}", case.tc_id);
            continue;
        };
        let body = &case.ct()[HEADER_SIZE..];
        for backend in Backend::ALL {
            for piece in [body.len(), 4099] {
                let (out, result) = stream(Decryptor::raw(&aead_key, nonce, backend), body, piece);
                case.check(&format!("raw {backend:?}/{piece}"), &out, result);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 25);
}

#[test]
fn the_derivation_reproduces_every_published_aead_key_and_base_nonce() {
    for case in cases() {
        let Some((aead_key, nonce)) = case.raw_keys() else {
            continue;
        };
        let key = DataKey::from_bytes(&hex::decode(&case.key).unwrap()).unwrap();
        let ct = case.ct();
        let salt: [u8; SALT_SIZE] = ct[..SALT_SIZE].try_into().unwrap();
        let keys = derive(&key, &salt, &case.ctx());
        assert_eq!(
            (*keys.aead_key, keys.base_nonce),
            (aead_key, nonce),
            "tc {}",
            case.tc_id
        );
    }
}

#[test]
fn re_encrypting_a_valid_message_reproduces_its_ciphertext_byte_for_byte() {
    for case in cases().iter().filter(|c| c.valid()) {
        let key = DataKey::from_bytes(&hex::decode(&case.key).unwrap()).unwrap();
        let ct = case.ct();
        let plaintext = open(&key, &case.ctx(), &ct, Backend::AwsLc).unwrap();
        let salt: [u8; SALT_SIZE] = ct[..SALT_SIZE].try_into().unwrap();
        for backend in Backend::ALL {
            let mut enc = Encryptor::with_salt(&key, &case.ctx(), &salt, backend);
            let mut out = Vec::new();
            for part in plaintext.chunks(5000) {
                enc.push(part, &mut out);
            }
            enc.finish(&mut out);
            assert!(out == ct, "tc {} {backend:?}", case.tc_id);
        }
    }
}

#[test]
fn final_chunk_authentication_succeeds_only_for_valid_and_valid_final_chunk_cases() {
    for case in cases() {
        let Ok(key) = DataKey::from_bytes(&hex::decode(&case.key).unwrap()) else {
            continue;
        };
        let ct = case.ct();
        let expected = case.valid() || case.has("ValidFinalChunk");
        let ra = RandomAccess::new(Cursor::new(&ct), &key, &case.ctx(), Backend::AwsLc);
        assert_eq!(ra.is_ok(), expected, "tc {}", case.tc_id);
        if let Some((aead_key, nonce)) = case.raw_keys() {
            let body = Cursor::new(&ct[HEADER_SIZE..]);
            let raw = RandomAccess::raw(body, &aead_key, nonce, Backend::RustCrypto);
            assert_eq!(raw.is_ok(), expected, "tc {} raw", case.tc_id);
        }
        if let (Ok(ra), true) = (ra, case.valid()) {
            assert_eq!(
                Some(ra.len() as usize),
                case.msg_length,
                "tc {}",
                case.tc_id
            );
        }
    }
}

#[test]
fn random_access_reads_match_the_stream_inside_valid_chunks() {
    let chunk = CHUNK_SIZE as u64;
    for case in cases() {
        let Ok(key) = DataKey::from_bytes(&hex::decode(&case.key).unwrap()) else {
            continue;
        };
        let ct = case.ct();
        let Ok(mut ra) = RandomAccess::new(Cursor::new(&ct), &key, &case.ctx(), Backend::AwsLc)
        else {
            continue;
        };
        let (prefix, _) = stream(
            Decryptor::new(&key, &case.ctx(), Backend::AwsLc),
            &ct,
            ct.len(),
        );
        let good = prefix.len() as u64;
        let len = ra.len();
        let ranges = [
            0..len,
            0..good,
            good / 3..good,
            chunk - 3..chunk + 5,
            len / 2..len,
        ];
        for range in ranges
            .into_iter()
            .filter(|r| r.start <= r.end && r.end <= len)
        {
            let read = ra.read_range(range.clone());
            if range.end <= good {
                let expected = &prefix[range.start as usize..range.end as usize];
                assert_eq!(read.unwrap(), expected, "tc {} {range:?}", case.tc_id);
            } else {
                // Past the verified prefix only a valid case, or the final chunk, may read.
                let inside_final = range.start >= len - len % chunk && len % chunk != 0;
                assert!(
                    read.is_err() != (case.valid() || inside_final),
                    "tc {} {range:?}",
                    case.tc_id
                );
            }
        }
        assert!(matches!(
            ra.read_range(0..len + 1),
            Err(SealError::OutOfRange)
        ));
    }
}
