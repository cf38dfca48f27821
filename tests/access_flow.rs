//! The access workflow end to end against the real binary: refusals without a grant,
//! request, no self-approval, four-eyes approval, reads through the grant, revoke and
//! expiry, break-glass with two approvers, customer search through the blind index — and
//! every step, refusals included, in the audit log with the deciding policy ids.

mod common;

use std::collections::BTreeMap;

use common::{dev_corpus, TestServer};
use serde_json::{json, Value};

const CALL: &str = "c20260301-010013";

fn status(r: reqwest::blocking::Response) -> u16 {
    r.status().as_u16()
}

/// The audit entries from `start` on, decoded.
fn entries_from(server: &TestServer, start: u64) -> Vec<Value> {
    let size = audit_size(server);
    let leaves: Vec<String> = server
        .get(
            "compliance",
            &format!("/v1/audit/entries?start={start}&end={size}"),
        )
        .json()
        .unwrap();
    use base64::Engine;
    leaves
        .iter()
        .map(|b| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect()
}

fn audit_size(server: &TestServer) -> u64 {
    let note = server
        .get("compliance", "/v1/audit/checkpoint")
        .text()
        .unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// The (actor, event, outcome) of an entry, and its policies.
fn summary(e: &Value) -> (String, String, String) {
    (
        e["actor"].as_str().unwrap_or("").to_string(),
        e["event"].as_str().unwrap_or("").to_string(),
        e["outcome"].as_str().unwrap_or("").to_string(),
    )
}

fn has(entries: &[Value], actor: &str, event: &str, outcome: &str) -> bool {
    entries
        .iter()
        .any(|e| summary(e) == (actor.into(), event.into(), outcome.into()))
}

fn request(server: &TestServer, who: &str, body: Value) -> String {
    let r = server.post(who, "/v1/access-requests", &body);
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn act(server: &TestServer, who: &str, id: &str, verb: &str) -> reqwest::blocking::Response {
    server.post(
        who,
        &format!("/v1/access-requests/{id}/{verb}"),
        &json!({"reason": "ticket 7"}),
    )
}

#[test]
fn an_auditor_reads_only_through_an_approved_unexpired_unrevoked_grant_and_every_step_is_audited() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let transcript = format!("/v1/calls/{CALL}/transcript");
    let start = audit_size(&server);

    // 1. No grant: 403, audited.
    assert_eq!(status(server.get("auditor", &transcript)), 403);
    // 2. Request; the requester cannot approve it.
    let id = request(
        &server,
        "auditor",
        json!({"call_ids": [CALL], "purpose": "complaint 2026-118", "duration_s": 3600}),
    );
    assert_eq!(status(act(&server, "auditor", &id, "approve")), 403);
    // A non-compliance principal cannot approve either.
    assert_eq!(status(act(&server, "qa_reviewer", &id, "approve")), 403);
    // 3. Compliance approves: a grant for exactly the named call.
    let r = act(&server, "compliance", &id, "approve");
    assert_eq!(r.status(), 200);
    let view: Value = r.json().unwrap();
    assert_eq!(view["status"], "approved");
    assert_eq!(view["grant"]["call_ids"], json!([CALL]));
    let grant_id = view["grant"]["id"].as_str().unwrap().to_string();
    // Approving again is a state error, not a second grant.
    assert_eq!(status(act(&server, "compliance2", &id, "approve")), 403);
    // 4. The auditor reads the auditor view; other calls stay closed.
    let r = server.get("auditor", &transcript);
    assert_eq!(r.status(), 200);
    assert_eq!(
        status(server.get("auditor", &format!("/v1/calls/{CALL}/audio"))),
        200
    );
    assert_eq!(
        status(server.get("auditor", "/v1/calls/c20260301-010048/transcript")),
        403
    );
    // 5. Revoke: 403 again.
    assert_eq!(status(act(&server, "auditor", &id, "revoke")), 200);
    assert_eq!(status(server.get("auditor", &transcript)), 403);
    // 6. Admin and recorder never read content, whatever they try.
    for who in ["admin", "recorder"] {
        assert_eq!(status(server.get(who, &transcript)), 403, "{who}");
        assert_eq!(
            status(server.get(who, &format!("/v1/calls/{CALL}"))),
            403,
            "{who}"
        );
    }
    assert_eq!(
        status(server.post(
            "recorder",
            "/v1/access-requests",
            &json!({"call_ids": [CALL], "purpose": "x"})
        )),
        403
    );

    let entries = entries_from(&server, start);
    assert!(has(&entries, "auditor", "call.read.transcript", "denied"));
    assert!(has(&entries, "auditor", "access.request", "success"));
    assert!(has(&entries, "auditor", "access.approve", "denied"));
    assert!(has(&entries, "qa_reviewer", "access.approve", "denied"));
    assert!(has(&entries, "compliance", "access.approve", "success"));
    assert!(has(&entries, "compliance2", "access.approve", "denied"));
    assert!(has(&entries, "auditor", "call.read.transcript", "success"));
    assert!(has(&entries, "auditor", "access.revoke", "success"));
    assert!(has(&entries, "admin", "call.read.transcript", "denied"));
    assert!(has(&entries, "recorder", "call.read.metadata", "denied"));
    assert!(has(&entries, "recorder", "access.request", "denied"));
    // The successful read names the grant, the purpose and the policy that allowed it;
    // the self-approval refusal names the guard rail.
    let read = entries
        .iter()
        .find(|e| {
            summary(e)
                == (
                    "auditor".into(),
                    "call.read.transcript".into(),
                    "success".into(),
                )
        })
        .unwrap();
    assert_eq!(read["grant"], grant_id.as_str());
    assert_eq!(read["purpose"], "complaint 2026-118");
    assert!(read["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "reads-through-grant"));
    assert_eq!(read["objects"], json!([CALL]));
    let self_approval = entries
        .iter()
        .find(|e| summary(e) == ("auditor".into(), "access.approve".into(), "denied".into()))
        .unwrap();
    assert!(self_approval["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "forbid-self-approval"));
}

#[test]
fn a_grant_expires_on_the_server_clock() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let id = request(
        &server,
        "auditor",
        json!({"call_ids": [CALL], "purpose": "short look", "duration_s": 2}),
    );
    assert_eq!(status(act(&server, "compliance", &id, "approve")), 200);
    let transcript = format!("/v1/calls/{CALL}/transcript");
    assert_eq!(status(server.get("auditor", &transcript)), 200);
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(status(server.get("auditor", &transcript)), 403);
}

#[test]
fn bad_requests_are_refused_with_problems_and_store_nothing() {
    let server = TestServer::start();
    for body in [
        json!({"purpose": "no calls"}),
        json!({"call_ids": [CALL], "query": {"agent_id": "a1"}, "purpose": "both"}),
        json!({"call_ids": [], "purpose": "empty"}),
        json!({"call_ids": ["../etc"], "purpose": "bad id"}),
        json!({"call_ids": [CALL], "purpose": ""}),
        json!({"call_ids": [CALL], "purpose": "too long", "duration_s": 10_000_000}),
        json!({"call_ids": [CALL], "purpose": "x", "level": "everything"}),
        json!({"call_ids": [CALL], "purpose": "x", "extra": 1}),
        json!({"query": {"customer": {"phone": "12345"}}, "purpose": "bad phone"}),
        json!({"query": {"from": "yesterday"}, "purpose": "bad time"}),
    ] {
        let r = server.post("auditor", "/v1/access-requests", &body);
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let text = r.text().unwrap();
        assert!(
            !text.contains("12345") && !text.contains("yesterday"),
            "{text}"
        );
    }
    let r = server
        .http()
        .post(format!("{}/v1/access-requests", server.addr))
        .bearer_auth(server.token("auditor"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let list: Value = server
        .get("compliance", "/v1/access-requests")
        .json()
        .unwrap();
    assert_eq!(list["requests"], json!([]));
    assert_eq!(
        status(server.get("compliance", "/v1/access-requests/req-nope")),
        404
    );
    assert_eq!(
        status(act(&server, "compliance", "req-nope", "approve")),
        404
    );
}

/// Customer values of one class in the dev corpus truth, written with ASCII digits, by
/// call (test data only).
fn truth_values(class: &str) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(dev_corpus().join("truth.jsonl")).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let ascii =
            ["digits", "grouped", "hyphen", "plus86"].contains(&v["form"].as_str().unwrap_or(""));
        if v["class"] == class && v["split"] == false && ascii {
            out.entry(v["call_id"].as_str().unwrap().to_string())
                .or_default()
                .push(v["value"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn break_glass_needs_two_distinct_approvers_and_customer_lookup_uses_the_blind_index() {
    let server = TestServer::start();
    let phones = truth_values("phone");
    let (call, phone) = phones
        .iter()
        .find(|(c, _)| c.starts_with("c2026"))
        .map(|(c, v)| (c.clone(), v[0].clone()))
        .expect("a dev call with a phone number");
    server.ingest(&[call.as_str()]);
    server.ingest(&[CALL]);
    let start = audit_size(&server);

    // Unmasked: one approval leaves it pending; the same approver cannot count twice.
    let id = request(
        &server,
        "auditor",
        json!({"call_ids": [call], "purpose": "fraud case 9", "level": "unmasked", "duration_s": 600}),
    );
    let r = act(&server, "compliance", &id, "approve");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["status"], "pending");
    assert_eq!(v["approvals_needed"], 2);
    assert_eq!(status(act(&server, "compliance", &id, "approve")), 403);
    let transcript = format!("/v1/calls/{call}/transcript");
    assert_eq!(status(server.get("auditor", &transcript)), 403);
    assert_eq!(status(act(&server, "compliance2", &id, "approve")), 200);
    let r = server.get("auditor", &transcript);
    assert_eq!(
        r.status(),
        200,
        "two approvers: the unmasked read is allowed"
    );
    let unmasked = r.text().unwrap();
    let digits: String = unmasked.chars().filter(char::is_ascii_digit).collect();
    assert!(
        digits.contains(&phone),
        "the break-glass view shows the phone number"
    );

    // Search: compliance finds the call by the phone in any written form; the auditor
    // has no query grant and is refused; nothing of the value is in the audit log.
    let spaced = format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]);
    let r = server.post("compliance", "/v1/calls/search", &json!({"phone": spaced}));
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap()["call_ids"],
        json!([call.clone()])
    );
    assert_eq!(
        status(server.post("auditor", "/v1/calls/search", &json!({"phone": phone}))),
        403
    );

    // A query request is resolved at approval; the grant holds the concrete list.
    let qid = request(
        &server,
        "auditor",
        json!({"query": {"customer": {"phone": phone}}, "purpose": "customer complaint"}),
    );
    let pending: Value = server
        .get("compliance", &format!("/v1/access-requests/{qid}"))
        .json()
        .unwrap();
    assert_eq!(
        pending["call_ids"],
        json!([call.clone()]),
        "the approver sees the calls"
    );
    assert_eq!(pending["query"]["customer"], "phone");
    let approved: Value = act(&server, "compliance2", &qid, "approve").json().unwrap();
    assert_eq!(approved["grant"]["call_ids"], json!([call.clone()]));
    // With a query grant the auditor may search.
    assert_eq!(
        status(server.post("auditor", "/v1/calls/search", &json!({"phone": phone}))),
        200
    );

    let entries = entries_from(&server, start);
    let flagged = entries.iter().any(|e| {
        e["event"] == "call.read.transcript"
            && e["outcome"] == "success"
            && e["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "break-glass"))
    });
    assert!(flagged, "the unmasked read is flagged");
    assert!(has(&entries, "compliance", "call.search", "success"));
    assert!(has(&entries, "auditor", "call.search", "denied"));
    let leaves = serde_json::to_string(&entries).unwrap();
    assert!(
        !leaves.contains(&phone),
        "no customer value in the audit log"
    );
    let list: Value = server
        .get("compliance", "/v1/access-requests")
        .json()
        .unwrap();
    assert!(
        !list.to_string().contains(&phone),
        "no customer value in request views"
    );
}

#[test]
fn a_qa_reviewer_reads_its_agents_calls_without_a_grant_and_no_others() {
    let server = TestServer::start();
    server.ingest(&[CALL]); // agent A1189, listed on the dev QA reviewer
    server.ingest(&["c20260301-010048"]);
    let own = server.get("qa_reviewer", &format!("/v1/calls/{CALL}/transcript"));
    assert_eq!(own.status(), 200);
    let other = server.get("qa_reviewer", "/v1/calls/c20260301-010048/transcript");
    assert_eq!(other.status(), 403);
    let entries = entries_from(&server, 0);
    let read = entries
        .iter()
        .find(|e| {
            summary(e)
                == (
                    "qa_reviewer".into(),
                    "call.read.transcript".into(),
                    "success".into(),
                )
        })
        .unwrap();
    assert!(read["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "qa-reads-own-agents"));
    assert!(read.get("grant").is_none());
}

#[test]
fn the_cli_requests_approves_lists_and_searches() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let run = |who: &str, args: &[&str]| {
        let out = server.cli(who).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, out, _) = run(
        "auditor",
        &[
            "access",
            "request",
            CALL,
            "--purpose",
            "cli check",
            "--duration",
            "600",
        ],
    );
    assert!(ok);
    let id = out.split_whitespace().next().unwrap().to_string();
    assert!(out.contains(" pending "));
    let (ok, _, err) = run("auditor", &["access", "approve", &id]);
    assert!(!ok, "self-approval refused");
    assert!(
        err.contains("403") || err.to_lowercase().contains("forbidden"),
        "{err}"
    );
    let (ok, out, _) = run("compliance", &["access", "approve", &id, "--reason", "ok"]);
    assert!(ok);
    assert!(out.contains(" approved "));
    let (ok, out, _) = run("compliance", &["access", "list"]);
    assert!(ok && out.contains(&id) && out.contains("approved"));
    let (ok, out, _) = run("auditor", &["calls", "get", CALL, "--transcript"]);
    assert!(ok && out.contains("segments"));
    let (ok, _, _) = run("auditor", &["access", "revoke", &id]);
    assert!(ok);
    let (ok, _, _) = run("auditor", &["calls", "get", CALL, "--transcript"]);
    assert!(!ok, "revoked");
    let (ok, out, _) = run("compliance", &["search", "--phone", "13800000000"]);
    assert!(ok);
    assert!(out.trim().is_empty());
}

#[test]
fn a_refusal_without_any_permit_names_the_implicit_deny() {
    let server = TestServer::start();
    server.ingest(&[CALL]);
    let start = audit_size(&server);
    assert_eq!(
        status(server.get("auditor", &format!("/v1/calls/{CALL}"))),
        403
    );
    let entries = entries_from(&server, start);
    let denied = entries
        .iter()
        .find(|e| {
            summary(e)
                == (
                    "auditor".into(),
                    "call.read.metadata".into(),
                    "denied".into(),
                )
        })
        .unwrap();
    assert_eq!(denied["policies"], json!(["default-deny"]));
}
