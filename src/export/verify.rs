//! The offline bundle verifier: one streaming pass over `bundle.tar.age`, then named checks
//! in a fixed order, each reported whether or not it passed.
//!
//! The pass ([`scan`]) decrypts with the regulator's age identity, walks the tar entry by
//! entry and hashes each file as it streams past; only tag files, `data/custody.json` and
//! `data/audit/**` are held in memory, each under a size cap. The checks then run over the
//! digests and those small files. The trust chain is: the signer's key (given by the
//! caller, never taken from the bundle) signs the tag manifest, which covers the payload
//! manifests, which cover every payload file, including the bundled audit log key; the log
//! key signs the checkpoint, and the checkpoint roots every inclusion proof.
//!
//! When an early check fails, the later checks that depend on it are reported as failed
//! with a detail starting `not run:`, so the report always names every check. Details name
//! files, labels, paths and counts, never the content of a payload file.

mod audit;
mod bagit;
mod scan;

use std::io::Read;

use self::audit::KeySource;
use self::bagit::{Alg, SIGNATURE, TAGMANIFEST};
use self::scan::Bag;
use crate::audit::note::Verifier;
use crate::export::key::verify_sshsig;
use crate::export::SIG_NAMESPACE;

pub use self::scan::{MAX_KEPT_FILE, MAX_KEPT_TOTAL};

/// The names of the checks, in the order they are reported.
pub const CHECK_NAMES: [&str; 11] = [
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
];

/// The outcome of one named check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// One of [`CHECK_NAMES`].
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found (counts, file names, the first problem); never payload content.
    pub detail: String,
}

/// Every check of one verification, in [`CHECK_NAMES`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// One entry per name in [`CHECK_NAMES`].
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// Whether every check passed (and there were checks at all).
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The check with this name, if reported.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.ok)
    }
}

/// Collects checks in order and fills in the ones that could not run.
struct Report(Vec<Check>);

impl Report {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            ok: true,
            detail: detail.into(),
        });
    }

    fn fail(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            ok: false,
            detail: detail.into(),
        });
    }

    fn record<E: std::fmt::Display>(&mut self, name: &'static str, r: &Result<String, E>) -> bool {
        match r {
            Ok(d) => self.pass(name, d.clone()),
            Err(e) => self.fail(name, e.to_string()),
        }
        r.is_ok()
    }

    /// Reports every not yet reported check as not run, for `reason`.
    fn rest_not_run(mut self, reason: &str) -> VerifyReport {
        for name in CHECK_NAMES.into_iter().skip(self.0.len()) {
            self.fail(name, format!("not run: {reason}"));
        }
        VerifyReport { checks: self.0 }
    }
}

/// Verifies a bundle read from `input`: decrypts it with `identity`, checks the bag, the
/// SSH signature over the tag manifest by `signer`, the audit checkpoint (signed by
/// `log_key`, or when `None` by the bundled `data/audit/log-key.txt`, which the signed
/// manifests cover) and every inclusion proof, and the custody record.
///
/// Never fails as a whole: every problem, including I/O errors on `input`, is a failed
/// check in the report. Memory stays bounded by [`MAX_KEPT_TOTAL`] plus per-file digests.
pub fn verify_bundle<R: Read>(
    input: R,
    identity: &age::x25519::Identity,
    signer: &ssh_key::PublicKey,
    log_key: Option<&Verifier>,
) -> VerifyReport {
    let mut report = Report(Vec::with_capacity(CHECK_NAMES.len()));
    let scanned = match scan::scan(input, identity) {
        Ok(s) => s,
        Err(e) => {
            report.fail("age", e.to_string());
            return report.rest_not_run("the bundle did not decrypt and authenticate");
        }
    };
    report.pass(
        "age",
        format!("decrypted and authenticated, {} bytes", scanned.plaintext),
    );
    let bag = match scanned.bag {
        Ok(bag) => bag,
        Err(e) => {
            report.fail("tar", e.to_string());
            return report.rest_not_run("the archive is malformed");
        }
    };
    report.pass(
        "tar",
        format!(
            "{} files under {}{}/",
            bag.files.len(),
            crate::export::BAG_PREFIX,
            bag.id
        ),
    );
    check_bag(&mut report, &bag, signer, log_key);
    VerifyReport { checks: report.0 }
}

/// The checks over a well-formed bag.
fn check_bag(
    report: &mut Report,
    bag: &Bag,
    signer: &ssh_key::PublicKey,
    log_key: Option<&Verifier>,
) {
    report.record("bagit.txt", &bagit::check_bagit_txt(bag));
    report.record("bag-info", &bagit::check_bag_info(bag));
    let sha256 = report.record("manifest-sha256", &bagit::check_manifest(bag, Alg::Sha256));
    let sha512 = report.record("manifest-sha512", &bagit::check_manifest(bag, Alg::Sha512));
    let tags = report.record("tagmanifest-sha256", &bagit::check_tagmanifest(bag));
    let signed = report.record("signature", &check_signature(bag, signer));
    let chain = sha256 && sha512 && tags && signed;
    let key = match log_key {
        Some(k) => Ok((k.clone(), KeySource::Given)),
        None if chain => audit::bundled_key(bag)
            .map(|k| (k, KeySource::Bundled))
            .map_err(|e| e.to_string()),
        None => Err(
            "not run: the bundled log key is not authenticated (manifests or signature failed)"
                .to_owned(),
        ),
    };
    let checkpoint = key.and_then(|(key, source)| {
        let (note, cp) = audit::check_checkpoint(bag, &key).map_err(|e| e.to_string())?;
        let from = match source {
            KeySource::Given => "the given --log-key",
            KeySource::Bundled => "data/audit/log-key.txt (covered by the signed manifests)",
        };
        let detail = format!(
            "origin {} size {} signed by {} from {from}",
            cp.origin,
            cp.size,
            key.name()
        );
        Ok((note, key, detail))
    });
    match checkpoint {
        Ok((note, key, detail)) => {
            report.pass("checkpoint", detail);
            match audit::check_inclusion(bag, note, &key) {
                Ok(n) => report.pass(
                    "inclusion-proofs",
                    format!("{n} entries included in the checkpoint"),
                ),
                Err(problems) => report.fail("inclusion-proofs", first_and_count(&problems)),
            }
        }
        Err(detail) => {
            report.fail("checkpoint", detail);
            report.fail("inclusion-proofs", "not run: no verified checkpoint");
        }
    }
    report.record("custody", &check_custody(bag));
}

/// The first problem and how many more there were.
fn first_and_count<E: std::fmt::Display>(problems: &[E]) -> String {
    match problems {
        [] => "no problem".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more problems)", rest.len()),
    }
}

/// The SSHSIG over `tagmanifest-sha256.txt`, by `signer`, in the export namespace.
fn check_signature(bag: &Bag, signer: &ssh_key::PublicKey) -> Result<String, String> {
    let message = bag
        .content(TAGMANIFEST)
        .ok_or_else(|| format!("{TAGMANIFEST} is missing"))?;
    let armored = bag
        .content(SIGNATURE)
        .ok_or_else(|| format!("{SIGNATURE} is missing"))?;
    let armored = std::str::from_utf8(armored).map_err(|_| format!("{SIGNATURE} is not UTF-8"))?;
    let fingerprint = signer.fingerprint(ssh_key::HashAlg::Sha256);
    verify_sshsig(signer, message, armored).map_err(|_| {
        format!("{SIGNATURE} does not verify with {fingerprint} in namespace {SIG_NAMESPACE}")
    })?;
    Ok(format!("{TAGMANIFEST} signed by {fingerprint}"))
}

/// `data/custody.json` is a JSON object naming the same export as `bag-info.txt` and the
/// bag directory.
fn check_custody(bag: &Bag) -> Result<String, String> {
    const CUSTODY: &str = "data/custody.json";
    let raw = bag
        .content(CUSTODY)
        .ok_or_else(|| format!("{CUSTODY} is missing"))?;
    let value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|_| format!("{CUSTODY} is not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("{CUSTODY} is not a JSON object"))?;
    let id = custody_export_id(object).ok_or_else(|| format!("{CUSTODY} names no export id"))?;
    let info = bagit::bag_info_value(bag, "Callvault-Export-Id").map_err(|e| e.to_string())?;
    if id != info {
        return Err(format!("{CUSTODY} names another export than bag-info.txt"));
    }
    if id != bag.id {
        return Err(format!(
            "{CUSTODY} names another export than the bag directory"
        ));
    }
    Ok(format!(
        "export {id} in custody record, bag-info.txt and bag directory"
    ))
}

/// The export id of a custody record.
fn custody_export_id(object: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    object.get("export_id").and_then(serde_json::Value::as_str)
}

#[cfg(test)]
mod tests;
