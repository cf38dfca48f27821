//! The one authorization seam of the pipelines: every action asks the Cedar
//! [`Authorizer`](crate::access::authz::Authorizer) with the server's clock, and every
//! refusal is audited with the policies that decided before the caller hears of it.

use crate::access::authz::{Action, AuthzRequest, Decision, GrantFacts, Level, Resource, Subject};
use crate::access::Principal;
use crate::audit::{AuditEntry, Outcome};
use crate::catalog::{CallRecord, GrantRecord};

use super::{Vault, VaultError};

/// Agent id used for a call that does not exist, so the decision (and the refusal) looks
/// the same as for a call of someone else's agent.
const NO_AGENT: &str = "-";

/// The policy id recorded when no policy permits: Cedar's implicit deny.
pub const DEFAULT_DENY: &str = "default-deny";

/// How a caller may read one call.
#[derive(Clone, Debug)]
pub struct CallAccess {
    /// The policies that allowed it.
    pub policies: Vec<String>,
    /// The grant used, if any.
    pub grant: Option<GrantFacts>,
    /// The redaction view to serve.
    pub view_role: &'static str,
}

impl CallAccess {
    /// Whether the read shows C2 values unmasked (a break-glass grant).
    pub fn unmasked(&self) -> bool {
        self.grant
            .as_ref()
            .is_some_and(|g| g.level == Level::Unmasked)
    }

    /// Adds the decision's policies, grant, purpose and flags to an audit entry.
    pub fn annotate(&self, mut entry: AuditEntry) -> AuditEntry {
        entry = entry.policies(self.policies.iter().cloned());
        if let Some(g) = &self.grant {
            entry = entry.grant(g.id.clone()).purpose(g.purpose.clone());
        }
        if self.unmasked() {
            entry = entry.flag("break-glass");
        }
        entry
    }
}

/// The subject of a decision for `p`.
pub fn subject(p: &Principal) -> Subject<'_> {
    Subject {
        name: &p.name,
        roles: &p.roles,
        agents: &p.agents,
        second_factor: p.second_factor,
    }
}

/// The authorizer's view of a stored grant at time `now`.
pub fn grant_facts(g: &GrantRecord, now: i64) -> Result<GrantFacts, VaultError> {
    let corrupt = |_| VaultError::Catalog(crate::catalog::CatalogError::Corrupt("grant"));
    let level = match g.level.as_str() {
        "unmasked" => Level::Unmasked,
        _ => Level::Masked,
    };
    let status = if g.revoked {
        "revoked"
    } else if now >= g.not_after {
        "expired"
    } else {
        "active"
    };
    Ok(GrantFacts {
        id: g.id.clone(),
        requester: g.requester.clone(),
        approvers: serde_json::from_str(&g.approvers_json).map_err(corrupt)?,
        status: status.into(),
        purpose: g.purpose.clone(),
        level,
        call_ids: serde_json::from_str(&g.call_ids_json).map_err(corrupt)?,
        from_query: g.from_query,
        not_before: g.not_before,
        not_after: g.not_after,
    })
}

impl Vault {
    /// The current time of the server's clock (unix seconds); callers never set it.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The caller's live grants, as the authorizer sees them.
    pub(crate) async fn live_grants(
        &self,
        actor: &Principal,
    ) -> Result<Vec<GrantFacts>, VaultError> {
        let now = self.now();
        self.catalog
            .live_grants(&actor.name, now)
            .await?
            .iter()
            .map(|g| grant_facts(g, now))
            .collect()
    }

    /// Decides `action` on `resource` (trying the caller's grants) and audits a refusal
    /// as `event` with the deciding policies. Returns the allowing decision.
    pub(crate) async fn authorize(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        action: Action,
        resource: Resource<'_>,
        object: Option<&str>,
    ) -> Result<Decision, VaultError> {
        let grants = match action {
            Action::SearchCustomers => self.live_grants(actor).await?,
            _ => Vec::new(),
        };
        let req = AuthzRequest {
            subject: subject(actor),
            action,
            resource,
            grant: None,
            now: self.now(),
        };
        let decision = self.authz.decide_with_grants(&req, &grants);
        if decision.allowed {
            return Ok(decision);
        }
        self.audit_denial(actor, origin, event, object, &decision)
            .await?;
        Err(VaultError::Forbidden)
    }

    /// Decides a read of call `call_id`. The decision does not depend on whether the call
    /// exists: a caller who may not read gets 403 either way; one who may gets 404 for an
    /// absent call. Both outcomes are audited.
    pub(crate) async fn authorize_call(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        action: Action,
        call_id: &str,
    ) -> Result<(CallRecord, CallAccess), VaultError> {
        let rec = self.catalog.get_call(call_id).await?;
        let agent_id = rec.as_ref().map_or(NO_AGENT, |r| r.agent_id.as_str());
        let grants = self.live_grants(actor).await?;
        let req = AuthzRequest {
            subject: subject(actor),
            action,
            resource: Resource::Call {
                id: call_id,
                agent_id,
            },
            grant: None,
            now: self.now(),
        };
        let decision = self.authz.decide_with_grants(&req, &grants);
        if !decision.allowed {
            self.audit_denial(actor, origin, event, Some(call_id), &decision)
                .await?;
            return Err(VaultError::Forbidden);
        }
        let Some(rec) = rec else {
            let entry = AuditEntry::new(Some(actor), event, Outcome::Failure, origin)
                .object(call_id)
                .reason("not-found")
                .policies(decision.policies);
            self.audit.append(&entry).await?;
            return Err(VaultError::NotFound);
        };
        let grant = decision
            .grant
            .as_ref()
            .and_then(|id| grants.iter().find(|g| &g.id == id).cloned());
        let view_role = match &grant {
            Some(g) if g.level == Level::Unmasked => "break_glass",
            _ => actor.view_role().ok_or(VaultError::Forbidden)?,
        };
        Ok((
            rec,
            CallAccess {
                policies: decision.policies,
                grant,
                view_role,
            },
        ))
    }

    /// Audits a refusal with the policies that decided (or `authorization-error` when the
    /// decision failed closed).
    pub(crate) async fn audit_denial(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        object: Option<&str>,
        decision: &Decision,
    ) -> Result<(), VaultError> {
        let reason = if decision.errors {
            "authorization-error"
        } else {
            "forbidden"
        };
        // No policy applying is Cedar's implicit deny; the entry says so by name.
        let policies = if decision.policies.is_empty() && !decision.errors {
            vec![DEFAULT_DENY.to_string()]
        } else {
            decision.policies.clone()
        };
        let mut entry = AuditEntry::new(Some(actor), event, Outcome::Denied, origin)
            .reason(reason)
            .policies(policies);
        if let Some(id) = object {
            entry = entry.object(id);
        }
        self.audit.append(&entry).await?;
        Ok(())
    }
}
