//! The embedded dev vault's principals and tokens: one per role, printed at start and
//! written to `DATA_DIR/dev-credentials.json` (mode 0600), so scripted flows work at once.
//! For trying things out only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::access::{hash_token, new_token, Role};
use crate::audit::now_rfc3339;
use crate::catalog::{Catalog, CatalogError, PrincipalRecord, TokenRecord};

/// Name of the credentials file under the data directory.
pub const CREDENTIALS_FILE: &str = "dev-credentials.json";

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
    /// The credentials file could not be written or read.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
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
                    attrs_json: "{}".into(),
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
