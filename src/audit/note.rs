//! C2SP signed notes with Ed25519 keys, and the tlog checkpoint carried in them.
//!
//! A note is a text ending in `\n`, a blank line, then one or more lines
//! `— <key name> base64(key id ‖ signature)`. Keys travel as `vkey` strings
//! (`name+hex(key id)+base64(0x01 ‖ public key)`) and `skey` strings
//! (`PRIVATE+KEY+name+hex(key id)+base64(0x01 ‖ seed)`). See c2sp.org/signed-note and
//! c2sp.org/tlog-checkpoint.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::merkle::Hash;

/// Signature type byte of Ed25519 keys (c2sp.org/signed-note).
const ALG_ED25519: u8 = 0x01;
/// Prefix of every signature line: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Prefix of a private-key string.
const SKEY_PREFIX: &str = "PRIVATE+KEY+";
/// Most signature lines a note may carry (the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Length of a key id in bytes.
const KEY_ID_SIZE: usize = 4;
/// Length of an Ed25519 signature in bytes.
const ED25519_SIG_SIZE: usize = 64;

/// Why a key, note or checkpoint was refused. Texts never carry key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name is empty or contains a space, a control character or `+`.
    #[error("invalid key name")]
    InvalidName,
    /// A vkey or skey string is malformed or its key id does not match the key.
    #[error("malformed key")]
    MalformedKey,
    /// The text to sign does not end in a newline or contains control characters.
    #[error("text cannot be signed")]
    InvalidText,
    /// A note needs between one and [`MAX_SIGNATURES`] signers.
    #[error("wrong number of signers")]
    SignerCount,
    /// The note does not follow the signed-note grammar.
    #[error("malformed note")]
    MalformedNote,
    /// A signature from a trusted key does not verify; the whole note is rejected.
    #[error("invalid signature from a trusted key")]
    BadSignature,
    /// No trusted key signed the note.
    #[error("note not signed by a trusted key")]
    NoTrustedSignature,
    /// The note text is not a well-formed checkpoint.
    #[error("malformed checkpoint")]
    MalformedCheckpoint,
}

/// Key names are non-empty, without Unicode spaces, control characters or `+`.
fn check_name(name: &str) -> Result<(), NoteError> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || c == '+';
    if name.is_empty() || name.chars().any(bad) {
        return Err(NoteError::InvalidName);
    }
    Ok(())
}

/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]` as a big-endian integer.
fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Splits `name+hexid+base64`, checking the name and the 8-digit lowercase hex key id.
fn split_key(s: &str) -> Result<(&str, u32, &str), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey);
    };
    check_name(name).map_err(|_| NoteError::MalformedKey)?;
    let valid_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    if id.len() != 8 || !id.chars().all(valid_hex) {
        return Err(NoteError::MalformedKey);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::MalformedKey)?;
    Ok((name, id, key))
}

/// Decodes `base64(0x01 ‖ 32 bytes)`.
fn decode_typed_key(b64: &str) -> Result<Zeroizing<[u8; 32]>, NoteError> {
    let raw = Zeroizing::new(B64.decode(b64).map_err(|_| NoteError::MalformedKey)?);
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) if rest.len() == 32 => {
            let mut out = Zeroizing::new([0u8; 32]);
            out.copy_from_slice(rest);
            Ok(out)
        }
        _ => Err(NoteError::MalformedKey),
    }
}

/// `base64(0x01 ‖ 32 bytes)`.
fn encode_typed_key(bytes: &[u8; 32]) -> Zeroizing<String> {
    let mut raw = Zeroizing::new([0u8; 33]);
    raw[0] = ALG_ED25519;
    raw[1..].copy_from_slice(bytes);
    Zeroizing::new(B64.encode(&raw[..]))
}

/// A named Ed25519 signing key. The key is zeroized on drop and never printed.
pub struct Signer {
    name: String,
    key: SigningKey,
    id: u32,
}

impl Signer {
    /// A signer from a 32-byte RFC 8032 seed.
    ///
    /// Errors: [`NoteError::InvalidName`] for an empty name or one with spaces or `+`.
    pub fn from_seed(seed: [u8; 32], name: &str) -> Result<Self, NoteError> {
        let seed = Zeroizing::new(seed);
        check_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// A signer with a fresh random key from the operating system.
    ///
    /// Errors: [`NoteError::InvalidName`] as for [`Signer::from_seed`].
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed[..]);
        Self::from_seed(*seed, name)
    }

    /// A signer from an skey string `PRIVATE+KEY+name+hexid+base64(0x01 ‖ seed)`.
    ///
    /// Errors: [`NoteError::MalformedKey`] if malformed or if the key id does not match.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix(SKEY_PREFIX)
            .ok_or(NoteError::MalformedKey)?;
        let (name, id, key) = split_key(rest)?;
        let seed = decode_typed_key(key)?;
        let signer = Self::from_seed(*seed, name)?;
        if signer.id != id {
            return Err(NoteError::MalformedKey);
        }
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id: the first four bytes of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The verifier key string `name+hex(key id)+base64(0x01 ‖ public key)`.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// The private key string; handle it as a secret.
    pub fn skey(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.key.to_bytes());
        let key = encode_typed_key(&seed);
        Zeroizing::new(format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name, self.id, *key
        ))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text` (already validated), newline included.
    fn signature_line(&self, text: &str) -> String {
        use ed25519_dalek::Signer as _;
        let sig = self.key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(KEY_ID_SIZE + ED25519_SIG_SIZE);
        raw.extend_from_slice(&self.id.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

/// A named Ed25519 public key trusted to sign notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses a vkey string `name+hexid+base64(0x01 ‖ 32-byte public key)`.
    ///
    /// Errors: [`NoteError::MalformedKey`] if malformed, of another type, or if the key id
    /// does not match the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, id, key) = split_key(vkey)?;
        let bytes = decode_typed_key(key)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| NoteError::MalformedKey)?;
        if key_id(name, &key) != id {
            return Err(NoteError::MalformedKey);
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The vkey string.
    pub fn vkey(&self) -> String {
        let key = encode_typed_key(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, *key)
    }

    /// Whether `sig` is this key's valid signature of `text`.
    fn verifies(&self, text: &str, sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &sig).is_ok()
    }
}

/// Whether `s` has no ASCII control character (below U+0020) other than `\n`.
fn only_newline_controls(s: &str) -> bool {
    !s.chars().any(|c| c < ' ' && c != '\n')
}

/// Signs `text` with every signer, returning the whole note.
///
/// Errors: [`NoteError::InvalidText`] unless `text` ends in `\n` and has no control
/// character other than `\n`; [`NoteError::SignerCount`] without signers or with too many.
pub fn sign_note(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    if !text.ends_with('\n') || !only_newline_controls(text) {
        return Err(NoteError::InvalidText);
    }
    if signers.is_empty() || signers.len() > MAX_SIGNATURES {
        return Err(NoteError::SignerCount);
    }
    let mut note = String::with_capacity(text.len() + 1 + 120 * signers.len());
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        note.push_str(&signer.signature_line(text));
    }
    Ok(note)
}

/// Opens a note: checks its grammar and signatures, returns the text and the names of the
/// trusted keys whose signatures verified (each once, in note order).
///
/// Signatures from unknown (name, key id) pairs are skipped. Errors:
/// [`NoteError::MalformedNote`] for any grammar violation, [`NoteError::BadSignature`] if a
/// trusted key's signature fails, [`NoteError::NoTrustedSignature`] if none verified.
pub fn open_note<'a>(
    note: &'a str,
    verifiers: &[Verifier],
) -> Result<(&'a str, Vec<String>), NoteError> {
    if !note.ends_with('\n') || !only_newline_controls(note) {
        return Err(NoteError::MalformedNote);
    }
    let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote)?;
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let lines: Vec<&str> = sigs.split_terminator('\n').collect();
    if lines.is_empty() || lines.len() > MAX_SIGNATURES {
        return Err(NoteError::MalformedNote);
    }
    let mut verified: Vec<String> = Vec::new();
    for line in lines {
        let (name, id, sig) = parse_signature_line(line)?;
        let Some(verifier) = verifiers.iter().find(|v| v.name == name && v.id == id) else {
            continue;
        };
        if !verifier.verifies(text, &sig) {
            return Err(NoteError::BadSignature);
        }
        if !verified.iter().any(|n| n == name) {
            verified.push(name.to_owned());
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoTrustedSignature);
    }
    Ok((text, verified))
}

/// Parses `— name base64(id ‖ sig)` into (name, key id, signature bytes).
fn parse_signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(NoteError::MalformedNote)?;
    let (name, b64) = rest.split_once(' ').ok_or(NoteError::MalformedNote)?;
    check_name(name).map_err(|_| NoteError::MalformedNote)?;
    let raw = B64.decode(b64).map_err(|_| NoteError::MalformedNote)?;
    if raw.len() <= KEY_ID_SIZE {
        return Err(NoteError::MalformedNote);
    }
    let (id, sig) = raw.split_at(KEY_ID_SIZE);
    let id = u32::from_be_bytes(id.try_into().expect("split at KEY_ID_SIZE"));
    Ok((name, id, sig.to_vec()))
}

/// A tlog checkpoint: the signed text naming a log's size and Merkle root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity (the origin line); non-empty.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Optional extension lines (non-empty, no newline), opaque to this module.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, decimal size, base64 root, extension lines, each ending in `\n`.
    ///
    /// Errors: [`NoteError::MalformedCheckpoint`] if the origin or an extension line is
    /// empty or contains a control character.
    pub fn to_text(&self) -> Result<String, NoteError> {
        let valid_line = |l: &str| !l.is_empty() && !l.chars().any(char::is_control);
        if !valid_line(&self.origin) || !self.extensions.iter().all(|e| valid_line(e)) {
            return Err(NoteError::MalformedCheckpoint);
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses a checkpoint note text (the text returned by [`open_note`]).
    ///
    /// Errors: [`NoteError::MalformedCheckpoint`] unless there are at least three non-empty
    /// lines, the size is decimal without leading zeros and the root is 32 bytes of base64.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = || NoteError::MalformedCheckpoint;
        let body = text.strip_suffix('\n').ok_or_else(bad)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad());
        };
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if origin.is_empty() || extensions.iter().any(String::is_empty) {
            return Err(bad());
        }
        let canonical = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !canonical {
            return Err(bad());
        }
        let size = size.parse().map_err(|_| bad())?;
        let root = B64.decode(root).map_err(|_| bad())?;
        let root: Hash = root.try_into().map_err(|_| bad())?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Opens a signed checkpoint note and parses its text.
    ///
    /// Errors: those of [`open_note`] and [`Checkpoint::parse`].
    pub fn open(note: &str, verifiers: &[Verifier]) -> Result<Self, NoteError> {
        let (text, _) = open_note(note, verifiers)?;
        Self::parse(text)
    }
}

#[cfg(test)]
#[path = "note_tests.rs"]
mod tests;
