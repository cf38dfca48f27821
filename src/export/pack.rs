//! The two-pass streaming bundle builder: hash every payload file, render and sign the tag
//! files, then write the deterministic pax tar of the bag through age to the regulator.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256, Sha512};

use super::bag::{
    validate_export_id, validate_payload_path, BagInfo, PayloadEntry, TagFiles, BAGIT_PATH,
    BAG_INFO_PATH, MANIFEST_SHA256_PATH, MANIFEST_SHA512_PATH, SIGNATURE_PATH, TAGMANIFEST_PATH,
    VERIFY_SCRIPT_PATH,
};
use super::key::ExportKey;
use super::{ExportError, BAG_PREFIX};

/// Size of the read buffer for payload files, in both passes.
pub const BUFFER_SIZE: usize = 64 * 1024;
/// Mode of every file in the tar.
pub const FILE_MODE: u32 = 0o644;
/// Size of a tar block; entries are padded to it.
const BLOCK: usize = 512;

/// Where payload bytes come from; each file is opened twice (hash pass, pack pass) and must
/// yield identical bytes.
pub trait PayloadSource {
    /// Payload paths, relative to the bag root (each starts with `data/`), any order.
    fn paths(&self) -> Vec<String>;
    /// Opens one payload file for reading from the start.
    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + Send + '_>>;
}

/// What to build: everything about the bundle except its payload, keys and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSpec {
    /// The export id; the bag directory is `callvault-export-<export_id>/`. Must equal
    /// `info.export_id`.
    pub export_id: String,
    /// The metadata for `bag-info.txt`.
    pub info: BagInfo,
    /// The fixed mtime of every entry, seconds since the Unix epoch (the approval time).
    pub mtime: u64,
    /// The bytes of `verify_audit.py`.
    pub verify_script: Vec<u8>,
}

/// Which pass the builder is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Pass 1: reading every payload file to size and digest it.
    Hashing,
    /// Pass 2: writing the encrypted tar, re-reading every payload file.
    Packing,
}

/// How far the builder has got, counting payload files and bytes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The current pass.
    pub phase: Phase,
    /// Payload files finished in this pass.
    pub files_done: u64,
    /// Payload files in the bundle.
    pub files_total: u64,
    /// Payload bytes read in this pass.
    pub bytes_done: u64,
    /// Payload bytes in the bundle; 0 while hashing, when the total is not yet known.
    pub bytes_total: u64,
}

/// What a finished build produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleSummary {
    /// Number of payload files (the second half of `Payload-Oxum`).
    pub payload_files: u64,
    /// Total payload bytes (the first half of `Payload-Oxum`).
    pub payload_bytes: u64,
    /// Length of the tar stream before encryption.
    pub tar_bytes: u64,
    /// SHA-256 of `tagmanifest-sha256.txt`, the signed file.
    pub tagmanifest_sha256: [u8; 32],
}

/// Builds one bundle: the age-encrypted (to `recipient`) pax tar of the bag described by
/// `spec` with the payload of `source`, its tag manifest signed with `key`, written to `out`.
///
/// Streams: memory does not grow with payload size. `progress` is called at the start of
/// each pass and after every buffer of payload read. Returns the summary and `out`, after
/// the age stream has been finished.
///
/// # Errors
/// [`ExportError::InvalidPath`] or [`ExportError::InvalidInfo`] before anything is read;
/// [`ExportError::Io`] if reading a payload file or writing `out` fails;
/// [`ExportError::PayloadChanged`] if a file's bytes differ between the passes;
/// [`ExportError::Sign`] or [`ExportError::Encrypt`] if the key or recipient fail. On any
/// error `out` holds an unfinished age stream that will not decrypt: discard it.
pub fn build_bundle<W: Write>(
    spec: &BundleSpec,
    source: &mut dyn PayloadSource,
    key: &ExportKey,
    recipient: &age::x25519::Recipient,
    out: W,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(BundleSummary, W), ExportError> {
    let paths = checked_paths(spec, source)?;
    let payload = hash_pass(source, paths, progress)?;
    let tags = TagFiles::render(&spec.info, &payload, &spec.verify_script)?;
    let signature = key.sign_sshsig(tags.tagmanifest_sha256.as_bytes())?;

    let recipients = [recipient as &dyn age::Recipient];
    let encryptor = age::Encryptor::with_recipients(recipients.into_iter())
        .map_err(|_| ExportError::Encrypt)?;
    let sink = Counting::new(encryptor.wrap_output(out)?);
    let mut tar = tar::Builder::new(sink);
    let entries = sorted_entries(&tags, &signature, &spec.verify_script, &payload);
    pack_pass(&mut tar, spec, source, &entries, &payload, progress)?;
    let sink = tar.into_inner()?;
    let tar_bytes = sink.count;
    let out = sink.inner.finish()?;

    let summary = BundleSummary {
        payload_files: payload.len() as u64,
        payload_bytes: payload.iter().map(|e| e.size).sum(),
        tar_bytes,
        tagmanifest_sha256: Sha256::digest(tags.tagmanifest_sha256.as_bytes()).into(),
    };
    Ok((summary, out))
}

/// Checks the export id and every payload path, and returns the paths sorted by bytes.
fn checked_paths(
    spec: &BundleSpec,
    source: &dyn PayloadSource,
) -> Result<Vec<String>, ExportError> {
    validate_export_id(&spec.export_id)?;
    if spec.info.export_id != spec.export_id {
        return Err(ExportError::InvalidInfo(
            "Callvault-Export-Id differs from the bundle's export id",
        ));
    }
    let mut paths = source.paths();
    for path in &paths {
        validate_payload_path(path)?;
    }
    paths.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if paths.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(ExportError::InvalidPath("a payload path appears twice"));
    }
    Ok(paths)
}

/// Pass 1: size and digest every payload file.
fn hash_pass(
    source: &mut dyn PayloadSource,
    paths: Vec<String>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<PayloadEntry>, ExportError> {
    let mut state = Progress {
        phase: Phase::Hashing,
        files_done: 0,
        files_total: paths.len() as u64,
        bytes_done: 0,
        bytes_total: 0,
    };
    progress(&state);
    let mut buf = vec![0u8; BUFFER_SIZE];
    let mut payload = Vec::with_capacity(paths.len());
    for path in paths {
        let mut reader = source.open(&path)?;
        let digests = stream(&mut reader, None, &mut buf, &mut |n| {
            state.bytes_done += n;
            progress(&state);
        })?;
        state.files_done += 1;
        progress(&state);
        payload.push(PayloadEntry {
            path,
            size: digests.size,
            sha256: digests.sha256,
            sha512: digests.sha512,
        });
    }
    Ok(payload)
}

/// One tar entry: its path relative to the bag root and where its bytes come from.
struct Entry<'a> {
    path: &'a str,
    body: Body<'a>,
}

/// The content of an entry: rendered in memory, or payload entry `n` re-read from the source.
enum Body<'a> {
    Tag(&'a [u8]),
    Payload(usize),
}

/// Every entry of the bag, in byte order of path.
fn sorted_entries<'a>(
    tags: &'a TagFiles,
    signature: &'a str,
    verify_script: &'a [u8],
    payload: &'a [PayloadEntry],
) -> Vec<Entry<'a>> {
    let tag_files: [(&str, &[u8]); 7] = [
        (BAGIT_PATH, tags.bagit.as_bytes()),
        (BAG_INFO_PATH, tags.bag_info.as_bytes()),
        (MANIFEST_SHA256_PATH, tags.manifest_sha256.as_bytes()),
        (MANIFEST_SHA512_PATH, tags.manifest_sha512.as_bytes()),
        (TAGMANIFEST_PATH, tags.tagmanifest_sha256.as_bytes()),
        (SIGNATURE_PATH, signature.as_bytes()),
        (VERIFY_SCRIPT_PATH, verify_script),
    ];
    let tag_entries = tag_files.into_iter().map(|(path, bytes)| Entry {
        path,
        body: Body::Tag(bytes),
    });
    let payload_entries = payload.iter().enumerate().map(|(n, e)| Entry {
        path: &e.path,
        body: Body::Payload(n),
    });
    let mut entries: Vec<Entry<'a>> = tag_entries.chain(payload_entries).collect();
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    entries
}

/// Pass 2: write every entry, re-reading and re-hashing payload files.
fn pack_pass<W: Write>(
    tar: &mut tar::Builder<W>,
    spec: &BundleSpec,
    source: &mut dyn PayloadSource,
    entries: &[Entry<'_>],
    payload: &[PayloadEntry],
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), ExportError> {
    let mut state = Progress {
        phase: Phase::Packing,
        files_done: 0,
        files_total: payload.len() as u64,
        bytes_done: 0,
        bytes_total: payload.iter().map(|e| e.size).sum(),
    };
    progress(&state);
    let mut buf = vec![0u8; BUFFER_SIZE];
    for entry in entries {
        let full_path = format!("{BAG_PREFIX}{}/{}", spec.export_id, entry.path);
        match entry.body {
            Body::Tag(bytes) => {
                append_header(tar, &full_path, bytes.len() as u64, spec.mtime)?;
                tar.get_mut().write_all(bytes)?;
                pad(tar.get_mut(), bytes.len() as u64)?;
            }
            Body::Payload(n) => {
                let expected = &payload[n];
                append_header(tar, &full_path, expected.size, spec.mtime)?;
                let mut reader = source.open(&expected.path)?;
                let sink: &mut dyn Write = tar.get_mut();
                let again = stream(
                    &mut reader,
                    Some((sink, expected.size)),
                    &mut buf,
                    &mut |n| {
                        state.bytes_done += n;
                        progress(&state);
                    },
                )?;
                if again.size != expected.size
                    || again.sha256 != expected.sha256
                    || again.sha512 != expected.sha512
                {
                    return Err(ExportError::PayloadChanged {
                        path: expected.path.clone(),
                    });
                }
                pad(tar.get_mut(), expected.size)?;
                state.files_done += 1;
                progress(&state);
            }
        }
    }
    Ok(())
}

/// Writes the pax extended header holding `full_path`, then the ustar header of a regular
/// file: mode 0644, uid/gid 0, empty user and group names, `mtime`, `size`.
fn append_header<W: Write>(
    tar: &mut tar::Builder<W>,
    full_path: &str,
    size: u64,
    mtime: u64,
) -> io::Result<()> {
    tar.append_pax_extensions([("path", full_path.as_bytes())])?;
    let mut header = tar::Header::new_ustar();
    set_ustar_name(&mut header, full_path);
    header.set_mode(FILE_MODE);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_size(size);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tar.get_mut().write_all(header.as_bytes())
}

/// Fills the ustar name (and prefix) with `path` when it fits; otherwise the name field
/// holds the path's first 100 bytes and the prefix stays empty — the pax `path` record is
/// authoritative either way.
fn set_ustar_name(header: &mut tar::Header, path: &str) {
    if header.set_path(path).is_ok() {
        return;
    }
    let ustar = header.as_ustar_mut().expect("a new_ustar header is ustar");
    ustar.prefix = [0; 155];
    ustar.name = [0; 100];
    let n = path.len().min(ustar.name.len());
    ustar.name[..n].copy_from_slice(&path.as_bytes()[..n]);
}

/// Pads an entry of `len` bytes to a whole number of blocks.
fn pad(out: &mut dyn Write, len: u64) -> io::Result<()> {
    let rem = (len % BLOCK as u64) as usize;
    if rem != 0 {
        out.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
    }
    Ok(())
}

/// The size and digests of one payload file as read.
struct Measured {
    size: u64,
    sha256: [u8; 32],
    sha512: [u8; 64],
}

/// Reads `reader` to its end through both digests, calling `on_read` with each buffer's
/// length. With a sink, copies the bytes there, but never more than `limit`: reading stops
/// at the first byte past it (the size then differs, which the caller reports).
fn stream(
    reader: &mut dyn Read,
    mut sink: Option<(&mut dyn Write, u64)>,
    buf: &mut [u8],
    on_read: &mut dyn FnMut(u64),
) -> io::Result<Measured> {
    let (mut sha256, mut sha512, mut size) = (Sha256::new(), Sha512::new(), 0u64);
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        sha256.update(chunk);
        sha512.update(chunk);
        if let Some((out, limit)) = sink.as_mut() {
            let room = limit.saturating_sub(size).min(n as u64) as usize;
            out.write_all(&chunk[..room])?;
            if room < n {
                size += n as u64;
                break;
            }
        }
        size += n as u64;
        on_read(n as u64);
    }
    Ok(Measured {
        size,
        sha256: sha256.finalize().into(),
        sha512: sha512.finalize().into(),
    })
}

/// A writer that counts the bytes passing through it.
struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W> Counting<W> {
    fn new(inner: W) -> Self {
        Counting { inner, count: 0 }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
