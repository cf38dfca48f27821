//! `callvault calls list` and `callvault calls get`.

use std::io::Write;

use anyhow::Context;
use futures::StreamExt;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use super::{CallsCommand, Client};

/// Runs a `calls` subcommand.
pub async fn run(cmd: CallsCommand) -> anyhow::Result<()> {
    match cmd {
        CallsCommand::List {
            limit,
            json,
            client,
        } => list(&Client::new(&client)?, limit, json).await,
        CallsCommand::Get {
            call_id,
            transcript,
            audio,
            output,
            client,
        } => {
            let client = Client::new(&client)?;
            let path = match (transcript, audio) {
                (true, _) => format!("/v1/calls/{call_id}/transcript"),
                (_, true) => format!("/v1/calls/{call_id}/audio"),
                _ => format!("/v1/calls/{call_id}"),
            };
            get(&client, &path, output.as_deref()).await
        }
    }
}

async fn list(client: &Client, limit: u32, json: bool) -> anyhow::Result<()> {
    let mut after: Option<String> = None;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !json {
        writeln!(
            out,
            "{:<24} {:<26} {:<8} {:>6} {:>10}",
            "CALL_ID", "STARTED_AT", "AGENT", "AUDIO", "DURATION_S"
        )?;
    }
    loop {
        let mut req = client
            .request(Method::GET, "/v1/calls")?
            .query(&[("limit", limit.to_string())]);
        if let Some(a) = &after {
            req = req.query(&[("after", a)]);
        }
        let page: serde_json::Value = client
            .send(req)
            .await?
            .json()
            .await
            .context("reading the call list")?;
        for c in page["calls"].as_array().into_iter().flatten() {
            if json {
                writeln!(out, "{c}")?;
            } else {
                writeln!(
                    out,
                    "{:<24} {:<26} {:<8} {:>6} {:>10}",
                    c["call_id"].as_str().unwrap_or(""),
                    c["started_at"].as_str().unwrap_or(""),
                    c["agent_id"].as_str().unwrap_or(""),
                    if c["has_audio"].as_bool().unwrap_or(false) {
                        "yes"
                    } else {
                        "no"
                    },
                    c["duration_s"]
                        .as_f64()
                        .map_or_else(|| "-".into(), |d| format!("{d:.3}")),
                )?;
            }
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => return Ok(()),
        }
    }
}

async fn get(client: &Client, path: &str, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let resp = client.send(client.request(Method::GET, path)?).await?;
    let mut body = resp.bytes_stream();
    match output {
        Some(file) => {
            // Write beside the target and rename, so an aborted download leaves no file
            // that looks whole.
            let tmp = file.with_extension("partial");
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("creating {}", tmp.display()))?;
            while let Some(chunk) = body.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        drop(f);
                        let _ = tokio::fs::remove_file(&tmp).await;
                        return Err(anyhow::anyhow!(
                            "the download was aborted by the vault (integrity failure?): {e}"
                        ));
                    }
                };
                f.write_all(&chunk).await?;
            }
            f.sync_all().await?;
            tokio::fs::rename(&tmp, file).await?;
        }
        None => {
            let mut stdout = tokio::io::stdout();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.context("the download was aborted by the vault")?;
                stdout.write_all(&chunk).await?;
            }
            stdout.flush().await?;
        }
    }
    Ok(())
}
