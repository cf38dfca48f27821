//! Server configuration: parsed without side effects from `callvault.toml` plus
//! `CALLVAULT_SERVER__*` environment variables, then validated once into [`Config`].
//!
//! The client's `CALLVAULT_ADDR` and `CALLVAULT_TOKEN` are not server settings and are
//! never read here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Default listen address of the server.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";
/// Default data directory of the embedded (dev) vault.
pub const DEFAULT_DATA_DIR: &str = "./callvault-data";
/// Default limit on an uploaded audio part: 512 MiB.
pub const DEFAULT_MAX_AUDIO_BYTES: u64 = 512 * 1024 * 1024;
/// Default limit on an uploaded transcript part: 16 MiB.
pub const DEFAULT_MAX_TRANSCRIPT_BYTES: u64 = 16 * 1024 * 1024;
/// Default padding around redacted audio spans, seconds.
pub const DEFAULT_AUDIO_PAD_S: f64 = 0.2;

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or environment could not be parsed.
    #[error("configuration: {0}")]
    Parse(String),
    /// A setting has a value that cannot work.
    #[error("configuration: {setting}: {problem}")]
    Invalid {
        /// The dotted setting name.
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// The validated server configuration, passed down from start-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the embedded store, catalog and key file.
    pub data_dir: PathBuf,
    /// Name of this vault instance; appears in the audit log's origin line.
    pub instance_name: String,
    /// TLS certificate and key (PEM); when absent the server speaks plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Allow plain HTTP on a non-loopback address (for a TLS-terminating proxy).
    pub allow_plain_http: bool,
    /// Where sealed blobs go.
    pub store: StoreConfig,
    /// Where the catalog lives.
    pub catalog: CatalogConfig,
    /// Where the root key comes from.
    pub keys: KeysConfig,
    /// Upload limits.
    pub limits: LimitsConfig,
    /// Redaction settings.
    pub redaction: RedactionConfig,
    /// Authorization settings.
    pub access: AccessConfig,
    /// Export bundle settings.
    #[serde(default)]
    pub export: ExportConfig,
}

/// Export bundle settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// The `Source-Organization` written to every bundle's `bag-info.txt`.
    pub source_organization: String,
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            source_organization: "callvault".into(),
        }
    }
}

/// Authorization settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Directory of Cedar schema and policies; the built-in `policies/access` when absent.
    pub policy_dir: Option<PathBuf>,
    /// Grant duration when a request names none, seconds.
    pub default_grant_s: i64,
    /// Longest grant a request may ask for, seconds.
    pub max_grant_s: i64,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            policy_dir: None,
            default_grant_s: 8 * 3600,
            max_grant_s: 24 * 3600,
        }
    }
}

/// TLS certificate chain and private key, PEM files.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// Blob store selection.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum StoreConfig {
    /// Local filesystem under `path` (default `DATA_DIR/blobs`).
    Fs {
        /// Root directory of the blobs; relative to nothing, taken as given.
        path: Option<PathBuf>,
    },
    /// S3-compatible object storage; credentials come from the standard AWS env/config.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Custom endpoint (Garage, MinIO ...), e.g. `http://127.0.0.1:3900`.
        endpoint: Option<String>,
        /// Region name (Garage uses `garage`).
        region: Option<String>,
        /// Path-style addressing (most self-hosted servers need it).
        #[serde(default = "yes")]
        force_path_style: bool,
        /// Multipart part size in bytes (default 8 MiB).
        part_size: Option<usize>,
    },
}

fn yes() -> bool {
    true
}

/// Catalog selection.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum CatalogConfig {
    /// SQLite file (default `DATA_DIR/catalog.db`).
    Sqlite {
        /// Path of the database file.
        path: Option<PathBuf>,
    },
}

/// Root key source: exactly one of a key file or a passphrase file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// A file holding 32 random bytes (hex). See `callvault keys generate`.
    pub root_key_file: Option<PathBuf>,
    /// A file whose first line is the operator passphrase (Argon2id-derived root key).
    pub passphrase_file: Option<PathBuf>,
}

/// Upload size limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest accepted audio part in bytes.
    pub max_audio_bytes: u64,
    /// Largest accepted transcript part in bytes.
    pub max_transcript_bytes: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_audio_bytes: DEFAULT_MAX_AUDIO_BYTES,
            max_transcript_bytes: DEFAULT_MAX_TRANSCRIPT_BYTES,
        }
    }
}

/// Redaction settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactionConfig {
    /// Directory of redaction policy files; the built-in policy when absent.
    pub policy_dir: Option<PathBuf>,
    /// Seconds of padding around every silenced audio span.
    pub audio_pad_s: f64,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        Self {
            policy_dir: None,
            audio_pad_s: DEFAULT_AUDIO_PAD_S,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("default listen address parses"),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            instance_name: "callvault.local/vault".into(),
            tls: None,
            allow_plain_http: false,
            store: StoreConfig::Fs { path: None },
            catalog: CatalogConfig::Sqlite { path: None },
            keys: KeysConfig::default(),
            limits: LimitsConfig::default(),
            redaction: RedactionConfig::default(),
            access: AccessConfig::default(),
            export: ExportConfig::default(),
        }
    }
}

impl Config {
    /// Reads `file` (when it exists) and `CALLVAULT_SERVER__*` variables, then validates.
    ///
    /// `CALLVAULT_SERVER__LIMITS__MAX_AUDIO_BYTES=1000` sets `limits.max_audio_bytes`.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CALLVAULT_SERVER__").split("__"));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads only `CALLVAULT_SERVER__*` variables over the defaults (the dev vault).
    pub fn load_env_only() -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Env::prefixed("CALLVAULT_SERVER__").split("__"))
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings that cannot work together; called once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() && !self.allow_plain_http {
            return Err(ConfigError::Invalid {
                setting: "listen",
                problem: "plain HTTP on a non-loopback address needs tls.cert/tls.key or allow_plain_http = true".into(),
            });
        }
        if self.limits.max_audio_bytes == 0 || self.limits.max_transcript_bytes == 0 {
            return Err(ConfigError::Invalid {
                setting: "limits",
                problem: "limits must be positive".into(),
            });
        }
        if !(0.0..=5.0).contains(&self.redaction.audio_pad_s) {
            return Err(ConfigError::Invalid {
                setting: "redaction.audio_pad_s",
                problem: "padding must be between 0 and 5 seconds".into(),
            });
        }
        if self.instance_name.is_empty()
            || self
                .instance_name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::Invalid {
                setting: "instance_name",
                problem: "must be non-empty without spaces".into(),
            });
        }
        Ok(())
    }

    /// The SQLite database path.
    pub fn sqlite_path(&self) -> PathBuf {
        match &self.catalog {
            CatalogConfig::Sqlite { path: Some(p) } => p.clone(),
            CatalogConfig::Sqlite { path: None } => self.data_dir.join("catalog.db"),
        }
    }

    /// The filesystem blob root, when the store is the filesystem.
    pub fn fs_store_path(&self) -> Option<PathBuf> {
        match &self.store {
            StoreConfig::Fs { path } => {
                Some(path.clone().unwrap_or_else(|| self.data_dir.join("blobs")))
            }
            StoreConfig::S3 { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_on_a_public_address_is_refused() {
        let c = Config {
            listen: "0.0.0.0:8700".parse().unwrap(),
            ..Config::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::Invalid {
                setting: "listen",
                ..
            })
        ));
    }

    #[test]
    fn plain_http_on_loopback_is_accepted() {
        Config::default().validate().unwrap();
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error by value
    fn env_variables_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "callvault.toml",
                "instance_name = \"from-file\"\n[limits]\nmax_audio_bytes = 10\n",
            )?;
            jail.set_env("CALLVAULT_SERVER__LIMITS__MAX_AUDIO_BYTES", "99");
            jail.set_env("CALLVAULT_TOKEN", "not-a-server-setting");
            let c = Config::load(Path::new("callvault.toml")).unwrap();
            assert_eq!(c.instance_name, "from-file");
            assert_eq!(c.limits.max_audio_bytes, 99);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error by value
    fn unknown_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("callvault.toml", "listn = \"127.0.0.1:1\"\n")?;
            assert!(Config::load(Path::new("callvault.toml")).is_err());
            Ok(())
        });
    }
}
