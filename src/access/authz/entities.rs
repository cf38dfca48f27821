//! Builds the Cedar request and the few entities one decision needs: the principal, the
//! resource, and the grant in the context. Everything is checked against the schema.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
    Schema,
};

use super::{Action, AuthzRequest, GrantFacts, Level, RequestFacts, Resource};
use crate::access::Role;

/// Building a request failed; the decision is a deny with errors.
#[derive(Debug)]
pub(super) struct BuildFailed;

impl<E: std::error::Error> From<E> for BuildFailed {
    fn from(_: E) -> Self {
        BuildFailed
    }
}

/// Entity type names and fixed uids, made once per [`super::Authorizer`].
pub(super) struct Uids {
    user: EntityTypeName,
    call: EntityTypeName,
    grant: EntityTypeName,
    request: EntityTypeName,
    export: EntityTypeName,
    level: EntityTypeName,
    grant_status: EntityTypeName,
    request_status: EntityTypeName,
    actions: Vec<EntityUid>,
    roles: Vec<EntityUid>,
    vault: EntityUid,
    audit_log: EntityUid,
    principals: EntityUid,
    keys: EntityUid,
}

fn type_name(name: &str) -> EntityTypeName {
    // The names are constants of this module; a typo fails every test.
    EntityTypeName::from_str(name).expect("valid entity type name")
}

fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
}

impl Uids {
    pub(super) fn new() -> Self {
        let action = type_name("Action");
        let role = type_name("Role");
        Uids {
            user: type_name("User"),
            call: type_name("Call"),
            grant: type_name("Grant"),
            request: type_name("Request"),
            export: type_name("Export"),
            level: type_name("Level"),
            grant_status: type_name("GrantStatus"),
            request_status: type_name("RequestStatus"),
            actions: Action::ALL
                .iter()
                .map(|a| uid(&action, a.as_str()))
                .collect(),
            roles: Role::ALL.iter().map(|r| uid(&role, r.as_str())).collect(),
            vault: uid(&type_name("Vault"), "vault"),
            audit_log: uid(&type_name("AuditLog"), "audit_log"),
            principals: uid(&type_name("Principals"), "principals"),
            keys: uid(&type_name("Keys"), "keys"),
        }
    }

    fn user(&self, name: &str) -> EntityUid {
        uid(&self.user, name)
    }

    fn role(&self, role: Role) -> EntityUid {
        let i = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
        self.roles[i].clone()
    }

    fn level(&self, level: Level) -> RestrictedExpression {
        RestrictedExpression::new_entity_uid(uid(&self.level, level.as_str()))
    }

    fn user_expr(&self, name: &str) -> RestrictedExpression {
        RestrictedExpression::new_entity_uid(self.user(name))
    }

    fn users(&self, names: &[String]) -> RestrictedExpression {
        RestrictedExpression::new_set(names.iter().map(|n| self.user_expr(n)))
    }
}

/// The Cedar request and entity store for `req`, both validated against `schema`.
pub(super) fn build(
    uids: &Uids,
    schema: &Schema,
    req: &AuthzRequest<'_>,
) -> Result<(Request, Entities), BuildFailed> {
    let grant_uid = req.grant.map(|g| uid(&uids.grant, &g.id));
    let mut store = Vec::with_capacity(3);
    store.push(principal(uids, req)?);
    let resource = resource(uids, req, grant_uid.as_ref(), &mut store)?;
    if let (Some(g), Some(g_uid)) = (req.grant, &grant_uid) {
        store.push(grant(uids, g, g_uid.clone())?);
    }
    let mut context = vec![
        ("now".to_owned(), RestrictedExpression::new_long(req.now)),
        (
            "second_factor".to_owned(),
            RestrictedExpression::new_bool(req.subject.second_factor),
        ),
    ];
    if let Some(g_uid) = grant_uid {
        context.push((
            "grant".to_owned(),
            RestrictedExpression::new_entity_uid(g_uid),
        ));
    }
    let request = Request::new(
        uids.user(req.subject.name),
        uids.actions[req.action.index()].clone(),
        resource,
        Context::from_pairs(context)?,
        Some(schema),
    )?;
    let store = Entities::from_entities(store, Some(schema))?;
    Ok((request, store))
}

fn principal(uids: &Uids, req: &AuthzRequest<'_>) -> Result<Entity, BuildFailed> {
    let s = &req.subject;
    let agents = s
        .agents
        .iter()
        .map(|a| RestrictedExpression::new_string(a.clone()));
    let attrs = HashMap::from([("agents".to_owned(), RestrictedExpression::new_set(agents))]);
    let parents: HashSet<EntityUid> = s.roles.iter().map(|r| uids.role(*r)).collect();
    Ok(Entity::new(uids.user(s.name), attrs, parents)?)
}

/// The resource's uid; pushes its entity onto `store` when it has attributes.
fn resource(
    uids: &Uids,
    req: &AuthzRequest<'_>,
    grant_uid: Option<&EntityUid>,
    store: &mut Vec<Entity>,
) -> Result<EntityUid, BuildFailed> {
    Ok(match req.resource {
        Resource::Vault => uids.vault.clone(),
        Resource::AuditLog => uids.audit_log.clone(),
        Resource::Principals => uids.principals.clone(),
        Resource::Keys => uids.keys.clone(),
        Resource::Call { id, agent_id } => {
            let me = uid(&uids.call, id);
            // Membership in the grant is the grant's call set, as hierarchy data.
            let parents: HashSet<EntityUid> = match (req.grant, grant_uid) {
                (Some(g), Some(g_uid)) if g.call_ids.iter().any(|c| c == id) => {
                    HashSet::from([g_uid.clone()])
                }
                _ => HashSet::new(),
            };
            let attrs = HashMap::from([(
                "agent_id".to_owned(),
                RestrictedExpression::new_string(agent_id.to_owned()),
            )]);
            store.push(Entity::new(me.clone(), attrs, parents)?);
            me
        }
        Resource::Request(r) => {
            let me = uid(&uids.request, &r.id);
            store.push(request_entity(uids, r, me.clone())?);
            me
        }
        Resource::Export {
            id,
            recipient,
            requester,
        } => {
            let me = uid(&uids.export, id);
            let attrs = HashMap::from([
                ("recipient".to_owned(), uids.user_expr(recipient)),
                ("requester".to_owned(), uids.user_expr(requester)),
            ]);
            store.push(Entity::new(me.clone(), attrs, HashSet::new())?);
            me
        }
    })
}

fn request_entity(uids: &Uids, r: &RequestFacts, me: EntityUid) -> Result<Entity, BuildFailed> {
    let status = uid(&uids.request_status, &r.status);
    let attrs = HashMap::from([
        ("requester".to_owned(), uids.user_expr(&r.requester)),
        ("level".to_owned(), uids.level(r.level)),
        ("approvers".to_owned(), uids.users(&r.approvers)),
        (
            "status".to_owned(),
            RestrictedExpression::new_entity_uid(status),
        ),
    ]);
    Ok(Entity::new(me, attrs, HashSet::new())?)
}

fn grant(uids: &Uids, g: &GrantFacts, me: EntityUid) -> Result<Entity, BuildFailed> {
    let status = uid(&uids.grant_status, &g.status);
    let mut attrs = HashMap::from([
        ("requester".to_owned(), uids.user_expr(&g.requester)),
        (
            "status".to_owned(),
            RestrictedExpression::new_entity_uid(status),
        ),
        (
            "purpose".to_owned(),
            RestrictedExpression::new_string(g.purpose.clone()),
        ),
        ("level".to_owned(), uids.level(g.level)),
        (
            "from_query".to_owned(),
            RestrictedExpression::new_bool(g.from_query),
        ),
        (
            "not_before".to_owned(),
            RestrictedExpression::new_long(g.not_before),
        ),
        (
            "not_after".to_owned(),
            RestrictedExpression::new_long(g.not_after),
        ),
    ]);
    // Only the first two approvers are named; Cedar itself checks that they differ.
    for (key, name) in ["first_approver", "second_approver"]
        .into_iter()
        .zip(&g.approvers)
    {
        attrs.insert(key.to_owned(), uids.user_expr(name));
    }
    Ok(Entity::new(me, attrs, HashSet::new())?)
}
