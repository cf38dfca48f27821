//! The embedded dev vault's principals and tokens: one per role, printed at start and
//! written to `DATA_DIR/dev-credentials.json` (mode 0600, `name → token`), so scripted
//! flows work at once. Each also gets a random password and a TOTP secret for
//! `POST /v1/login`, written to `DATA_DIR/dev-logins.json` (mode 0600).
//! For trying things out only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::access::{hash_token, new_token, verify_password, Role};
use crate::audit::now_rfc3339;
use crate::catalog::{Catalog, CatalogError, PrincipalRecord, TokenRecord};
use crate::vault::{Actor, PrincipalError, Vault};

/// Name of the credentials file under the data directory.
pub const CREDENTIALS_FILE: &str = "dev-credentials.json";
/// Name of the login file (passwords and TOTP secrets) under the data directory.
pub const LOGINS_FILE: &str = "dev-logins.json";

/// The dev principals and their roles; `compliance2` is a second compliance person for
/// four-eyes steps.
pub const DEV_PRINCIPALS: [(&str, Role); 7] = [
    ("recorder", Role::Recorder),
    ("qa_reviewer", Role::QaReviewer),
    ("auditor", Role::Auditor),
    ("compliance", Role::Compliance),
    ("compliance2", Role::Compliance),
    ("regulator", Role::Regulator),
    ("admin", Role::Admin),
];

/// A failure while setting up the dev principals.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The catalog failed.
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// A password or TOTP secret could not be set.
    #[error("setting a dev login: {0}")]
    Login(#[from] PrincipalError),
    /// The credentials file could not be written or read.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Agents whose calls the dev QA reviewer sees: the agent of the quickstart call
/// `c20260301-010013` and one more from the dev corpus.
pub const DEV_QA_AGENTS: [&str; 2] = ["A1189", "A1314"];

fn dev_attrs(role: Role) -> String {
    match role {
        Role::QaReviewer => serde_json::json!({ "agents": DEV_QA_AGENTS }).to_string(),
        _ => "{}".to_string(),
    }
}

/// Creates the dev principals and returns `name → token`. Tokens from an earlier run are
/// reused when the credentials file still matches the catalog; otherwise new ones are
/// minted and the file is rewritten.
pub async fn bootstrap(
    data_dir: &Path,
    catalog: &dyn Catalog,
) -> Result<BTreeMap<String, String>, DevError> {
    for (name, role) in DEV_PRINCIPALS {
        if catalog.get_principal(name).await?.is_none() {
            catalog
                .upsert_principal(&PrincipalRecord {
                    name: name.into(),
                    roles: vec![role.as_str().into()],
                    attrs_json: dev_attrs(role),
                    created_at: now_rfc3339(),
                    disabled: false,
                })
                .await?;
        }
    }
    let path = data_dir.join(CREDENTIALS_FILE);
    if let Some(existing) = read_existing(&path) {
        let mut all_valid = true;
        for (name, _) in DEV_PRINCIPALS {
            let ok = match existing.get(name) {
                Some(tok) => catalog
                    .find_token(&hash_token(tok))
                    .await?
                    .is_some_and(|t| t.principal == name && !t.revoked),
                None => false,
            };
            all_valid &= ok;
        }
        if all_valid {
            return Ok(existing);
        }
    }
    let mut creds = BTreeMap::new();
    for (name, _) in DEV_PRINCIPALS {
        let token = new_token();
        catalog
            .insert_token(&TokenRecord {
                token_hash: token.hash.to_vec(),
                principal: name.into(),
                created_at: now_rfc3339(),
                expires_at: None,
                revoked: false,
                second_factor: true,
            })
            .await?;
        creds.insert(name.to_string(), token.secret.to_string());
    }
    write_private(
        &path,
        &serde_json::to_vec_pretty(&creds).expect("maps serialise"),
    )
    .map_err(|source| DevError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(creds)
}

fn read_existing(path: &Path) -> Option<BTreeMap<String, String>> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `bytes` to `path` readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A dev principal's login: what `POST /v1/login` takes, and the TOTP secret an
/// authenticator app (or a test) computes codes from.
#[derive(Clone, Serialize, Deserialize)]
pub struct DevLogin {
    /// The password.
    pub password: String,
    /// The TOTP secret, unpadded base32.
    pub totp_secret: String,
    /// The same secret as an `otpauth://` URI.
    pub otpauth_uri: String,
}

/// Gives every dev principal a password and a TOTP secret and returns `name → login`.
/// Logins from an earlier run are kept when the file still matches the catalog (the
/// password verifies and a TOTP secret is enrolled); the others are made anew (audited as
/// credential changes by `local-admin`) and the file is rewritten.
pub async fn bootstrap_logins(
    data_dir: &Path,
    vault: &Vault,
) -> Result<BTreeMap<String, DevLogin>, DevError> {
    let path = data_dir.join(LOGINS_FILE);
    let mut logins: BTreeMap<String, DevLogin> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut changed = false;
    let actor = Actor::local_admin(None);
    for (name, _) in DEV_PRINCIPALS {
        if still_valid(vault, name, logins.get(name)).await? {
            continue;
        }
        let password = random_password();
        vault
            .set_password(&actor, name, Zeroizing::new(password.clone()))
            .await?;
        let totp = vault.enrol_totp(&actor, name).await?;
        logins.insert(
            name.to_string(),
            DevLogin {
                password,
                totp_secret: totp.base32.to_string(),
                otpauth_uri: totp.otpauth_uri.to_string(),
            },
        );
        changed = true;
    }
    logins.retain(|name, _| DEV_PRINCIPALS.iter().any(|(n, _)| n == name));
    if changed {
        let bytes = Zeroizing::new(serde_json::to_vec_pretty(&logins).expect("maps serialise"));
        write_private(&path, &bytes).map_err(|source| DevError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(logins)
}

/// Whether `login` is the stored password of `name` and a TOTP secret is enrolled.
async fn still_valid(
    vault: &Vault,
    name: &str,
    login: Option<&DevLogin>,
) -> Result<bool, DevError> {
    let Some(login) = login else {
        return Ok(false);
    };
    let record = vault.catalog.login_record(name).await?;
    if record.totp_wrapped.is_none() {
        return Ok(false);
    }
    let stored = record.password_hash;
    let password = Zeroizing::new(login.password.clone());
    Ok(
        tokio::task::spawn_blocking(move || verify_password(stored.as_deref(), &password))
            .await
            .unwrap_or(false),
    )
}

/// 144 random bits as 24 URL-safe characters.
fn random_password() -> String {
    let mut raw = Zeroizing::new([0u8; 18]);
    rand::rngs::OsRng.fill_bytes(raw.as_mut());
    URL_SAFE_NO_PAD.encode(&raw[..])
}
