//! The BagIt (RFC 8493) tag files of an export bag: `bagit.txt`, `bag-info.txt`, the payload
//! manifests and the tag manifest, rendered byte for byte as `mod.rs` specifies.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::{ExportError, BUNDLE_VERSION};

/// The bag declaration, `bagit.txt`.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
/// Path of the bag declaration.
pub const BAGIT_PATH: &str = "bagit.txt";
/// Path of the bag metadata.
pub const BAG_INFO_PATH: &str = "bag-info.txt";
/// Path of the SHA-256 payload manifest.
pub const MANIFEST_SHA256_PATH: &str = "manifest-sha256.txt";
/// Path of the SHA-512 payload manifest.
pub const MANIFEST_SHA512_PATH: &str = "manifest-sha512.txt";
/// Path of the SHA-256 tag manifest, the file that is signed.
pub const TAGMANIFEST_PATH: &str = "tagmanifest-sha256.txt";
/// Path of the armored SSHSIG over the tag manifest.
pub const SIGNATURE_PATH: &str = "tagmanifest-sha256.txt.sig";
/// Path of the spec-only audit verifier script (a tag file).
pub const VERIFY_SCRIPT_PATH: &str = "verify_audit.py";
/// The directory all payload paths sit under, with its slash.
pub const PAYLOAD_DIR: &str = "data/";

/// The metadata written to `bag-info.txt`.
///
/// Every value must be one non-empty line without control characters or surrounding
/// whitespace; the case id and legal basis come from users, and a line break would let
/// them forge labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagInfo {
    /// `Source-Organization`: who holds the recordings.
    pub source_organization: String,
    /// `External-Identifier`: the regulator's case id.
    pub external_identifier: String,
    /// `Bagging-Date`, written `YYYY-MM-DD`; years outside 0000–9999 are refused.
    pub bagging_date: time::Date,
    /// `Callvault-Legal-Basis`: why the regulator may have these calls.
    pub legal_basis: String,
    /// `Callvault-Export-Id`: the export's id, also in the bag directory name.
    pub export_id: String,
    /// `Callvault-Regulator`: who the bundle is for.
    pub regulator: String,
}

/// One payload file as pass 1 of the builder measured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadEntry {
    /// Path relative to the bag root; starts with `data/` (see [`validate_payload_path`]).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// SHA-512 of the content.
    pub sha512: [u8; 64],
}

/// The rendered tag files of one bag (everything but the signature and the script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFiles {
    /// `bagit.txt`.
    pub bagit: String,
    /// `bag-info.txt`.
    pub bag_info: String,
    /// `manifest-sha256.txt`.
    pub manifest_sha256: String,
    /// `manifest-sha512.txt`.
    pub manifest_sha512: String,
    /// `tagmanifest-sha256.txt`, over the four files above and `verify_audit.py`.
    pub tagmanifest_sha256: String,
}

impl TagFiles {
    /// Renders all tag files for `payload` (any order) and the verifier script's bytes.
    ///
    /// # Errors
    /// [`ExportError::InvalidPath`] for a bad or duplicate payload path,
    /// [`ExportError::InvalidInfo`] for an unusable `bag-info.txt` value.
    pub fn render(
        info: &BagInfo,
        payload: &[PayloadEntry],
        verify_script: &[u8],
    ) -> Result<TagFiles, ExportError> {
        let bag_info = info.render(payload)?;
        let manifest_sha256 = manifest(payload, |e| &e.sha256[..])?;
        let manifest_sha512 = manifest(payload, |e| &e.sha512[..])?;
        let tagmanifest_sha256 = tagmanifest(&[
            (BAG_INFO_PATH, bag_info.as_bytes()),
            (BAGIT_PATH, BAGIT_TXT.as_bytes()),
            (MANIFEST_SHA256_PATH, manifest_sha256.as_bytes()),
            (MANIFEST_SHA512_PATH, manifest_sha512.as_bytes()),
            (VERIFY_SCRIPT_PATH, verify_script),
        ]);
        Ok(TagFiles {
            bagit: BAGIT_TXT.to_owned(),
            bag_info,
            manifest_sha256,
            manifest_sha512,
            tagmanifest_sha256,
        })
    }
}

impl BagInfo {
    /// Renders `bag-info.txt`: one `Label: value` line per field in the order of `mod.rs`,
    /// with `Payload-Oxum` computed from `payload`.
    ///
    /// # Errors
    /// [`ExportError::InvalidInfo`] naming the field whose value is empty, multi-line, has a
    /// control character or surrounding whitespace ("one clean line"), or whose date is out
    /// of range;
    /// [`ExportError::InvalidPath`] if the export id cannot name a directory.
    pub fn render(&self, payload: &[PayloadEntry]) -> Result<String, ExportError> {
        validate_export_id(&self.export_id)?;
        let date = render_date(self.bagging_date)?;
        let oxum = payload_oxum(payload);
        let checks = [
            (
                &self.source_organization,
                "Source-Organization must be one clean line",
            ),
            (
                &self.external_identifier,
                "External-Identifier must be one clean line",
            ),
            (
                &self.legal_basis,
                "Callvault-Legal-Basis must be one clean line",
            ),
            (
                &self.regulator,
                "Callvault-Regulator must be one clean line",
            ),
        ];
        for (value, complaint) in checks {
            if !is_clean_value(value) {
                return Err(ExportError::InvalidInfo(complaint));
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "Source-Organization: {}", self.source_organization);
        let _ = writeln!(out, "External-Identifier: {}", self.external_identifier);
        let _ = writeln!(out, "Bagging-Date: {date}");
        let _ = writeln!(out, "Payload-Oxum: {oxum}");
        let _ = writeln!(out, "Callvault-Legal-Basis: {}", self.legal_basis);
        let _ = writeln!(out, "Callvault-Export-Id: {}", self.export_id);
        let _ = writeln!(out, "Callvault-Regulator: {}", self.regulator);
        let _ = writeln!(out, "Callvault-Bundle-Version: {BUNDLE_VERSION}");
        Ok(out)
    }
}

/// `Payload-Oxum`: total payload octets, a dot, the number of payload files.
pub fn payload_oxum(payload: &[PayloadEntry]) -> String {
    let bytes: u64 = payload.iter().map(|e| e.size).sum();
    format!("{bytes}.{}", payload.len())
}

/// Checks that `path` can name a payload file: it starts with `data/`, and no segment is
/// empty, `.` or `..`; it holds no backslash and no NUL.
///
/// # Errors
/// [`ExportError::InvalidPath`] with the reason (the path itself is not repeated).
pub fn validate_payload_path(path: &str) -> Result<(), ExportError> {
    let Some(rest) = path.strip_prefix(PAYLOAD_DIR) else {
        return Err(ExportError::InvalidPath(
            "a payload path must start with data/",
        ));
    };
    if path.contains('\\') {
        return Err(ExportError::InvalidPath(
            "a payload path must not hold a backslash",
        ));
    }
    if path.contains('\0') {
        return Err(ExportError::InvalidPath(
            "a payload path must not hold a NUL",
        ));
    }
    for segment in rest.split('/') {
        match segment {
            "" => {
                return Err(ExportError::InvalidPath(
                    "a payload path has an empty segment",
                ))
            }
            "." | ".." => {
                return Err(ExportError::InvalidPath(
                    "a payload path has a . or .. segment",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks that `id` can follow [`super::BAG_PREFIX`] as the bag directory name: 1 to 128
/// ASCII letters, digits, `-`, `_` or `.`, not starting with `.`.
///
/// # Errors
/// [`ExportError::InvalidPath`] otherwise.
pub fn validate_export_id(id: &str) -> Result<(), ExportError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > 128 || id.starts_with('.') || !id.chars().all(allowed) {
        return Err(ExportError::InvalidPath(
            "an export id must be 1-128 of [A-Za-z0-9._-], not starting with a dot",
        ));
    }
    Ok(())
}

/// Encodes a path for a manifest line (RFC 8493 §2.1.3): `%`, CR and LF, and only those,
/// become `%25`, `%0D` and `%0A`.
pub fn encode_manifest_path(path: &str) -> Cow<'_, str> {
    if !path.contains(['%', '\r', '\n']) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Renders a payload manifest with the digest `pick` selects, sorted by path bytes, after
/// checking every path and that none repeats.
fn manifest(
    payload: &[PayloadEntry],
    pick: impl Fn(&PayloadEntry) -> &[u8],
) -> Result<String, ExportError> {
    let mut sorted: Vec<&PayloadEntry> = payload.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    for pair in sorted.windows(2) {
        if pair[0].path == pair[1].path {
            return Err(ExportError::InvalidPath("a payload path appears twice"));
        }
    }
    let mut out = String::new();
    for entry in sorted {
        validate_payload_path(&entry.path)?;
        push_line(&mut out, pick(entry), &entry.path);
    }
    Ok(out)
}

/// Renders the SHA-256 tag manifest over `(path, content)` pairs, sorted by path bytes.
fn tagmanifest(files: &[(&str, &[u8])]) -> String {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (path, content) in sorted {
        push_line(&mut out, &Sha256::digest(content), path);
    }
    out
}

/// Appends one manifest line, `<lowercase hex>  <encoded path>\n`.
fn push_line(out: &mut String, digest: &[u8], path: &str) {
    out.push_str(&hex::encode(digest));
    out.push_str("  ");
    out.push_str(&encode_manifest_path(path));
    out.push('\n');
}

/// A `bag-info.txt` value is non-empty, has no control or line-separator character and no
/// leading or trailing whitespace (BagIt readers strip it, so it would not round-trip).
fn is_clean_value(value: &str) -> bool {
    !value.is_empty()
        && value.trim() == value
        && !value
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// `YYYY-MM-DD`, four-digit years only.
fn render_date(date: time::Date) -> Result<String, ExportError> {
    if !(0..=9999).contains(&date.year()) {
        return Err(ExportError::InvalidInfo(
            "Bagging-Date year must have four digits",
        ));
    }
    Ok(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

#[cfg(test)]
mod tests;
