//! Tests of signed notes and checkpoints against `../shared/vectors/signed-note`.

use super::*;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/signed-note/"
);

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{VECTORS}{name}")).expect("vector file readable");
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

fn test_signer() -> Signer {
    let key = load("key.json");
    let seed: [u8; 32] = hex::decode(s(&key["seed"])).unwrap().try_into().unwrap();
    Signer::from_seed(seed, s(&key["name"])).unwrap()
}

#[test]
fn test_key_matches_key_json() {
    let key = load("key.json");
    let signer = test_signer();
    assert_eq!(format!("{:08x}", signer.key_id()), s(&key["key_id"]));
    assert_eq!(signer.vkey(), s(&key["vkey"]));
    assert_eq!(signer.skey().as_str(), s(&key["skey"]));
    assert_eq!(signer.name(), s(&key["name"]));
    let verifier = Verifier::from_vkey(s(&key["vkey"])).unwrap();
    assert_eq!(hex::encode(verifier.key.as_bytes()), s(&key["public_key"]));
    assert_eq!(verifier, signer.verifier());
    let again = Signer::from_skey(s(&key["skey"])).unwrap();
    assert_eq!(again.vkey(), signer.vkey());
}

#[test]
fn published_example_is_reproduced_byte_for_byte() {
    let ex = load("example.json");
    let signer = Signer::from_skey(s(&ex["skey"])).unwrap();
    assert_eq!(signer.vkey(), s(&ex["vkey"]));
    assert_eq!(signer.skey().as_str(), s(&ex["skey"]));
    let note = sign_note(s(&ex["text"]), &[&signer]).unwrap();
    assert_eq!(note, s(&ex["note"]));
    let verifier = Verifier::from_vkey(s(&ex["vkey"])).unwrap();
    let (text, names) = open_note(&note, &[verifier]).unwrap();
    assert_eq!(text, s(&ex["text"]));
    assert_eq!(names, vec!["PeterNeumann".to_string()]);
}

#[test]
fn checkpoint_json_is_reproduced_byte_for_byte() {
    let cp = load("checkpoint.json");
    let root: Hash = hex::decode(s(&cp["root"])).unwrap().try_into().unwrap();
    let checkpoint = Checkpoint {
        origin: s(&cp["origin"]).to_owned(),
        size: cp["tree_size"].as_u64().unwrap(),
        root,
        extensions: vec![],
    };
    let text = checkpoint.to_text().unwrap();
    assert_eq!(text, s(&cp["body"]));
    let note = sign_note(&text, &[&test_signer()]).unwrap();
    assert_eq!(note, s(&cp["note"]));
    let verifier = Verifier::from_vkey(s(&cp["vkey"])).unwrap();
    assert_eq!(Checkpoint::open(&note, &[verifier]), Ok(checkpoint));
}

#[test]
fn every_note_case_is_judged_as_the_vectors_expect() {
    let cases = load("cases.json");
    let cases = cases["cases"].as_array().unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for case in cases {
        let verifiers: Vec<Verifier> = case["vkeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Verifier::from_vkey(s(v)).unwrap())
            .collect();
        let is_checkpoint = case["checkpoint"].as_bool().unwrap_or(false);
        let result = open_note(s(&case["note"]), &verifiers).and_then(|(text, _)| {
            if is_checkpoint {
                Checkpoint::parse(text).map(Some)
            } else {
                Ok(None)
            }
        });
        if case["valid"].as_bool().unwrap() {
            valid += 1;
            let parsed = result.unwrap_or_else(|e| panic!("{}: {e}", case["description"]));
            if let Some(cp) = parsed {
                let expect = &case["expect"];
                assert_eq!(cp.origin, s(&expect["origin"]));
                assert_eq!(cp.size, expect["tree_size"].as_u64().unwrap());
                assert_eq!(hex::encode(cp.root), s(&expect["root"]));
            }
        } else {
            invalid += 1;
            assert!(
                result.is_err(),
                "accepted must-fail case {}",
                case["description"]
            );
        }
    }
    assert_eq!((valid, invalid), (9, 19));
}

#[test]
fn every_vkey_case_is_judged_as_the_vectors_expect() {
    let cases = load("cases.json");
    let cases = cases["vkey_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let result = Verifier::from_vkey(s(&case["vkey"]));
        assert_eq!(result.is_ok(), case["valid"].as_bool().unwrap(), "{case}");
        if let Ok(v) = result {
            assert_eq!(v.vkey(), s(&case["vkey"]));
        }
    }
}

#[test]
fn text_that_cannot_be_signed_is_refused() {
    let signer = test_signer();
    assert_eq!(
        sign_note("no newline", &[&signer]),
        Err(NoteError::InvalidText)
    );
    assert_eq!(sign_note("", &[&signer]), Err(NoteError::InvalidText));
    assert_eq!(
        sign_note("tab\there\n", &[&signer]),
        Err(NoteError::InvalidText)
    );
    assert_eq!(sign_note("cr\r\n", &[&signer]), Err(NoteError::InvalidText));
    assert_eq!(sign_note("ok\n", &[]), Err(NoteError::SignerCount));
}

#[test]
fn bad_key_names_are_refused() {
    for name in ["", "has space", "has+plus", "tab\tname", "nbsp\u{a0}name"] {
        assert!(Signer::from_seed([7; 32], name).is_err(), "{name:?}");
    }
}

#[test]
fn generated_keys_sign_notes_that_only_they_open() {
    let a = Signer::generate("a.example/log").unwrap();
    let b = Signer::generate("b.example/log").unwrap();
    assert_ne!(a.vkey(), b.vkey());
    let note = sign_note("hello\n\nworld\n", &[&a, &b]).unwrap();
    let (text, names) = open_note(&note, &[b.verifier(), a.verifier()]).unwrap();
    assert_eq!(text, "hello\n\nworld\n");
    assert_eq!(
        names,
        vec!["a.example/log".to_string(), "b.example/log".to_string()]
    );
    let stranger = Signer::generate("c.example/log").unwrap();
    assert_eq!(
        open_note(&note, &[stranger.verifier()]),
        Err(NoteError::NoTrustedSignature)
    );
    assert_eq!(Signer::from_skey(&a.skey()).unwrap().vkey(), a.vkey());
}

#[test]
fn every_single_bit_flip_of_a_note_is_refused() {
    let signer = test_signer();
    let note = sign_note("callvault\n1\nAAAA\n", &[&signer]).unwrap();
    let verifiers = [signer.verifier()];
    let bytes = note.as_bytes();
    for i in 0..bytes.len() {
        let mut changed = bytes.to_vec();
        changed[i] ^= 0x01;
        let Ok(changed) = String::from_utf8(changed) else {
            continue;
        };
        assert!(
            open_note(&changed, &verifiers).is_err(),
            "flip at byte {i} accepted"
        );
    }
}

#[test]
fn checkpoint_text_round_trips_with_extensions_and_rejects_bad_fields() {
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 0,
        root: [9; 32],
        extensions: vec!["ext one".into()],
    };
    let text = cp.to_text().unwrap();
    assert_eq!(Checkpoint::parse(&text), Ok(cp.clone()));
    let with_newline = Checkpoint {
        origin: "a\nb".into(),
        ..cp.clone()
    };
    assert_eq!(with_newline.to_text(), Err(NoteError::MalformedCheckpoint));
    let empty_ext = Checkpoint {
        extensions: vec![String::new()],
        ..cp
    };
    assert_eq!(empty_ext.to_text(), Err(NoteError::MalformedCheckpoint));
    let root = B64.encode([9u8; 32]);
    for bad in [
        format!("o\n01\n{root}\n"),
        format!("o\n+1\n{root}\n"),
        format!("o\n\n{root}\n"),
        format!("\n1\n{root}\n"),
        format!("o\n1\n{root}"),
        format!("o\n1\n{root}\n\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        "o\n1\nAAAA\n".to_string(),
    ] {
        assert_eq!(
            Checkpoint::parse(&bad),
            Err(NoteError::MalformedCheckpoint),
            "{bad:?}"
        );
    }
}
