//! Command-line interface: the argument definitions (which also produce `--help`) and one
//! module per command. Client commands follow HashiCorp Vault's conventions:
//! `CALLVAULT_ADDR` and `CALLVAULT_TOKEN`.

mod access;
mod audit;
mod bundle;
mod calls;
mod client;
mod export;
mod ingest;
mod keys;
mod login;
mod principals;
mod redact;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use audit::{AuditCommand, EXIT_AUDIT_BAD};
pub use bundle::{BundleCommand, EXIT_BUNDLE_BAD};
pub use client::Client;
pub use login::LoginArgs;
pub use principals::{LocalArgs, PrincipalsCommand};

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
    /// Manage principals and their credentials (locally, on the vault's host).
    #[command(subcommand)]
    Principals(PrincipalsCommand),
    /// Log in with a password and TOTP code; prints a session token.
    Login(LoginArgs),
    /// Access requests: ask for calls, approve, deny, revoke, list.
    #[command(subcommand)]
    Access(AccessCommand),
    /// Find a customer's calls through the keyed blind index.
    Search(SearchArgs),
    /// Regulator exports: create, approve, follow the build, download the bundle.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Verify the audit log, print checkpoints and proofs, see who touched a call.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check an export bundle offline (no vault or configuration needed).
    #[command(subcommand)]
    Bundle(BundleCommand),
}

/// `callvault access ...`.
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Ask for access to calls, by id or by query (agent, time range, customer).
    Request {
        /// Call ids (or give a query with the options below).
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
        /// Query: calls of the customer with this mobile number (`-`: read from stdin).
        #[arg(long, conflicts_with_all = ["card_number", "id_number"])]
        phone: Option<String>,
        /// Query: calls of the customer with this card number.
        #[arg(long, conflicts_with = "id_number")]
        card_number: Option<String>,
        /// Query: calls of the customer with this resident ID number.
        #[arg(long)]
        id_number: Option<String>,
        /// Why access is needed (recorded in the audit log).
        #[arg(long)]
        purpose: String,
        /// Grant duration in seconds (default 8 h).
        #[arg(long, value_name = "SECONDS")]
        duration: Option<i64>,
        /// Ask for unmasked (break-glass) access: needs two compliance approvers.
        #[arg(long)]
        unmasked: bool,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List requests (your own; all for compliance).
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one request (for a pending query request, compliance sees the calls).
    Show {
        /// Request id.
        id: String,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve a request (compliance, not your own).
    Approve {
        /// Request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Deny a pending request (compliance, not your own).
    Deny {
        /// Request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a request and its grant (compliance, or the requester).
    Revoke {
        /// Request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Connection settings.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `callvault search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Mobile number, any written form (`-`: read it from standard input).
    #[arg(long, conflicts_with_all = ["card_number", "id_number"])]
    pub phone: Option<String>,
    /// Card number.
    #[arg(long, conflicts_with = "id_number")]
    pub card_number: Option<String>,
    /// Resident ID number.
    #[arg(long)]
    pub id_number: Option<String>,
    /// Connection settings.
    #[command(flatten)]
    pub client: ClientArgs,
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
    /// Print the vault's public keys: the export signing key (OpenSSH) and the audit
    /// log's verifier key. Reads the catalog offline; creates nothing.
    Show {
        /// Print only the export signing key, one `ssh-ed25519 …` line.
        #[arg(long)]
        export: bool,
        /// Where the vault is.
        #[command(flatten)]
        local: principals::LocalArgs,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(args) => serve::run(args).await,
        Command::Ingest(args) => ingest::run(args).await,
        Command::Calls(cmd) => calls::run(cmd).await,
        Command::Redact(args) => redact::run(args),
        Command::Keys(cmd) => keys::run(cmd).await,
        Command::Export(cmd) => export::run(cmd).await,
        Command::Principals(cmd) => principals::run(cmd).await,
        Command::Login(args) => login::run(args).await,
        Command::Access(cmd) => access::run(cmd).await,
        Command::Search(args) => access::search(args).await,
        Command::Audit(cmd) => audit::run(cmd).await,
        Command::Bundle(cmd) => bundle::run(cmd),
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
