//! Table-driven tests: every role × every action, with and without a grant, plus the guard
//! rails, grant expiry on an injected clock, and failing closed on evaluation errors.

use std::collections::HashSet;

use super::*;
use crate::access::clock::{Clock, ManualClock};
use crate::access::Role;

const NOW: i64 = 1_700_000_000;
const ME: &str = "me";
const MY_AGENT: &str = "agent-1";
const OTHER_AGENT: &str = "agent-9";
const OTHER: &str = "someone-else";

/// What a row expects: allowed by a named permit, refused by a named forbid, or refused
/// by default (no policy named).
#[derive(Clone, Copy, Debug)]
enum Want {
    Allow(&'static str),
    Forbid(&'static str),
    Deny,
}
use Want::{Allow, Deny, Forbid};

fn authz() -> Authorizer {
    Authorizer::builtin().expect("built-in policies load")
}

fn agents() -> Vec<String> {
    vec![MY_AGENT.to_owned()]
}

/// A usable masked query grant of `ME` covering `call-1`, approved by two others.
fn grant() -> GrantFacts {
    GrantFacts {
        id: "g-1".into(),
        requester: ME.into(),
        approvers: vec!["c-1".into(), "c-2".into()],
        status: "active".into(),
        purpose: "complaint 42".into(),
        level: Level::Masked,
        call_ids: vec!["call-1".into(), "call-2".into()],
        from_query: true,
        not_before: NOW - 100,
        not_after: NOW + 100,
    }
}

fn pending_request(requester: &str) -> RequestFacts {
    RequestFacts {
        id: "r-1".into(),
        requester: requester.into(),
        level: Level::Masked,
        approvers: vec![],
        status: "pending".into(),
    }
}

/// The representative resource for each action.
fn resource_for(action: Action, request: &RequestFacts) -> Resource<'_> {
    use Action::*;
    match action {
        Ingest | ListCalls | SearchCustomers | RequestAccess | ListRequests | CreateExport => {
            Resource::Vault
        }
        ReadMetadata | ReadTranscript | ReadAudio | PlaceHold => Resource::Call {
            id: "call-1",
            agent_id: OTHER_AGENT,
        },
        ApproveRequest | DenyRequest | RevokeRequest => Resource::Request(request),
        ReadAudit => Resource::AuditLog,
        ManagePrincipals => Resource::Principals,
        ManageKeys => Resource::Keys,
        ApproveExport | DownloadExport => Resource::Export {
            id: "e-1",
            recipient: ME,
            requester: OTHER,
        },
    }
}

fn decide(
    a: &Authorizer,
    roles: &[Role],
    action: Action,
    resource: Resource<'_>,
    grant: Option<&GrantFacts>,
    second_factor: bool,
) -> Decision {
    let agents = agents();
    a.decide(&AuthzRequest {
        subject: Subject {
            name: ME,
            roles,
            agents: &agents,
            second_factor,
        },
        action,
        resource,
        grant,
        now: NOW,
    })
}

/// The decision over the whole policy set, not the action's slice.
fn decide_unsliced(a: &Authorizer, req: &AuthzRequest<'_>) -> (bool, Vec<String>) {
    let (request, store) = entities::build(&a.uids, &a.schema, req).expect("builds");
    let response = a.engine.is_authorized(&request, &a.policies, &store);
    assert_eq!(response.diagnostics().errors().count(), 0);
    let mut ids: Vec<String> = response
        .diagnostics()
        .reason()
        .map(|p| p.to_string())
        .collect();
    ids.sort();
    (response.decision() == cedar_policy::Decision::Allow, ids)
}

fn check(d: &Decision, want: Want, what: &str) {
    assert!(!d.errors, "{what}: unexpected evaluation error: {d:?}");
    match want {
        Allow(id) => assert!(
            d.allowed && d.policies.iter().any(|p| p == id),
            "{what}: want allow by {id}, got {d:?}"
        ),
        Forbid(id) => assert!(
            !d.allowed && d.policies.iter().any(|p| p == id),
            "{what}: want forbid by {id}, got {d:?}"
        ),
        Deny => assert!(
            !d.allowed && d.policies.is_empty(),
            "{what}: want default deny, got {d:?}"
        ),
    }
}

use Action as A;
use Role as R;

const FR: Want = Forbid("forbid-recorder-reads");
const FA: Want = Forbid("forbid-admin-reads-content");
const GR: Want = Allow("reads-through-grant");
const LC: Want = Allow("list-calls");
const RQ: Want = Allow("request-access");
const AR: Want = Allow("audit-readers");
const DR: Want = Allow("compliance-decides-requests");

/// Role, action, expectation without a grant, expectation with the usable grant.
#[rustfmt::skip]
const TABLE: &[(Role, Action, Want, Want)] = &[
    (R::Recorder, A::Ingest, Allow("ingest"), Allow("ingest")),
    (R::Recorder, A::ListCalls, FR, FR),
    (R::Recorder, A::ReadMetadata, FR, FR),
    (R::Recorder, A::ReadTranscript, FR, FR),
    (R::Recorder, A::ReadAudio, FR, FR),
    (R::Recorder, A::SearchCustomers, FR, FR),
    (R::Recorder, A::RequestAccess, FR, FR),
    (R::Recorder, A::ListRequests, FR, FR),
    (R::Recorder, A::ApproveRequest, Deny, Deny),
    (R::Recorder, A::DenyRequest, Deny, Deny),
    (R::Recorder, A::RevokeRequest, Deny, Deny),
    (R::Recorder, A::ReadAudit, FR, FR),
    (R::Recorder, A::ManagePrincipals, Deny, Deny),
    (R::Recorder, A::ManageKeys, Deny, Deny),
    (R::Recorder, A::PlaceHold, Deny, Deny),
    (R::Recorder, A::CreateExport, FR, FR),
    (R::Recorder, A::ApproveExport, FR, FR),
    (R::Recorder, A::DownloadExport, FR, FR),
    (R::QaReviewer, A::Ingest, Deny, Deny),
    (R::QaReviewer, A::ListCalls, LC, LC),
    (R::QaReviewer, A::ReadMetadata, Deny, GR),
    (R::QaReviewer, A::ReadTranscript, Deny, GR),
    (R::QaReviewer, A::ReadAudio, Deny, GR),
    (R::QaReviewer, A::SearchCustomers, Deny, Allow("search-through-query-grant")),
    (R::QaReviewer, A::RequestAccess, RQ, RQ),
    (R::QaReviewer, A::ListRequests, RQ, RQ),
    (R::QaReviewer, A::ApproveRequest, Deny, Deny),
    (R::QaReviewer, A::DenyRequest, Deny, Deny),
    (R::QaReviewer, A::RevokeRequest, Deny, Deny),
    (R::QaReviewer, A::ReadAudit, Deny, Deny),
    (R::QaReviewer, A::ManagePrincipals, Deny, Deny),
    (R::QaReviewer, A::ManageKeys, Deny, Deny),
    (R::QaReviewer, A::PlaceHold, Deny, Deny),
    (R::QaReviewer, A::CreateExport, Deny, Deny),
    (R::QaReviewer, A::ApproveExport, Deny, Deny),
    (R::QaReviewer, A::DownloadExport, Deny, Deny),
    (R::Auditor, A::Ingest, Deny, Deny),
    (R::Auditor, A::ListCalls, LC, LC),
    (R::Auditor, A::ReadMetadata, Deny, GR),
    (R::Auditor, A::ReadTranscript, Deny, GR),
    (R::Auditor, A::ReadAudio, Deny, GR),
    (R::Auditor, A::SearchCustomers, Deny, Allow("search-through-query-grant")),
    (R::Auditor, A::RequestAccess, RQ, RQ),
    (R::Auditor, A::ListRequests, RQ, RQ),
    (R::Auditor, A::ApproveRequest, Deny, Deny),
    (R::Auditor, A::DenyRequest, Deny, Deny),
    (R::Auditor, A::RevokeRequest, Deny, Deny),
    (R::Auditor, A::ReadAudit, AR, AR),
    (R::Auditor, A::ManagePrincipals, Deny, Deny),
    (R::Auditor, A::ManageKeys, Deny, Deny),
    (R::Auditor, A::PlaceHold, Deny, Deny),
    (R::Auditor, A::CreateExport, Deny, Deny),
    (R::Auditor, A::ApproveExport, Deny, Deny),
    (R::Auditor, A::DownloadExport, Deny, Deny),
    (R::Compliance, A::Ingest, Deny, Deny),
    (R::Compliance, A::ListCalls, LC, LC),
    (R::Compliance, A::ReadMetadata, Deny, GR),
    (R::Compliance, A::ReadTranscript, Deny, GR),
    (R::Compliance, A::ReadAudio, Deny, GR),
    (R::Compliance, A::SearchCustomers, Allow("compliance-searches-customers"), Allow("compliance-searches-customers")),
    (R::Compliance, A::RequestAccess, RQ, RQ),
    (R::Compliance, A::ListRequests, RQ, RQ),
    (R::Compliance, A::ApproveRequest, DR, DR),
    (R::Compliance, A::DenyRequest, DR, DR),
    (R::Compliance, A::RevokeRequest, Allow("compliance-revokes-requests"), Allow("compliance-revokes-requests")),
    (R::Compliance, A::ReadAudit, AR, AR),
    (R::Compliance, A::ManagePrincipals, Deny, Deny),
    (R::Compliance, A::ManageKeys, Deny, Deny),
    (R::Compliance, A::PlaceHold, Allow("compliance-places-holds"), Allow("compliance-places-holds")),
    (R::Compliance, A::CreateExport, Allow("compliance-creates-exports"), Allow("compliance-creates-exports")),
    (R::Compliance, A::ApproveExport, Allow("compliance-approves-exports"), Allow("compliance-approves-exports")),
    (R::Compliance, A::DownloadExport, Allow("compliance-downloads-exports"), Allow("compliance-downloads-exports")),
    (R::Regulator, A::Ingest, Deny, Deny),
    (R::Regulator, A::ListCalls, Deny, Deny),
    (R::Regulator, A::ReadMetadata, Deny, Deny),
    (R::Regulator, A::ReadTranscript, Deny, Deny),
    (R::Regulator, A::ReadAudio, Deny, Deny),
    (R::Regulator, A::SearchCustomers, Deny, Deny),
    (R::Regulator, A::RequestAccess, Deny, Deny),
    (R::Regulator, A::ListRequests, Deny, Deny),
    (R::Regulator, A::ApproveRequest, Deny, Deny),
    (R::Regulator, A::DenyRequest, Deny, Deny),
    (R::Regulator, A::RevokeRequest, Deny, Deny),
    (R::Regulator, A::ReadAudit, Deny, Deny),
    (R::Regulator, A::ManagePrincipals, Deny, Deny),
    (R::Regulator, A::ManageKeys, Deny, Deny),
    (R::Regulator, A::PlaceHold, Deny, Deny),
    (R::Regulator, A::CreateExport, Deny, Deny),
    (R::Regulator, A::ApproveExport, Deny, Deny),
    (R::Regulator, A::DownloadExport, Allow("regulator-downloads-own-exports"), Allow("regulator-downloads-own-exports")),
    (R::Admin, A::Ingest, Allow("ingest"), Allow("ingest")),
    (R::Admin, A::ListCalls, LC, LC),
    (R::Admin, A::ReadMetadata, FA, FA),
    (R::Admin, A::ReadTranscript, FA, FA),
    (R::Admin, A::ReadAudio, FA, FA),
    (R::Admin, A::SearchCustomers, FA, FA),
    (R::Admin, A::RequestAccess, Deny, Deny),
    (R::Admin, A::ListRequests, Deny, Deny),
    (R::Admin, A::ApproveRequest, Deny, Deny),
    (R::Admin, A::DenyRequest, Deny, Deny),
    (R::Admin, A::RevokeRequest, Deny, Deny),
    (R::Admin, A::ReadAudit, Deny, Deny),
    (R::Admin, A::ManagePrincipals, Allow("admin-manages-principals"), Allow("admin-manages-principals")),
    (R::Admin, A::ManageKeys, Allow("admin-manages-keys"), Allow("admin-manages-keys")),
    (R::Admin, A::PlaceHold, Deny, Deny),
    (R::Admin, A::CreateExport, FA, FA),
    (R::Admin, A::ApproveExport, FA, FA),
    (R::Admin, A::DownloadExport, FA, FA),
];

#[test]
fn the_table_covers_every_role_and_action_exactly_once() {
    let mut seen = HashSet::new();
    for (role, action, _, _) in TABLE {
        assert!(
            seen.insert((*role, *action)),
            "duplicate row {role:?} {action:?}"
        );
    }
    for role in Role::ALL {
        for action in Action::ALL {
            assert!(
                seen.contains(&(role, action)),
                "missing row {role:?} {action:?}"
            );
        }
    }
}

#[test]
fn every_role_and_action_decides_as_the_table_says() {
    let a = authz();
    let g = grant();
    let request = pending_request("someone-else");
    for (role, action, plain, with_grant) in TABLE {
        let resource = resource_for(*action, &request);
        let what = format!("{role:?} {action:?}");
        let d = decide(&a, &[*role], *action, resource, None, true);
        check(&d, *plain, &format!("{what} without grant"));
        let d = decide(&a, &[*role], *action, resource, Some(&g), true);
        check(&d, *with_grant, &format!("{what} with grant"));
    }
}

#[test]
fn slicing_by_action_changes_no_decision() {
    let a = authz();
    let g = grant();
    let agents = agents();
    let request = pending_request("someone-else");
    for (role, action, _, _) in TABLE {
        for grant in [None, Some(&g)] {
            let req = AuthzRequest {
                subject: Subject {
                    name: ME,
                    roles: &[*role],
                    agents: &agents,
                    second_factor: true,
                },
                action: *action,
                resource: resource_for(*action, &request),
                grant,
                now: NOW,
            };
            let d = a.decide(&req);
            assert_eq!(
                (d.allowed, d.policies),
                decide_unsliced(&a, &req),
                "{role:?} {action:?}"
            );
        }
    }
}

#[test]
fn action_names_are_distinct_and_snake_case() {
    let names: HashSet<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(names.len(), Action::ALL.len());
    assert!(names
        .iter()
        .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

#[path = "cases.rs"]
mod cases;
#[path = "fail_closed.rs"]
mod fail_closed;

#[test]
fn the_authorizer_can_be_shared_across_request_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Authorizer>();
}
