//! `callvault access request|list|show|approve|deny|revoke` and `callvault search`: the
//! access workflow from a terminal, over the HTTP API with the caller's token.

use std::io::Write;

use anyhow::Context;
use reqwest::Method;
use serde_json::{json, Value};

use super::{AccessCommand, Client, SearchArgs};

/// Runs an `access` subcommand.
pub async fn run(cmd: AccessCommand) -> anyhow::Result<()> {
    match cmd {
        AccessCommand::Request {
            calls,
            agent,
            from,
            to,
            phone,
            card_number,
            id_number,
            purpose,
            duration,
            unmasked,
            client,
        } => {
            let customer = customer(phone, card_number, id_number);
            let mut body = json!({
                "purpose": purpose,
                "level": if unmasked { "unmasked" } else { "masked" },
            });
            if let Some(d) = duration {
                body["duration_s"] = json!(d);
            }
            select_calls(&mut body, calls, agent, from, to);
            if let (Some(c), Some(q)) = (customer, body.get_mut("query")) {
                q["customer"] = c;
            }
            let v = send(
                &Client::new(&client)?,
                Method::POST,
                "/v1/access-requests",
                Some(body),
            )
            .await?;
            print_request(&v)?;
            Ok(())
        }
        AccessCommand::List {
            json: as_json,
            client,
        } => {
            let v = send(
                &Client::new(&client)?,
                Method::GET,
                "/v1/access-requests",
                None,
            )
            .await?;
            let mut out = std::io::stdout().lock();
            let requests = v["requests"].as_array().cloned().unwrap_or_default();
            if as_json {
                for r in requests {
                    writeln!(out, "{r}")?;
                }
                return Ok(());
            }
            writeln!(
                out,
                "{:<38} {:<14} {:<9} {:<9} {:>5}  PURPOSE",
                "ID", "REQUESTER", "LEVEL", "STATUS", "CALLS"
            )?;
            for r in requests {
                writeln!(
                    out,
                    "{:<38} {:<14} {:<9} {:<9} {:>5}  {}",
                    r["id"].as_str().unwrap_or(""),
                    r["requester"].as_str().unwrap_or(""),
                    r["level"].as_str().unwrap_or(""),
                    r["status"].as_str().unwrap_or(""),
                    r["call_ids"].as_array().map_or(0, Vec::len),
                    r["purpose"].as_str().unwrap_or(""),
                )?;
            }
            Ok(())
        }
        AccessCommand::Show { id, client } => {
            let v = send(
                &Client::new(&client)?,
                Method::GET,
                &format!("/v1/access-requests/{}", path_id(&id)?),
                None,
            )
            .await?;
            print_request(&v)
        }
        AccessCommand::Approve { id, reason, client } => {
            decide(&client, &id, "approve", reason).await
        }
        AccessCommand::Deny { id, reason, client } => decide(&client, &id, "deny", reason).await,
        AccessCommand::Revoke { id, reason, client } => {
            decide(&client, &id, "revoke", reason).await
        }
    }
}

/// Runs `callvault search`.
pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let body = customer(args.phone, args.card_number, args.id_number)
        .context("give one of --phone, --card-number, --id-number")?;
    let v = send(
        &Client::new(&args.client)?,
        Method::POST,
        "/v1/calls/search",
        Some(body),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    for id in v["call_ids"].as_array().into_iter().flatten() {
        writeln!(out, "{}", id.as_str().unwrap_or(""))?;
    }
    Ok(())
}

/// The customer identifier as JSON; a value of `-` is read from standard input, so it
/// stays out of the process list and shell history.
fn customer(phone: Option<String>, card: Option<String>, id: Option<String>) -> Option<Value> {
    let from_stdin = |v: String| {
        if v != "-" {
            return v;
        }
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        line.trim().to_string()
    };
    let (phone, card, id) = (
        phone.map(from_stdin),
        card.map(from_stdin),
        id.map(from_stdin),
    );
    match (phone, card, id) {
        (Some(p), _, _) => Some(json!({ "phone": p })),
        (_, Some(c), _) => Some(json!({ "card_number": c })),
        (_, _, Some(i)) => Some(json!({ "id_number": i })),
        _ => None,
    }
}

fn path_id(id: &str) -> anyhow::Result<&str> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        anyhow::bail!("not a request id: expected letters, digits, '-' or '_'")
    }
}

async fn decide(
    client: &super::ClientArgs,
    id: &str,
    verb: &str,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let body = match reason {
        Some(r) => json!({ "reason": r }),
        None => json!({}),
    };
    let path = format!("/v1/access-requests/{}/{verb}", path_id(id)?);
    let v = send(&Client::new(client)?, Method::POST, &path, Some(body)).await?;
    print_request(&v)
}

/// Puts the selected calls into a request body: `call_ids` when any are named, otherwise a
/// `query` of the agent and time range given.
pub(super) fn select_calls(
    body: &mut Value,
    calls: Vec<String>,
    agent: Option<String>,
    from: Option<String>,
    to: Option<String>,
) {
    if !calls.is_empty() {
        body["call_ids"] = json!(calls);
        return;
    }
    let mut q = json!({});
    for (k, v) in [("agent_id", agent), ("from", from), ("to", to)] {
        if let Some(v) = v {
            q[k] = json!(v);
        }
    }
    body["query"] = q;
}

/// Sends a JSON request and reads the JSON answer.
pub(super) async fn send(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = client.request(method, path)?;
    if let Some(b) = body {
        req = req.json(&b);
    }
    client
        .send(req)
        .await?
        .json()
        .await
        .context("reading the vault's answer")
}

/// Prints a request: a summary line, then the JSON.
fn print_request(v: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let approvals = v["approvals"].as_array().map_or(0, Vec::len);
    writeln!(
        out,
        "{} {} ({} level, {}/{} approvals)",
        v["id"].as_str().unwrap_or(""),
        v["status"].as_str().unwrap_or(""),
        v["level"].as_str().unwrap_or(""),
        approvals,
        v["approvals_needed"].as_u64().unwrap_or(1),
    )?;
    writeln!(out, "{}", serde_json::to_string_pretty(v)?)?;
    Ok(())
}
