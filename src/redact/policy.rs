//! The redaction policy: classes and tiers, role renderings, cue words, custom detectors.
//!
//! Loaded from `policies/redaction/*.toml` (built in with `include_str!`, or from a directory),
//! validated once; every error names the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use super::finding::Tier;
use super::lexicon::Lexicon;
use super::policy_file::{self, Sources};

/// How a role sees one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendering {
    /// A placeholder only.
    Removed,
    /// Digits: the last N characters; e-mail: the domain; otherwise as `Removed`.
    Masked,
    /// Names: the surname stays; otherwise as `Removed`.
    SurnameOnly,
    /// Shown as stored.
    Full,
}

impl Rendering {
    pub(crate) fn parse(s: &str) -> Option<Rendering> {
        match s {
            "removed" => Some(Rendering::Removed),
            "masked" => Some(Rendering::Masked),
            "surname_only" => Some(Rendering::SurnameOnly),
            "full" => Some(Rendering::Full),
            _ => None,
        }
    }
}

/// How a masked value of a class looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Secret,
    Digits,
    Name,
    Address,
    Email,
}

/// One data class of the policy.
#[derive(Clone, Debug)]
pub(crate) struct ClassInfo {
    pub name: String,
    pub tier: Tier,
    pub label: String,
    pub kind: Kind,
}

/// A compiled operator-defined detector.
#[derive(Clone, Debug)]
pub(crate) struct CustomDetector {
    pub name: String,
    pub class: String,
    pub pattern: regex::Regex,
    pub context: Option<regex::Regex>,
    pub context_required: bool,
    pub validator: Option<String>,
    pub confidence: f32,
}

/// The loaded, validated redaction policy. Regexes are compiled once here.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) classes: Vec<ClassInfo>,
    pub(crate) roles: BTreeMap<String, BTreeMap<String, Rendering>>,
    pub(crate) mask_last: usize,
    pub(crate) lex: Lexicon,
    pub(crate) custom: Vec<CustomDetector>,
}

/// A policy that fails to load or validate; the message names file and line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy file is missing or unreadable.
    #[error("{file}: cannot read policy file")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A policy file is malformed or inconsistent.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

const FILES: [&str; 4] = [
    "classes.toml",
    "roles.toml",
    "detectors.toml",
    "custom.toml",
];

impl Policy {
    /// The policy shipped in `policies/redaction/`.
    ///
    /// # Panics
    /// Never in a released build: a test checks the built-in files validate.
    pub fn builtin() -> Policy {
        let sources = Sources {
            classes: include_str!("../../policies/redaction/classes.toml").to_string(),
            roles: include_str!("../../policies/redaction/roles.toml").to_string(),
            detectors: include_str!("../../policies/redaction/detectors.toml").to_string(),
            custom: include_str!("../../policies/redaction/custom.toml").to_string(),
        };
        policy_file::compile(&sources).expect("the built-in redaction policy is valid")
    }

    /// Loads `classes.toml`, `roles.toml`, `detectors.toml` and (optional) `custom.toml`.
    pub fn load_dir(dir: &Path) -> Result<Policy, PolicyError> {
        let read = |name: &str, optional: bool| -> Result<String, PolicyError> {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(s) => Ok(s),
                Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(source) => Err(PolicyError::Read {
                    file: name.to_string(),
                    source,
                }),
            }
        };
        let sources = Sources {
            classes: read(FILES[0], false)?,
            roles: read(FILES[1], false)?,
            detectors: read(FILES[2], false)?,
            custom: read(FILES[3], true)?,
        };
        policy_file::compile(&sources)
    }

    /// The roles that have a view.
    pub fn roles(&self) -> Vec<&str> {
        self.roles.keys().map(String::as_str).collect()
    }

    /// The tier of a class name, if the policy knows it.
    pub fn tier(&self, class: &str) -> Option<Tier> {
        self.class(class).map(|c| c.tier)
    }

    pub(crate) fn class(&self, name: &str) -> Option<&ClassInfo> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The rendering of `class` for `role`; `None` when the role has no view.
    pub(crate) fn rendering(&self, role: &str, class: &str) -> Option<Rendering> {
        let r = self.roles.get(role)?;
        Some(r.get(class).copied().unwrap_or(Rendering::Removed))
    }
}
