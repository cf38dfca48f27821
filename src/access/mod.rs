//! Who is asking and what they may do: principals, roles, API tokens, and the single
//! authorization decision for reading call content.
//!
//! The access-control issue replaces [`may_read_call`] with Cedar policies and grants; until
//! then it is the one place that decides.

pub mod authz;
pub mod clock;
pub mod login;
mod token;
pub mod totp;

pub use login::{hash_password, verify_password, FailureCounts, PasswordError, RateLimit};
pub use token::{hash_token, new_token, ApiToken, TOKEN_PREFIX};
pub use totp::{TotpError, TotpSecret};

use serde::{Deserialize, Serialize};

/// A role a principal holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The recording system: uploads, never reads.
    Recorder,
    /// Quality assurance: masked views of its agents' calls.
    QaReviewer,
    /// Reads through grants.
    Auditor,
    /// Approves, places legal holds.
    Compliance,
    /// Downloads exports addressed to it.
    Regulator,
    /// Manages principals and keys; never reads content.
    Admin,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 6] = [
        Role::Recorder,
        Role::QaReviewer,
        Role::Auditor,
        Role::Compliance,
        Role::Regulator,
        Role::Admin,
    ];

    /// The role's name as used in policies and the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Recorder => "recorder",
            Role::QaReviewer => "qa_reviewer",
            Role::Auditor => "auditor",
            Role::Compliance => "compliance",
            Role::Regulator => "regulator",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Unique principal name.
    pub name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Agent ids whose calls a QA reviewer sees (from the principal's attributes).
    pub agents: Vec<String>,
    /// Whether the session passed a second factor.
    pub second_factor: bool,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Role names, for audit entries.
    pub fn role_names(&self) -> Vec<&'static str> {
        self.roles.iter().map(|r| r.as_str()).collect()
    }

    /// The redaction view this principal reads through: its most restrictive content role.
    ///
    /// Returns `None` for a principal with no content-reading role.
    pub fn view_role(&self) -> Option<&'static str> {
        const ORDER: [Role; 4] = [
            Role::Auditor,
            Role::QaReviewer,
            Role::Regulator,
            Role::Compliance,
        ];
        if let Some(r) = ORDER.into_iter().find(|r| self.has(*r)) {
            return Some(r.as_str());
        }
        // Until access control lands, the admin reads the auditor's masked view.
        self.has(Role::Admin).then_some("auditor")
    }
}

/// Whether `p` may read the content (metadata, transcript, audio) of a call.
///
/// The answer does not depend on whether the call exists, so a refusal reveals nothing.
/// Until the access-control issue lands: every authenticated principal but a pure recorder.
pub fn may_read_call(p: &Principal) -> bool {
    p.view_role().is_some()
}

/// Whether `p` may upload calls: the recorder (and the admin, for operations).
pub fn may_ingest(p: &Principal) -> bool {
    p.has(Role::Recorder) || p.has(Role::Admin)
}

/// Whether `p` may read the audit log (entries, checkpoints, proofs): compliance and
/// auditors.
pub fn may_read_audit(p: &Principal) -> bool {
    p.has(Role::Compliance) || p.has(Role::Auditor)
}

/// Whether `p` may list calls (ids and metadata, no content).
pub fn may_list_calls(p: &Principal) -> bool {
    may_read_call(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            name: "p".into(),
            roles: roles.to_vec(),
            agents: Vec::new(),
            second_factor: true,
        }
    }

    #[test]
    fn recorder_never_reads() {
        assert!(!may_read_call(&principal(&[Role::Recorder])));
        assert!(may_ingest(&principal(&[Role::Recorder])));
    }

    #[test]
    fn every_other_role_reads_until_access_control_lands() {
        for r in Role::ALL.into_iter().filter(|r| *r != Role::Recorder) {
            assert!(may_read_call(&principal(&[r])), "{r:?}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
