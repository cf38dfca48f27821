//! `callvault keys generate`.

use anyhow::Context;

use super::KeysCommand;
use crate::seal::RootKey;

/// Runs a `keys` subcommand.
pub fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Generate { out } => {
            if out.exists() {
                anyhow::bail!("{} exists; refusing to overwrite a root key", out.display());
            }
            RootKey::generate()
                .write_key_file(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote a new root key to {} (keep it secret; losing it loses every call)",
                out.display()
            );
            Ok(())
        }
    }
}
