//! `callvault redact` offline: the auditor view of the whole dev corpus scores clean, and
//! `--explain` never prints a value.

mod common;

use std::process::Command;

use common::{dev_corpus, scorer};

fn corpus_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dev_corpus().join("calls"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_offline_auditor_view_of_the_dev_corpus_scores_clean() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(common::bin())
        .args(["redact", "--role", "auditor", "--out"])
        .arg(out.path())
        .args(corpus_files())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        330,
        "300 transcripts and 30 WAVs"
    );
    let score = Command::new("python3")
        .arg(scorer())
        .arg(dev_corpus())
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        score.status.success(),
        "{}",
        String::from_utf8_lossy(&score.stdout)
    );
}

#[test]
fn explain_names_classes_and_detectors_but_never_values() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(common::bin())
        .args(["redact", "--explain", "--role", "auditor", "--out"])
        .arg(out.path())
        .args(corpus_files())
        .output()
        .unwrap();
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(
        text.contains("card_number") && text.contains("cvv"),
        "explain lists findings by class"
    );
    for line in std::fs::read_to_string(dev_corpus().join("truth.jsonl"))
        .unwrap()
        .lines()
    {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        if item["tier"] == "keep" {
            continue;
        }
        let value = item["value"].as_str().unwrap();
        if value.chars().count() >= 6 {
            assert!(
                !text.contains(value),
                "--explain printed a {} value",
                item["class"]
            );
        }
        for part in item["parts"].as_array().unwrap() {
            let t = part["text"].as_str().unwrap().trim();
            if t.chars().count() >= 6 {
                assert!(
                    !text.contains(t),
                    "--explain printed part of a {} value",
                    item["class"]
                );
            }
        }
    }
}

#[test]
fn an_unknown_role_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(common::bin())
        .args(["redact", "--role", "recorder", "--out"])
        .arg(out.path())
        .arg(&corpus_files()[0])
        .output()
        .unwrap();
    assert!(!run.status.success());
}

#[test]
fn a_policy_that_fails_validation_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/redaction");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let roles = std::fs::read_to_string(dir.path().join("roles.toml")).unwrap();
    std::fs::write(
        dir.path().join("roles.toml"),
        roles.replacen("card_number = \"masked\"", "card_number = \"sideways\"", 1),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(common::bin())
        .args(["redact", "--policy"])
        .arg(dir.path())
        .args(["--role", "auditor", "--out"])
        .arg(out.path())
        .arg(&corpus_files()[0])
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("roles.toml:"), "{err}");
}
