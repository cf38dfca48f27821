//! The context a blob is bound to: call id, blob kind and format version.
//!
//! The context enters the key derivation, so a blob opened under any other call id, kind
//! or version fails the key commitment before a single chunk is decrypted. Fields are
//! length-prefixed so that no two distinct contexts encode to the same bytes.

/// Version of callvault's sealed-blob format, bound into every blob's context.
pub const FORMAT_VERSION: u32 = 1;

/// Domain label at the start of every encoded context.
const LABEL: &[u8] = b"callvault/blob";

/// What a sealed blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    /// The (redacted) transcript of a call.
    Transcript,
    /// The (redacted) audio of a call.
    Audio,
}

impl BlobKind {
    /// The stable name that is bound into the context; never change an existing one.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobKind::Transcript => "transcript",
            BlobKind::Audio => "audio",
        }
    }
}

/// The encoded context bytes of one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobContext {
    bytes: Vec<u8>,
}

impl BlobContext {
    /// The context of blob `kind` of call `call_id` in the current [`FORMAT_VERSION`].
    pub fn new(call_id: &str, kind: BlobKind) -> Self {
        Self::with_version(call_id, kind, FORMAT_VERSION)
    }

    /// The context for an explicit format version (to open blobs of older versions).
    pub fn with_version(call_id: &str, kind: BlobKind, version: u32) -> Self {
        let mut bytes = Vec::with_capacity(LABEL.len() + call_id.len() + 32);
        for field in [
            LABEL,
            &version.to_be_bytes(),
            call_id.as_bytes(),
            kind.as_str().as_bytes(),
        ] {
            put_field(&mut bytes, field);
        }
        BlobContext { bytes }
    }

    /// The bytes to pass as `ctx` to `Encryptor`/`Decryptor`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Appends `field` preceded by its length as a 32-bit big-endian integer.
pub(crate) fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    let len = u32::try_from(field.len()).expect("a context field is shorter than 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_differ_by_call_kind_and_version() {
        let base = BlobContext::new("call-1", BlobKind::Transcript);
        assert_ne!(base, BlobContext::new("call-2", BlobKind::Transcript));
        assert_ne!(base, BlobContext::new("call-1", BlobKind::Audio));
        assert_ne!(
            base,
            BlobContext::with_version("call-1", BlobKind::Transcript, 2)
        );
        assert_eq!(
            base,
            BlobContext::with_version("call-1", BlobKind::Transcript, FORMAT_VERSION)
        );
    }

    #[test]
    fn the_encoding_is_length_prefixed() {
        let ctx = BlobContext::new("ab", BlobKind::Audio);
        let mut expected = Vec::new();
        expected.extend_from_slice(&14u32.to_be_bytes());
        expected.extend_from_slice(b"callvault/blob");
        expected.extend_from_slice(&4u32.to_be_bytes());
        expected.extend_from_slice(&1u32.to_be_bytes());
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(b"ab");
        expected.extend_from_slice(&5u32.to_be_bytes());
        expected.extend_from_slice(b"audio");
        assert_eq!(ctx.as_bytes(), expected.as_slice());
    }
}
