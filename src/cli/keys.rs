//! `callvault keys generate|show`.

use anyhow::Context;

use super::KeysCommand;
use crate::seal::RootKey;
use crate::vault::published_keys;

/// Runs a `keys` subcommand.
pub async fn run(cmd: KeysCommand) -> anyhow::Result<()> {
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
        KeysCommand::Show { export, local } => {
            let keys = published_keys(&local.config()?).await?;
            if export {
                println!("{}", keys.export_openssh);
            } else {
                println!("export signing key: {}", keys.export_openssh);
                println!("audit log key:      {}", keys.audit_vkey);
            }
            Ok(())
        }
    }
}
