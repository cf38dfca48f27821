//! Regulator exports end to end against the real binary: compliance creates an export of
//! 20 dev calls, cannot approve it itself, a second compliance officer approves, the vault
//! builds the bundle, another regulator is refused, and the named regulator downloads it.
//! The bundle is then opened and checked with standard tools only — `age`, `tar`,
//! `bagit.py --validate`, `ssh-keygen -Y verify` and the spec-only `verify_audit.py` it
//! carries — scored for leaks, and verified by `callvault bundle verify`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, dev_corpus, scorer, TestServer};
use serde_json::{json, Value};

/// Calls exported: the first ten with audio and ten without.
fn export_calls() -> Vec<String> {
    let mut with_audio = Vec::new();
    let mut without = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dev_corpus().join("calls"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    for p in names {
        let id = p.file_stem().unwrap().to_str().unwrap().to_string();
        if p.with_extension("wav").exists() {
            if with_audio.len() < 10 {
                with_audio.push(id);
            }
        } else if without.len() < 10 {
            without.push(id);
        }
    }
    with_audio.extend(without);
    with_audio
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (scripts/install-deps.sh installs it)"))
}

fn ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh age identity: (key file, recipient).
fn age_identity(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(format!("{name}.txt"));
    ok(
        "age-keygen",
        &run(Command::new("age-keygen").arg("-o").arg(&key)),
    );
    let out = run(Command::new("age-keygen").arg("-y").arg(&key));
    ok("age-keygen -y", &out);
    (
        key,
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

/// Waits until the export is ready (or fails the test).
fn wait_ready(server: &TestServer, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let v: Value = server
            .get("compliance", &format!("/v1/exports/{id}"))
            .json()
            .unwrap();
        match v["state"].as_str().unwrap() {
            "ready" => return v,
            "failed" => panic!("export failed: {v}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "export not ready in time: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `age -d -i key bundle | tar x -C dir`, as a regulator would.
fn open_bundle(bundle: &Path, key: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let script = format!(
        "set -o pipefail; age -d -i '{}' '{}' | tar x -C '{}'",
        key.display(),
        bundle.display(),
        dir.display()
    );
    ok(
        "age | tar",
        &run(Command::new("bash").arg("-c").arg(script)),
    );
}

fn bagit_validate(bag: &Path) -> Output {
    let mut cmd = if Command::new("bagit.py")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        Command::new("bagit.py")
    } else {
        let mut c = Command::new("python3");
        c.args(["-m", "bagit"]);
        c
    };
    run(cmd.arg("--validate").arg(bag))
}

fn ssh_verify(bag: &Path, signer: &str, dir: &Path) -> Output {
    let allowed = dir.join("allowed_signers");
    std::fs::write(&allowed, format!("callvault {signer}\n")).unwrap();
    let manifest = std::fs::File::open(bag.join("tagmanifest-sha256.txt")).unwrap();
    run(Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", "callvault", "-n", "callvault-export", "-s"])
        .arg(bag.join("tagmanifest-sha256.txt.sig"))
        .stdin(manifest))
}

fn bundle_verify(bundle: &Path, key: &Path, signer: &str) -> Output {
    run(Command::new(bin())
        .args(["bundle", "verify"])
        .arg(bundle)
        .arg("--identity")
        .arg(key)
        .arg("--signer")
        .arg(signer))
}

fn events(server: &TestServer, object: &str) -> Vec<(String, String, String)> {
    let v: Value = server
        .get("compliance", &format!("/v1/audit/search?call_id={object}"))
        .json()
        .unwrap();
    v.as_array()
        .unwrap_or_else(|| panic!("audit search answer: {v}"))
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("").to_string(),
                e["event"].as_str().unwrap_or("").to_string(),
                e["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_regulator_opens_validates_and_verifies_an_export_with_standard_tools() {
    let server = TestServer::start();
    let calls = export_calls();
    let ids: Vec<&str> = calls.iter().map(String::as_str).collect();
    server.ingest(&ids);
    let work = tempfile::tempdir().unwrap();
    let (key, recipient) = age_identity(work.path(), "regulator");

    // Compliance opens the export; the regulator role and other roles cannot.
    let body = json!({
        "case_id": "CBIRC-2026-0042",
        "legal_basis": "Regulatory inquiry under the supervision order of 2026-11-01",
        "call_ids": calls,
        "regulator": "regulator",
        "recipient": recipient,
    });
    for who in ["auditor", "regulator", "admin", "recorder"] {
        assert_eq!(
            server.post(who, "/v1/exports", &body).status(),
            403,
            "{who} creates"
        );
    }
    let r = server.post("compliance", "/v1/exports", &body);
    assert_eq!(r.status(), 201);
    let created: Value = r.json().unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["state"], "pending");

    // Four eyes: the creator cannot approve; nothing is downloadable before approval.
    let approve = format!("/v1/exports/{id}/approve");
    assert_eq!(
        server.post("compliance", &approve, &json!({})).status(),
        403
    );
    assert_eq!(
        server
            .get("regulator", &format!("/v1/exports/{id}/bundle"))
            .status(),
        409
    );
    let r = server.post("compliance2", &approve, &json!({}));
    assert_eq!(r.status(), 202);
    assert_eq!(
        server.post("compliance2", &approve, &json!({})).status(),
        409
    );
    let ready = wait_ready(&server, &id);

    // Another regulator can neither see nor download it.
    assert_eq!(
        server
            .get("regulator2", &format!("/v1/exports/{id}/bundle"))
            .status(),
        403
    );
    assert_eq!(
        server
            .get("regulator2", &format!("/v1/exports/{id}"))
            .status(),
        403
    );

    // The named regulator downloads it with the CLI.
    let bundle = work.path().join("bundle.tar.age");
    ok(
        "export download",
        &run(server
            .cli("regulator")
            .args(["export", "download", &id, "--out"])
            .arg(&bundle)),
    );
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().len(),
        ready["bundle_bytes"].as_u64().unwrap()
    );

    // The signing key, as the vault publishes it (HTTP, and offline from the catalog).
    let signer = server.get("regulator", "/v1/keys/export").text().unwrap();
    let signer = signer.trim().to_string();
    assert!(signer.starts_with("ssh-ed25519 "), "{signer}");
    let shown = run(Command::new(bin())
        .args(["keys", "show", "--export", "--dev", "--data"])
        .arg(server.data.path()));
    ok("keys show", &shown);
    assert_eq!(String::from_utf8_lossy(&shown.stdout).trim(), signer);

    // Standard tools: age + tar, bagit.py, ssh-keygen, the bundled verify_audit.py.
    let opened = work.path().join("opened");
    open_bundle(&bundle, &key, &opened);
    let bag = opened.join(format!("callvault-export-{id}"));
    ok("bagit.py --validate", &bagit_validate(&bag));
    ok(
        "ssh-keygen -Y verify",
        &ssh_verify(&bag, &signer, work.path()),
    );
    let log_key = server.get("compliance", "/v1/audit/key").text().unwrap();
    ok(
        "verify_audit.py bundle",
        &run(Command::new("python3")
            .arg(bag.join("verify_audit.py"))
            .arg("--vkey")
            .arg(log_key.trim())
            .arg("bundle")
            .arg(&bag)),
    );
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(
        info.contains("External-Identifier: CBIRC-2026-0042\n"),
        "{info}"
    );
    assert!(
        info.contains("Callvault-Legal-Basis: Regulatory inquiry"),
        "{info}"
    );
    let custody: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/custody.json")).unwrap()).unwrap();
    assert_eq!(custody["export_id"], id.as_str());
    assert_eq!(custody["request"]["by"], "compliance");
    assert_eq!(custody["approval"]["by"], "compliance2");
    for (step, event) in [
        ("request", "export.create"),
        ("approval", "export.approve"),
        ("export", "export.build"),
    ] {
        let index = custody[step]["audit_index"].as_u64().unwrap();
        let leaf = bag.join(format!("data/audit/entries/{index:012}.json"));
        let entry: Value = serde_json::from_slice(&std::fs::read(&leaf).unwrap()).unwrap();
        assert_eq!(entry["event"], event, "{step}");
        assert!(bag
            .join(format!("data/audit/entries/{index:012}.tlog-proof"))
            .is_file());
    }
    for c in &calls {
        let dir = bag.join("data/calls").join(c);
        for f in ["metadata.json", "transcript.json", "redaction-report.json"] {
            assert!(dir.join(f).is_file(), "{c}/{f}");
        }
        let audio = dev_corpus().join("calls").join(format!("{c}.wav")).exists();
        assert_eq!(dir.join("audio.wav").is_file(), audio, "{c}/audio.wav");
    }

    // The regulator view leaks nothing, by the corpus scorer.
    let scored = work.path().join("scored");
    std::fs::create_dir_all(&scored).unwrap();
    for c in &calls {
        let dir = bag.join("data/calls").join(c);
        std::fs::copy(
            dir.join("transcript.json"),
            scored.join(format!("{c}.json")),
        )
        .unwrap();
        if dir.join("audio.wav").is_file() {
            std::fs::copy(dir.join("audio.wav"), scored.join(format!("{c}.wav"))).unwrap();
        }
    }
    ok(
        "score_redaction.py",
        &run(Command::new("python3")
            .arg(scorer())
            .arg(dev_corpus())
            .arg(&scored)
            .arg("--only")
            .arg(calls.join(","))),
    );

    // Building wrote nothing unencrypted: no exported sentence is anywhere in the data dir.
    let mut needles: Vec<String> = Vec::new();
    for c in &calls {
        let t: Value = serde_json::from_slice(
            &std::fs::read(bag.join("data/calls").join(c).join("transcript.json")).unwrap(),
        )
        .unwrap();
        for s in t["segments"].as_array().unwrap() {
            let text = s["text"].as_str().unwrap();
            if text.chars().count() >= 16 {
                needles.push(text.to_string());
            }
        }
    }
    assert!(needles.len() > 50, "too few sentences to look for");
    for file in server.data_files() {
        let bytes = std::fs::read(&file).unwrap();
        for n in &needles {
            assert!(
                memchr::memmem::find(&bytes, n.as_bytes()).is_none(),
                "an exported sentence is in {} in the clear",
                file.display()
            );
        }
    }

    // callvault's own offline verifier passes and names every check.
    let verified = bundle_verify(&bundle, &key, &signer);
    ok("callvault bundle verify", &verified);
    let report = String::from_utf8_lossy(&verified.stdout);
    for check in [
        "age",
        "tar",
        "bagit.txt",
        "bag-info",
        "manifest-sha256",
        "manifest-sha512",
        "tagmanifest-sha256",
        "signature",
        "checkpoint",
        "inclusion-proofs",
        "custody",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(check)),
            "{check} not reported ok:\n{report}"
        );
    }

    // A truncated age layer fails, naming the age check; a wrong signer fails the signature.
    let bytes = std::fs::read(&bundle).unwrap();
    let cut = work.path().join("cut.tar.age");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let out = bundle_verify(&cut, &key, &signer);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("age")),
        "{text}"
    );
    let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEnZ+4TcRsVvI4GSZSQ8bW+wXdmU0kR/9OrDwzDIsEnP";
    let out = bundle_verify(&bundle, &key, other);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("signature")),
        "{text}"
    );

    // The same export downloads to the same tar, byte for byte (age is randomised).
    let again = work.path().join("again.tar.age");
    ok(
        "export download (compliance)",
        &run(server
            .cli("compliance")
            .args(["export", "download", &id, "--out"])
            .arg(&again)),
    );
    let tar_of = |f: &Path| {
        let out = run(Command::new("age").arg("-d").arg("-i").arg(&key).arg(f));
        ok("age -d", &out);
        out.stdout
    };
    assert_eq!(tar_of(&bundle), tar_of(&again));

    // Every step is on the record, refusals included.
    let seen = events(&server, &id);
    for (actor, event, outcome) in [
        ("compliance", "export.create", "success"),
        ("compliance", "export.approve", "denied"),
        ("compliance2", "export.approve", "success"),
        ("callvault", "export.build", "success"),
        ("callvault", "export.ready", "success"),
        ("regulator2", "export.download", "denied"),
        ("regulator", "export.download", "success"),
        ("compliance", "export.download", "success"),
    ] {
        assert!(
            seen.contains(&(actor.into(), event.into(), outcome.into())),
            "no {actor} {event} {outcome} in {seen:?}"
        );
    }
}

#[test]
fn bad_export_requests_are_refused_and_store_nothing() {
    let server = TestServer::start();
    server.ingest(&["c20260301-010013"]);
    let work = tempfile::tempdir().unwrap();
    let (_, recipient) = age_identity(work.path(), "r");
    let good = json!({
        "case_id": "case-1",
        "legal_basis": "inquiry",
        "call_ids": ["c20260301-010013"],
        "regulator": "regulator",
        "recipient": recipient,
    });
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut with = |what: &'static str, key: &str, v: Value| {
        let mut b = good.clone();
        b[key] = v;
        cases.push((what, b));
    };
    with("not a regulator", "regulator", json!("auditor"));
    with("unknown regulator", "regulator", json!("nobody"));
    with("bad recipient", "recipient", json!("age1notarecipient"));
    with("unknown call", "call_ids", json!(["c20990101-000000"]));
    with("no calls", "call_ids", json!([]));
    with("newline in case id", "case_id", json!("a\nb"));
    with("empty legal basis", "legal_basis", json!(" "));
    for (what, body) in cases {
        let r = server.post("compliance", "/v1/exports", &body);
        assert_eq!(r.status(), 422, "{what}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
    }
    let mut no_recipient = good.clone();
    no_recipient.as_object_mut().unwrap().remove("recipient");
    assert_eq!(
        server
            .post("compliance", "/v1/exports", &no_recipient)
            .status(),
        422,
        "no recipient registered"
    );
    assert_eq!(
        server.get("compliance", "/v1/exports/exp-0123").status(),
        404
    );
}
