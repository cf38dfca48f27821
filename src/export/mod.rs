//! Regulator export bundles: a BagIt bag of the regulator view of some calls, with their
//! custody record and audit proofs, packed as a deterministic POSIX (pax) tar, its tag
//! manifest signed (SSHSIG, Ed25519) and the whole encrypted with age to the regulator.
//!
//! Outsiders open and check a bundle with standard tools only:
//!
//! ```text
//! age -d -i key.txt bundle.tar.age | tar x
//! bagit.py --validate callvault-export-<id>
//! ssh-keygen -Y verify -f allowed_signers -I callvault -n callvault-export \
//!     -s callvault-export-<id>/tagmanifest-sha256.txt.sig < callvault-export-<id>/tagmanifest-sha256.txt
//! python3 callvault-export-<id>/verify_audit.py --vkey @callvault-export-<id>/data/audit/log-key.txt \
//!     bundle callvault-export-<id>
//! ```
//!
//! # Bundle format (version 1)
//!
//! The age payload is a tar archive. Every entry is a regular file (no directory entries),
//! preceded by a pax extended header (`typeflag 'x'`) holding its `path`; the ustar header
//! that follows has mode 0644, uid/gid 0, empty user and group names and the export's
//! fixed mtime (its approval time). Entries appear in byte order of their full path; the
//! archive ends with two zero blocks. All paths sit under one directory, the bag:
//! `callvault-export-<export id>/`. Same export, same tar, byte for byte.
//!
//! The bag (RFC 8493, BagIt 1.0), paths relative to it:
//!
//! | path | content |
//! |---|---|
//! | `bagit.txt` | `BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n` |
//! | `bag-info.txt` | `Source-Organization`, `External-Identifier` (case id), `Bagging-Date` (YYYY-MM-DD), `Payload-Oxum` (`bytes.files`), `Callvault-Legal-Basis`, `Callvault-Export-Id`, `Callvault-Regulator`, `Callvault-Bundle-Version: 1` — one `Label: value` line each, in this order |
//! | `data/calls/<call id>/metadata.json` | the call's metadata (no keys) |
//! | `data/calls/<call id>/transcript.json` | the regulator view, transcript v1 |
//! | `data/calls/<call id>/audio.wav` | the regulator view of the audio (calls with audio only) |
//! | `data/calls/<call id>/redaction-report.json` | the counts-only redaction report |
//! | `data/custody.json` | the export request, its approval and the build event |
//! | `data/audit/log-key.txt` | the audit log's verifier key (`name+keyid+base64`), one line |
//! | `data/audit/checkpoint.txt` | the one signed checkpoint every proof is against |
//! | `data/audit/entries/<index>.json` | an audit leaf, exact bytes; `<index>` zero-padded to 12 digits |
//! | `data/audit/entries/<index>.tlog-proof` | its C2SP tlog-proof, whose note equals `checkpoint.txt` |
//! | `manifest-sha256.txt`, `manifest-sha512.txt` | `<hex>  <path>\n` per payload file, sorted by path |
//! | `tagmanifest-sha256.txt` | the same over `bag-info.txt`, `bagit.txt`, both manifests and `verify_audit.py` |
//! | `tagmanifest-sha256.txt.sig` | SSHSIG (armored) of `tagmanifest-sha256.txt`, namespace `callvault-export`, hash sha512 |
//! | `verify_audit.py` | the spec-only audit verifier (a tag file) |
//!
//! The signature is made with the vault's Ed25519 export key, whose public half the vault
//! publishes (`GET /v1/keys/export`, `callvault keys show`); a verifier must get it from
//! there, never from the bundle.

pub mod bag;
mod error;
pub mod key;
pub mod pack;
pub mod verify;

pub use error::ExportError;

/// The namespace of the SSH signature over the tag manifest.
pub const SIG_NAMESPACE: &str = "callvault-export";
/// The bundle format version written to `bag-info.txt`.
pub const BUNDLE_VERSION: u32 = 1;
/// The prefix of the bag directory name; the export id follows.
pub const BAG_PREFIX: &str = "callvault-export-";
