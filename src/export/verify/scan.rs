//! The streaming pass over a bundle: age-decrypt, walk the tar entry by entry, hash every
//! file while it streams past, and keep in memory only the small files later checks read.
//!
//! The tar is read in raw mode so that every pax header is seen and bounded here (the `tar`
//! crate would otherwise read a pax header of any size into memory) and so that a pax
//! `size` record, which other readers would honour, cannot make this reader and `tar x`
//! see different files.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use sha2::{Digest, Sha256, Sha512};
use tar::EntryType;

use crate::export::BAG_PREFIX;

/// Most bytes of one file kept in memory (tag files, custody record, audit material).
pub const MAX_KEPT_FILE: u64 = 16 << 20;
/// Most bytes of all kept files together.
pub const MAX_KEPT_TOTAL: u64 = 256 << 20;
/// Most bytes of one pax extended header.
const MAX_PAX: u64 = 64 << 10;
/// Most files in one bundle, so the per-file digests stay bounded.
const MAX_FILES: usize = 1_000_000;

/// Why the age layer failed. Opaque on purpose: a bad tag, a truncation and a swapped
/// chunk read the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgeError {
    /// The input does not start with an age header.
    #[error("not an age file")]
    NotAge,
    /// No stanza of the header opens with the given identity.
    #[error("the identity does not decrypt this bundle")]
    NoMatchingIdentity,
    /// The header is malformed or its MAC does not verify.
    #[error("the age header was rejected")]
    Header,
    /// A payload chunk failed authentication, the stream is truncated or has trailing data,
    /// or the input could not be read.
    #[error("the encrypted stream is corrupt or truncated")]
    Stream,
}

/// Why the archive inside a correctly decrypted stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarError {
    /// A header or pax record is malformed (checksum, number, record syntax).
    #[error("malformed archive: {0}")]
    Malformed(String),
    /// An entry is not a regular file (directory, link, device, global header...).
    #[error("entry {0} is not a regular file")]
    NotRegular(String),
    /// A regular file is not preceded by a pax header with a `path` record.
    #[error("entry {0} has no pax path header")]
    NoPaxPath(String),
    /// A pax header carries a record this format forbids (`size`, `linkpath`, GNU sparse).
    #[error("pax record {0} is not allowed")]
    PaxRecord(String),
    /// A path is absolute, has an empty, `.` or `..` component, or is not UTF-8.
    #[error("unsafe path {0}")]
    UnsafePath(String),
    /// A path is not under the single `callvault-export-<id>/` directory.
    #[error("path {0} is outside the bag directory")]
    OutsideBag(String),
    /// A path repeats an earlier one.
    #[error("duplicate path {0}")]
    Duplicate(String),
    /// A path sorts before the one preceding it.
    #[error("path {0} is out of order")]
    Unsorted(String),
    /// A file that must be held in memory is over [`MAX_KEPT_FILE`], or all of them
    /// together are over [`MAX_KEPT_TOTAL`], or there are too many files.
    #[error("size limit exceeded at {0}")]
    TooLarge(String),
    /// Bytes other than zeros follow the end-of-archive marker.
    #[error("data after the end of the archive")]
    TrailingData,
    /// The archive holds no file.
    #[error("the archive is empty")]
    Empty,
}

/// One file of the bag: its size and digests, and its bytes if it is kept.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// SHA-512 of the content.
    pub sha512: [u8; 64],
    /// The content, for tag files, `data/custody.json` and `data/audit/**`.
    pub content: Option<Vec<u8>>,
}

/// The files of a well-formed archive, by path relative to the bag directory.
#[derive(Debug, Clone)]
pub struct Bag {
    /// The export id from the directory name `callvault-export-<id>`.
    pub id: String,
    /// Every file, keyed by its path inside the bag.
    pub files: BTreeMap<String, FileRecord>,
}

impl Bag {
    /// The content of a kept file, if present.
    pub fn content(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).and_then(|f| f.content.as_deref())
    }

    /// The payload files (under `data/`).
    pub fn payload(&self) -> impl Iterator<Item = (&String, &FileRecord)> {
        self.files.iter().filter(|(p, _)| is_payload(p))
    }
}

/// Whether a bag-relative path is a payload file.
pub fn is_payload(path: &str) -> bool {
    path.starts_with("data/")
}

/// Whether a bag-relative path is kept in memory for later checks.
fn is_kept(path: &str) -> bool {
    !is_payload(path) || path == "data/custody.json" || path.starts_with("data/audit/")
}

/// What the streaming pass found once the age layer authenticated to its end.
#[derive(Debug)]
pub struct Scanned {
    /// Plaintext bytes read (archive and padding).
    pub plaintext: u64,
    /// The bag, or why the archive was refused.
    pub bag: Result<Bag, TarError>,
}

/// Decrypts `input` with `identity` and reads the archive inside, then the age stream to
/// its end so that a truncated or extended age layer is an [`AgeError`] even when the
/// archive looked complete. An age failure anywhere wins over a tar failure.
pub fn scan<R: Read>(input: R, identity: &age::x25519::Identity) -> Result<Scanned, AgeError> {
    let decryptor = age::Decryptor::new(input).map_err(|e| match e {
        age::DecryptError::UnknownFormat | age::DecryptError::InvalidHeader => AgeError::NotAge,
        _ => AgeError::Header,
    })?;
    let stream = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => AgeError::NoMatchingIdentity,
            _ => AgeError::Header,
        })?;
    let mut archive = tar::Archive::new(Tracked::new(stream));
    let walked = read_archive(&mut archive);
    let mut tracked = archive.into_inner();
    let parsed = tracked.bytes;
    let rest = drain(&mut tracked);
    if tracked.failed {
        return Err(AgeError::Stream);
    }
    let (total, nonzero) = rest.map_err(|_| AgeError::Stream)?;
    let bag = walked.and_then(|(bag, end)| {
        // The parser stops at the first zero block, or silently at a clean EOF: only
        // a zero block read past the last entry, then a second one, is a proper end.
        if parsed < end + BLOCK || total < BLOCK {
            return Err(TarError::Malformed("no end-of-archive marker".into()));
        }
        if nonzero > 0 {
            return Err(TarError::TrailingData);
        }
        Ok(bag)
    });
    Ok(Scanned {
        plaintext: tracked.bytes,
        bag,
    })
}

/// Size of a tar block.
const BLOCK: u64 = 512;

/// Reads the rest of the stream; returns how many bytes it held and how many were not zero.
fn drain<R: Read>(reader: &mut R) -> io::Result<(u64, u64)> {
    let (mut total, mut nonzero) = (0u64, 0u64);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok((total, nonzero)),
            Ok(n) => {
                total += n as u64;
                nonzero += buf[..n].iter().filter(|&&b| b != 0).count() as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A reader that remembers whether the age stream under the tar parser failed, so an
/// authentication failure is never mistaken for a malformed archive.
struct Tracked<R> {
    inner: R,
    failed: bool,
    bytes: u64,
}

impl<R> Tracked<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            failed: false,
            bytes: 0,
        }
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

/// Walks the raw entries: each pax header, then the regular file it names. Returns the bag
/// and the offset just past the last entry's padded data.
fn read_archive<R: Read>(archive: &mut tar::Archive<R>) -> Result<(Bag, u64), TarError> {
    let malformed = |e: io::Error| TarError::Malformed(e.to_string());
    let entries = archive.entries().map_err(malformed)?.raw(true);
    let mut state = State::default();
    let mut pending_path: Option<String> = None;
    let mut end = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(malformed)?;
        end = entry
            .size()
            .checked_next_multiple_of(BLOCK)
            .and_then(|padded| padded.checked_add(entry.raw_file_position()))
            .ok_or_else(|| TarError::Malformed("entry size".into()))?;
        let kind = entry.header().entry_type();
        let shown = || String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind == EntryType::XHeader {
            if pending_path.is_some() {
                return Err(TarError::Malformed("two pax headers for one file".into()));
            }
            pending_path = Some(pax_path(&mut entry)?);
            continue;
        }
        if kind != EntryType::Regular {
            return Err(TarError::NotRegular(shown()));
        }
        let path = pending_path
            .take()
            .ok_or_else(|| TarError::NoPaxPath(shown()))?;
        let rel = state.admit(&path)?;
        let record = read_file(&mut entry, &rel, &mut state.kept_total).map_err(|e| match e {
            ReadFail::Io(e) => malformed(e),
            ReadFail::TooLarge => TarError::TooLarge(rel.clone()),
        })?;
        if record.size != entry.size() {
            return Err(TarError::Malformed(format!(
                "{rel} is shorter than its header"
            )));
        }
        state.files.insert(rel, record);
    }
    if pending_path.is_some() {
        return Err(TarError::Malformed("pax header without a file".into()));
    }
    let id = state.id.ok_or(TarError::Empty)?;
    let bag = Bag {
        id,
        files: state.files,
    };
    Ok((bag, end))
}

/// The walk so far: the bag id, the previous path and the files.
#[derive(Default)]
struct State {
    id: Option<String>,
    last: Option<String>,
    files: BTreeMap<String, FileRecord>,
    kept_total: u64,
}

impl State {
    /// Checks a full path (safe, in the one bag, after the previous one) and returns it
    /// relative to the bag.
    fn admit(&mut self, path: &str) -> Result<String, TarError> {
        check_safe(path)?;
        let (top, rel) = path
            .split_once('/')
            .ok_or_else(|| TarError::OutsideBag(path.into()))?;
        let id = top
            .strip_prefix(BAG_PREFIX)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| TarError::OutsideBag(path.into()))?;
        match &self.id {
            Some(known) if known != id => return Err(TarError::OutsideBag(path.into())),
            Some(_) => {}
            None => self.id = Some(id.to_owned()),
        }
        if let Some(last) = &self.last {
            match path.as_bytes().cmp(last.as_bytes()) {
                std::cmp::Ordering::Equal => return Err(TarError::Duplicate(path.into())),
                std::cmp::Ordering::Less => return Err(TarError::Unsorted(path.into())),
                std::cmp::Ordering::Greater => {}
            }
        }
        if self.files.len() >= MAX_FILES {
            return Err(TarError::TooLarge(path.into()));
        }
        self.last = Some(path.to_owned());
        Ok(rel.to_owned())
    }
}

/// Refuses absolute paths and empty, `.` and `..` components (and so a trailing `/`).
fn check_safe(path: &str) -> Result<(), TarError> {
    let bad = path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(TarError::UnsafePath(path.into()));
    }
    Ok(())
}

/// Reads a pax header (bounded) and returns its `path` record.
fn pax_path<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<String, TarError> {
    if entry.size() > MAX_PAX {
        return Err(TarError::TooLarge("a pax header".into()));
    }
    let mut raw = Vec::new();
    entry
        .read_to_end(&mut raw)
        .map_err(|e| TarError::Malformed(e.to_string()))?;
    let mut path = None;
    for record in tar::PaxExtensions::new(&raw) {
        let record = record.map_err(|_| TarError::Malformed("pax record".into()))?;
        let key = record
            .key()
            .map_err(|_| TarError::Malformed("pax key".into()))?;
        match key {
            "path" => {
                let value = record
                    .value()
                    .map_err(|_| TarError::UnsafePath("(not UTF-8)".into()))?;
                if path.replace(value.to_owned()).is_some() {
                    return Err(TarError::Malformed("two pax path records".into()));
                }
            }
            "size" | "linkpath" => return Err(TarError::PaxRecord(key.into())),
            k if k.starts_with("GNU.") => return Err(TarError::PaxRecord(key.into())),
            _ => {}
        }
    }
    path.ok_or_else(|| TarError::Malformed("pax header without a path record".into()))
}

/// Why a file's content could not be taken in.
enum ReadFail {
    Io(io::Error),
    TooLarge,
}

/// Streams one file through both digests, keeping its bytes if it is a kept file.
fn read_file<R: Read>(
    entry: &mut R,
    rel: &str,
    kept_total: &mut u64,
) -> Result<FileRecord, ReadFail> {
    let mut sink = Digests::default();
    if is_kept(rel) {
        let mut content = Vec::new();
        let n = entry
            .take(MAX_KEPT_FILE + 1)
            .read_to_end(&mut content)
            .map_err(ReadFail::Io)? as u64;
        *kept_total += n;
        if n > MAX_KEPT_FILE || *kept_total > MAX_KEPT_TOTAL {
            return Err(ReadFail::TooLarge);
        }
        sink.write_all(&content).map_err(ReadFail::Io)?;
        Ok(sink.finish(Some(content)))
    } else {
        io::copy(entry, &mut sink).map_err(ReadFail::Io)?;
        Ok(sink.finish(None))
    }
}

/// SHA-256 and SHA-512 of a stream, and its length.
#[derive(Default)]
struct Digests {
    sha256: Sha256,
    sha512: Sha512,
    size: u64,
}

impl Digests {
    fn finish(self, content: Option<Vec<u8>>) -> FileRecord {
        FileRecord {
            size: self.size,
            sha256: self.sha256.finalize().into(),
            sha512: self.sha512.finalize().into(),
            content,
        }
    }
}

impl Write for Digests {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sha256.update(buf);
        self.sha512.update(buf);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
