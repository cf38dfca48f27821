//! The audit entry: who did what to which object, when, under which grant and policies,
//! with what outcome. Serialised as JSON, these are the leaf bytes of the log.

use serde::{Deserialize, Serialize};

use crate::access::Principal;

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

/// One audit entry; serialised as the leaf bytes. Never holds call content or customer
/// identifiers: only principal names, roles, ids of objects, policies and grants.
///
/// Fields added after the first version are skipped when empty, so a leaf written before
/// them reads back unchanged and an old reader still parses a new leaf.
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
    /// The purpose the actor declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Id of the access grant used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// Markers such as `break-glass`.
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

    /// Adds the ids of the policies that decided.
    pub fn policies(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.policies.extend(ids);
        self
    }

    /// Sets the declared purpose.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// Sets the id of the grant used.
    pub fn grant(mut self, grant: impl Into<String>) -> Self {
        self.grant = Some(grant.into());
        self
    }

    /// Adds a flag such as `break-glass`.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }

    /// The leaf bytes.
    pub fn to_leaf(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("audit entries always serialise")
    }
}

/// The current time as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("formatting the current UTC time cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_without_the_new_fields_serialises_as_before() {
        let e = AuditEntry::new(None, "call.ingest", Outcome::Success, "127.0.0.1").object("c1");
        let json: serde_json::Value = serde_json::from_slice(&e.to_leaf()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            ["schema", "time", "actor", "roles", "event", "outcome", "objects", "origin"]
        );
    }

    #[test]
    fn an_old_leaf_reads_back_with_empty_new_fields() {
        let old = br#"{"schema":"callvault.audit/v1","time":"2026-03-01T00:00:00Z","actor":"a","roles":[],"event":"e","outcome":"denied","objects":[],"origin":"o","reason":"forbidden"}"#;
        let e: AuditEntry = serde_json::from_slice(old).unwrap();
        assert!(e.policies.is_empty() && e.flags.is_empty());
        assert_eq!((e.purpose, e.grant), (None, None));
    }

    #[test]
    fn builder_methods_fill_the_new_fields_and_they_round_trip() {
        let e = AuditEntry::new(None, "call.read", Outcome::Success, "o")
            .policies(["p1".to_string(), "p2".to_string()])
            .purpose("dispute")
            .grant("g-7")
            .flag("break-glass");
        let back: AuditEntry = serde_json::from_slice(&e.to_leaf()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.policies, ["p1", "p2"]);
        assert_eq!(back.flags, ["break-glass"]);
    }
}
