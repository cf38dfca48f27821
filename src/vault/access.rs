//! Access requests and grants: request ▸ (four-eyes) approve | deny ▸ grant ▸ revoke, and
//! customer search through the keyed blind index.
//!
//! Every step is decided by the Cedar policies and audited, refusals included. A request
//! selecting calls by query keeps only the blind-index MAC of a customer value; the query
//! is resolved to concrete call ids when the request is approved, and the grant holds
//! that list. An unmasked request needs two distinct compliance approvers.

use serde::{Deserialize, Serialize};

use super::{Vault, VaultError};
use crate::access::authz::{Action, Level, RequestFacts, Resource};
use crate::access::Principal;
use crate::audit::{now_rfc3339, AuditEntry, Outcome};
use crate::catalog::{CallSelector, GrantRecord, RequestRecord};
use crate::formats::validate_call_id;
use crate::redact::identifiers::{normalize, IdentifierKind};

/// Most calls one request may name or one query may select.
pub const MAX_CALLS: usize = 1000;
/// Longest purpose or reason text, characters.
const MAX_TEXT: usize = 500;
/// Requests listed at most.
const LIST_LIMIT: u32 = 500;

/// `POST /v1/access-requests` body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Explicit calls.
    #[serde(default)]
    pub call_ids: Option<Vec<String>>,
    /// Or: calls selected by a query, resolved at approval.
    #[serde(default)]
    pub query: Option<QueryIn>,
    /// Why access is needed.
    pub purpose: String,
    /// Grant duration, seconds (default from the configuration).
    #[serde(default)]
    pub duration_s: Option<i64>,
    /// `masked` (default) or `unmasked`.
    #[serde(default)]
    pub level: Option<Level>,
}

/// A call-selecting query.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryIn {
    /// Only this agent's calls.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Calls started at or after this RFC 3339 time.
    #[serde(default)]
    pub from: Option<String>,
    /// Calls started before this RFC 3339 time.
    #[serde(default)]
    pub to: Option<String>,
    /// A customer, by exactly one identifier.
    #[serde(default)]
    pub customer: Option<CustomerIn>,
}

/// A customer identifier (exactly one field set).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    /// Mobile number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Card number.
    #[serde(default)]
    pub card_number: Option<String>,
    /// Resident ID number.
    #[serde(default)]
    pub id_number: Option<String>,
}

impl std::fmt::Debug for CustomerIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerIn(..)")
    }
}

impl CustomerIn {
    /// The one identifier given, canonical, or a refusal naming the field (not the value).
    fn canonical(&self) -> Result<(IdentifierKind, zeroize::Zeroizing<String>), VaultError> {
        let given: Vec<(IdentifierKind, &String)> = [
            (IdentifierKind::Phone, &self.phone),
            (IdentifierKind::CardNumber, &self.card_number),
            (IdentifierKind::IdNumber, &self.id_number),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let [(kind, value)] = given[..] else {
            return Err(VaultError::Invalid(
                "give exactly one of phone, card_number, id_number".into(),
            ));
        };
        if value.len() > 200 {
            return Err(VaultError::Invalid(format!(
                "{} is too long",
                kind.as_str()
            )));
        }
        normalize(kind, value).map(|v| (kind, v)).ok_or_else(|| {
            VaultError::Invalid(format!(
                "{} is not a valid {}",
                kind.as_str(),
                kind.as_str()
            ))
        })
    }
}

/// The stored form of a query: customer value replaced by its MAC.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct StoredQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    /// `phone`, `card_number` or `id_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_kind: Option<IdentifierKind>,
    /// Hex MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_mac: Option<String>,
}

/// One approval, denial or revocation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// Who.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A grant as shown to callers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GrantView {
    /// Grant id.
    pub id: String,
    /// `masked` or `unmasked`.
    pub level: Level,
    /// The calls it covers.
    pub call_ids: Vec<String>,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339, exclusive).
    pub not_after: String,
    /// Who approved.
    pub approvers: Vec<String>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A request as shown to callers (no customer value, ever).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RequestView {
    /// Request id.
    pub id: String,
    /// Who asked.
    pub requester: String,
    /// Why.
    pub purpose: String,
    /// `masked` or `unmasked`.
    pub level: Level,
    /// Requested duration, seconds.
    pub duration_s: i64,
    /// `pending`, `approved`, `denied` or `revoked`.
    pub status: String,
    /// The calls: named by the request, or (for a query) resolved now for a pending
    /// request and fixed by the grant once approved.
    pub call_ids: Vec<String>,
    /// The query's shape, customer named by kind only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<serde_json::Value>,
    /// Approvals so far.
    pub approvals: Vec<Step>,
    /// How many approvals it needs.
    pub approvals_needed: usize,
    /// The denial or revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Step>,
    /// When it was made.
    pub created_at: String,
    /// The grant, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantView>,
}

/// Explicit call ids from a request body: 1 to [`MAX_CALLS`] valid ids, sorted, deduplicated.
pub(super) fn call_id_list(ids: Vec<String>) -> Result<Vec<String>, VaultError> {
    if ids.is_empty() || ids.len() > MAX_CALLS {
        return Err(VaultError::Invalid(format!(
            "call_ids must name 1 to {MAX_CALLS} calls"
        )));
    }
    let mut ids: Vec<String> = ids
        .into_iter()
        .map(|id| {
            validate_call_id(&id)
                .map(|c| c.as_str().to_string())
                .map_err(|_| VaultError::Invalid("call_ids holds an invalid call id".into()))
        })
        .collect::<Result<_, _>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

pub(super) fn check_text(field: &str, text: &str, required: bool) -> Result<(), VaultError> {
    if required && text.trim().is_empty() {
        return Err(VaultError::Invalid(format!("{field} must not be empty")));
    }
    if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
        return Err(VaultError::Invalid(format!(
            "{field} must be at most {MAX_TEXT} characters without control characters"
        )));
    }
    Ok(())
}

fn check_time(field: &str, t: &Option<String>) -> Result<(), VaultError> {
    if let Some(t) = t {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| VaultError::Invalid(format!("{field} must be an RFC 3339 time")))?;
    }
    Ok(())
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::Masked => "masked",
        Level::Unmasked => "unmasked",
    }
}

fn parse_level(s: &str) -> Level {
    if s == "unmasked" {
        Level::Unmasked
    } else {
        Level::Masked
    }
}

fn approvals_needed(l: Level) -> usize {
    match l {
        Level::Masked => 1,
        Level::Unmasked => 2,
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn corrupt(_: serde_json::Error) -> VaultError {
    VaultError::Catalog(crate::catalog::CatalogError::Corrupt("access request"))
}

fn steps(json: &str) -> Result<Vec<Step>, VaultError> {
    serde_json::from_str(json).map_err(corrupt)
}

impl Vault {
    /// Files an access request.
    pub async fn create_request(
        &self,
        actor: &Principal,
        origin: &str,
        new: NewRequest,
    ) -> Result<RequestView, VaultError> {
        let event = "access.request";
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                Action::RequestAccess,
                Resource::Vault,
                None,
            )
            .await?;
        let rec = match self.validate_request(actor, new) {
            Ok(rec) => rec,
            Err(e) => {
                self.audit_refusal(actor, origin, event, None, e.kind())
                    .await?;
                return Err(e);
            }
        };
        self.catalog.insert_request(&rec).await?;
        let mut entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .object(rec.id.clone())
            .purpose(rec.purpose.clone())
            .policies(decision.policies);
        if let Some(ids) = &rec.call_ids_json {
            let ids: Vec<String> = serde_json::from_str(ids).map_err(corrupt)?;
            for id in ids {
                entry = entry.object(id);
            }
        }
        if rec.level == "unmasked" {
            entry = entry.flag("break-glass");
        }
        self.audit.append(&entry).await?;
        self.view_request(actor, &rec, false).await
    }

    fn validate_request(
        &self,
        actor: &Principal,
        new: NewRequest,
    ) -> Result<RequestRecord, VaultError> {
        check_text("purpose", &new.purpose, true)?;
        let duration_s = new.duration_s.unwrap_or(self.limits.default_grant_s);
        if duration_s <= 0 || duration_s > self.limits.max_grant_s {
            return Err(VaultError::Invalid(format!(
                "duration_s must be between 1 and {}",
                self.limits.max_grant_s
            )));
        }
        let (call_ids_json, query_json) = match (new.call_ids, new.query) {
            (Some(ids), None) => {
                let ids = call_id_list(ids)?;
                (Some(serde_json::to_string(&ids).map_err(corrupt)?), None)
            }
            (None, Some(q)) => (None, Some(self.store_query(q)?)),
            _ => {
                return Err(VaultError::Invalid(
                    "give exactly one of call_ids and query".into(),
                ))
            }
        };
        Ok(RequestRecord {
            id: format!("req-{}", uuid::Uuid::new_v4().simple()),
            requester: actor.name.clone(),
            purpose: new.purpose,
            level: level_str(new.level.unwrap_or(Level::Masked)).into(),
            duration_s,
            call_ids_json,
            query_json,
            status: "pending".into(),
            approvals_json: "[]".into(),
            decision_json: None,
            created_at: now_rfc3339(),
            version: 1,
        })
    }

    pub(super) fn store_query(&self, q: QueryIn) -> Result<String, VaultError> {
        check_time("query.from", &q.from)?;
        check_time("query.to", &q.to)?;
        if let Some(a) = &q.agent_id {
            check_text("query.agent_id", a, true)?;
        }
        let mut stored = StoredQuery {
            agent_id: q.agent_id,
            from: q.from,
            to: q.to,
            ..StoredQuery::default()
        };
        if let Some(c) = &q.customer {
            let (kind, value) = c.canonical()?;
            stored.customer_kind = Some(kind);
            stored.customer_mac = Some(hex::encode(self.blind.mac(kind, &value)));
        }
        if stored == StoredQuery::default() {
            return Err(VaultError::Invalid("query must select something".into()));
        }
        serde_json::to_string(&stored).map_err(corrupt)
    }

    /// The calls a stored query selects now.
    pub(super) async fn resolve_query(&self, query_json: &str) -> Result<Vec<String>, VaultError> {
        let q: StoredQuery = serde_json::from_str(query_json).map_err(corrupt)?;
        let sel = CallSelector {
            agent_id: q.agent_id,
            from: q.from,
            to: q.to,
            customer_mac: q
                .customer_mac
                .map(hex::decode)
                .transpose()
                .map_err(|_| corrupt_q())?,
        };
        Ok(self.catalog.select_calls(&sel, MAX_CALLS as u32).await?)
    }

    /// One request: the requester's own, or any for compliance.
    pub async fn get_request(
        &self,
        actor: &Principal,
        origin: &str,
        id: &str,
    ) -> Result<RequestView, VaultError> {
        let event = "access.read";
        let rec = self.catalog.get_request(id).await?;
        // Listing is decided on the vault; which requests are visible is ownership.
        self.authorize(
            actor,
            origin,
            event,
            Action::ListRequests,
            Resource::Vault,
            Some(id),
        )
        .await?;
        let visible = rec.filter(|r| r.requester == actor.name || is_compliance(actor));
        let Some(rec) = visible else {
            self.audit_refusal(actor, origin, event, Some(id), "not-found")
                .await?;
            return Err(VaultError::NotFound);
        };
        self.view_request(actor, &rec, true).await
    }

    /// Requests the caller may see: its own, or all for compliance.
    pub async fn list_requests(
        &self,
        actor: &Principal,
        origin: &str,
    ) -> Result<Vec<RequestView>, VaultError> {
        let event = "access.list";
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                Action::ListRequests,
                Resource::Vault,
                None,
            )
            .await?;
        let who = (!is_compliance(actor)).then_some(actor.name.as_str());
        let recs = self.catalog.list_requests(who, LIST_LIMIT).await?;
        self.audit
            .append(
                &AuditEntry::new(Some(actor), event, Outcome::Success, origin)
                    .policies(decision.policies),
            )
            .await?;
        let mut out = Vec::with_capacity(recs.len());
        for r in &recs {
            out.push(self.view_request(actor, r, false).await?);
        }
        Ok(out)
    }

    /// Approves (the last needed approval resolves the calls and creates the grant; an
    /// unmasked request needs two), denies a pending request, or revokes a pending or
    /// approved one and its grant.
    pub async fn decide_request(
        &self,
        actor: &Principal,
        origin: &str,
        id: &str,
        reason: Option<String>,
        verdict: Verdict,
    ) -> Result<RequestView, VaultError> {
        let (event, action) = verdict.event_action();
        if let Some(r) = &reason {
            check_text("reason", r, false)?;
        }
        let Some(mut rec) = self.catalog.get_request(id).await? else {
            let facts = RequestFacts {
                id: id.to_string(),
                requester: "-".into(),
                level: Level::Masked,
                approvers: Vec::new(),
                status: "pending".into(),
            };
            self.authorize(
                actor,
                origin,
                event,
                action,
                Resource::Request(&facts),
                Some(id),
            )
            .await?;
            self.audit_refusal(actor, origin, event, Some(id), "not-found")
                .await?;
            return Err(VaultError::NotFound);
        };
        let facts = self.request_facts(&rec)?;
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                action,
                Resource::Request(&facts),
                Some(id),
            )
            .await?;
        let allowed_from: &[&str] = match verdict {
            Verdict::Approve | Verdict::Deny => &["pending"],
            Verdict::Revoke => &["pending", "approved"],
        };
        if !allowed_from.contains(&rec.status.as_str()) {
            self.audit_refusal(actor, origin, event, Some(id), "wrong-state")
                .await?;
            return Err(VaultError::WrongState(
                "the request is not in a state that allows this",
            ));
        }
        let step = Step {
            by: actor.name.clone(),
            at: now_rfc3339(),
            reason,
        };
        let level = parse_level(&rec.level);
        let mut grant = None;
        match verdict {
            Verdict::Approve => {
                let mut approvals = steps(&rec.approvals_json)?;
                approvals.push(step);
                rec.approvals_json = serde_json::to_string(&approvals).map_err(corrupt)?;
                if approvals.len() >= approvals_needed(level) {
                    rec.status = "approved".into();
                    grant = Some(self.make_grant(&rec, &approvals).await?);
                }
            }
            Verdict::Deny => {
                rec.status = "denied".into();
                rec.decision_json = Some(serde_json::to_string(&step).map_err(corrupt)?);
            }
            Verdict::Revoke => {
                rec.status = "revoked".into();
                rec.decision_json = Some(serde_json::to_string(&step).map_err(corrupt)?);
            }
        }
        rec.version += 1;
        if !self.catalog.update_request(&rec, grant.as_ref()).await? {
            self.audit_refusal(actor, origin, event, Some(id), "wrong-state")
                .await?;
            return Err(VaultError::WrongState(
                "the request changed meanwhile; try again",
            ));
        }
        let mut entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .object(id.to_string())
            .purpose(rec.purpose.clone())
            .policies(decision.policies);
        if let Some(g) = &grant {
            entry = entry.grant(g.id.clone());
            let ids: Vec<String> = serde_json::from_str(&g.call_ids_json).map_err(corrupt)?;
            for call in ids {
                entry = entry.object(call);
            }
        } else if verdict == Verdict::Revoke {
            if let Some(g) = self.catalog.grant_of_request(id).await? {
                let ids: Vec<String> = serde_json::from_str(&g.call_ids_json).map_err(corrupt)?;
                entry = entry.grant(g.id);
                for call in ids {
                    entry = entry.object(call);
                }
            }
        }
        if level == Level::Unmasked {
            entry = entry.flag("break-glass");
        }
        self.audit.append(&entry).await?;
        self.view_request(actor, &rec, false).await
    }

    async fn make_grant(
        &self,
        rec: &RequestRecord,
        approvals: &[Step],
    ) -> Result<GrantRecord, VaultError> {
        let call_ids = match (&rec.call_ids_json, &rec.query_json) {
            (Some(ids), _) => ids.clone(),
            (None, Some(q)) => {
                serde_json::to_string(&self.resolve_query(q).await?).map_err(corrupt)?
            }
            (None, None) => return Err(corrupt_q()),
        };
        let now = self.now();
        let approvers: Vec<&str> = approvals.iter().map(|s| s.by.as_str()).collect();
        Ok(GrantRecord {
            id: format!("grant-{}", uuid::Uuid::new_v4().simple()),
            request_id: rec.id.clone(),
            requester: rec.requester.clone(),
            approvers_json: serde_json::to_string(&approvers).map_err(corrupt)?,
            purpose: rec.purpose.clone(),
            level: rec.level.clone(),
            call_ids_json: call_ids,
            from_query: rec.query_json.is_some(),
            not_before: now,
            not_after: now.saturating_add(rec.duration_s),
            revoked: false,
        })
    }

    fn request_facts(&self, r: &RequestRecord) -> Result<RequestFacts, VaultError> {
        Ok(RequestFacts {
            id: r.id.clone(),
            requester: r.requester.clone(),
            level: parse_level(&r.level),
            approvers: steps(&r.approvals_json)?
                .into_iter()
                .map(|s| s.by)
                .collect(),
            status: r.status.clone(),
        })
    }

    async fn view_request(
        &self,
        actor: &Principal,
        r: &RequestRecord,
        preview: bool,
    ) -> Result<RequestView, VaultError> {
        let level = parse_level(&r.level);
        let grant = match r.status.as_str() {
            "approved" | "revoked" => self.catalog.grant_of_request(&r.id).await?,
            _ => None,
        };
        let call_ids: Vec<String> = match (&grant, &r.call_ids_json, &r.query_json) {
            (Some(g), _, _) => serde_json::from_str(&g.call_ids_json).map_err(corrupt)?,
            (None, Some(ids), _) => serde_json::from_str(ids).map_err(corrupt)?,
            // The approver sees what approving would grant now.
            (None, None, Some(q)) if preview && is_compliance(actor) && r.status == "pending" => {
                self.resolve_query(q).await?
            }
            _ => Vec::new(),
        };
        let query = match &r.query_json {
            Some(q) => {
                let q: StoredQuery = serde_json::from_str(q).map_err(corrupt)?;
                Some(serde_json::json!({
                    "agent_id": q.agent_id,
                    "from": q.from,
                    "to": q.to,
                    "customer": q.customer_kind.map(IdentifierKind::as_str),
                }))
            }
            None => None,
        };
        let grant = match grant {
            Some(g) => Some(GrantView {
                id: g.id,
                level: parse_level(&g.level),
                call_ids: serde_json::from_str(&g.call_ids_json).map_err(corrupt)?,
                not_before: rfc3339(g.not_before),
                not_after: rfc3339(g.not_after),
                approvers: serde_json::from_str(&g.approvers_json).map_err(corrupt)?,
                revoked: g.revoked,
            }),
            None => None,
        };
        Ok(RequestView {
            id: r.id.clone(),
            requester: r.requester.clone(),
            purpose: r.purpose.clone(),
            level,
            duration_s: r.duration_s,
            status: r.status.clone(),
            call_ids,
            query,
            approvals: steps(&r.approvals_json)?,
            approvals_needed: approvals_needed(level),
            decision: r
                .decision_json
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
            created_at: r.created_at.clone(),
            grant,
        })
    }

    /// Finds a customer's calls through the blind index; audited without the value.
    pub async fn search_customer(
        &self,
        actor: &Principal,
        origin: &str,
        customer: &CustomerIn,
    ) -> Result<Vec<String>, VaultError> {
        let event = "call.search";
        let decision = self
            .authorize(
                actor,
                origin,
                event,
                Action::SearchCustomers,
                Resource::Vault,
                None,
            )
            .await?;
        let (kind, value) = match customer.canonical() {
            Ok(v) => v,
            Err(e) => {
                self.audit_refusal(actor, origin, event, None, e.kind())
                    .await?;
                return Err(e);
            }
        };
        let sel = CallSelector {
            customer_mac: Some(self.blind.mac(kind, &value).to_vec()),
            ..CallSelector::default()
        };
        let ids = self.catalog.select_calls(&sel, MAX_CALLS as u32).await?;
        let mut entry = AuditEntry::new(Some(actor), event, Outcome::Success, origin)
            .policies(decision.policies)
            .flag(format!("by-{}", kind.as_str()));
        if let Some(g) = decision.grant {
            entry = entry.grant(g);
        }
        for id in &ids {
            entry = entry.object(id.clone());
        }
        self.audit.append(&entry).await?;
        Ok(ids)
    }
}

fn corrupt_q() -> VaultError {
    VaultError::Catalog(crate::catalog::CatalogError::Corrupt(
        "access request query",
    ))
}

fn is_compliance(p: &Principal) -> bool {
    p.has(crate::access::Role::Compliance)
}

/// What [`Vault::decide_request`] does to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Approve (compliance, not the requester, second factor).
    Approve,
    /// Deny a pending request (compliance, not the requester).
    Deny,
    /// Revoke a pending or approved request (compliance or the requester).
    Revoke,
}

impl Verdict {
    fn event_action(self) -> (&'static str, Action) {
        match self {
            Verdict::Approve => ("access.approve", Action::ApproveRequest),
            Verdict::Deny => ("access.deny", Action::DenyRequest),
            Verdict::Revoke => ("access.revoke", Action::RevokeRequest),
        }
    }
}
