//! Who is asking and what they may do: principals, roles, API tokens, the Cedar
//! [`authz::Authorizer`] that decides every action, the server [`clock`] and the keyed
//! [`blind`] index for customer lookup.

pub mod authz;
pub mod blind;
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
        ORDER.into_iter().find(|r| self.has(*r)).map(Role::as_str)
    }
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
    fn the_view_is_the_most_restrictive_content_role_and_none_without_one() {
        assert_eq!(
            principal(&[Role::Compliance, Role::Auditor]).view_role(),
            Some("auditor")
        );
        assert_eq!(
            principal(&[Role::QaReviewer]).view_role(),
            Some("qa_reviewer")
        );
        assert_eq!(principal(&[Role::Admin]).view_role(), None);
        assert_eq!(principal(&[Role::Recorder]).view_role(), None);
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
