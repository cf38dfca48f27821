//! Grant expiry on an injected clock, choosing among grants, and failing closed when a
//! policy errors.

use super::*;

const CALL_1: Resource<'static> = Resource::Call {
    id: "call-1",
    agent_id: OTHER_AGENT,
};

fn unmasked(approvers: &[&str]) -> GrantFacts {
    GrantFacts {
        level: Level::Unmasked,
        approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
        ..grant()
    }
}

#[test]
fn grant_expiry_follows_the_injected_clock() {
    let a = authz();
    let g = grant();
    let clock = ManualClock::new(g.not_before - 1);
    let read = |clock: &ManualClock| {
        let agents = agents();
        a.decide(&AuthzRequest {
            subject: Subject {
                name: ME,
                roles: &[R::Auditor],
                agents: &agents,
                second_factor: true,
            },
            action: A::ReadTranscript,
            resource: CALL_1,
            grant: Some(&g),
            now: clock.now(),
        })
        .allowed
    };
    assert!(!read(&clock), "before not_before");
    clock.advance(1);
    assert!(read(&clock), "at not_before");
    clock.set(g.not_after - 1);
    assert!(read(&clock), "just before not_after");
    clock.advance(1);
    assert!(!read(&clock), "at not_after");
    clock.advance(86_400);
    assert!(!read(&clock), "a day later");
}

#[test]
fn decide_with_grants_picks_a_covering_grant_and_names_it() {
    let a = authz();
    let agents = agents();
    let other = GrantFacts {
        id: "g-0".into(),
        call_ids: vec!["call-9".into()],
        ..grant()
    };
    let req = AuthzRequest {
        subject: Subject {
            name: ME,
            roles: &[R::Auditor],
            agents: &agents,
            second_factor: false,
        },
        action: A::ReadMetadata,
        resource: CALL_1,
        grant: None,
        now: NOW,
    };
    let d = a.decide_with_grants(&req, &[other.clone(), unmasked(&["c-1", "c-2"]), grant()]);
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.grant.as_deref(), Some("g-1"));
    assert_eq!(d.policies, ["reads-through-grant"]);
    let d = a.decide_with_grants(&req, &[other, unmasked(&["c-1", "c-2"])]);
    check(
        &d,
        Forbid("forbid-unmasked-without-second-factor"),
        "only unmasked",
    );
}

/// A forbid that errors when there is no grant; strict validation would reject it.
const ERRORING: &str = r#"
@id("permit-all")
permit (principal, action, resource);

@id("forbid-erroring")
forbid (principal, action, resource)
when { context.grant.level == Level::"unmasked" };
"#;

#[test]
fn an_evaluation_error_denies_even_when_cedar_would_allow() {
    let (schema, _) = load::builtin_sources();
    let files = [("erroring.cedar", ERRORING)];
    let a = Authorizer::assemble(
        load::parse_schema(schema).expect("schema"),
        load::parse_policies(&files).expect("parses"),
    )
    .expect("assembles");
    let agents = agents();
    let req = AuthzRequest {
        subject: Subject {
            name: ME,
            roles: &[R::Auditor],
            agents: &agents,
            second_factor: true,
        },
        action: A::ReadAudit,
        resource: Resource::AuditLog,
        grant: None,
        now: NOW,
    };
    // Cedar alone skips the erroring forbid and allows.
    let (request, store) = entities::build(&a.uids, &a.schema, &req).expect("builds");
    let raw = a.engine.is_authorized(&request, &a.policies, &store);
    assert_eq!(a.slices[A::ReadAudit.index()].policies().count(), 2);
    assert_eq!(raw.decision(), cedar_policy::Decision::Allow);
    let d = a.decide(&req);
    assert_eq!(
        d,
        Decision {
            allowed: false,
            policies: vec!["forbid-erroring".into()],
            errors: true,
            grant: None,
        }
    );
    // And validation would never have let it load.
    let err = Authorizer::from_sources(schema, &files).expect_err("strict validation");
    assert!(
        matches!(&err, AuthzError::Invalid { location, id, .. }
            if location.starts_with("erroring.cedar:") && id == "forbid-erroring"),
        "{err}"
    );
}
