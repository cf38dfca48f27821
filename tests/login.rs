//! Logging in over HTTP and managing principals with the CLI, against a real dev server:
//! second-factor sessions, one answer for every bad credential, the rate limit, logout,
//! and revocation taking effect at once.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{bin, TestServer};
use serde_json::{json, Value};

/// The dev logins the server wrote: name → {password, totp_secret, otpauth_uri}.
fn dev_logins(server: &TestServer) -> Value {
    let bytes = std::fs::read(server.data.path().join("dev-logins.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The current 6-digit code of a base32 TOTP secret, as an authenticator app computes it.
fn totp_now(base32: &str) -> String {
    let secret = totp_rs::Secret::Encoded(base32.to_string())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        None,
        String::new(),
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    totp.generate(now.as_secs())
}

fn login(server: &TestServer, body: &Value) -> reqwest::blocking::Response {
    server
        .http()
        .post(format!("{}/v1/login", server.addr))
        .json(body)
        .send()
        .unwrap()
}

fn list_calls(server: &TestServer, token: &str) -> u16 {
    server
        .http()
        .get(format!("{}/v1/calls", server.addr))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Runs `callvault ARGS` with `stdin` as standard input.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("CALLVAULT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "callvault {} failed: {}",
        args.first().unwrap(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The value after `prefix` on a line of `text`.
fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line"))
        .trim()
}

#[test]
fn a_dev_login_with_a_current_code_is_a_second_factor_session_until_logout() {
    let server = TestServer::start();
    let logins = dev_logins(&server);
    let me = &logins["compliance"];
    let code = totp_now(me["totp_secret"].as_str().unwrap());
    let resp = login(
        &server,
        &json!({"name": "compliance", "password": me["password"], "totp": code}),
    );
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let session: Value = resp.json().unwrap();
    assert_eq!(session["second_factor"], true);
    assert_eq!(session["principal"], "compliance");
    let token = session["token"].as_str().unwrap();
    assert_eq!(list_calls(&server, token), 200);

    // The same code cannot be used twice.
    let replay = login(
        &server,
        &json!({"name": "compliance", "password": me["password"], "totp": code}),
    );
    assert_eq!(replay.status().as_u16(), 401);

    let logout = server
        .http()
        .post(format!("{}/v1/logout", server.addr))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(logout.status().as_u16(), 204);
    assert_eq!(list_calls(&server, token), 401);
}

#[test]
fn a_password_alone_gives_a_session_without_second_factor() {
    let server = TestServer::start();
    let logins = dev_logins(&server);
    let resp = login(
        &server,
        &json!({"name": "auditor", "password": logins["auditor"]["password"]}),
    );
    assert_eq!(resp.status().as_u16(), 200);
    let session: Value = resp.json().unwrap();
    assert_eq!(session["second_factor"], false);
    assert_eq!(list_calls(&server, session["token"].as_str().unwrap()), 200);
}

#[test]
fn bad_credentials_get_one_answer_and_the_sixth_failure_is_rate_limited() {
    let server = TestServer::start();
    let logins = dev_logins(&server);
    let wrong = login(
        &server,
        &json!({"name": "regulator", "password": "not the password at all"}),
    );
    assert_eq!(wrong.status().as_u16(), 401);
    let wrong_body = wrong.text().unwrap();
    let unknown = login(
        &server,
        &json!({"name": "nobody-here", "password": "not the password at all"}),
    );
    assert_eq!(unknown.status().as_u16(), 401);
    assert_eq!(unknown.text().unwrap(), wrong_body);
    assert!(!wrong_body.contains("regulator") && !wrong_body.contains("password at all"));

    let malformed = login(&server, &json!({"name": "regulator"}));
    assert_eq!(malformed.status().as_u16(), 422);

    for _ in 0..4 {
        let r = login(
            &server,
            &json!({"name": "regulator", "password": "still not the password"}),
        );
        assert_eq!(r.status().as_u16(), 401);
    }
    // Even the right password is refused now, without being checked.
    let limited = login(
        &server,
        &json!({"name": "regulator", "password": logins["regulator"]["password"]}),
    );
    assert_eq!(limited.status().as_u16(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry));
    let problem: Value = limited.json().unwrap();
    assert!(problem["type"].as_str().unwrap().ends_with("/rate-limited"));

    // Every refusal is in the audit log, none with a password.
    let note = server
        .get("auditor", "/v1/audit/checkpoint")
        .text()
        .unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let log = server.get(
        "compliance",
        &format!("/v1/audit/entries?start=0&end={size}"),
    );
    let leaves: Vec<String> = log.json().unwrap();
    use base64::Engine;
    let entries: Vec<Value> = leaves
        .iter()
        .map(|l| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(l).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect();
    let denied = |reason: &str| {
        entries
            .iter()
            .filter(|e| e["event"] == "auth.login" && e["reason"] == reason)
            .count()
    };
    assert_eq!(denied("bad-credentials"), 6);
    assert_eq!(denied("rate-limited"), 1);
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("not the password"));
    assert!(!text.contains(logins["regulator"]["password"].as_str().unwrap()));
}

#[test]
fn principals_added_with_the_cli_log_in_and_stop_working_when_revoked() {
    let server = TestServer::start();
    let data = server.data.path().to_str().unwrap().to_string();
    let local = ["--dev", "--data", data.as_str()];
    let password = "a long enough passphrase";

    let mut add = vec!["principals", "add", "alice", "--role", "auditor"];
    add.extend([
        "--agent",
        "agent-7",
        "--password-stdin",
        "--totp",
        "--token",
    ]);
    add.extend(["--expires-in", "1d"]);
    add.extend(local);
    let out = run(&add, &format!("{password}\n"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let api_token = field(&stdout, "token: ").to_string();
    let secret = field(&stdout, "totp secret: ").to_string();
    assert_eq!(list_calls(&server, &api_token), 200);

    let mut list = vec!["principals", "list", "--json"];
    list.extend(local);
    let listed = String::from_utf8(run(&list, "").stdout).unwrap();
    let alice: Value = listed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|p| p["name"] == "alice")
        .unwrap();
    assert_eq!(alice["roles"], json!(["auditor"]));
    assert_eq!(alice["agents"], json!(["agent-7"]));
    assert_eq!(alice["has_password"], true);
    assert_eq!(alice["has_totp"], true);
    assert_eq!(alice["live_tokens"], 1);
    assert!(!listed.contains(&api_token) && !listed.contains(&secret));

    // `callvault login` with the enrolled TOTP secret gives a second-factor session.
    let code = totp_now(&secret);
    let login_args = [
        "login",
        "--server",
        &server.addr,
        "alice",
        "--password-stdin",
        "--totp",
        &code,
    ];
    let out = run(&login_args, &format!("{password}\n"));
    let session = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(String::from_utf8_lossy(&out.stderr).contains("second factor: yes"));
    assert_eq!(list_calls(&server, &session), 200);

    let mut revoke = vec!["principals", "revoke", "alice"];
    revoke.extend(local);
    run(&revoke, "");
    assert_eq!(list_calls(&server, &api_token), 401);
    assert_eq!(list_calls(&server, &session), 401);
    let again = login(&server, &json!({"name": "alice", "password": password}));
    assert_eq!(again.status().as_u16(), 401);
}

#[test]
fn approvals_need_a_second_factor_session() {
    let server = TestServer::start();
    let logins = dev_logins(&server);
    let request = |purpose: &str| -> String {
        let r = server
            .http()
            .post(format!("{}/v1/access-requests", server.addr))
            .bearer_auth(server.token("auditor"))
            .json(&json!({"call_ids": ["c20260301-010013"], "purpose": purpose}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let approve = |token: &str, id: &str| -> u16 {
        server
            .http()
            .post(format!("{}/v1/access-requests/{id}/approve", server.addr))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let id = request("first");
    let password_only: Value = login(
        &server,
        &json!({"name": "compliance", "password": logins["compliance"]["password"]}),
    )
    .json()
    .unwrap();
    assert_eq!(approve(password_only["token"].as_str().unwrap(), &id), 403);
    let with_totp: Value = login(
        &server,
        &json!({
            "name": "compliance",
            "password": logins["compliance"]["password"],
            "totp": totp_now(logins["compliance"]["totp_secret"].as_str().unwrap()),
        }),
    )
    .json()
    .unwrap();
    assert_eq!(with_totp["second_factor"], true);
    assert_eq!(approve(with_totp["token"].as_str().unwrap(), &id), 200);
}
