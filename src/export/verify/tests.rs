//! Tests of the bundle verifier over bundles from the real builder, with a real small audit
//! log, tampered after signing (re-encrypted to the same recipient) or signed while wrong.

use std::collections::BTreeMap;
use std::io::{self, Read};

use super::*;
use crate::audit::merkle::{inclusion_proof, leaf_hash, Frontier, Hash};
use crate::audit::note::{sign_note, Checkpoint, Signer};
use crate::audit::proof::TlogProof;
use crate::export::bag::BagInfo;
use crate::export::key::ExportKey;
use crate::export::pack::{build_bundle, BundleSpec, PayloadSource};

const ID: &str = "exp-1";
const DIR: &str = "callvault-export-exp-1/";
const LOG: &str = "test.example/log";

/// An in-memory payload.
struct Mem(BTreeMap<String, Vec<u8>>);

impl PayloadSource for Mem {
    fn paths(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(self.0[path].as_slice()))
    }
}

/// The keys of a test export.
struct Keys {
    identity: age::x25519::Identity,
    export: ExportKey,
    log: Signer,
}

fn keys() -> Keys {
    Keys {
        identity: age::x25519::Identity::generate(),
        export: ExportKey::from_seed(&[7; 32]),
        log: Signer::from_seed([9; 32], LOG).unwrap(),
    }
}

/// A payload: one call, the custody record, and three audit entries with their proofs.
fn payload(log: &Signer) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut put = |p: &str, b: Vec<u8>| files.insert(p.to_owned(), b);
    put("data/calls/c1/metadata.json", br#"{"call":"c1"}"#.to_vec());
    put("data/calls/c1/transcript.json", br#"{"turns":[]}"#.to_vec());
    put(
        "data/calls/c1/audio.wav",
        (0..1500u32).map(|i| i as u8).collect(),
    );
    put("data/calls/c1/redaction-report.json", b"{}".to_vec());
    put(
        "data/custody.json",
        format!(r#"{{"export_id":"{ID}"}}"#).into_bytes(),
    );
    put(
        "data/audit/log-key.txt",
        format!("{}\n", log.vkey()).into_bytes(),
    );
    let leaves: Vec<Vec<u8>> = (0..3)
        .map(|i| format!(r#"{{"i":{i}}}"#).into_bytes())
        .collect();
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let frontier = Frontier::from_source(&hashes, 3).unwrap();
    let checkpoint = Checkpoint {
        origin: LOG.into(),
        size: 3,
        root: frontier.root(),
        extensions: vec![],
    };
    let note = sign_note(&checkpoint.to_text().unwrap(), &[log]).unwrap();
    put("data/audit/checkpoint.txt", note.clone().into_bytes());
    for (i, leaf) in leaves.iter().enumerate() {
        let proof = TlogProof {
            extra: None,
            index: i as u64,
            hashes: inclusion_proof(&hashes, i as u64, 3).unwrap(),
            checkpoint_note: note.clone(),
        };
        put(&format!("data/audit/entries/{i:012}.json"), leaf.clone());
        put(
            &format!("data/audit/entries/{i:012}.tlog-proof"),
            proof.to_text().into_bytes(),
        );
    }
    files
}

/// A signed, encrypted bundle of `files`.
fn build(keys: &Keys, files: BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let spec = BundleSpec {
        export_id: ID.into(),
        info: BagInfo {
            source_organization: "Example Bank".into(),
            external_identifier: "CASE-7".into(),
            bagging_date: time::macros::date!(2026 - 03 - 01),
            legal_basis: "Art. 6(1)(c)".into(),
            export_id: ID.into(),
            regulator: "Example Regulator".into(),
        },
        mtime: 1_772_323_200,
        verify_script: b"#!/usr/bin/env python3\n".to_vec(),
    };
    let (_, out) = build_bundle(
        &spec,
        &mut Mem(files),
        &keys.export,
        &keys.identity.to_public(),
        Vec::new(),
        &mut |_| {},
    )
    .unwrap();
    out
}

fn verify(keys: &Keys, bundle: &[u8], log_key: Option<&Verifier>) -> VerifyReport {
    verify_bundle(bundle, &keys.identity, &keys.export.public_key(), log_key)
}

/// The entries of a bundle, in order, as (full path, bytes).
fn unpack(keys: &Keys, bundle: &[u8]) -> Vec<(String, Vec<u8>)> {
    let stream = age::Decryptor::new(bundle)
        .unwrap()
        .decrypt(std::iter::once(&keys.identity as &dyn age::Identity))
        .unwrap();
    let mut archive = tar::Archive::new(stream);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.push((path, bytes));
    }
    out
}

/// Packs entries in the given order (pax path, then ustar header) and encrypts them.
fn repack(keys: &Keys, entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in entries {
        tar.append_pax_extensions([("path", path.as_bytes())])
            .unwrap();
        let mut header = tar::Header::new_ustar();
        if header.set_path(path).is_err() {
            header.set_path("unsafe-name-see-pax").unwrap();
        }
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, bytes.as_slice()).unwrap();
    }
    let plain = tar.into_inner().unwrap();
    let recipient = keys.identity.to_public();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).unwrap();
    io::Write::write_all(&mut writer, &plain).unwrap();
    writer.finish().unwrap();
    out
}

/// Decrypts, edits and re-encrypts a good bundle, then verifies it with the bundled log key.
fn tampered(edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> VerifyReport {
    let keys = keys();
    let good = build(&keys, payload(&keys.log));
    let mut entries = unpack(&keys, &good);
    edit(&mut entries);
    verify(&keys, &repack(&keys, &entries), None)
}

fn file<'a>(entries: &'a mut [(String, Vec<u8>)], rel: &str) -> &'a mut Vec<u8> {
    let full = format!("{DIR}{rel}");
    &mut entries.iter_mut().find(|(p, _)| *p == full).unwrap().1
}

fn assert_first_failure(report: &VerifyReport, name: &str) {
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(names, CHECK_NAMES, "every check is reported, in order");
    let failed = report.first_failure().expect("the bundle must not verify");
    assert_eq!(failed.name, name, "{report:#?}");
    assert!(!report.ok());
}

#[test]
fn a_good_bundle_passes_every_check() {
    let keys = keys();
    let bundle = build(&keys, payload(&keys.log));
    let report = verify(&keys, &bundle, None);
    assert!(report.ok(), "{report:#?}");
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(names, CHECK_NAMES);
    let checkpoint = &report.check("checkpoint").unwrap().detail;
    assert!(
        checkpoint.contains("data/audit/log-key.txt"),
        "{checkpoint}"
    );
    assert!(report
        .check("inclusion-proofs")
        .unwrap()
        .detail
        .starts_with("3 entries"));

    let given = verify(&keys, &bundle, Some(&keys.log.verifier()));
    assert!(given.ok(), "{given:#?}");
    assert!(given
        .check("checkpoint")
        .unwrap()
        .detail
        .contains("--log-key"));
}

#[test]
fn a_repacked_but_unchanged_bundle_still_verifies() {
    assert!(tampered(|_| {}).ok());
}

#[test]
fn an_altered_payload_byte_fails_the_payload_manifests() {
    let report = tampered(|e| file(e, "data/calls/c1/audio.wav")[700] ^= 1);
    assert_first_failure(&report, "manifest-sha256");
    assert!(!report.check("manifest-sha512").unwrap().ok);
    assert!(report
        .check("manifest-sha256")
        .unwrap()
        .detail
        .contains("audio.wav"));
}

#[test]
fn an_altered_manifest_line_fails_the_manifest_and_the_tag_manifest() {
    let report = tampered(|e| {
        let m = file(e, "manifest-sha256.txt");
        m[0] = if m[0] == b'0' { b'1' } else { b'0' };
    });
    assert_first_failure(&report, "manifest-sha256");
    assert!(!report.check("tagmanifest-sha256").unwrap().ok);
    assert!(report.check("manifest-sha512").unwrap().ok);
}

#[test]
fn an_altered_signature_fails_the_signature_check() {
    let report = tampered(|e| {
        let sig = file(e, "tagmanifest-sha256.txt.sig");
        let at = sig.len() / 2;
        sig[at] = if sig[at] == b'A' { b'B' } else { b'A' };
    });
    assert_first_failure(&report, "signature");
    assert!(report
        .check("checkpoint")
        .unwrap()
        .detail
        .starts_with("not run"));
}

#[test]
fn a_wrong_signer_key_fails_the_signature_check() {
    let keys = keys();
    let bundle = build(&keys, payload(&keys.log));
    let other = ExportKey::from_seed(&[8; 32]).public_key();
    let report = verify_bundle(bundle.as_slice(), &keys.identity, &other, None);
    assert_first_failure(&report, "signature");
}

#[test]
fn a_wrong_identity_fails_at_age_and_runs_nothing_else() {
    let keys = keys();
    let bundle = build(&keys, payload(&keys.log));
    let other = age::x25519::Identity::generate();
    let report = verify_bundle(bundle.as_slice(), &other, &keys.export.public_key(), None);
    assert_first_failure(&report, "age");
    assert!(report.checks[1..]
        .iter()
        .all(|c| c.detail.starts_with("not run: ")));
}

#[test]
fn a_truncated_age_layer_fails_at_age() {
    let keys = keys();
    let bundle = build(&keys, payload(&keys.log));
    for len in [
        0,
        1,
        40,
        200,
        bundle.len() / 2,
        bundle.len() - 17,
        bundle.len() - 1,
    ] {
        let report = verify(&keys, &bundle[..len], None);
        assert_first_failure(&report, "age");
    }
    let mut longer = bundle.clone();
    longer.push(0);
    assert_first_failure(&verify(&keys, &longer, None), "age");
}

#[test]
fn an_altered_proof_fails_the_manifests_and_if_signed_the_inclusion_proofs() {
    let report = tampered(|e| file(e, "data/audit/entries/000000000001.tlog-proof")[24] ^= 1);
    assert_first_failure(&report, "manifest-sha256");

    let keys = keys();
    let mut files = payload(&keys.log);
    let proof = files
        .get_mut("data/audit/entries/000000000001.tlog-proof")
        .unwrap();
    let text = String::from_utf8(proof.clone())
        .unwrap()
        .replace("index 1\n", "index 2\n");
    *proof = text.into_bytes();
    let report = verify(&keys, &build(&keys, files), None);
    assert_first_failure(&report, "inclusion-proofs");
    assert!(report
        .check("inclusion-proofs")
        .unwrap()
        .detail
        .contains("000000000001"));
}

#[test]
fn a_checkpoint_signed_by_another_key_fails_the_checkpoint_check() {
    let keys = keys();
    let mut files = payload(&keys.log);
    let other = Signer::from_seed([10; 32], LOG).unwrap();
    let forged = payload(&other)["data/audit/checkpoint.txt"].clone();
    files.insert("data/audit/checkpoint.txt".into(), forged);
    let report = verify(&keys, &build(&keys, files), None);
    assert_first_failure(&report, "checkpoint");
    assert!(report
        .check("inclusion-proofs")
        .unwrap()
        .detail
        .starts_with("not run"));

    let mut cp_edit = tampered(|e| {
        let cp = file(e, "data/audit/checkpoint.txt");
        cp[LOG.len() + 1] = b'4';
    });
    assert_first_failure(&cp_edit, "manifest-sha256");
    cp_edit.checks.retain(|c| c.name == "checkpoint");
    assert!(!cp_edit.checks[0].ok);
}

#[test]
fn a_given_log_key_that_did_not_sign_fails_the_checkpoint_check() {
    let keys = keys();
    let bundle = build(&keys, payload(&keys.log));
    let other = Signer::from_seed([11; 32], "other.example/log").unwrap();
    let report = verify(&keys, &bundle, Some(&other.verifier()));
    assert_first_failure(&report, "checkpoint");
}

#[test]
fn an_added_payload_file_is_unlisted() {
    let report = tampered(|e| {
        e.push((format!("{DIR}data/extra.txt"), b"x".to_vec()));
        e.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    });
    assert_first_failure(&report, "bag-info");
    let detail = &report.check("manifest-sha256").unwrap().detail;
    assert!(detail.contains("data/extra.txt is not listed"), "{detail}");
}

#[test]
fn an_added_tag_file_escapes_no_signature() {
    let report = tampered(|e| {
        e.push((format!("{DIR}notes.txt"), b"x".to_vec()));
        e.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    });
    assert_first_failure(&report, "tagmanifest-sha256");
}

#[test]
fn a_removed_file_is_missing_from_the_bag() {
    let report = tampered(|e| e.retain(|(p, _)| !p.ends_with("transcript.json")));
    assert_first_failure(&report, "bag-info");
    let detail = &report.check("manifest-sha256").unwrap().detail;
    assert!(detail.contains("not in the bag"), "{detail}");

    let report = tampered(|e| e.retain(|(p, _)| !p.ends_with("000000000002.tlog-proof")));
    assert!(!report.check("inclusion-proofs").unwrap().ok);
}

#[test]
fn unsorted_duplicate_or_foreign_paths_fail_the_tar_check() {
    let report = tampered(|e| e.swap(0, 1));
    assert_first_failure(&report, "tar");
    let report = tampered(|e| e.insert(1, e[0].clone()));
    assert_first_failure(&report, "tar");
    let report = tampered(|e| e.push(("callvault-export-exp-2/x".into(), vec![])));
    assert_first_failure(&report, "tar");
    let report = tampered(|e| e.push((format!("{DIR}data/../../x"), vec![])));
    assert_first_failure(&report, "tar");
    assert!(report.checks[2..]
        .iter()
        .all(|c| c.detail.starts_with("not run: ")));
}

#[test]
fn a_custody_record_for_another_export_fails_the_custody_check() {
    let keys = keys();
    let mut files = payload(&keys.log);
    files.insert(
        "data/custody.json".into(),
        br#"{"export_id":"exp-2"}"#.to_vec(),
    );
    let report = verify(&keys, &build(&keys, files), None);
    assert_first_failure(&report, "custody");
}

#[test]
fn details_never_carry_payload_content() {
    let report = tampered(|e| file(e, "data/calls/c1/transcript.json")[3] ^= 1);
    for check in &report.checks {
        assert!(!check.detail.contains("turns"), "{check:?}");
    }
}

/// Runs `tests/verify_audit.py --vkey @log-key bundle DIR` on an unpacked bundle.
fn python_bundle(dir: &std::path::Path) -> std::process::Output {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_audit.py");
    let key = dir.join(DIR).join("data/audit/log-key.txt");
    std::process::Command::new("python3")
        .arg(script)
        .arg("--vkey")
        .arg(format!("@{}", key.display()))
        .arg("bundle")
        .arg(dir.join(DIR))
        .output()
        .unwrap()
}

#[test]
fn the_spec_only_python_verifier_checks_the_bundled_audit_material() {
    let keys = keys();
    let entries = unpack(&keys, &build(&keys, payload(&keys.log)));
    let dir = tempfile::tempdir().unwrap();
    let write = |entries: &[(String, Vec<u8>)]| {
        for (path, bytes) in entries {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    };
    write(&entries);
    let out = python_bundle(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.starts_with("bundle OK: 3 entries in origin=test.example/log size=3"));

    let leaf = dir
        .path()
        .join(DIR)
        .join("data/audit/entries/000000000001.json");
    std::fs::write(&leaf, b"{\"i\":9}").unwrap();
    assert_eq!(python_bundle(dir.path()).status.code(), Some(1));
    write(&entries);
    std::fs::remove_file(leaf).unwrap();
    assert_eq!(
        python_bundle(dir.path()).status.code(),
        Some(1),
        "an orphan proof"
    );
}
