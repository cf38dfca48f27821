//! The vocabulary of a decision: actions, levels, the subject, grants, requests and
//! resources, as the rest of callvault hands them to the authorizer.

use serde::{Deserialize, Serialize};

use crate::access::Role;

/// Something a principal may try to do. Each maps to a Cedar action of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Upload a call.
    Ingest,
    /// List call ids and metadata (no content).
    ListCalls,
    /// Read a call's metadata view.
    ReadMetadata,
    /// Read a call's transcript view.
    ReadTranscript,
    /// Read a call's audio view.
    ReadAudio,
    /// Search calls by customer (`POST /v1/calls/search`).
    SearchCustomers,
    /// Ask for access to calls.
    RequestAccess,
    /// List access requests.
    ListRequests,
    /// Approve a pending request.
    ApproveRequest,
    /// Deny a pending request.
    DenyRequest,
    /// Revoke a request or the grant it produced.
    RevokeRequest,
    /// Read audit entries, checkpoints and proofs.
    ReadAudit,
    /// Create, change or remove principals.
    ManagePrincipals,
    /// Rotate or manage keys.
    ManageKeys,
    /// Place a legal hold.
    PlaceHold,
    /// Build an export.
    CreateExport,
    /// Approve (and so start building) an export another principal created.
    ApproveExport,
    /// Download an export.
    DownloadExport,
}

impl Action {
    /// Every action, in a fixed order.
    pub const ALL: [Action; 18] = [
        Action::Ingest,
        Action::ListCalls,
        Action::ReadMetadata,
        Action::ReadTranscript,
        Action::ReadAudio,
        Action::SearchCustomers,
        Action::RequestAccess,
        Action::ListRequests,
        Action::ApproveRequest,
        Action::DenyRequest,
        Action::RevokeRequest,
        Action::ReadAudit,
        Action::ManagePrincipals,
        Action::ManageKeys,
        Action::PlaceHold,
        Action::CreateExport,
        Action::ApproveExport,
        Action::DownloadExport,
    ];

    /// The Cedar action id (`Action::"<name>"`), also used in audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Ingest => "ingest",
            Action::ListCalls => "list_calls",
            Action::ReadMetadata => "read_metadata",
            Action::ReadTranscript => "read_transcript",
            Action::ReadAudio => "read_audio",
            Action::SearchCustomers => "search_customers",
            Action::RequestAccess => "request_access",
            Action::ListRequests => "list_requests",
            Action::ApproveRequest => "approve_request",
            Action::DenyRequest => "deny_request",
            Action::RevokeRequest => "revoke_request",
            Action::ReadAudit => "read_audit",
            Action::ManagePrincipals => "manage_principals",
            Action::ManageKeys => "manage_keys",
            Action::PlaceHold => "place_hold",
            Action::CreateExport => "create_export",
            Action::ApproveExport => "approve_export",
            Action::DownloadExport => "download_export",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// How much of a call a grant shows. `Unmasked` (break-glass) orders above `Masked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The role's masked view.
    Masked,
    /// The unmasked view: needs two distinct approvers and a second factor.
    Unmasked,
}

impl Level {
    /// The level's name in policies and the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Masked => "masked",
            Level::Unmasked => "unmasked",
        }
    }
}

/// The authenticated caller, as the authorizer sees it.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// Unique principal name.
    pub name: &'a str,
    /// Roles held; a `forbid` on any of them wins.
    pub roles: &'a [Role],
    /// Agents whose calls a qa_reviewer may read (empty for other roles).
    pub agents: &'a [String],
    /// Whether the session passed a TOTP second factor.
    pub second_factor: bool,
}

/// A grant, as stored by the request workflow: the data Cedar checks a read against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantFacts {
    /// Grant id.
    pub id: String,
    /// The principal the grant was made for; only it may read through the grant.
    pub requester: String,
    /// Distinct approvers, in approval order; only the first two are given to Cedar.
    pub approvers: Vec<String>,
    /// `"active"`, `"revoked"` or `"expired"`; anything else fails closed.
    pub status: String,
    /// Why access was asked for.
    pub purpose: String,
    /// Masked or unmasked views.
    pub level: Level,
    /// The calls the grant covers.
    pub call_ids: Vec<String>,
    /// Whether the request selected calls by a query (a query grant allows customer search).
    pub from_query: bool,
    /// First second (unix) the grant is valid.
    pub not_before: i64,
    /// First second (unix) the grant is no longer valid.
    pub not_after: i64,
}

/// An access request, as the principal acting on it sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// Request id.
    pub id: String,
    /// Who asked.
    pub requester: String,
    /// The level asked for.
    pub level: Level,
    /// Who approved so far.
    pub approvers: Vec<String>,
    /// `"pending"`, `"approved"`, `"denied"` or `"revoked"`; anything else fails closed.
    pub status: String,
}

/// What an action is applied to.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// The vault as a whole (ingest, list, search, request access, exports).
    Vault,
    /// One call.
    Call {
        /// Call id.
        id: &'a str,
        /// The agent who took the call.
        agent_id: &'a str,
    },
    /// An access request.
    Request(&'a RequestFacts),
    /// The audit log.
    AuditLog,
    /// A built export.
    Export {
        /// Export id.
        id: &'a str,
        /// The principal the export is addressed to.
        recipient: &'a str,
        /// The principal who created the export.
        requester: &'a str,
    },
    /// The principal registry.
    Principals,
    /// The key store.
    Keys,
}

/// One question to the authorizer.
#[derive(Clone, Copy, Debug)]
pub struct AuthzRequest<'a> {
    /// Who asks.
    pub subject: Subject<'a>,
    /// What they want to do.
    pub action: Action,
    /// To what.
    pub resource: Resource<'a>,
    /// The grant they act through, if any.
    pub grant: Option<&'a GrantFacts>,
    /// Server time (unix seconds) from a [`crate::access::clock::Clock`]; never the caller's.
    pub now: i64,
}
