//! `callvault export create|approve|status|download`: regulator exports over the HTTP API
//! with the caller's token. Downloads stream to a temporary file beside the target and are
//! renamed into place only when complete, with a progress bar.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::Method;
use serde_json::{json, Value};

use super::access::{select_calls, send};
use super::{Client, ClientArgs};

/// How often `status --wait` polls.
const POLL: Duration = Duration::from_millis(500);

/// `callvault export ...`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Open an export of calls for a regulator (compliance); a second compliance officer
    /// must approve it.
    Create {
        /// Call ids (or select with --agent/--from/--to).
        #[arg(value_name = "CALL_ID")]
        calls: Vec<String>,
        /// Query: calls of this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Query: calls started at or after this RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
        /// Query: calls started before this RFC 3339 time.
        #[arg(long)]
        to: Option<String>,
        /// The regulator's or court's case id.
        #[arg(long)]
        case_id: String,
        /// The legal basis for moving the data (recorded in the bundle and the audit log).
        #[arg(long)]
        legal_basis: String,
        /// The regulator principal the export is addressed to.
        #[arg(long)]
        regulator: String,
        /// The age recipient (age1…); default: the one registered on the regulator.
        #[arg(long)]
        recipient: Option<String>,
        /// Vault connection.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve an export someone else created; the vault starts building it.
    Approve {
        /// The export id.
        id: String,
        /// Wait for the build to finish, with a progress bar.
        #[arg(long)]
        wait: bool,
        /// Vault connection.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show an export's state and build progress.
    Status {
        /// The export id.
        id: String,
        /// Wait until the build is ready or failed, with a progress bar.
        #[arg(long)]
        wait: bool,
        /// Vault connection.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Download a ready export's bundle (age-encrypted tar).
    Download {
        /// The export id.
        id: String,
        /// Where to write it (default `<id>.tar.age`); refuses to overwrite.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Vault connection.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Runs an `export` subcommand.
pub async fn run(cmd: ExportCommand) -> anyhow::Result<()> {
    match cmd {
        ExportCommand::Create {
            calls,
            agent,
            from,
            to,
            case_id,
            legal_basis,
            regulator,
            recipient,
            client,
        } => {
            let mut body = json!({
                "case_id": case_id,
                "legal_basis": legal_basis,
                "regulator": regulator,
            });
            if let Some(r) = recipient {
                body["recipient"] = json!(r);
            }
            select_calls(&mut body, calls, agent, from, to);
            let v = send(
                &Client::new(&client)?,
                Method::POST,
                "/v1/exports",
                Some(body),
            )
            .await?;
            print_export(&v)
        }
        ExportCommand::Approve { id, wait, client } => {
            let client = Client::new(&client)?;
            let path = format!("/v1/exports/{}/approve", segment(&id)?);
            let v = send(&client, Method::POST, &path, None).await?;
            if wait {
                return wait_for(&client, &id).await;
            }
            print_export(&v)
        }
        ExportCommand::Status { id, wait, client } => {
            let client = Client::new(&client)?;
            if wait {
                return wait_for(&client, &id).await;
            }
            let path = format!("/v1/exports/{}", segment(&id)?);
            print_export(&send(&client, Method::GET, &path, None).await?)
        }
        ExportCommand::Download { id, out, client } => {
            download(&Client::new(&client)?, &id, out).await
        }
    }
}

/// An export id as a URL path segment (ids are `exp-` and hex).
fn segment(id: &str) -> anyhow::Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    anyhow::ensure!(ok, "not an export id");
    Ok(id)
}

fn print_export(v: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} (case {}, {} calls, to {})",
        v["id"].as_str().unwrap_or(""),
        v["state"].as_str().unwrap_or(""),
        v["case_id"].as_str().unwrap_or(""),
        v["call_ids"].as_array().map_or(0, Vec::len),
        v["regulator"].as_str().unwrap_or(""),
    )?;
    writeln!(out, "{}", serde_json::to_string_pretty(v)?)?;
    Ok(())
}

/// Polls until the export is ready or failed, showing build progress.
async fn wait_for(client: &Client, id: &str) -> anyhow::Result<()> {
    let path = format!("/v1/exports/{}", segment(id)?);
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files {msg}",
        )
        .expect("the progress template is valid"),
    );
    loop {
        let v = send(client, Method::GET, &path, None).await?;
        bar.set_length(v["files_total"].as_u64().unwrap_or(0));
        bar.set_position(v["files_done"].as_u64().unwrap_or(0));
        match v["state"].as_str() {
            Some("ready") => {
                bar.finish_with_message("ready");
                return print_export(&v);
            }
            Some("failed") => {
                bar.abandon_with_message("failed");
                anyhow::bail!(
                    "export {id} failed: {}",
                    v["failure"].as_str().unwrap_or("unknown")
                );
            }
            Some(s) => bar.set_message(s.to_string()),
            None => anyhow::bail!("the vault's answer has no state"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Streams the bundle to a temporary file, checks its length, renames it into place.
async fn download(client: &Client, id: &str, out: Option<PathBuf>) -> anyhow::Result<()> {
    let path = format!("/v1/exports/{}/bundle", segment(id)?);
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{id}.tar.age")));
    if out.exists() {
        anyhow::bail!("{} exists; refusing to overwrite", out.display());
    }
    let resp = client.send(client.request(Method::GET, &path)?).await?;
    let len = resp.content_length();
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} ({bytes_per_sec})",
        )
        .expect("the progress template is valid"),
    );
    let mut body = resp.bytes_stream();
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the download was cut short")?;
        tmp.write_all(&chunk).context("writing the bundle")?;
        written += chunk.len() as u64;
        bar.set_position(written);
    }
    if let Some(len) = len {
        anyhow::ensure!(
            written == len,
            "the download was cut short ({written} of {len} bytes)"
        );
    }
    tmp.as_file().sync_all().context("writing the bundle")?;
    tmp.persist_noclobber(&out)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", out.display()))?;
    bar.finish_and_clear();
    eprintln!("wrote {} ({written} bytes)", out.display());
    eprintln!(
        "check it: callvault bundle verify {} --identity KEY --signer \"$(callvault keys show --export)\"",
        out.display()
    );
    Ok(())
}
