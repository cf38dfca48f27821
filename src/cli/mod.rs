//! Command-line interface: the argument definitions (which also produce `--help`) and one
//! module per command. Client commands follow HashiCorp Vault's conventions:
//! `CALLVAULT_ADDR` and `CALLVAULT_TOKEN`.

mod audit;
mod calls;
mod client;
mod ingest;
mod keys;
mod redact;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use audit::{AuditCommand, EXIT_AUDIT_BAD};
pub use client::Client;

/// callvault: a privacy-compliant vault for call recordings.
#[derive(Debug, Parser)]
#[command(name = "callvault", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the vault server.
    Server(ServerArgs),
    /// Upload transcript files (and their audio) or whole directories.
    Ingest(IngestArgs),
    /// List and read calls.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// Apply the redaction policy offline (no server, nothing stored).
    Redact(RedactArgs),
    /// Manage root key material.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Verify the audit log, print checkpoints and proofs, see who touched a call.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `callvault server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Embedded dev vault: local blobs + SQLite under --data, dev keys and principals.
    #[arg(long)]
    pub dev: bool,
    /// Data directory (dev mode; overrides data_dir from the configuration).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Listen address (overrides listen from the configuration).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Configuration file (ignored with --dev).
    #[arg(long, value_name = "FILE", default_value = "callvault.toml")]
    pub config: PathBuf,
}

/// Client connection settings.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// Vault address.
    #[arg(long, env = "CALLVAULT_ADDR", default_value = "http://127.0.0.1:8700")]
    pub addr: String,
    /// Bearer token.
    #[arg(long, env = "CALLVAULT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `callvault ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Transcript files (`*.json`, `*.vtt`) or directories holding them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Uploads in flight at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    pub jobs: usize,
    /// Connection settings.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `callvault calls ...`.
#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// List calls (all pages).
    List {
        /// Page size.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Read one call's metadata, transcript view or audio view.
    Get {
        /// The call id.
        call_id: String,
        /// The transcript view (JSON).
        #[arg(long, conflicts_with = "audio")]
        transcript: bool,
        /// The audio view (WAV).
        #[arg(long)]
        audio: bool,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `callvault redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The role whose view to produce.
    #[arg(long, default_value = "auditor")]
    pub role: String,
    /// Output directory (`CALL_ID.json`, `CALL_ID.wav`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print each finding: class, detector, confidence and deciding context (never values).
    #[arg(long)]
    pub explain: bool,
    /// Policy directory instead of the built-in policy.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// v1 transcript files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `callvault keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new random root key file (mode 0600).
    Generate {
        /// Where to write it; refuses to overwrite.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(args) => serve::run(args).await,
        Command::Ingest(args) => ingest::run(args).await,
        Command::Calls(cmd) => calls::run(cmd).await,
        Command::Redact(args) => redact::run(args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Audit(cmd) => audit::run(cmd).await,
    }
}

/// Exit status when some uploads of a batch failed.
pub const EXIT_PARTIAL_FAILURE: i32 = 2;

/// An error that carries its own exit status.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitError {
    /// Process exit status.
    pub code: i32,
    /// What to print.
    pub message: String,
}
