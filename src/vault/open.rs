//! Start-up: turns a validated [`Config`] into a running [`Vault`] — blob store, catalog,
//! root key and key ring, redaction policy — failing with a clear message when any part
//! cannot work.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Limits, Vault};
use crate::access::authz::Authorizer;
use crate::access::blind::BlindIndex;
use crate::access::clock::SystemClock;
use crate::audit::note::Signer;
use crate::audit::signed::TransparencyLog;
use crate::audit::{AuditKeys, AuditLog, MacKey};
use crate::catalog::Catalog;
use crate::catalog::SqliteCatalog;
use crate::config::{Config, StoreConfig};
use crate::export::key::ExportKey;
use crate::redact::Policy;
use crate::seal::{Backend, DataKey, KdfParams, KeyRing, RootKey, WrappedKey};
use crate::store::BlobStore;
use crate::store::{FsStore, S3Config, S3Store};

/// Name of the dev vault's root key file under the data directory.
pub const DEV_ROOT_KEY_FILE: &str = "dev-root.key";
/// Catalog setting holding the Argon2id parameters (with salt) of a passphrase root key.
const KDF_SETTING: &str = "root_key.kdf";
/// Catalog setting holding a known key wrapped under the root key, to detect a wrong one.
const KEY_CHECK_SETTING: &str = "root_key.check";
const KEY_CHECK_ID: &str = "callvault-root-key-check";
/// Catalog setting holding the audit signing key's seed, wrapped.
const SIGNER_SETTING: &str = "audit.signer";
const BLIND_SETTING: &str = "access.blind_index_key";
const BLIND_ID: &str = "callvault-blind-index";
const SIGNER_ID: &str = "callvault-audit-signer";
/// Catalog setting holding the audit log's leaf MAC key, wrapped.
const MAC_SETTING: &str = "audit.mac";
const MAC_ID: &str = "callvault-audit-mac";
const EXPORT_KEY_SETTING: &str = "export.signer";
const EXPORT_KEY_ID: &str = "callvault-export-signer";

/// Opens the vault described by `config`. With `dev`, a root key file is created under
/// the data directory when missing.
pub async fn open_vault(config: &Config, dev: bool) -> anyhow::Result<Vault> {
    use anyhow::Context;
    create_private_dir(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store: Arc<dyn BlobStore> = match &config.store {
        StoreConfig::Fs { .. } => {
            let path = config.fs_store_path().expect("fs store has a path");
            Arc::new(
                FsStore::open(path.clone())
                    .await
                    .with_context(|| format!("opening the blob store at {}", path.display()))?,
            )
        }
        StoreConfig::S3 {
            bucket,
            endpoint,
            region,
            force_path_style,
            part_size,
        } => Arc::new(
            S3Store::new(S3Config {
                bucket: bucket.clone(),
                endpoint: endpoint.clone(),
                region: region.clone(),
                force_path_style: *force_path_style,
                part_size: part_size.unwrap_or(8 << 20),
            })
            .await
            .context("configuring the S3 blob store")?,
        ),
    };
    let db = config.sqlite_path();
    let catalog: Arc<dyn Catalog> = Arc::new(
        SqliteCatalog::open(&db)
            .await
            .with_context(|| format!("opening the catalog {}", db.display()))?,
    );
    let root = load_root_key(config, dev, catalog.as_ref()).await?;
    let keys = KeyRing::from_root(&root, 1)?;
    check_root_key(&keys, catalog.as_ref()).await?;
    let audit_keys = load_audit_keys(&keys, catalog.as_ref(), &config.instance_name).await?;
    let tlog = TransparencyLog::new(catalog.clone(), audit_keys.signer.clone());
    let blind = load_wrapped_secret(&keys, catalog.as_ref(), BLIND_SETTING, BLIND_ID).await?;
    let blind = BlindIndex::new(zeroize::Zeroizing::new(*blind.expose()));
    let export_key = load_export_key(&keys, catalog.as_ref()).await?;
    let interrupted = catalog.fail_interrupted_exports().await?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "export builds cut short by the last stop marked failed"
        );
    }
    let authz = match &config.access.policy_dir {
        Some(dir) => Authorizer::load_dir(dir),
        None => Authorizer::builtin(),
    }
    .map_err(|e| anyhow::anyhow!("access policies: {e}"))?;
    let policy = match &config.redaction.policy_dir {
        Some(dir) => Policy::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Policy::builtin(),
    };
    Ok(Vault {
        store,
        audit: AuditLog::new(catalog.clone(), audit_keys),
        tlog,
        catalog,
        keys,
        policy,
        limits: Limits {
            max_audio_bytes: config.limits.max_audio_bytes,
            max_transcript_bytes: config.limits.max_transcript_bytes,
            audio_pad_s: config.redaction.audio_pad_s,
            default_grant_s: config.access.default_grant_s,
            max_grant_s: config.access.max_grant_s,
        },
        backend: Backend::default(),
        authz,
        clock: Arc::new(SystemClock),
        blind,
        export_key,
        source_organization: config.export.source_organization.clone(),
    })
}

async fn load_root_key(
    config: &Config,
    dev: bool,
    catalog: &dyn Catalog,
) -> anyhow::Result<RootKey> {
    use anyhow::Context;
    let keys = &config.keys;
    match (&keys.root_key_file, &keys.passphrase_file) {
        (Some(_), Some(_)) => {
            anyhow::bail!("keys: set either root_key_file or passphrase_file, not both")
        }
        (Some(file), None) => RootKey::from_key_file(file)
            .with_context(|| format!("reading the root key file {}", file.display())),
        (None, Some(file)) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(file)
                    .with_context(|| format!("reading the passphrase file {}", file.display()))?,
            );
            let pass = text.lines().next().unwrap_or("");
            if pass.len() < 12 {
                anyhow::bail!("keys: the passphrase must have at least 12 characters");
            }
            let params = match catalog.get_setting(KDF_SETTING).await? {
                Some(json) => serde_json::from_str::<KdfParams>(&json)
                    .context("reading the stored key-derivation parameters")?,
                None => {
                    let p = KdfParams::recommended();
                    catalog
                        .put_setting(KDF_SETTING, &serde_json::to_string(&p)?)
                        .await?;
                    p
                }
            };
            // Argon2id costs about a fifth of a second of one core: keep it off the runtime.
            let pass = zeroize::Zeroizing::new(pass.as_bytes().to_vec());
            let root =
                tokio::task::spawn_blocking(move || RootKey::from_passphrase(&pass, &params))
                    .await??;
            Ok(root)
        }
        (None, None) if dev => {
            let path = config.data_dir.join(DEV_ROOT_KEY_FILE);
            if !path.exists() {
                RootKey::generate()
                    .write_key_file(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            RootKey::from_key_file(&path).with_context(|| format!("reading {}", path.display()))
        }
        (None, None) => anyhow::bail!(
            "keys: set keys.root_key_file or keys.passphrase_file (see `callvault keys generate`)"
        ),
    }
}

/// Wraps a fixed key under the root key at first start; later starts must unwrap it, so
/// a wrong passphrase or key file stops start-up instead of failing every read.
async fn check_root_key(keys: &KeyRing, catalog: &dyn Catalog) -> anyhow::Result<()> {
    match catalog.get_setting(KEY_CHECK_SETTING).await? {
        Some(json) => {
            let wrapped: WrappedKey = serde_json::from_str(&json)?;
            keys.unwrap(KEY_CHECK_ID, &wrapped).map_err(|_| {
                anyhow::anyhow!("keys: the root key does not match this vault's catalog")
            })?;
        }
        None => {
            let wrapped = keys.wrap(KEY_CHECK_ID, &DataKey::generate());
            catalog
                .put_setting(KEY_CHECK_SETTING, &serde_json::to_string(&wrapped)?)
                .await?;
        }
    }
    Ok(())
}

/// The audit log's keys: the Ed25519 checkpoint signer and the leaf MAC key, each a
/// random secret made at first start and kept in the catalog wrapped under the root key.
async fn load_audit_keys(
    keys: &KeyRing,
    catalog: &dyn Catalog,
    name: &str,
) -> anyhow::Result<AuditKeys> {
    let seed = load_wrapped_secret(keys, catalog, SIGNER_SETTING, SIGNER_ID).await?;
    let signer = Signer::from_seed(*seed.expose(), name)
        .map_err(|e| anyhow::anyhow!("instance_name is not a valid log name: {e}"))?;
    let mac = load_wrapped_secret(keys, catalog, MAC_SETTING, MAC_ID).await?;
    Ok(AuditKeys::new(signer, MacKey::from_bytes(*mac.expose())))
}

/// The Ed25519 key that signs export bundles: a random seed made at first start and kept
/// in the catalog wrapped under the root key.
async fn load_export_key(keys: &KeyRing, catalog: &dyn Catalog) -> anyhow::Result<ExportKey> {
    let seed = load_wrapped_secret(keys, catalog, EXPORT_KEY_SETTING, EXPORT_KEY_ID).await?;
    Ok(ExportKey::from_seed(seed.expose()))
}

/// A random 32-byte secret kept in the setting `name`, wrapped under the root key with the
/// binding `id`; made and stored when absent.
async fn load_wrapped_secret(
    keys: &KeyRing,
    catalog: &dyn Catalog,
    name: &str,
    id: &str,
) -> anyhow::Result<DataKey> {
    if let Some(json) = catalog.get_setting(name).await? {
        let wrapped: WrappedKey = serde_json::from_str(&json)?;
        return keys
            .unwrap(id, &wrapped)
            .map_err(|_| anyhow::anyhow!("keys: cannot unwrap the secret in setting {name}"));
    }
    let secret = DataKey::generate();
    catalog
        .put_setting(name, &serde_json::to_string(&keys.wrap(id, &secret))?)
        .await?;
    Ok(secret)
}

/// The catalog and audit keys of an existing vault, for offline audit commands. Creates
/// nothing: the catalog file must exist, and with no key configured the dev root key file
/// under the data directory is used when present.
pub async fn open_audit(config: &Config) -> anyhow::Result<(Arc<dyn Catalog>, AuditKeys)> {
    use anyhow::Context;
    let db = config.sqlite_path();
    if !db.is_file() {
        anyhow::bail!("no catalog at {}", db.display());
    }
    let catalog: Arc<dyn Catalog> = Arc::new(
        SqliteCatalog::open(&db)
            .await
            .with_context(|| format!("opening the catalog {}", db.display()))?,
    );
    let dev = config.data_dir.join(DEV_ROOT_KEY_FILE).is_file();
    let root = load_root_key(config, dev, catalog.as_ref()).await?;
    let keys = KeyRing::from_root(&root, 1)?;
    check_root_key(&keys, catalog.as_ref()).await?;
    let audit = load_audit_keys(&keys, catalog.as_ref(), &config.instance_name).await?;
    Ok((catalog, audit))
}

/// The public keys an existing vault publishes, read offline (for `callvault keys show`).
pub struct PublishedKeys {
    /// The audit log's note verifier key, `name+keyid+base64`.
    pub audit_vkey: String,
    /// The export signing key, OpenSSH `ssh-ed25519 …` form.
    pub export_openssh: String,
}

/// The public keys of the vault under `config`; creates nothing (see [`open_audit`]).
pub async fn published_keys(config: &Config) -> anyhow::Result<PublishedKeys> {
    let db = config.sqlite_path();
    if !db.is_file() {
        anyhow::bail!("no catalog at {}", db.display());
    }
    let catalog = SqliteCatalog::open(&db).await?;
    let dev = config.data_dir.join(DEV_ROOT_KEY_FILE).is_file();
    let root = load_root_key(config, dev, &catalog).await?;
    let keys = KeyRing::from_root(&root, 1)?;
    check_root_key(&keys, &catalog).await?;
    let audit = load_audit_keys(&keys, &catalog, &config.instance_name).await?;
    let export = load_export_key(&keys, &catalog).await?;
    Ok(PublishedKeys {
        audit_vkey: audit.signer.vkey(),
        export_openssh: export.public_openssh(),
    })
}

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<PathBuf> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    Ok(dir.to_path_buf())
}
