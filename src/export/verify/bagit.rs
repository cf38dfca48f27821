//! The BagIt checks (RFC 8493): `bagit.txt`, `bag-info.txt`, the payload manifests and the
//! tag manifest, over the digests the streaming pass computed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::scan::{is_payload, Bag};
use crate::export::BUNDLE_VERSION;

/// The tag manifest, the file the signature covers.
pub const TAGMANIFEST: &str = "tagmanifest-sha256.txt";
/// The signature over the tag manifest.
pub const SIGNATURE: &str = "tagmanifest-sha256.txt.sig";
/// Tag files the tag manifest must list.
const REQUIRED_TAGS: [&str; 5] = [
    "bag-info.txt",
    "bagit.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "verify_audit.py",
];
/// Labels `bag-info.txt` must carry, each once.
const REQUIRED_LABELS: [&str; 8] = [
    "Source-Organization",
    "External-Identifier",
    "Bagging-Date",
    "Payload-Oxum",
    "Callvault-Legal-Basis",
    "Callvault-Export-Id",
    "Callvault-Regulator",
    "Callvault-Bundle-Version",
];

/// What is wrong with the bag. Texts name files, labels and paths, never content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BagError {
    /// A required file is not in the bag.
    #[error("{0} is missing")]
    Missing(String),
    /// A tag file is not UTF-8.
    #[error("{0} is not UTF-8")]
    NotUtf8(String),
    /// A line of a tag file or manifest does not follow the grammar.
    #[error("{file} line {line} is malformed")]
    Malformed {
        /// The file.
        file: String,
        /// One-based line number.
        line: usize,
    },
    /// `bagit.txt` does not declare BagIt 1.0 in UTF-8.
    #[error("bagit.txt does not declare BagIt-Version 1.0 and UTF-8")]
    Declaration,
    /// A required label is absent or empty.
    #[error("bag-info.txt has no {0}")]
    MissingLabel(&'static str),
    /// A label that must appear once appears more often.
    #[error("bag-info.txt repeats {0}")]
    RepeatedLabel(&'static str),
    /// A label's value has the wrong form.
    #[error("bag-info.txt {0} is malformed")]
    BadValue(&'static str),
    /// `Payload-Oxum` disagrees with the payload.
    #[error("Payload-Oxum is {stated}, the payload is {actual}")]
    Oxum {
        /// The stated `bytes.files`.
        stated: String,
        /// The actual `bytes.files`.
        actual: String,
    },
    /// The bundle version is not this verifier's.
    #[error("Callvault-Bundle-Version is not {BUNDLE_VERSION}")]
    Version,
    /// A manifest lists a path twice.
    #[error("{file} lists {path} twice")]
    ListedTwice {
        /// The manifest.
        file: String,
        /// The path.
        path: String,
    },
    /// A manifest lists a file that is not in the bag.
    #[error("{file} lists {path}, which is not in the bag")]
    NotInBag {
        /// The manifest.
        file: String,
        /// The path.
        path: String,
    },
    /// A file's digest differs from its manifest line.
    #[error("{path} does not match {file}")]
    Mismatch {
        /// The manifest.
        file: String,
        /// The path.
        path: String,
    },
    /// A file is in the bag but not in the manifest that must cover it.
    #[error("{path} is not listed in {file}")]
    Unlisted {
        /// The manifest.
        file: String,
        /// The path.
        path: String,
    },
    /// A manifest lists a file of the wrong kind (payload in a tag manifest or vice versa).
    #[error("{file} lists {path}, which it must not")]
    WrongKind {
        /// The manifest.
        file: String,
        /// The path.
        path: String,
    },
}

/// All problems a check found; shows the first and how many more.
#[derive(Debug)]
pub struct Problems(pub Vec<BagError>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "no problem"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more problems)", rest.len()),
        }
    }
}

impl From<BagError> for Problems {
    fn from(e: BagError) -> Self {
        Self(vec![e])
    }
}

/// A kept file as UTF-8 text.
fn text<'a>(bag: &'a Bag, path: &str) -> Result<&'a str, BagError> {
    let bytes = bag
        .content(path)
        .ok_or_else(|| BagError::Missing(path.into()))?;
    std::str::from_utf8(bytes).map_err(|_| BagError::NotUtf8(path.into()))
}

/// Lines of a tag file, accepting LF and CRLF endings; the last line must be terminated.
fn lines<'a>(file: &str, text: &'a str) -> Result<Vec<&'a str>, BagError> {
    let body = text.strip_suffix('\n').ok_or(BagError::Malformed {
        file: file.into(),
        line: text.split('\n').count(),
    })?;
    Ok(body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect())
}

/// `Label: value` pairs of a tag file, joining continuation lines (RFC 8493 §2.2.2).
fn label_values(file: &str, text: &str) -> Result<Vec<(String, String)>, BagError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in lines(file, text)?.into_iter().enumerate() {
        let bad = || BagError::Malformed {
            file: file.into(),
            line: i + 1,
        };
        if line.starts_with([' ', '\t']) {
            let (_, value) = out.last_mut().ok_or_else(bad)?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (label, value) = line.split_once(':').ok_or_else(bad)?;
        if label.is_empty() || label.trim() != label {
            return Err(bad());
        }
        out.push((label.to_owned(), value.trim().to_owned()));
    }
    Ok(out)
}

/// `bagit.txt`: BagIt 1.0, tag files in UTF-8.
pub fn check_bagit_txt(bag: &Bag) -> Result<String, Problems> {
    let pairs = label_values("bagit.txt", text(bag, "bagit.txt")?)?;
    let expected = [
        ("BagIt-Version", "1.0"),
        ("Tag-File-Character-Encoding", "UTF-8"),
    ];
    let matches = pairs.len() == 2
        && pairs
            .iter()
            .zip(expected)
            .all(|((l, v), (el, ev))| l == el && v.eq_ignore_ascii_case(ev));
    if !matches {
        return Err(BagError::Declaration.into());
    }
    Ok("BagIt 1.0, UTF-8".into())
}

/// The value of a label that appears exactly once in `bag-info.txt` (labels compare
/// without regard to ASCII case).
pub fn bag_info_value(bag: &Bag, label: &'static str) -> Result<String, BagError> {
    let pairs = label_values("bag-info.txt", text(bag, "bag-info.txt")?)?;
    let mut found = pairs.iter().filter(|(l, _)| l.eq_ignore_ascii_case(label));
    let value = found.next().ok_or(BagError::MissingLabel(label))?;
    if found.next().is_some() {
        return Err(BagError::RepeatedLabel(label));
    }
    if value.1.is_empty() {
        return Err(BagError::MissingLabel(label));
    }
    Ok(value.1.clone())
}

/// `bag-info.txt`: the required labels, Payload-Oxum against the payload, version 1.
pub fn check_bag_info(bag: &Bag) -> Result<String, Problems> {
    let mut problems = Vec::new();
    let mut values = BTreeMap::new();
    for label in REQUIRED_LABELS {
        match bag_info_value(bag, label) {
            Ok(v) => {
                values.insert(label, v);
            }
            Err(e @ (BagError::Missing(_) | BagError::NotUtf8(_) | BagError::Malformed { .. })) => {
                return Err(e.into())
            }
            Err(e) => problems.push(e),
        }
    }
    let (bytes, files) = bag
        .payload()
        .fold((0u64, 0u64), |(b, n), (_, f)| (b + f.size, n + 1));
    let actual = format!("{bytes}.{files}");
    if let Some(stated) = values.get("Payload-Oxum") {
        if !is_oxum(stated) {
            problems.push(BagError::BadValue("Payload-Oxum"));
        } else if *stated != actual {
            problems.push(BagError::Oxum {
                stated: stated.clone(),
                actual: actual.clone(),
            });
        }
    }
    if let Some(date) = values.get("Bagging-Date") {
        if !is_date(date) {
            problems.push(BagError::BadValue("Bagging-Date"));
        }
    }
    if let Some(v) = values.get("Callvault-Bundle-Version") {
        if *v != BUNDLE_VERSION.to_string() {
            problems.push(BagError::Version);
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(format!(
        "version {BUNDLE_VERSION}, Payload-Oxum {actual}, all required labels present"
    ))
}

/// `bytes.files`, two canonical decimals.
fn is_oxum(s: &str) -> bool {
    let canonical = |d: &str| {
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && (d == "0" || !d.starts_with('0'))
    };
    s.split_once('.')
        .is_some_and(|(b, f)| canonical(b) && canonical(f))
}

/// `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// A manifest's hash algorithm.
#[derive(Debug, Clone, Copy)]
pub enum Alg {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Alg {
    fn hex_len(self) -> usize {
        match self {
            Alg::Sha256 => 64,
            Alg::Sha512 => 128,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Alg::Sha256 => "sha256",
            Alg::Sha512 => "sha512",
        }
    }
}

/// Parses a manifest into (decoded path, lowercase hex digest), refusing duplicates.
fn parse_manifest(file: &str, text: &str, alg: Alg) -> Result<Vec<(String, String)>, BagError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, line) in lines(file, text)?.into_iter().enumerate() {
        let bad = || BagError::Malformed {
            file: file.into(),
            line: i + 1,
        };
        let (digest, rest) = line.split_once([' ', '\t']).ok_or_else(bad)?;
        let path = rest.trim_start_matches([' ', '\t']);
        let hex_ok = digest.len() == alg.hex_len() && digest.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_ok {
            return Err(bad());
        }
        let path = percent_decode(path).ok_or_else(bad)?;
        if !is_safe_relative(&path) {
            return Err(bad());
        }
        if !seen.insert(path.clone()) {
            return Err(BagError::ListedTwice {
                file: file.into(),
                path,
            });
        }
        out.push((path, digest.to_ascii_lowercase()));
    }
    Ok(out)
}

/// RFC 8493 §2.1.3: only `%0A`, `%0D` and `%25` are encoded (hex in either case); any
/// other `%` makes the line malformed.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3)?;
        out.push(match code.to_ascii_uppercase().as_str() {
            "0A" => '\n',
            "0D" => '\r',
            "25" => '%',
            _ => return None,
        });
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// A relative path without empty, `.` or `..` components.
fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.split('/').any(|c| c.is_empty() || c == "." || c == "..")
}

/// `manifest-<alg>.txt`: every payload file listed once with a matching digest, nothing
/// listed that is absent, nothing present that is unlisted.
pub fn check_manifest(bag: &Bag, alg: Alg) -> Result<String, Problems> {
    let file = format!("manifest-{}.txt", alg.name());
    let listed = parse_manifest(&file, text(bag, &file)?, alg)?;
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for (path, digest) in &listed {
        let err = |make: fn(String, String) -> BagError| make(file.clone(), path.clone());
        if !is_payload(path) {
            problems.push(err(|file, path| BagError::WrongKind { file, path }));
            continue;
        }
        let Some(record) = bag.files.get(path) else {
            problems.push(err(|file, path| BagError::NotInBag { file, path }));
            continue;
        };
        covered.insert(path.as_str());
        let actual = match alg {
            Alg::Sha256 => hex::encode(record.sha256),
            Alg::Sha512 => hex::encode(record.sha512),
        };
        if actual != *digest {
            problems.push(err(|file, path| BagError::Mismatch { file, path }));
        }
    }
    for (path, _) in bag.payload() {
        if !covered.contains(path.as_str()) {
            problems.push(BagError::Unlisted {
                file: file.clone(),
                path: path.clone(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(format!("{} payload files match", listed.len()))
}

/// `tagmanifest-sha256.txt`: every listed tag file matches, the required ones are listed,
/// and every tag file but the tag manifest and its signature is listed (so nothing in the
/// bag escapes the signature).
pub fn check_tagmanifest(bag: &Bag) -> Result<String, Problems> {
    let listed = parse_manifest(TAGMANIFEST, text(bag, TAGMANIFEST)?, Alg::Sha256)?;
    let mut problems = Vec::new();
    let err =
        |make: fn(String, String) -> BagError, path: &str| make(TAGMANIFEST.into(), path.into());
    for (path, digest) in &listed {
        if is_payload(path) || path == TAGMANIFEST || path == SIGNATURE {
            problems.push(err(|file, path| BagError::WrongKind { file, path }, path));
        } else if let Some(record) = bag.files.get(path) {
            if hex::encode(record.sha256) != *digest {
                problems.push(err(|file, path| BagError::Mismatch { file, path }, path));
            }
        } else {
            problems.push(err(|file, path| BagError::NotInBag { file, path }, path));
        }
    }
    let names: BTreeSet<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
    for required in REQUIRED_TAGS {
        if !names.contains(required) && bag.files.contains_key(required) {
            problems.push(err(
                |file, path| BagError::Unlisted { file, path },
                required,
            ));
        }
    }
    for path in bag.files.keys() {
        let exempt = is_payload(path) || path == TAGMANIFEST || path == SIGNATURE;
        let required = REQUIRED_TAGS.contains(&path.as_str());
        if !exempt && !required && !names.contains(path.as_str()) {
            problems.push(err(|file, path| BagError::Unlisted { file, path }, path));
        }
    }
    for required in REQUIRED_TAGS {
        if !bag.files.contains_key(required) {
            problems.push(BagError::Missing(required.into()));
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(format!("{} tag files match", listed.len()))
}

#[cfg(test)]
#[path = "bagit_tests.rs"]
mod tests;
