//! Access requests, grants and the customer blind index.
//!
//! A request moves `pending → approved | denied | revoked`; an approved request has one
//! grant. State changes are compare-and-swap on the request's `version`, so two approvers
//! racing (possibly in two server instances) cannot both win. The blind index maps a keyed
//! MAC of a customer identifier to call ids; the identifier itself is never stored.

use async_trait::async_trait;

use super::CatalogError;

/// An access request as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    /// Request id (`req-…`).
    pub id: String,
    /// Who asked.
    pub requester: String,
    /// The stated purpose.
    pub purpose: String,
    /// `masked` or `unmasked`.
    pub level: String,
    /// Requested grant duration, seconds.
    pub duration_s: i64,
    /// Explicit call ids, as a JSON array text; `None` when selected by a query.
    pub call_ids_json: Option<String>,
    /// The query, as JSON text, customer values replaced by their blind-index MACs.
    pub query_json: Option<String>,
    /// `pending`, `approved`, `denied` or `revoked`.
    pub status: String,
    /// Approvals so far: JSON array of `{"by", "at", "reason"}`.
    pub approvals_json: String,
    /// The denial or revocation: JSON `{"by", "at", "reason"}`.
    pub decision_json: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Bumped by every change; the compare-and-swap token.
    pub version: i64,
}

/// A grant: what an approved request allows, for a limited time.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRecord {
    /// Grant id (`grant-…`).
    pub id: String,
    /// The request it came from.
    pub request_id: String,
    /// Who may use it.
    pub requester: String,
    /// Who approved, as a JSON array of names.
    pub approvers_json: String,
    /// The stated purpose.
    pub purpose: String,
    /// `masked` or `unmasked`.
    pub level: String,
    /// The concrete calls, as a JSON array text.
    pub call_ids_json: String,
    /// Whether the calls were selected by a query (allows customer search meanwhile).
    pub from_query: bool,
    /// Valid from (unix seconds).
    pub not_before: i64,
    /// Valid until (unix seconds, exclusive).
    pub not_after: i64,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Which calls a query selects (customer values already turned into MACs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallSelector {
    /// Only this agent's calls.
    pub agent_id: Option<String>,
    /// Calls started at or after (RFC 3339 text, compared as text).
    pub from: Option<String>,
    /// Calls started before.
    pub to: Option<String>,
    /// Only calls whose blind index holds this MAC.
    pub customer_mac: Option<Vec<u8>>,
}

/// Storage of access requests, grants and the blind index.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Stores a new request. [`CatalogError::Conflict`] if the id exists.
    async fn insert_request(&self, r: &RequestRecord) -> Result<(), CatalogError>;

    /// The request with this id.
    async fn get_request(&self, id: &str) -> Result<Option<RequestRecord>, CatalogError>;

    /// Requests, newest first; only `requester`'s when given.
    async fn list_requests(
        &self,
        requester: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RequestRecord>, CatalogError>;

    /// Replaces the request if its stored version is `r.version - 1`, and stores `grant`
    /// (if any) in the same transaction; revokes the request's grant when `r.status` is
    /// `revoked`. False if someone else changed the request first.
    async fn update_request(
        &self,
        r: &RequestRecord,
        grant: Option<&GrantRecord>,
    ) -> Result<bool, CatalogError>;

    /// The grant made from request `request_id`, if any.
    async fn grant_of_request(&self, request_id: &str)
        -> Result<Option<GrantRecord>, CatalogError>;

    /// `requester`'s grants that are not revoked and end after `now` (unix seconds).
    async fn live_grants(
        &self,
        requester: &str,
        now: i64,
    ) -> Result<Vec<GrantRecord>, CatalogError>;

    /// Adds blind-index entries for a call (existing ones are kept).
    async fn index_customer(&self, call_id: &str, macs: &[Vec<u8>]) -> Result<(), CatalogError>;

    /// Call ids matching `sel`, ordered by id, at most `limit`.
    async fn select_calls(
        &self,
        sel: &CallSelector,
        limit: u32,
    ) -> Result<Vec<String>, CatalogError>;
}
