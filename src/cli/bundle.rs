//! `callvault bundle ...`: check an export bundle offline, as its recipient would.
//!
//! Needs no vault, configuration or network: the bundle file, the recipient's age
//! identity, the vault's published export public key and, optionally, the audit log key.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use clap::Subcommand;
use zeroize::Zeroizing;

use super::ExitError;
use crate::audit::note::Verifier;
use crate::export::verify::{verify_bundle, VerifyReport};

/// Exit status of `bundle verify` when a check fails.
pub const EXIT_BUNDLE_BAD: i32 = 1;

/// `callvault bundle ...`.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Decrypt and check an export bundle: age, tar, BagIt manifests, the SSH signature,
    /// the audit checkpoint and inclusion proofs, the custody record. Prints one line per
    /// check; exit status 0 when all pass, 1 otherwise.
    Verify {
        /// The bundle (`*.tar.age`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The recipient's age identity file (`AGE-SECRET-KEY-1...`, `#` comments allowed).
        #[arg(long, value_name = "KEYFILE")]
        identity: PathBuf,
        /// The vault's export public key: an OpenSSH `ssh-ed25519 AAAA...` line, or a file
        /// holding one. Take it from the vault, never from the bundle.
        #[arg(long, value_name = "PUBKEY")]
        signer: String,
        /// The audit log's verifier key (`name+keyid+base64`, or `@FILE`); without it the
        /// key bundled in `data/audit/log-key.txt` is used, as covered by the signature.
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
    },
}

/// Runs a `bundle` subcommand.
pub fn run(cmd: BundleCommand) -> anyhow::Result<()> {
    match cmd {
        BundleCommand::Verify {
            file,
            identity,
            signer,
            log_key,
        } => verify(&file, &identity, &signer, log_key.as_deref()),
    }
}

fn verify(file: &Path, identity: &Path, signer: &str, log_key: Option<&str>) -> anyhow::Result<()> {
    let identity = read_identity(identity)?;
    let signer = read_signer(signer)?;
    let log_key = log_key.map(read_log_key).transpose()?;
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let report = verify_bundle(
        BufReader::with_capacity(1 << 16, input),
        &identity,
        &signer,
        log_key.as_ref(),
    );
    print_report(&mut std::io::stdout().lock(), &report)?;
    if report.ok() {
        return Ok(());
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    Err(ExitError {
        code: EXIT_BUNDLE_BAD,
        message: format!("{failed} of {} checks failed", report.checks.len()),
    }
    .into())
}

/// One line per check, then the verdict.
fn print_report(out: &mut impl Write, report: &VerifyReport) -> std::io::Result<()> {
    for check in &report.checks {
        let status = if check.ok { "ok  " } else { "FAIL" };
        writeln!(out, "{status} {}  {}", check.name, check.detail)?;
    }
    let verdict = if report.ok() {
        "bundle verified"
    } else {
        "bundle NOT verified"
    };
    writeln!(out, "{verdict}")?;
    out.flush()
}

/// The one X25519 identity in an age identity file. Error texts never quote the file.
fn read_identity(path: &Path) -> anyhow::Result<age::x25519::Identity> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Ok(identity) = age::x25519::Identity::from_str(line) else {
            bail!(
                "{} line {} is not an age X25519 identity",
                path.display(),
                i + 1
            );
        };
        if found.replace(identity).is_some() {
            bail!("{} holds more than one identity", path.display());
        }
    }
    found.with_context(|| format!("{} holds no identity", path.display()))
}

/// An OpenSSH public key given inline or as a file holding one.
fn read_signer(arg: &str) -> anyhow::Result<ssh_key::PublicKey> {
    let arg = arg.trim();
    if arg.starts_with("ssh-") {
        return ssh_key::PublicKey::from_openssh(arg)
            .context("--signer is not an OpenSSH public key");
    }
    let text = std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .with_context(|| format!("{arg} holds no public key"))?;
    ssh_key::PublicKey::from_openssh(line)
        .with_context(|| format!("{arg} does not hold an OpenSSH public key"))
}

/// A vkey string, or `@FILE` holding one.
fn read_log_key(arg: &str) -> anyhow::Result<Verifier> {
    let vkey = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_owned(),
    };
    Verifier::from_vkey(vkey.trim()).context("--log-key is not a verifier key (name+keyid+base64)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::verify::Check;

    #[test]
    fn the_report_prints_one_line_per_check_and_a_verdict() {
        let report = VerifyReport {
            checks: vec![
                Check {
                    name: "age",
                    ok: true,
                    detail: "decrypted".into(),
                },
                Check {
                    name: "tar",
                    ok: false,
                    detail: "duplicate path x".into(),
                },
            ],
        };
        let mut out = Vec::new();
        print_report(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ok   age  decrypted\nFAIL tar  duplicate path x\nbundle NOT verified\n"
        );
    }

    #[test]
    fn an_identity_file_may_carry_comments_but_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let key = age::x25519::Identity::generate();
        let path = dir.path().join("key.txt");
        let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
        std::fs::write(
            &path,
            format!("# created: now\n# public key: x\n{secret}\n"),
        )
        .unwrap();
        let read = read_identity(&path).unwrap();
        assert_eq!(read.to_public().to_string(), key.to_public().to_string());
        std::fs::write(&path, format!("{secret}\n{secret}\n")).unwrap();
        assert!(read_identity(&path).is_err());
        std::fs::write(&path, "AGE-SECRET-KEY-1NOTAKEY\n").unwrap();
        let err = read_identity(&path).err().unwrap().to_string();
        assert!(!err.contains("NOTAKEY"), "{err}");
    }
}
