//! `callvault audit ...`: verify the stored log offline, fetch checkpoints and proofs, and
//! ask who touched a call.
//!
//! `verify` works on the data directory (it needs the catalog and the root key, to unwrap
//! the MAC and signing keys), so it runs with the server stopped or beside it. The other
//! commands ask the running server (`CALLVAULT_ADDR`, `CALLVAULT_TOKEN`): reading the audit
//! log is itself access-controlled and audited, so they go through the one place that
//! checks the reader's roles and records the read.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde::Deserialize;

use super::{Client, ClientArgs, ExitError};
use crate::audit::verify::{verify_log, VerifyError};
use crate::config::Config;

/// Exit status of `audit verify` when the log fails verification.
pub const EXIT_AUDIT_BAD: i32 = 3;

/// `callvault audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the log from storage, check every MAC and stored checkpoint, and name the
    /// first bad index (exit status 3). Needs the data directory and the root key.
    Verify {
        /// Data directory (overrides data_dir from the configuration).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Configuration file (for the catalog path, keys and instance name).
        #[arg(long, value_name = "FILE", default_value = "callvault.toml")]
        config: PathBuf,
        /// A checkpoint note saved earlier (from `audit checkpoint`), kept outside the data
        /// directory: also proves the log was not rolled back or forked since.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Print the latest signed checkpoint (save it somewhere else for `verify --checkpoint`).
    Checkpoint {
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Print a C2SP tlog-proof that entry INDEX is in the log.
    Proof {
        /// The entry's index.
        index: u64,
        /// Tree size to prove against; the latest checkpoint's when absent.
        #[arg(long, value_name = "M")]
        size: Option<u64>,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Who touched a call, when, how, and under which grant.
    Who {
        /// The call id.
        call_id: String,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Runs an `audit` subcommand.
pub async fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify {
            data,
            config,
            checkpoint,
        } => verify(data, &config, checkpoint).await,
        AuditCommand::Checkpoint { client } => {
            let note = checkpoint_note(&Client::new(&client)?).await?;
            std::io::stdout().lock().write_all(note.as_bytes())?;
            Ok(())
        }
        AuditCommand::Proof {
            index,
            size,
            client,
        } => proof(&Client::new(&client)?, index, size).await,
        AuditCommand::Who {
            call_id,
            json,
            client,
        } => who(&Client::new(&client)?, &call_id, json).await,
    }
}

async fn verify(
    data: Option<PathBuf>,
    config: &std::path::Path,
    checkpoint: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut config = Config::load(config)?;
    if let Some(d) = data {
        config.data_dir = d;
    }
    let outside = checkpoint
        .map(|f| std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display())))
        .transpose()?;
    let (catalog, keys) = crate::vault::open_audit(&config).await?;
    let verifier = keys.signer.verifier();
    match verify_log(catalog.as_ref(), &keys.mac, &verifier, outside.as_deref()).await {
        Ok(r) => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "audit log OK: {} entries, {} stored checkpoints checked",
                r.size, r.checkpoints_checked
            )?;
            if let Some(s) = r.outside_size {
                writeln!(
                    out,
                    "the given checkpoint (size {s}) is a prefix of the log"
                )?;
            }
            Ok(())
        }
        Err(e @ VerifyError::Bad { .. }) => Err(ExitError {
            code: EXIT_AUDIT_BAD,
            message: e.to_string(),
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

async fn checkpoint_note(client: &Client) -> anyhow::Result<String> {
    let req = client.request(Method::GET, "/v1/audit/checkpoint")?;
    Ok(client.send(req).await?.text().await?)
}

async fn proof(client: &Client, index: u64, size: Option<u64>) -> anyhow::Result<()> {
    let size = match size {
        Some(s) => s,
        None => {
            let note = checkpoint_note(client).await?;
            note.lines()
                .nth(1)
                .and_then(|l| l.parse().ok())
                .context("the server's checkpoint has no size line")?
        }
    };
    let req = client
        .request(Method::GET, "/v1/audit/proof/inclusion")?
        .query(&[("index", index), ("size", size)]);
    let proof = client.send(req).await?.text().await?;
    std::io::stdout().lock().write_all(proof.as_bytes())?;
    Ok(())
}

#[derive(Deserialize, serde::Serialize)]
struct Hit {
    index: u64,
    time: String,
    actor: String,
    roles: Vec<String>,
    event: String,
    outcome: String,
    grant: Option<String>,
    purpose: Option<String>,
    policies: Vec<String>,
}

async fn who(client: &Client, call_id: &str, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if !json {
        writeln!(
            out,
            "{:>8} {:<25} {:<14} {:<22} {:<8} {:<12} PURPOSE",
            "INDEX", "TIME", "ACTOR", "EVENT", "OUTCOME", "GRANT"
        )?;
    }
    let mut start = 0u64;
    loop {
        let req = client
            .request(Method::GET, "/v1/audit/search")?
            .query(&[("call_id", call_id)])
            .query(&[("start", start)]);
        let hits: Vec<Hit> = client.send(req).await?.json().await?;
        let Some(last) = hits.last() else {
            return Ok(());
        };
        start = last.index + 1;
        for h in &hits {
            if json {
                writeln!(out, "{}", serde_json::to_string(h)?)?;
            } else {
                writeln!(
                    out,
                    "{:>8} {:<25} {:<14} {:<22} {:<8} {:<12} {}",
                    h.index,
                    h.time,
                    h.actor,
                    h.event,
                    h.outcome,
                    h.grant.as_deref().unwrap_or("-"),
                    h.purpose.as_deref().unwrap_or("-")
                )?;
            }
        }
        if hits.len() < crate::audit::MAX_SEARCH as usize {
            return Ok(());
        }
    }
}
