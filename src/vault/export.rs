//! Regulator exports: create ▸ approve (a second compliance officer) ▸ build ▸ download.
//!
//! Creating and approving are decided by the Cedar policies and audited, refusals
//! included. Approval starts a background build (see [`build`]) that writes the bundle,
//! already encrypted to the regulator, to the blob store; nothing unencrypted reaches
//! disk. Downloads are audited before the first byte is sent.

mod build;
mod source;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::access::{call_id_list, check_text};
use super::{Vault, VaultError};
use crate::access::authz::{Action, Resource};
use crate::access::{Principal, Role};
use crate::audit::{AuditEntry, Outcome};
use crate::catalog::ExportRecord;
use crate::store::{BlobKey, ByteStream};

pub use super::access::QueryIn;

/// Longest case id, characters.
const MAX_CASE_ID: usize = 128;

/// `POST /v1/exports` body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// The regulator's or court's case id (becomes the bag's External-Identifier).
    pub case_id: String,
    /// Why the data may leave the vault.
    pub legal_basis: String,
    /// Explicit calls.
    #[serde(default)]
    pub call_ids: Option<Vec<String>>,
    /// Or: calls selected by a catalog query, resolved now.
    #[serde(default)]
    pub query: Option<QueryIn>,
    /// The regulator principal the export is addressed to.
    pub regulator: String,
    /// The age X25519 recipient (`age1…`); defaults to the one registered on the
    /// regulator principal.
    #[serde(default)]
    pub recipient: Option<String>,
}

/// An export as its readers see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportView {
    /// Export id.
    pub id: String,
    /// Case id.
    pub case_id: String,
    /// Legal basis.
    pub legal_basis: String,
    /// The calls.
    pub call_ids: Vec<String>,
    /// Addressed to.
    pub regulator: String,
    /// Encrypted to.
    pub recipient: String,
    /// Created by.
    pub requested_by: String,
    /// Created at (unix seconds).
    pub requested_at: i64,
    /// Approved by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Approved at (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<i64>,
    /// `pending`, `building`, `ready` or `failed`.
    pub state: String,
    /// Payload files packed so far.
    pub files_done: i64,
    /// Payload files in all (known once the build has started).
    pub files_total: i64,
    /// Size of the encrypted bundle, bytes (when ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_bytes: Option<i64>,
    /// SHA-256 (hex) of the encrypted bundle (when ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_sha256: Option<String>,
    /// Why the build failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A bundle ready to stream.
pub struct Bundle {
    /// The age-encrypted tar.
    pub body: ByteStream,
    /// Its size, bytes.
    pub bytes: u64,
    /// The file name to offer (`<id>.tar.age`).
    pub file_name: String,
}

fn corrupt<E>(_: E) -> VaultError {
    VaultError::Catalog(crate::catalog::CatalogError::Corrupt("export record"))
}

fn view_of(rec: ExportRecord) -> Result<ExportView, VaultError> {
    Ok(ExportView {
        call_ids: serde_json::from_str(&rec.call_ids_json).map_err(corrupt)?,
        id: rec.id,
        case_id: rec.case_id,
        legal_basis: rec.legal_basis,
        regulator: rec.regulator,
        recipient: rec.recipient,
        requested_by: rec.requested_by,
        requested_at: rec.requested_at,
        approved_by: rec.approved_by,
        approved_at: rec.approved_at,
        state: rec.state,
        files_done: rec.files_done,
        files_total: rec.files_total,
        bundle_bytes: rec.bundle_bytes,
        bundle_sha256: rec.bundle_sha256,
        failure: rec.failure,
    })
}

/// Whether `id` looks like an export id (checked before it reaches the catalog).
fn check_export_id(id: &str) -> Result<(), VaultError> {
    let ok =
        id.len() <= 64 && id.starts_with("exp-") && id[4..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(VaultError::NotFound)
    }
}

impl Vault {
    /// Opens an export for approval. The regulator must be a principal with the regulator
    /// role; the recipient must be an age X25519 recipient (given, or registered on the
    /// regulator); every call must exist.
    pub async fn create_export(
        &self,
        actor: &Principal,
        origin: &str,
        new: NewExport,
    ) -> Result<ExportView, VaultError> {
        let event = "export.create";
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                Action::CreateExport,
                Resource::Vault,
                None,
            )
            .await?;
        let rec = match self.validate_export(actor, new).await {
            Ok(rec) => rec,
            Err(e) => {
                self.audit_refusal(actor, origin, event, None, e.kind())
                    .await?;
                return Err(e);
            }
        };
        self.catalog.insert_export(&rec).await?;
        let view = view_of(rec)?;
        let entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .object(view.id.clone())
            .purpose(view.legal_basis.clone())
            .policies(decision.policies);
        let entry = view.call_ids.iter().fold(entry, |e, c| e.object(c.clone()));
        self.audit.append(&entry).await?;
        Ok(view)
    }

    async fn validate_export(
        &self,
        actor: &Principal,
        new: NewExport,
    ) -> Result<ExportRecord, VaultError> {
        check_text("case_id", &new.case_id, true)?;
        if new.case_id.chars().count() > MAX_CASE_ID {
            return Err(VaultError::Invalid(format!(
                "case_id must be at most {MAX_CASE_ID} characters"
            )));
        }
        check_text("legal_basis", &new.legal_basis, true)?;
        let regulator = self.catalog.get_principal(&new.regulator).await?;
        let is_regulator = regulator
            .as_ref()
            .is_some_and(|p| !p.disabled && p.roles.iter().any(|r| r == Role::Regulator.as_str()));
        if !is_regulator {
            return Err(VaultError::Invalid(
                "regulator must name an active principal with the regulator role".into(),
            ));
        }
        let recipient = match new.recipient {
            Some(r) => r,
            None => self
                .catalog
                .recipient_of(&new.regulator)
                .await?
                .ok_or_else(|| {
                    VaultError::Invalid(
                        "recipient is required: the regulator has no registered age key".into(),
                    )
                })?,
        };
        if recipient.len() > 200 || recipient.parse::<age::x25519::Recipient>().is_err() {
            return Err(VaultError::Invalid(
                "recipient must be an age X25519 recipient (age1…)".into(),
            ));
        }
        let call_ids = self.export_calls(new.call_ids, new.query).await?;
        Ok(ExportRecord {
            id: format!("exp-{}", uuid::Uuid::new_v4().simple()),
            case_id: new.case_id,
            legal_basis: new.legal_basis,
            call_ids_json: serde_json::to_string(&call_ids).map_err(corrupt)?,
            regulator: new.regulator,
            recipient,
            requested_by: actor.name.clone(),
            requested_at: self.now(),
            approved_by: None,
            approved_at: None,
            state: "pending".into(),
            files_done: 0,
            files_total: 0,
            bundle_blob: None,
            bundle_bytes: None,
            bundle_sha256: None,
            failure: None,
        })
    }

    /// The export's calls: explicit ids (each must exist) or a query resolved now.
    async fn export_calls(
        &self,
        ids: Option<Vec<String>>,
        query: Option<QueryIn>,
    ) -> Result<Vec<String>, VaultError> {
        let mut ids = match (ids, query) {
            (Some(ids), None) => call_id_list(ids)?,
            (None, Some(q)) => {
                let stored = self.store_query(q)?;
                self.resolve_query(&stored).await?
            }
            _ => {
                return Err(VaultError::Invalid(
                    "give exactly one of call_ids and query".into(),
                ))
            }
        };
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Err(VaultError::Invalid("the query selects no call".into()));
        }
        let mut missing = 0usize;
        for id in &ids {
            if self.catalog.get_call(id).await?.is_none() {
                missing += 1;
            }
        }
        if missing > 0 {
            return Err(VaultError::Invalid(format!(
                "{missing} of the calls do not exist"
            )));
        }
        Ok(ids)
    }

    async fn export_record(&self, id: &str) -> Result<Option<ExportRecord>, VaultError> {
        check_export_id(id)?;
        Ok(self.catalog.get_export(id).await?)
    }

    /// Decides `action` on export `id`; an absent export is decided with placeholder facts
    /// so that refusals do not reveal which ids exist.
    async fn authorize_export(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        action: Action,
        id: &str,
    ) -> Result<(ExportRecord, Vec<String>), VaultError> {
        let rec = self.export_record(id).await?;
        let (recipient, requester) = rec.as_ref().map_or(("-", "-"), |r| {
            (r.regulator.as_str(), r.requested_by.as_str())
        });
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                action,
                Resource::Export {
                    id,
                    recipient,
                    requester,
                },
                Some(id),
            )
            .await?;
        match rec {
            Some(rec) => Ok((rec, decision.policies)),
            None => {
                self.audit_refusal(actor, origin, event, Some(id), "not-found")
                    .await?;
                Err(VaultError::NotFound)
            }
        }
    }

    /// Approves a pending export and starts its build in the background. The approver
    /// must differ from the creator (Cedar forbids it, and so does the catalog).
    pub async fn approve_export(
        self: &Arc<Self>,
        actor: &Principal,
        origin: &str,
        id: &str,
    ) -> Result<ExportView, VaultError> {
        let event = "export.approve";
        let (rec, policies) = self
            .authorize_export(actor, origin, event, Action::ApproveExport, id)
            .await?;
        let now = self.now();
        if rec.state != "pending" || !self.catalog.approve_export(id, &actor.name, now).await? {
            self.audit_refusal(actor, origin, event, Some(id), "wrong-state")
                .await?;
            return Err(VaultError::WrongState("the export is not pending approval"));
        }
        let calls: Vec<String> = serde_json::from_str(&rec.call_ids_json).map_err(corrupt)?;
        let entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .object(id.to_string())
            .policies(policies);
        let entry = calls.iter().fold(entry, |e, c| e.object(c.clone()));
        if let Err(e) = self.audit.append(&entry).await {
            // Fail closed: an approval that is not on the record does not build.
            let _ = self.catalog.fail_export(id, "audit").await;
            return Err(e.into());
        }
        let vault = Arc::clone(self);
        let export_id = id.to_string();
        tokio::spawn(async move { vault.build_export(&export_id).await });
        let rec = self
            .catalog
            .get_export(id)
            .await?
            .ok_or(VaultError::NotFound)?;
        view_of(rec)
    }

    /// The export's status, for compliance and the regulator it is addressed to.
    pub async fn get_export(
        &self,
        actor: &Principal,
        origin: &str,
        id: &str,
    ) -> Result<ExportView, VaultError> {
        let (rec, _) = self
            .authorize_export(actor, origin, "export.status", Action::DownloadExport, id)
            .await?;
        view_of(rec)
    }

    /// The encrypted bundle of a ready export. The download is audited before the first
    /// byte is returned; a refusal is audited too.
    pub async fn download_export(
        &self,
        actor: &Principal,
        origin: &str,
        id: &str,
    ) -> Result<Bundle, VaultError> {
        let event = "export.download";
        let (rec, policies) = self
            .authorize_export(actor, origin, event, Action::DownloadExport, id)
            .await?;
        let (Some(blob), Some(bytes), "ready") = (
            rec.bundle_blob.as_deref(),
            rec.bundle_bytes,
            rec.state.as_str(),
        ) else {
            self.audit_refusal(actor, origin, event, Some(id), "wrong-state")
                .await?;
            return Err(VaultError::WrongState("the export's bundle is not ready"));
        };
        let body = self.store.get(&BlobKey::new(blob)?).await?;
        let entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .object(id.to_string())
            .policies(policies);
        self.audit.append(&entry).await?;
        Ok(Bundle {
            body,
            bytes: u64::try_from(bytes).map_err(corrupt)?,
            file_name: format!("{id}.tar.age"),
        })
    }

    /// The OpenSSH form of the public export signing key (`ssh-ed25519 …`).
    pub fn export_public_key(&self) -> String {
        self.export_key.public_openssh()
    }
}
