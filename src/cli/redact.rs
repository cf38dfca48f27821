//! `callvault redact --role ROLE --out DIR FILE...`: exactly what ingest plus the role view
//! would produce, written to DIR, with nothing stored.

use anyhow::Context;

use super::{ExitError, RedactArgs, EXIT_PARTIAL_FAILURE};
use crate::redact::{redact_file, Policy};

/// Runs `callvault redact`.
pub fn run(args: RedactArgs) -> anyhow::Result<()> {
    let policy = match &args.policy {
        Some(dir) => Policy::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Policy::builtin(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut failed = 0usize;
    for file in &args.files {
        match redact_file(file, &args.out, &args.role, &policy, args.explain) {
            Ok(outcome) => {
                if args.explain {
                    for line in &outcome.explain {
                        println!("{}: {line}", file.display());
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("failed: {}: {e}", file.display());
            }
        }
    }
    if failed > 0 {
        return Err(ExitError {
            code: EXIT_PARTIAL_FAILURE,
            message: format!("{failed} of {} files failed", args.files.len()),
        }
        .into());
    }
    Ok(())
}
