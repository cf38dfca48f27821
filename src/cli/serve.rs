//! `callvault server [--dev]`: load the configuration, open the vault, serve.

use std::sync::Arc;

use super::ServerArgs;
use crate::config::Config;
use crate::server::{self, dev, AppState, Metrics};
use crate::vault::open_vault;

/// Runs the server until Ctrl-C.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    init_tracing();
    // The dev vault reads no file, but CALLVAULT_SERVER__* variables still apply (limits, ...).
    let mut config = if args.dev {
        Config::load_env_only()?
    } else {
        Config::load(&args.config)?
    };
    if let Some(d) = args.data {
        config.data_dir = d;
    }
    if let Some(l) = args.listen {
        config.listen = l;
    }
    config.validate()?;
    if args.dev {
        eprintln!("{}", DEV_BANNER);
    }
    let vault = open_vault(&config, args.dev).await?;
    if args.dev {
        let creds = dev::bootstrap(&config.data_dir, vault.catalog.as_ref()).await?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        eprintln!(
            "Dev principals (also in {}):",
            config.data_dir.join(dev::CREDENTIALS_FILE).display()
        );
        for (name, token) in &creds {
            eprintln!("  {name:<12} {token}");
        }
        let logins = dev::bootstrap_logins(&config.data_dir, &vault).await?;
        eprintln!(
            "\nDev logins for POST /v1/login (also in {}):",
            config.data_dir.join(dev::LOGINS_FILE).display()
        );
        for (name, login) in &logins {
            eprintln!(
                "  {name:<12} password {}  TOTP secret {}",
                login.password, login.totp_secret
            );
        }
        eprintln!("\n  export CALLVAULT_ADDR={scheme}://{}", config.listen);
        eprintln!("  export CALLVAULT_TOKEN=<a token above>\n");
    }
    let state = AppState {
        vault: Arc::new(vault),
        metrics: Arc::new(Metrics::default()),
    };
    server::serve(&config, server::router(state)).await?;
    Ok(())
}

const DEV_BANNER: &str = "\
==========================================================================
  callvault DEV MODE — for trying things out only.
  Dev keys and tokens are written in the clear to the data directory.
  Do not store real recordings in a dev vault.
==========================================================================";

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("CALLVAULT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
