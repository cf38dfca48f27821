//! `callvault principals add|list|revoke`: local administration against the vault's data
//! directory (opened through the configuration, like the server), audited as
//! `local-admin` with the OS user as origin.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use crate::access::Role;
use crate::config::Config;
use crate::vault::{open_vault, Actor, NewPrincipal, PrincipalSummary, Vault};

/// Longest token lifetime `--expires-in` accepts: about ten years.
const MAX_TTL_SECS: i64 = 3650 * 24 * 60 * 60;

/// `callvault principals ...`.
#[derive(Debug, Subcommand)]
pub enum PrincipalsCommand {
    /// Create a principal; prints its TOTP secret and token once.
    Add {
        /// Unique name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// A role: recorder, qa_reviewer, auditor, compliance, regulator, admin.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// An agent id whose calls a QA reviewer sees (repeatable).
        #[arg(long = "agent", value_name = "AGENT")]
        agents: Vec<String>,
        /// Read the password from the first line of FILE.
        #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
        password_file: Option<PathBuf>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Enrol a TOTP second factor.
        #[arg(long)]
        totp: bool,
        /// Issue an API token.
        #[arg(long)]
        token: bool,
        /// Lifetime of the token: a number with s, m, h or d.
        #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = parse_duration)]
        expires_in: i64,
        /// Where the vault is.
        #[command(flatten)]
        local: LocalArgs,
    },
    /// List principals and which credentials they have (never a secret).
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Where the vault is.
        #[command(flatten)]
        local: LocalArgs,
    },
    /// Register the age recipient (age1…) that exports to a regulator default to.
    SetRecipient {
        /// The principal's name.
        name: String,
        /// An age X25519 recipient, `age1…` (from `age-keygen -y key.txt`).
        recipient: String,
        /// Where the vault is.
        #[command(flatten)]
        local: LocalArgs,
    },
    /// Disable a principal and revoke all its tokens at once.
    Revoke {
        /// The principal's name.
        name: String,
        /// Where the vault is.
        #[command(flatten)]
        local: LocalArgs,
    },
}

/// Where a local command finds the vault.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// The embedded dev vault (dev root key under the data directory).
    #[arg(long)]
    pub dev: bool,
    /// Data directory (overrides data_dir from the configuration).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Configuration file (ignored with --dev).
    #[arg(long, value_name = "FILE", default_value = "callvault.toml")]
    pub config: PathBuf,
}

impl LocalArgs {
    async fn open(&self) -> anyhow::Result<Vault> {
        let config = self.config()?;
        open_vault(&config, self.dev).await
    }

    /// The configuration these arguments select, validated.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = if self.dev {
            Config::load_env_only()?
        } else {
            Config::load(&self.config)?
        };
        if let Some(d) = &self.data {
            config.data_dir = d.clone();
        }
        config.validate()?;
        Ok(config)
    }
}

/// Runs a `principals` subcommand.
pub async fn run(cmd: PrincipalsCommand) -> anyhow::Result<()> {
    let actor = Actor::local_admin(std::env::var("USER").ok().as_deref());
    match cmd {
        PrincipalsCommand::Add {
            name,
            roles,
            agents,
            password_file,
            password_stdin,
            totp,
            token,
            expires_in,
            local,
        } => {
            let password = read_password(password_file, password_stdin)?;
            let vault = local.open().await?;
            let new = NewPrincipal {
                name: name.clone(),
                roles,
                agents,
                password,
                totp,
                token_ttl_secs: token.then_some(expires_in),
            };
            let enrolment = vault.add_principal(&actor, new).await?;
            println!("added principal {name}");
            if let Some(t) = enrolment.totp {
                println!("totp secret: {}", t.base32.as_str());
                println!("otpauth uri: {}", t.otpauth_uri.as_str());
            }
            if let Some(t) = enrolment.token {
                println!("token: {}", t.secret.as_str());
                println!(
                    "token expires: {}",
                    t.expires_at.as_deref().unwrap_or("never")
                );
            }
            eprintln!("(secrets are shown once and not stored in the clear)");
            Ok(())
        }
        PrincipalsCommand::List { json, local } => {
            let vault = local.open().await?;
            let list = vault.list_principals().await?;
            print_list(&list, json);
            Ok(())
        }
        PrincipalsCommand::SetRecipient {
            name,
            recipient,
            local,
        } => {
            let vault = local.open().await?;
            vault.set_recipient(&actor, &name, &recipient).await?;
            println!("exports to {name} are now encrypted to {recipient} by default");
            Ok(())
        }
        PrincipalsCommand::Revoke { name, local } => {
            let vault = local.open().await?;
            let n = vault.revoke_principal(&actor, &name).await?;
            println!("revoked principal {name}: disabled, {n} token(s) revoked");
            Ok(())
        }
    }
}

fn read_password(file: Option<PathBuf>, stdin: bool) -> anyhow::Result<Option<Zeroizing<String>>> {
    let text = match (file, stdin) {
        (Some(f), _) => Zeroizing::new(
            std::fs::read_to_string(&f)
                .with_context(|| format!("reading the password file {}", f.display()))?,
        ),
        (None, true) => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line
        }
        (None, false) => return Ok(None),
    };
    let first = text.lines().next().unwrap_or("");
    Ok(Some(Zeroizing::new(first.to_string())))
}

fn print_list(list: &[PrincipalSummary], json: bool) {
    if json {
        for p in list {
            let line = serde_json::json!({
                "name": p.name,
                "roles": p.roles,
                "agents": p.agents,
                "disabled": p.disabled,
                "has_password": p.has_password,
                "has_totp": p.has_totp,
                "live_tokens": p.live_tokens,
            });
            println!("{line}");
        }
        return;
    }
    println!(
        "{:<20} {:<24} {:<16} {:<8} {:<8} {:<5} TOKENS",
        "NAME", "ROLES", "AGENTS", "DISABLED", "PASSWORD", "TOTP"
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    for p in list {
        println!(
            "{:<20} {:<24} {:<16} {:<8} {:<8} {:<5} {}",
            p.name,
            p.roles.join(","),
            if p.agents.is_empty() {
                "-".to_string()
            } else {
                p.agents.join(",")
            },
            yes(p.disabled),
            yes(p.has_password),
            yes(p.has_totp),
            p.live_tokens
        );
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role; one of {}", names.join(", "))
    })
}

/// `90d`, `12h`, `30m`, `3600s` → seconds; positive and at most [`MAX_TTL_SECS`].
fn parse_duration(s: &str) -> Result<i64, String> {
    let err = || "a duration is a positive number followed by s, m, h or d (e.g. 90d)".to_string();
    let unit = s.chars().last().ok_or_else(err)?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(err()),
    };
    let n: i64 = s[..s.len() - 1].parse().map_err(|_| err())?;
    let secs = n.checked_mul(factor).ok_or_else(err)?;
    if secs <= 0 || secs > MAX_TTL_SECS {
        return Err(format!(
            "a token lifetime is between 1s and {}d",
            MAX_TTL_SECS / 86_400
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("5s"), Ok(5));
        for bad in ["", "d", "90", "0d", "-1d", "1w", "99999d", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_parse_by_name() {
        assert_eq!(parse_role("qa_reviewer"), Ok(Role::QaReviewer));
        assert!(parse_role("root").is_err());
    }
}
