use std::collections::BTreeMap;

use super::*;
use crate::export::key::verify_sshsig;

/// Serves payload files from memory; `second` replaces a file's bytes from its second open.
#[derive(Default)]
struct MemSource {
    files: BTreeMap<String, Vec<u8>>,
    second: BTreeMap<String, Vec<u8>>,
    opens: BTreeMap<String, u32>,
}

impl MemSource {
    fn with(files: &[(&str, &[u8])]) -> Self {
        MemSource {
            files: files
                .iter()
                .map(|(p, b)| (p.to_string(), b.to_vec()))
                .collect(),
            ..Default::default()
        }
    }
}

impl PayloadSource for MemSource {
    fn paths(&self) -> Vec<String> {
        self.files.keys().rev().cloned().collect()
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let opens = self.opens.entry(path.to_owned()).or_default();
        *opens += 1;
        let bytes = match self.second.get(path) {
            Some(changed) if *opens > 1 => changed,
            _ => self.files.get(path).ok_or(io::ErrorKind::NotFound)?,
        };
        Ok(Box::new(bytes.as_slice()))
    }
}

fn spec() -> BundleSpec {
    BundleSpec {
        export_id: "exp-1".into(),
        info: BagInfo {
            source_organization: "Acme Bank".into(),
            external_identifier: "CASE-9".into(),
            bagging_date: time::macros::date!(2024 - 06 - 30),
            legal_basis: "s.165 notice".into(),
            export_id: "exp-1".into(),
            regulator: "FCA".into(),
        },
        mtime: 1_719_705_600,
        verify_script: b"#!/usr/bin/env python3\nprint('ok')\n".to_vec(),
    }
}

fn files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("data/custody.json", b"{\"request\":1}"),
        ("data/calls/c1/transcript.json", b"{\"v\":1}"),
        ("data/calls/c1/metadata.json", b"{}"),
        ("data/audit/log-key.txt", b"log+abcd+AAAA\n"),
        ("data/audit/entries/000000000000.json", b""),
    ]
}

fn key() -> ExportKey {
    ExportKey::from_seed(&[3u8; 32])
}

/// Builds a bundle and returns its summary, the age ciphertext and the identity to open it.
fn build(
    source: &mut MemSource,
    spec: &BundleSpec,
) -> Result<(BundleSummary, Vec<u8>, age::x25519::Identity), ExportError> {
    let identity = age::x25519::Identity::generate();
    let (summary, out) = build_bundle(
        spec,
        source,
        &key(),
        &identity.to_public(),
        Vec::new(),
        &mut |_| {},
    )?;
    Ok((summary, out, identity))
}

fn decrypt(ciphertext: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
    let decryptor = age::Decryptor::new(ciphertext).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut tar = Vec::new();
    reader.read_to_end(&mut tar).unwrap();
    tar
}

fn build_tar(files: &[(&str, &[u8])]) -> (BundleSummary, Vec<u8>) {
    let (summary, ct, identity) = build(&mut MemSource::with(files), &spec()).unwrap();
    (summary, decrypt(&ct, &identity))
}

/// A read-back entry: full path, header, pax path record, content.
struct ReadEntry {
    path: String,
    header: tar::Header,
    pax_path: Option<String>,
    content: Vec<u8>,
}

fn read_tar(tar_bytes: &[u8]) -> Vec<ReadEntry> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let pax_path = entry.pax_extensions().unwrap().and_then(|exts| {
            exts.filter_map(Result::ok)
                .find(|e| e.key() == Ok("path"))
                .map(|e| e.value().unwrap().to_owned())
        });
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let header = entry.header().clone();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        out.push(ReadEntry {
            path,
            header,
            pax_path,
            content,
        });
    }
    out
}

fn content<'a>(entries: &'a [ReadEntry], rel: &str) -> &'a [u8] {
    let full = format!("callvault-export-exp-1/{rel}");
    &entries.iter().find(|e| e.path == full).unwrap().content
}

#[test]
fn a_bundle_decrypts_to_every_file_in_path_order_with_pax_paths() {
    let (_, tar_bytes) = build_tar(&files());
    let entries = read_tar(&tar_bytes);
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    let rel: Vec<&str> = paths
        .iter()
        .map(|p| p.strip_prefix("callvault-export-exp-1/").unwrap())
        .collect();
    assert_eq!(
        rel,
        [
            "bag-info.txt",
            "bagit.txt",
            "data/audit/entries/000000000000.json",
            "data/audit/log-key.txt",
            "data/calls/c1/metadata.json",
            "data/calls/c1/transcript.json",
            "data/custody.json",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha256.txt.sig",
            "verify_audit.py",
        ]
    );
    for entry in &entries {
        assert_eq!(entry.pax_path.as_deref(), Some(entry.path.as_str()));
    }
}

#[test]
fn every_header_is_a_plain_0644_root_file_at_the_fixed_mtime() {
    let (_, tar_bytes) = build_tar(&files());
    for entry in read_tar(&tar_bytes) {
        let h = &entry.header;
        assert_eq!(h.entry_type(), tar::EntryType::Regular, "{}", entry.path);
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.mtime().unwrap(), 1_719_705_600);
        assert_eq!(h.username_bytes(), Some(&b""[..]));
        assert_eq!(h.groupname_bytes(), Some(&b""[..]));
        assert_eq!(h.size().unwrap(), entry.content.len() as u64);
        assert!(h.as_ustar().is_some());
    }
}

#[test]
fn the_raw_tar_alternates_pax_and_file_headers_and_ends_with_two_zero_blocks() {
    let (summary, tar_bytes) = build_tar(&files());
    assert_eq!(summary.tar_bytes, tar_bytes.len() as u64);
    assert_eq!(tar_bytes.len() % 512, 0);
    let mut at = 0;
    let mut kinds = Vec::new();
    while tar_bytes[at..at + 512].iter().any(|&b| b != 0) {
        let header = tar::Header::from_byte_slice(&tar_bytes[at..at + 512]);
        kinds.push(header.entry_type().as_byte());
        at += 512 + (header.entry_size().unwrap() as usize).div_ceil(512) * 512;
    }
    assert_eq!(&tar_bytes[at..], &[0u8; 1024][..]);
    assert_eq!(kinds.len(), 24);
    assert!(
        kinds.chunks(2).all(|pair| pair == [b'x', b'0']),
        "{kinds:?}"
    );
}

#[test]
fn payload_content_and_manifests_match_recomputed_digests() {
    let (summary, tar_bytes) = build_tar(&files());
    let entries = read_tar(&tar_bytes);
    let mut sha256 = String::new();
    let mut sha512 = String::new();
    let mut sorted = files();
    sorted.sort();
    for (path, bytes) in &sorted {
        assert_eq!(content(&entries, path), *bytes);
        sha256 += &format!("{}  {path}\n", hex::encode(Sha256::digest(bytes)));
        sha512 += &format!("{}  {path}\n", hex::encode(Sha512::digest(bytes)));
    }
    assert_eq!(content(&entries, "manifest-sha256.txt"), sha256.as_bytes());
    assert_eq!(content(&entries, "manifest-sha512.txt"), sha512.as_bytes());

    let mut tagmanifest = String::new();
    for tag in [
        "bag-info.txt",
        "bagit.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "verify_audit.py",
    ] {
        let digest = Sha256::digest(content(&entries, tag));
        tagmanifest += &format!("{}  {tag}\n", hex::encode(digest));
    }
    let signed = content(&entries, "tagmanifest-sha256.txt");
    assert_eq!(signed, tagmanifest.as_bytes());
    assert_eq!(
        summary.tagmanifest_sha256,
        <[u8; 32]>::from(Sha256::digest(signed))
    );
    assert_eq!(content(&entries, "verify_audit.py"), spec().verify_script);
    assert_eq!(
        content(&entries, "bagit.txt"),
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
}

#[test]
fn bag_info_carries_the_payload_oxum_and_the_summary_agrees() {
    let (summary, tar_bytes) = build_tar(&files());
    let bytes: usize = files().iter().map(|(_, b)| b.len()).sum();
    let bag_info =
        String::from_utf8(content(&read_tar(&tar_bytes), "bag-info.txt").to_vec()).unwrap();
    assert!(
        bag_info.contains(&format!("\nPayload-Oxum: {bytes}.5\n")),
        "{bag_info}"
    );
    assert!(bag_info.contains("\nBagging-Date: 2024-06-30\n"));
    assert!(bag_info.ends_with("Callvault-Bundle-Version: 1\n"));
    assert_eq!(
        (summary.payload_bytes, summary.payload_files),
        (bytes as u64, 5)
    );
}

#[test]
fn the_signature_verifies_and_rejects_a_changed_tag_manifest() {
    let (_, tar_bytes) = build_tar(&files());
    let entries = read_tar(&tar_bytes);
    let signed = content(&entries, "tagmanifest-sha256.txt");
    let sig = std::str::from_utf8(content(&entries, "tagmanifest-sha256.txt.sig")).unwrap();
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    verify_sshsig(&key().public_key(), signed, sig).unwrap();
    let mut changed = signed.to_vec();
    changed[0] ^= 1;
    assert!(matches!(
        verify_sshsig(&key().public_key(), &changed, sig),
        Err(ExportError::BadSignature)
    ));
}

#[test]
fn the_same_export_gives_the_same_tar_byte_for_byte() {
    let (first_summary, first) = build_tar(&files());
    let (second_summary, second) = build_tar(&files());
    assert_eq!(first, second);
    assert_eq!(first_summary, second_summary);
}

#[test]
fn a_file_that_changes_between_passes_fails_the_build() {
    for changed in [&b"{\"v\":2}"[..], b"{\"v\":1}!", b"{\"v\"", b""] {
        let mut source = MemSource::with(&files());
        source
            .second
            .insert("data/calls/c1/transcript.json".into(), changed.to_vec());
        match build(&mut source, &spec()) {
            Err(ExportError::PayloadChanged { path }) => {
                assert_eq!(path, "data/calls/c1/transcript.json")
            }
            other => panic!("{:?}", other.map(|(s, _, _)| s)),
        }
    }
}

#[test]
fn the_error_for_a_changed_file_does_not_carry_its_content() {
    let mut source = MemSource::with(&[("data/secret.txt", b"card 4111")]);
    source
        .second
        .insert("data/secret.txt".into(), b"card 4112".to_vec());
    let message = build(&mut source, &spec()).err().unwrap().to_string();
    assert!(
        !message.contains("4111") && !message.contains("4112"),
        "{message}"
    );
}

#[test]
fn an_empty_payload_file_and_an_empty_payload_both_work() {
    let (summary, tar_bytes) = build_tar(&[("data/empty", b"")]);
    assert_eq!((summary.payload_files, summary.payload_bytes), (1, 0));
    let entries = read_tar(&tar_bytes);
    assert_eq!(content(&entries, "data/empty"), b"");
    assert!(std::str::from_utf8(content(&entries, "bag-info.txt"))
        .unwrap()
        .contains("Payload-Oxum: 0.1\n"));

    let (summary, tar_bytes) = build_tar(&[]);
    assert_eq!(summary.payload_files, 0);
    assert_eq!(read_tar(&tar_bytes).len(), 7);
}

#[test]
fn files_larger_than_the_buffer_stream_through_intact() {
    let big: Vec<u8> = (0..(3 * BUFFER_SIZE + 7))
        .map(|i| (i % 251) as u8)
        .collect();
    let (summary, tar_bytes) = build_tar(&[("data/calls/c1/audio.wav", &big)]);
    assert_eq!(summary.payload_bytes, big.len() as u64);
    assert_eq!(
        content(&read_tar(&tar_bytes), "data/calls/c1/audio.wav"),
        big
    );
}

#[test]
fn paths_too_long_for_ustar_keep_their_full_name_in_pax() {
    let long_segment = "x".repeat(120);
    let too_long = format!("data/{}/{}", "y".repeat(200), long_segment);
    let splittable = format!("data/{}/{}", "z".repeat(60), "w".repeat(60));
    let (_, tar_bytes) = build_tar(&[(&too_long, b"a"), (&splittable, b"b")]);
    let entries = read_tar(&tar_bytes);
    assert_eq!(content(&entries, &too_long), b"a");
    assert_eq!(content(&entries, &splittable), b"b");
}

#[test]
fn progress_reaches_every_file_and_byte_in_both_passes() {
    let identity = age::x25519::Identity::generate();
    let mut seen = Vec::new();
    build_bundle(
        &spec(),
        &mut MemSource::with(&files()),
        &key(),
        &identity.to_public(),
        io::sink(),
        &mut |p| seen.push(*p),
    )
    .unwrap();
    let bytes: u64 = files().iter().map(|(_, b)| b.len() as u64).sum();
    let last_hashing = seen.iter().rfind(|p| p.phase == Phase::Hashing).unwrap();
    assert_eq!((last_hashing.files_done, last_hashing.files_total), (5, 5));
    assert_eq!(last_hashing.bytes_done, bytes);
    let last = seen.last().unwrap();
    assert_eq!(last.phase, Phase::Packing);
    assert_eq!(
        (last.files_done, last.bytes_done, last.bytes_total),
        (5, bytes, bytes)
    );
}

#[test]
fn a_mismatched_export_id_or_bad_path_is_refused_before_reading() {
    let mut other = spec();
    other.info.export_id = "exp-2".into();
    let mut source = MemSource::with(&files());
    assert!(matches!(
        build(&mut source, &other),
        Err(ExportError::InvalidInfo(_))
    ));
    assert!(source.opens.is_empty());

    let mut source = MemSource::with(&[("data/../escape", b"")]);
    assert!(matches!(
        build(&mut source, &spec()),
        Err(ExportError::InvalidPath(_))
    ));
    let mut source = MemSource::with(&[("calls/x", b"")]);
    assert!(matches!(
        build(&mut source, &spec()),
        Err(ExportError::InvalidPath(_))
    ));
    assert!(source.opens.is_empty());
}

#[test]
fn ssh_keygen_accepts_the_signature() {
    let Some(ssh_keygen) = ["/usr/bin/ssh-keygen", "/bin/ssh-keygen"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "ssh-keygen is required in CI"
        );
        eprintln!("note: ssh-keygen not found; skipping the OpenSSH interoperability check");
        return;
    };
    let (_, tar_bytes) = build_tar(&files());
    let entries = read_tar(&tar_bytes);
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    let sig = dir.path().join("sig");
    let manifest = dir.path().join("tagmanifest");
    std::fs::write(&allowed, format!("callvault {}\n", key().public_openssh())).unwrap();
    std::fs::write(&sig, content(&entries, "tagmanifest-sha256.txt.sig")).unwrap();
    std::fs::write(&manifest, content(&entries, "tagmanifest-sha256.txt")).unwrap();
    let verify = |message: &std::path::Path| {
        std::process::Command::new(ssh_keygen)
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", "callvault", "-n", "callvault-export", "-s"])
            .arg(&sig)
            .stdin(std::fs::File::open(message).unwrap())
            .output()
            .unwrap()
    };
    let output = verify(&manifest);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let tampered = dir.path().join("tampered");
    let mut bytes = content(&entries, "tagmanifest-sha256.txt").to_vec();
    bytes[0] ^= 1;
    std::fs::write(&tampered, bytes).unwrap();
    assert!(!verify(&tampered).status.success());
}
