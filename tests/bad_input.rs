//! Every kind of bad upload gets a 4xx problem+json naming the problem, and leaves nothing
//! stored: no call in the catalog, no blob on disk.

mod common;

use common::{dev_corpus, upload_form, TestServer};
use reqwest::blocking::multipart::{Form, Part};
use serde_json::Value;

const AUDIO_CALL: &str = "c20260301-010013";
const TEXT_CALL: &str = "c20260301-010048";

fn corpus_file(name: &str) -> Vec<u8> {
    std::fs::read(dev_corpus().join("calls").join(name)).unwrap()
}

fn v1(id: &str) -> Value {
    serde_json::from_slice(&corpus_file(&format!("{id}.json"))).unwrap()
}

/// A 16-bit PCM mono WAV of low noise.
fn pcm_mono_wav(seconds: u32, rate: u32) -> Vec<u8> {
    let data_len = seconds * rate * 2;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..seconds * rate {
        w.extend_from_slice(&((i % 7) as i16 - 3).to_le_bytes());
    }
    w
}

struct Case {
    name: &'static str,
    form: Form,
    status: u16,
    kind: &'static str,
}

fn cases() -> Vec<Case> {
    let json = |v: &Value| serde_json::to_vec(v).unwrap();
    let mut cases = Vec::new();
    cases.push(Case {
        name: "malformed JSON",
        form: upload_form(
            b"{\"schema\": ".to_vec(),
            "application/json",
            "x.json",
            None,
        ),
        status: 422,
        kind: "invalid-transcript",
    });
    let mut wrong_schema = v1(TEXT_CALL);
    wrong_schema["schema"] = "callvault.transcript/v9".into();
    cases.push(Case {
        name: "wrong schema",
        form: upload_form(json(&wrong_schema), "application/json", "x.json", None),
        status: 422,
        kind: "invalid-transcript",
    });
    let mut missing_field = v1(TEXT_CALL);
    missing_field["segments"][0]
        .as_object_mut()
        .unwrap()
        .remove("speaker");
    cases.push(Case {
        name: "missing field",
        form: upload_form(json(&missing_field), "application/json", "x.json", None),
        status: 422,
        kind: "invalid-transcript",
    });
    let mut words = v1(TEXT_CALL);
    words["segments"][0]["words"][0]["w"] = "XX".into();
    cases.push(Case {
        name: "words not matching text",
        form: upload_form(json(&words), "application/json", "x.json", None),
        status: 422,
        kind: "invalid-transcript",
    });
    let mut beyond = v1(AUDIO_CALL);
    let n = beyond["segments"].as_array().unwrap().len();
    let last_end = beyond["audio"]["duration_s"].as_f64().unwrap() + 5.0;
    beyond["segments"][n - 1]["end"] = last_end.into();
    let words_n = beyond["segments"][n - 1]["words"].as_array().unwrap().len();
    beyond["segments"][n - 1]["words"][words_n - 1]["end"] = last_end.into();
    cases.push(Case {
        name: "times beyond the audio",
        form: upload_form(
            json(&beyond),
            "application/json",
            "x.json",
            Some(corpus_file(&format!("{AUDIO_CALL}.wav"))),
        ),
        status: 422,
        kind: "invalid-transcript",
    });
    let wav = corpus_file(&format!("{AUDIO_CALL}.wav"));
    cases.push(Case {
        name: "truncated audio",
        form: upload_form(
            corpus_file(&format!("{AUDIO_CALL}.json")),
            "application/json",
            "x.json",
            Some(wav[..wav.len() / 2].to_vec()),
        ),
        status: 422,
        kind: "invalid-audio",
    });
    let mut two_data = wav.clone();
    two_data.extend_from_slice(b"data\x04\x00\x00\x00\x00\x00\x00\x00");
    cases.push(Case {
        name: "a second data chunk",
        form: upload_form(
            corpus_file(&format!("{AUDIO_CALL}.json")),
            "application/json",
            "x.json",
            Some(two_data),
        ),
        status: 422,
        kind: "invalid-audio",
    });
    cases.push(Case {
        name: "non-WAV audio",
        form: upload_form(
            corpus_file(&format!("{AUDIO_CALL}.json")),
            "application/json",
            "x.json",
            Some(b"ID3\x04not a wave file at all, just some bytes".repeat(100)),
        ),
        status: 422,
        kind: "invalid-audio",
    });
    let audio_first = Form::new()
        .part(
            "audio",
            Part::bytes(wav.clone())
                .file_name("a.wav")
                .mime_str("audio/wav")
                .unwrap(),
        )
        .part(
            "transcript",
            Part::bytes(corpus_file(&format!("{AUDIO_CALL}.json")))
                .file_name("x.json")
                .mime_str("application/json")
                .unwrap(),
        );
    cases.push(Case {
        name: "audio before transcript",
        form: audio_first,
        status: 400,
        kind: "bad-upload",
    });
    // A valid 200 s mono WAV (3.2 MB) for a transcript without an audio block: only the
    // size is wrong.
    cases.push(Case {
        name: "oversize audio",
        form: upload_form(
            corpus_file(&format!("{TEXT_CALL}.json")),
            "application/json",
            "x.json",
            Some(pcm_mono_wav(200, 8000)),
        ),
        status: 413,
        kind: "too-large",
    });
    cases.push(Case {
        name: "oversize transcript",
        form: upload_form(vec![b' '; 300_000], "application/json", "x.json", None),
        status: 413,
        kind: "too-large",
    });
    let vtt = std::fs::read(dev_corpus().join("../formats/webvtt/c20260301-010164.vtt")).unwrap();
    let path_like = Form::new().text("call_id", "../../etc/passwd").part(
        "transcript",
        Part::bytes(vtt.clone())
            .file_name("t.vtt")
            .mime_str("text/vtt")
            .unwrap(),
    );
    cases.push(Case {
        name: "path-like call id",
        form: path_like,
        status: 422,
        kind: "invalid-transcript",
    });
    let long = Form::new().text("call_id", "a".repeat(129)).part(
        "transcript",
        Part::bytes(vtt.clone())
            .file_name("t.vtt")
            .mime_str("text/vtt")
            .unwrap(),
    );
    cases.push(Case {
        name: "over-long call id",
        form: long,
        status: 422,
        kind: "invalid-transcript",
    });
    let mut long_in_json = v1(TEXT_CALL);
    long_in_json["call_id"] = "b".repeat(129).into();
    cases.push(Case {
        name: "over-long call id in a v1 transcript",
        form: upload_form(json(&long_in_json), "application/json", "x.json", None),
        status: 422,
        kind: "invalid-transcript",
    });
    let mut bad_utf8 = corpus_file(&format!("{TEXT_CALL}.json"));
    let i = bad_utf8.len() / 2;
    bad_utf8[i] = 0xff;
    cases.push(Case {
        name: "invalid UTF-8",
        form: upload_form(bad_utf8, "application/json", "x.json", None),
        status: 422,
        kind: "invalid-transcript",
    });
    cases.push(Case {
        name: "wrong media type",
        form: upload_form(
            corpus_file(&format!("{TEXT_CALL}.json")),
            "text/plain",
            "x.txt",
            None,
        ),
        status: 415,
        kind: "unsupported-media-type",
    });
    cases
}

#[test]
fn every_bad_upload_is_a_named_4xx_problem_and_stores_nothing() {
    // Limits just above the corpus files, so the oversize cases stay small.
    let server = TestServer::start_with(&[
        ("CALLVAULT_SERVER__LIMITS__MAX_AUDIO_BYTES", "2500000"),
        ("CALLVAULT_SERVER__LIMITS__MAX_TRANSCRIPT_BYTES", "200000"),
    ]);
    let http = server.http();
    for case in cases() {
        let resp = http
            .post(format!("{}/v1/calls", server.addr))
            .bearer_auth(server.token("recorder"))
            .multipart(case.form)
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body: Value = resp.json().unwrap_or(Value::Null);
        assert_eq!(status, case.status, "{}: {body}", case.name);
        assert_eq!(ct, "application/problem+json", "{}", case.name);
        assert_eq!(
            body["type"],
            format!("https://callvault.dev/problems/{}", case.kind),
            "{}: {body}",
            case.name
        );
        assert_eq!(body["status"], case.status, "{}", case.name);
        assert!(
            !body["detail"].as_str().unwrap_or("").is_empty(),
            "{}: the problem must say what was wrong",
            case.name
        );
    }
    // Nothing stored: no call listed, no blob (nor temp file) on disk.
    let list: Value = server.get("auditor", "/v1/calls").json().unwrap();
    assert_eq!(list["calls"].as_array().unwrap().len(), 0);
    let blobs: Vec<_> = common::walk(&server.data.path().join("blobs"));
    assert!(blobs.is_empty(), "blobs left behind: {blobs:?}");
}

#[test]
fn requests_without_a_valid_token_are_unauthorized_problems() {
    let server = TestServer::start();
    let http = server.http();
    for token in [None, Some("cvt_not-a-real-token"), Some("garbage")] {
        let mut req = http.get(format!("{}/v1/calls", server.addr));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
    // Health needs no token.
    assert!(http
        .get(format!("{}/v1/health", server.addr))
        .send()
        .unwrap()
        .status()
        .is_success());
}

#[test]
fn the_recorder_gets_403_whether_or_not_the_call_exists() {
    let server = TestServer::start();
    let http = server.http();
    let resp = http
        .post(format!("{}/v1/calls", server.addr))
        .bearer_auth(server.token("recorder"))
        .multipart(upload_form(
            corpus_file(&format!("{TEXT_CALL}.json")),
            "application/json",
            "x.json",
            None,
        ))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    for id in [TEXT_CALL, "c-does-not-exist"] {
        for suffix in ["", "/transcript", "/audio"] {
            let r = server.get("recorder", &format!("/v1/calls/{id}{suffix}"));
            assert_eq!(r.status().as_u16(), 403, "{id}{suffix}");
        }
    }
    // Without a grant the auditor gets 403 whether or not the call exists; with a grant
    // naming both, 404 for the missing call and 200 for the stored one.
    assert_eq!(
        server
            .get("auditor", "/v1/calls/c-does-not-exist")
            .status()
            .as_u16(),
        403
    );
    server.grant("auditor", &[TEXT_CALL, "c-does-not-exist"]);
    assert_eq!(
        server
            .get("auditor", "/v1/calls/c-does-not-exist")
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        server
            .get("auditor", &format!("/v1/calls/{TEXT_CALL}"))
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn same_id_with_other_content_is_a_conflict_and_a_repeat_returns_the_first_receipt() {
    let server = TestServer::start();
    let http = server.http();
    let post = |body: Vec<u8>| {
        http.post(format!("{}/v1/calls", server.addr))
            .bearer_auth(server.token("recorder"))
            .multipart(upload_form(body, "application/json", "x.json", None))
            .send()
            .unwrap()
    };
    let original = corpus_file(&format!("{TEXT_CALL}.json"));
    let first = post(original.clone());
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().unwrap();
    assert!(first["audit_index"].is_u64());
    assert_eq!(first["call_id"], TEXT_CALL);
    let repeat = post(original);
    assert_eq!(repeat.status().as_u16(), 200);
    assert_eq!(repeat.json::<Value>().unwrap(), first);
    let mut other = v1(TEXT_CALL);
    other["agent_id"] = "A0000".into();
    let conflict = post(serde_json::to_vec(&other).unwrap());
    assert_eq!(conflict.status().as_u16(), 409);
}

#[test]
fn the_openapi_document_describes_every_route() {
    let server = TestServer::start();
    let doc: Value = server
        .http()
        .get(format!("{}/v1/openapi.json", server.addr))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let router = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server/mod.rs"),
    )
    .unwrap();
    let routes: Vec<&str> = router
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".route(\""))
        .map(|r| r.split('"').next().unwrap())
        .collect();
    assert!(routes.len() >= 12);
    for r in routes {
        assert!(
            doc["paths"].get(r).is_some(),
            "{r} is not in the OpenAPI document"
        );
    }
}
