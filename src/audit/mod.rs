//! The audit log: one entry per access, refusal and change, appended through the catalog.
//!
//! Entries name who, what, when, outcome, origin and object — never call content or a
//! customer value. Appending is fail-closed: callers turn an append failure into a failed
//! request. The Merkle tree and signed checkpoints over these leaves come with the
//! access-control issue; the leaf bytes written here are already the final leaf format.

pub mod merkle;
pub mod note;
pub mod proof;
pub mod signed;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use crate::catalog::{Catalog, CatalogError};

/// Version tag inside every leaf.
pub const ENTRY_SCHEMA: &str = "callvault.audit/v1";

/// Whether the audited action succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused by authorization.
    Denied,
    /// Failed (bad input, integrity failure, conflict ...).
    Failure,
}

/// One audit entry; serialised as the leaf bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Always [`ENTRY_SCHEMA`].
    pub schema: String,
    /// RFC 3339 UTC time, set by the server.
    pub time: String,
    /// Principal name (or `anonymous`).
    pub actor: String,
    /// The actor's roles.
    pub roles: Vec<String>,
    /// Event type, e.g. `call.ingest`, `call.read.transcript`.
    pub event: String,
    /// Success, denied or failure.
    pub outcome: Outcome,
    /// Ids of the objects touched (call ids, request ids) — never customer values.
    pub objects: Vec<String>,
    /// Where the request came from (peer address).
    pub origin: String,
    /// A short machine-readable reason for a refusal or failure (a problem type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Ids of the authorization policies that decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// The stated purpose of the access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The grant the access went through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// Flags such as `break-glass`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

impl AuditEntry {
    /// A new entry stamped with the current time.
    pub fn new(actor: Option<&Principal>, event: &str, outcome: Outcome, origin: &str) -> Self {
        Self {
            schema: ENTRY_SCHEMA.into(),
            time: now_rfc3339(),
            actor: actor.map_or_else(|| "anonymous".to_string(), |p| p.name.clone()),
            roles: actor.map_or_else(Vec::new, |p| {
                p.role_names().iter().map(|s| s.to_string()).collect()
            }),
            event: event.into(),
            outcome,
            objects: Vec::new(),
            origin: origin.into(),
            reason: None,
            policies: Vec::new(),
            purpose: None,
            grant: None,
            flags: Vec::new(),
        }
    }

    /// Adds an object id.
    pub fn object(mut self, id: impl Into<String>) -> Self {
        self.objects.push(id.into());
        self
    }

    /// Adds a reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Records the policies that decided.
    pub fn policies(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.policies.extend(ids);
        self
    }

    /// Records the stated purpose.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// Records the grant used.
    pub fn grant(mut self, id: impl Into<String>) -> Self {
        self.grant = Some(id.into());
        self
    }

    /// Adds a flag.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("formatting the current UTC time cannot fail")
}

/// Appends entries; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    catalog: Arc<dyn Catalog>,
}

/// The audit log could not be written; the request that caused it must fail.
#[derive(Debug, thiserror::Error)]
#[error("audit log unavailable")]
pub struct AuditError(#[from] CatalogError);

impl AuditLog {
    /// A log stored in `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Self { catalog }
    }

    /// Appends `entry` and returns its 0-based index.
    pub async fn append(&self, entry: &AuditEntry) -> Result<u64, AuditError> {
        let leaf = serde_json::to_vec(entry).expect("audit entries always serialise");
        let index = self.catalog.append_audit(&leaf).await?;
        tracing::debug!(index, event = %entry.event, "audit entry appended");
        Ok(index)
    }

    /// Number of entries.
    pub async fn size(&self) -> Result<u64, AuditError> {
        Ok(self.catalog.audit_size().await?)
    }

    /// Entries `[start, end)` decoded.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<AuditEntry>, AuditError> {
        let leaves = self.catalog.audit_entries(start, end).await?;
        Ok(leaves
            .iter()
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect())
    }
}
