//! The validated call id: the one name that reaches file names, object keys and the catalog.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::FormatError;

/// The longest call id, in bytes.
pub const MAX_CALL_ID_LEN: usize = 128;

/// A call id matching `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`, and not path-like (no `..`).
///
/// Construct it with [`validate_call_id`] (or deserialize it, which validates).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(String);

/// Checks `raw` and returns it as a [`CallId`].
///
/// Errors with [`FormatError::InvalidCallId`] when it is empty, longer than 128 bytes, starts
/// with anything but an ASCII letter or digit, contains anything but ASCII letters, digits,
/// `.`, `_` and `-`, or contains `..` (so it can never name a parent directory).
pub fn validate_call_id(raw: &str) -> Result<CallId, FormatError> {
    let bytes = raw.as_bytes();
    let first_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric);
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !first_ok || !rest_ok || bytes.len() > MAX_CALL_ID_LEN || raw.contains("..") {
        return Err(FormatError::InvalidCallId);
    }
    Ok(CallId(raw.to_owned()))
}

impl CallId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CallId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for CallId {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate_call_id(s)
    }
}

impl Serialize for CallId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CallId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        validate_call_id(&raw).map_err(|_| serde::de::Error::custom("invalid call id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_style_ids_are_accepted() {
        for id in ["c20260301-010013", "A", "a.b_c-d", "x".repeat(128).as_str()] {
            assert_eq!(validate_call_id(id).expect("valid").as_str(), id);
        }
    }

    #[test]
    fn path_like_and_malformed_ids_are_refused() {
        let long = "x".repeat(129);
        for id in [
            "", "../x", "a/b", "a\\b", "..", "a..b", ".hidden", "-x", "_x", "a b", "é", "a\0",
            &long,
        ] {
            assert_eq!(
                validate_call_id(id),
                Err(FormatError::InvalidCallId),
                "{id:?}"
            );
        }
    }

    #[test]
    fn a_call_id_serializes_as_a_plain_string_and_validates_on_the_way_in() {
        let id = validate_call_id("c1").expect("valid");
        assert_eq!(serde_json::to_string(&id).expect("ser"), "\"c1\"");
        assert_eq!(serde_json::from_str::<CallId>("\"c1\"").expect("de"), id);
        assert!(serde_json::from_str::<CallId>("\"../x\"").is_err());
    }
}
