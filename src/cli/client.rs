//! A small HTTP client for the vault API; turns problem+json answers into readable errors.

use anyhow::{anyhow, Context};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use super::ClientArgs;

/// Client for one vault address and token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    addr: String,
    token: Option<String>,
}

#[derive(Deserialize)]
struct ProblemBody {
    title: Option<String>,
    detail: Option<String>,
}

impl Client {
    /// A client from `--addr`/`CALLVAULT_ADDR` and `--token`/`CALLVAULT_TOKEN`.
    pub fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("callvault/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let addr = args.addr.trim_end_matches('/').to_string();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            anyhow::bail!("CALLVAULT_ADDR must start with http:// or https://");
        }
        Ok(Self {
            http,
            addr,
            token: args.token.clone(),
        })
    }

    /// A request to `path` (e.g. `/v1/calls`) with the bearer token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> anyhow::Result<RequestBuilder> {
        let token = self
            .token
            .as_deref()
            .ok_or_else(|| anyhow!("no token: set CALLVAULT_TOKEN (see DATA_DIR/dev-credentials.json for the dev vault)"))?;
        Ok(self
            .http
            .request(method, format!("{}{}", self.addr, path))
            .bearer_auth(token))
    }

    /// Sends and turns a non-success answer into an error naming the problem.
    pub async fn send(&self, req: RequestBuilder) -> anyhow::Result<Response> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the vault at {}", self.addr))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(problem_error(resp).await)
    }
}

/// An error from a problem+json (or any non-success) response.
pub async fn problem_error(resp: Response) -> anyhow::Error {
    let status = resp.status();
    match resp.json::<ProblemBody>().await {
        Ok(p) => anyhow!(
            "{} ({}): {}",
            p.title.unwrap_or_else(|| status_text(status)),
            status.as_u16(),
            p.detail.unwrap_or_default()
        ),
        Err(_) => anyhow!("HTTP {}", status.as_u16()),
    }
}

fn status_text(s: StatusCode) -> String {
    s.canonical_reason().unwrap_or("error").to_string()
}
