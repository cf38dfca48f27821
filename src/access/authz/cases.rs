//! The guard rails one by one, grant expiry on a manual clock, and failing closed.

use super::*;

fn call(id: &'static str, agent_id: &'static str) -> Resource<'static> {
    Resource::Call { id, agent_id }
}

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
fn qa_reviewer_reads_its_own_agents_calls_without_a_grant() {
    let d = decide(
        &authz(),
        &[R::QaReviewer],
        A::ReadTranscript,
        call("call-7", MY_AGENT),
        None,
        false,
    );
    check(&d, Allow("qa-reads-own-agents"), "own agent");
}

#[test]
fn qa_reviewer_is_denied_an_agent_not_listed() {
    let d = decide(
        &authz(),
        &[R::QaReviewer],
        A::ReadAudio,
        call("call-7", OTHER_AGENT),
        None,
        true,
    );
    check(&d, Deny, "other agent");
}

#[test]
fn a_forbid_on_any_held_role_wins() {
    let a = authz();
    let d = decide(
        &a,
        &[R::QaReviewer, R::Admin],
        A::ReadTranscript,
        call("c", MY_AGENT),
        None,
        true,
    );
    check(&d, FA, "qa + admin");
    let d = decide(
        &a,
        &[R::Auditor, R::Recorder],
        A::ReadAudit,
        Resource::AuditLog,
        None,
        true,
    );
    check(&d, FR, "auditor + recorder");
}

#[test]
fn a_grant_of_another_principal_is_denied() {
    let g = GrantFacts {
        requester: "someone-else".into(),
        ..grant()
    };
    check(
        &decide(
            &authz(),
            &[R::Auditor],
            A::ReadTranscript,
            CALL_1,
            Some(&g),
            true,
        ),
        Deny,
        "foreign grant",
    );
}

#[test]
fn a_grant_for_other_calls_is_denied() {
    let d = decide(
        &authz(),
        &[R::Auditor],
        A::ReadTranscript,
        call("call-3", OTHER_AGENT),
        Some(&grant()),
        true,
    );
    check(&d, Deny, "uncovered call");
}

#[test]
fn revoked_and_expired_grants_are_denied() {
    let a = authz();
    for status in ["revoked", "expired"] {
        let g = GrantFacts {
            status: status.into(),
            ..grant()
        };
        check(
            &decide(&a, &[R::Auditor], A::ReadMetadata, CALL_1, Some(&g), true),
            Deny,
            status,
        );
        check(
            &decide(
                &a,
                &[R::Auditor],
                A::SearchCustomers,
                Resource::Vault,
                Some(&g),
                true,
            ),
            Deny,
            status,
        );
    }
}

#[test]
fn a_grant_with_an_unknown_status_fails_closed() {
    let g = GrantFacts {
        status: "actve".into(),
        ..grant()
    };
    let d = decide(
        &authz(),
        &[R::Auditor],
        A::ReadMetadata,
        CALL_1,
        Some(&g),
        true,
    );
    assert!(!d.allowed && d.errors, "{d:?}");
}

#[test]
fn search_needs_a_query_grant() {
    let g = GrantFacts {
        from_query: false,
        ..grant()
    };
    check(
        &decide(
            &authz(),
            &[R::Auditor],
            A::SearchCustomers,
            Resource::Vault,
            Some(&g),
            true,
        ),
        Deny,
        "list grant",
    );
}

#[test]
fn a_grant_approved_by_its_requester_is_void() {
    let g = GrantFacts {
        approvers: vec![ME.into(), "c-2".into()],
        ..grant()
    };
    let d = decide(
        &authz(),
        &[R::Auditor],
        A::ReadMetadata,
        CALL_1,
        Some(&g),
        true,
    );
    check(
        &d,
        Forbid("forbid-grant-approved-by-requester"),
        "self-approved grant",
    );
}

#[test]
fn unmasked_reads_need_two_distinct_approvers_and_a_second_factor() {
    let a = authz();
    let two = unmasked(&["c-1", "c-2"]);
    check(
        &decide(&a, &[R::Auditor], A::ReadAudio, CALL_1, Some(&two), true),
        GR,
        "break-glass",
    );
    check(
        &decide(&a, &[R::Auditor], A::ReadAudio, CALL_1, Some(&two), false),
        Forbid("forbid-unmasked-without-second-factor"),
        "no second factor",
    );
    for approvers in [&["c-1"][..], &["c-1", "c-1"], &[]] {
        let g = unmasked(approvers);
        check(
            &decide(
                &a,
                &[R::Compliance],
                A::ReadTranscript,
                CALL_1,
                Some(&g),
                true,
            ),
            Forbid("forbid-unmasked-without-two-approvers"),
            &format!("approvers {approvers:?}"),
        );
    }
}

#[test]
fn compliance_never_decides_its_own_request() {
    let a = authz();
    let own = pending_request(ME);
    for action in [A::ApproveRequest, A::DenyRequest] {
        let d = decide(
            &a,
            &[R::Compliance],
            action,
            Resource::Request(&own),
            None,
            true,
        );
        check(&d, Forbid("forbid-self-approval"), &format!("{action:?}"));
    }
}

#[test]
fn approval_needs_a_second_factor() {
    let r = pending_request("someone-else");
    let d = decide(
        &authz(),
        &[R::Compliance],
        A::ApproveRequest,
        Resource::Request(&r),
        None,
        false,
    );
    check(
        &d,
        Forbid("forbid-approval-without-second-factor"),
        "no second factor",
    );
}

#[test]
fn approving_twice_is_denied() {
    let r = RequestFacts {
        approvers: vec![ME.into()],
        ..pending_request("someone-else")
    };
    let d = decide(
        &authz(),
        &[R::Compliance],
        A::ApproveRequest,
        Resource::Request(&r),
        None,
        true,
    );
    check(&d, Forbid("forbid-approving-twice"), "second approval");
}

#[test]
fn only_pending_requests_are_decided_and_only_live_ones_revoked() {
    let a = authz();
    let denied = RequestFacts {
        status: "denied".into(),
        ..pending_request("someone-else")
    };
    for action in [A::ApproveRequest, A::DenyRequest, A::RevokeRequest] {
        check(
            &decide(
                &a,
                &[R::Compliance],
                action,
                Resource::Request(&denied),
                None,
                true,
            ),
            Deny,
            "denied",
        );
    }
}

#[test]
fn a_requester_revokes_its_own_request() {
    let own = RequestFacts {
        status: "approved".into(),
        ..pending_request(ME)
    };
    let d = decide(
        &authz(),
        &[R::Auditor],
        A::RevokeRequest,
        Resource::Request(&own),
        None,
        false,
    );
    check(&d, Allow("requester-revokes-own-request"), "own request");
}

#[test]
fn a_regulator_downloads_only_exports_addressed_to_it() {
    let other = Resource::Export {
        id: "e-2",
        recipient: "another-regulator",
        requester: OTHER,
    };
    check(
        &decide(
            &authz(),
            &[R::Regulator],
            A::DownloadExport,
            other,
            None,
            true,
        ),
        Deny,
        "foreign export",
    );
}

#[test]
fn nobody_approves_an_export_they_created() {
    let own = Resource::Export {
        id: "e-3",
        recipient: "regulator",
        requester: ME,
    };
    check(
        &decide(
            &authz(),
            &[R::Compliance],
            A::ApproveExport,
            own,
            None,
            true,
        ),
        Forbid("forbid-self-approved-export"),
        "own export",
    );
}

#[test]
fn approving_an_export_takes_a_second_factor() {
    let other = Resource::Export {
        id: "e-4",
        recipient: "regulator",
        requester: OTHER,
    };
    check(
        &decide(
            &authz(),
            &[R::Compliance],
            A::ApproveExport,
            other,
            None,
            false,
        ),
        Forbid("forbid-approval-without-second-factor"),
        "no second factor",
    );
}
