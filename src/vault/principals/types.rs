//! The values principal operations take and return: who acts, what to create, and the
//! secrets shown once.

use zeroize::Zeroizing;

use crate::access::{Principal, Role};
use crate::audit::{AuditEntry, Outcome};

/// Who performs an administrative operation, as the audit log names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Principal name, or `local-admin` for the command line on the vault's host.
    pub name: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Where the request came from: an IP address, or `local:<OS user>`.
    pub origin: String,
}

impl Actor {
    /// The operator running `callvault principals` on the vault's host as `os_user`.
    pub fn local_admin(os_user: Option<&str>) -> Self {
        Actor {
            name: "local-admin".into(),
            roles: vec![Role::Admin.as_str().into()],
            origin: os_user.map_or_else(|| "local".into(), |u| format!("local:{u}")),
        }
    }

    /// An authenticated principal calling from `origin`.
    pub fn principal(p: &Principal, origin: &str) -> Self {
        Actor {
            name: p.name.clone(),
            roles: p.role_names().iter().map(|r| r.to_string()).collect(),
            origin: origin.into(),
        }
    }

    pub(super) fn entry(&self, event: &str, outcome: Outcome, object: &str) -> AuditEntry {
        let mut e = AuditEntry::new(None, event, outcome, &self.origin).object(object);
        e.actor = self.name.clone();
        e.roles = self.roles.clone();
        e
    }
}

/// A principal to create, with the credentials to give it.
pub struct NewPrincipal {
    /// Unique name.
    pub name: String,
    /// Roles (at least one).
    pub roles: Vec<Role>,
    /// Agent ids whose calls a QA reviewer sees.
    pub agents: Vec<String>,
    /// Password for `POST /v1/login`, if any.
    pub password: Option<Zeroizing<String>>,
    /// Whether to enrol a TOTP second factor.
    pub totp: bool,
    /// Issue an API token valid for this many seconds.
    pub token_ttl_secs: Option<i64>,
}

/// A freshly enrolled TOTP secret, shown once.
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an authenticator app.
    pub base32: Zeroizing<String>,
    /// The `otpauth://` URI, for a QR code.
    pub otpauth_uri: Zeroizing<String>,
}

/// A freshly issued token, shown once.
pub struct IssuedToken {
    /// The token text (`cvt_…`).
    pub secret: Zeroizing<String>,
    /// When it stops working (RFC 3339), if ever.
    pub expires_at: Option<String>,
}

/// The secrets made by [`Vault::add_principal`], shown once.
pub struct Enrolment {
    /// The TOTP secret, if one was enrolled.
    pub totp: Option<TotpEnrolment>,
    /// The API token, if one was issued.
    pub token: Option<IssuedToken>,
}

/// What `principals list` shows about a principal: never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalSummary {
    /// Name.
    pub name: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Agent ids (QA reviewer scope).
    pub agents: Vec<String>,
    /// Whether it is barred from signing in.
    pub disabled: bool,
    /// Whether a password is set.
    pub has_password: bool,
    /// Whether a TOTP secret is enrolled.
    pub has_totp: bool,
    /// Tokens neither revoked nor expired (sessions included).
    pub live_tokens: usize,
}
