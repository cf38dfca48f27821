//! `callvault login --server URL NAME`: asks for the password (without echo) and the TOTP
//! code, logs in, and prints the session token (or writes it to a file, mode 0600).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::client::problem_error;

/// `callvault login`.
#[derive(Args)]
pub struct LoginArgs {
    /// The principal's name.
    pub name: String,
    /// Vault address.
    #[arg(
        long,
        env = "CALLVAULT_ADDR",
        default_value = "http://127.0.0.1:8700",
        value_name = "URL"
    )]
    pub server: String,
    /// Read the password (and then the TOTP code, unless --totp or --no-totp) from
    /// standard input, one per line, instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// The current TOTP code (asked for when omitted).
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
    /// Log in without the second factor (approvals and unmasked reads will be refused).
    #[arg(long, conflicts_with = "totp")]
    pub no_totp: bool,
    /// Write the token to FILE (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The one-time code is left out, like every credential.
        f.debug_struct("LoginArgs")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("password_stdin", &self.password_stdin)
            .field("no_totp", &self.no_totp)
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

/// The session part of the login answer.
#[derive(Deserialize)]
struct SessionBody {
    token: String,
    expires_at: String,
    second_factor: bool,
}

/// Runs `callvault login`.
pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let addr = args.server.trim_end_matches('/').to_string();
    if !(addr.starts_with("http://") || addr.starts_with("https://")) {
        anyhow::bail!("--server must start with http:// or https://");
    }
    let mut stdin = std::io::stdin().lock();
    let password = if args.password_stdin {
        read_line(&mut stdin).context("reading the password from standard input")?
    } else {
        let prompt = format!("Password for {}: ", args.name);
        Zeroizing::new(rpassword::prompt_password(prompt).context("reading the password")?)
    };
    let totp = match (args.totp, args.no_totp) {
        (Some(code), _) => Some(Zeroizing::new(code)),
        (None, true) => None,
        (None, false) => {
            if !args.password_stdin {
                eprint!("TOTP code (empty for none): ");
                std::io::stderr().flush()?;
            }
            let code = read_line(&mut stdin).context("reading the TOTP code")?;
            (!code.trim().is_empty()).then(|| Zeroizing::new(code.trim().to_string()))
        }
    };
    let body = Zeroizing::new(
        serde_json::json!({
            "name": args.name,
            "password": password.as_str(),
            "totp": totp.as_deref().map(|c| c.as_str()),
        })
        .to_string(),
    );
    let http = reqwest::Client::builder()
        .user_agent(concat!("callvault/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let resp = http
        .post(format!("{addr}/v1/login"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.as_bytes().to_vec())
        .send()
        .await
        .with_context(|| format!("cannot reach the vault at {addr}"))?;
    if !resp.status().is_success() {
        return Err(problem_error(resp).await);
    }
    let session: SessionBody = resp.json().await.context("reading the login answer")?;
    let token = Zeroizing::new(session.token);
    match &args.out {
        Some(path) => {
            crate::server::dev::write_private(path, token.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("token written to {}", path.display());
        }
        None => println!("{}", token.as_str()),
    }
    eprintln!(
        "expires {}; second factor: {}",
        session.expires_at,
        if session.second_factor { "yes" } else { "no" }
    );
    Ok(())
}

/// One line without its line ending; an empty string at the end of input.
fn read_line(input: &mut impl BufRead) -> std::io::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    input.read_line(&mut line)?;
    let trimmed = line.trim_end_matches(['\r', '\n']).to_string();
    Ok(Zeroizing::new(trimmed))
}
