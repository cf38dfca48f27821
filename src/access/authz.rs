//! Authorization: one Cedar decision per request, over the schema and policies in
//! `policies/access/`, with grants passed in as entities (data), never as policies.
//!
//! [`Authorizer::decide`] fails closed: an entity that does not fit the schema, or any
//! policy whose evaluation errors, turns the answer into a deny with `errors = true`.
//! (Cedar skips an erroring policy, so an erroring `forbid` would otherwise vanish.)

mod entities;
mod load;
#[cfg(test)]
mod tests;
mod types;

use std::path::Path;

use cedar_policy::{PolicySet, Schema};

pub use types::{Action, AuthzRequest, GrantFacts, Level, RequestFacts, Resource, Subject};

/// The answer, with what the audit entry records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the action is allowed.
    pub allowed: bool,
    /// The `@id`s of the deciding policies, sorted: the permits for an allow, the forbids
    /// for a forbidden deny, nothing for a default deny, and the erroring policies when
    /// `errors` is set.
    pub policies: Vec<String>,
    /// Whether evaluation (or building the request) failed; then `allowed` is false.
    pub errors: bool,
    /// The id of the grant in the context of an allow, if any.
    pub grant: Option<String>,
}

impl Decision {
    fn failed() -> Self {
        Decision {
            allowed: false,
            policies: Vec::new(),
            errors: true,
            grant: None,
        }
    }
}

/// Why the schema or the policies could not be loaded. Locations name the file (and the
/// line, when Cedar reports one).
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// A file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The schema does not parse.
    #[error("{location}: invalid Cedar schema: {message}")]
    Schema {
        /// `file` or `file:line`.
        location: String,
        /// Cedar's message.
        message: String,
    },
    /// A policy file does not parse.
    #[error("{location}: invalid Cedar policy: {message}")]
    Parse {
        /// `file` or `file:line`.
        location: String,
        /// Cedar's message.
        message: String,
    },
    /// A policy file holds a template; callvault uses none.
    #[error("{file}: policy templates are not allowed")]
    Template {
        /// The file.
        file: String,
    },
    /// A policy has no `@id("...")` annotation.
    #[error("{location}: policy without @id")]
    MissingId {
        /// `file` or `file:line`.
        location: String,
    },
    /// Two policies share an `@id`.
    #[error("{location}: duplicate policy @id {id:?}")]
    DuplicateId {
        /// Where the second one is.
        location: String,
        /// The id.
        id: String,
    },
    /// A policy does not validate against the schema (strict mode); warnings count too.
    #[error("{location}: policy {id:?} does not validate: {message}")]
    Invalid {
        /// `file` or `file:line`.
        location: String,
        /// The policy id.
        id: String,
        /// Cedar's message.
        message: String,
    },
    /// The directory holds no policy file.
    #[error("{dir}: no .cedar policy files")]
    NoPolicies {
        /// The directory.
        dir: String,
    },
}

/// The loaded, validated schema and policies, and the entity names used to build requests.
pub struct Authorizer {
    schema: Schema,
    policies: PolicySet,
    /// For each action (indexed like `Action::ALL`), the policies whose scope can match it.
    slices: Vec<PolicySet>,
    engine: cedar_policy::Authorizer,
    uids: entities::Uids,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("policies", &self.policies.policies().count())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// The schema and policies compiled into the binary from `policies/access/`.
    ///
    /// # Errors
    /// Any parse or validation error (a test guarantees the shipped files load).
    pub fn builtin() -> Result<Self, AuthzError> {
        let (schema, files) = load::builtin_sources();
        Self::from_sources(schema, &files)
    }

    /// The schema (`callvault.cedarschema`) and every `*.cedar` file in `dir`.
    ///
    /// # Errors
    /// Unreadable files, an empty directory, parse errors, missing or duplicate `@id`s,
    /// and any strict-mode validation error or warning.
    pub fn load_dir(dir: &Path) -> Result<Self, AuthzError> {
        let (schema, files) = load::read_dir(dir)?;
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Self::from_sources(&schema, &files)
    }

    fn from_sources(schema: &str, files: &[(&str, &str)]) -> Result<Self, AuthzError> {
        let schema = load::parse_schema(schema)?;
        let policies = load::parse_policies(files)?;
        load::validate(&schema, &policies, files)?;
        Self::assemble(schema, policies)
    }

    fn assemble(schema: Schema, policies: PolicySet) -> Result<Self, AuthzError> {
        Ok(Authorizer {
            slices: load::slice_by_action(&schema, &policies)?,
            schema,
            policies,
            engine: cedar_policy::Authorizer::new(),
            uids: entities::Uids::new(),
        })
    }

    /// The `@id`s of all loaded policies, sorted.
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .policies
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// Decides one request. Never panics; fails closed on any error.
    pub fn decide(&self, req: &AuthzRequest<'_>) -> Decision {
        let Ok((request, store)) = entities::build(&self.uids, &self.schema, req) else {
            return Decision::failed();
        };
        let slice = &self.slices[req.action.index()];
        let response = self.engine.is_authorized(&request, slice, &store);
        let diagnostics = response.diagnostics();
        let mut failed: Vec<String> = diagnostics
            .errors()
            .map(
                |cedar_policy::AuthorizationError::PolicyEvaluationError(e)| {
                    e.policy_id().to_string()
                },
            )
            .collect();
        if !failed.is_empty() {
            failed.sort();
            return Decision {
                policies: failed,
                ..Decision::failed()
            };
        }
        let mut policies: Vec<String> = diagnostics.reason().map(|id| id.to_string()).collect();
        policies.sort();
        let allowed = response.decision() == cedar_policy::Decision::Allow;
        Decision {
            allowed,
            policies,
            errors: false,
            grant: req.grant.filter(|_| allowed).map(|g| g.id.clone()),
        }
    }

    /// Decides `req` first as given, then through each of `grants` that belongs to the
    /// subject (and, for a call, covers it), masked grants first; returns the first allow.
    ///
    /// When nothing allows, returns the first erroring decision, else the first forbidden
    /// one, else the plain one, so the audit entry names what refused.
    pub fn decide_with_grants(&self, req: &AuthzRequest<'_>, grants: &[GrantFacts]) -> Decision {
        let plain = self.decide(req);
        if plain.allowed {
            return plain;
        }
        let mut candidates: Vec<&GrantFacts> = grants
            .iter()
            .filter(|g| g.requester == req.subject.name && covers(g, &req.resource))
            .collect();
        candidates.sort_by_key(|g| g.level);
        let mut refusals = vec![plain];
        for grant in candidates {
            let d = self.decide(&AuthzRequest {
                grant: Some(grant),
                ..*req
            });
            if d.allowed {
                return d;
            }
            refusals.push(d);
        }
        pick_refusal(refusals)
    }
}

fn covers(grant: &GrantFacts, resource: &Resource<'_>) -> bool {
    match resource {
        Resource::Call { id, .. } => grant.call_ids.iter().any(|c| c == id),
        _ => true,
    }
}

fn pick_refusal(mut refusals: Vec<Decision>) -> Decision {
    let pos = refusals
        .iter()
        .position(|d| d.errors)
        .or_else(|| refusals.iter().position(|d| !d.policies.is_empty()))
        .unwrap_or(0);
    refusals.swap_remove(pos)
}
