use super::*;
use crate::formats::{import_transcript, validate_call_id, TranscriptKind};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/formats/webvtt"
);

fn options(call_id: &str) -> ImportOptions {
    ImportOptions {
        call_id: Some(validate_call_id(call_id).expect("valid id")),
        started_at: Some("2026-03-01T21:40:09+08:00".into()),
        agent_id: Some("A1".into()),
        ..ImportOptions::default()
    }
}

fn check_sample(call_id: &str) {
    let input = std::fs::read(format!("{DIR}/{call_id}.vtt")).expect("sample");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{DIR}/{call_id}.v1.json")).expect("v1"))
            .expect("json");
    let options = ImportOptions {
        started_at: expected["started_at"].as_str().map(str::to_owned),
        agent_id: expected["agent_id"].as_str().map(str::to_owned),
        ..options(call_id)
    };
    let transcript = import_transcript(&input, TranscriptKind::WebVtt, &options).expect("imports");
    assert_eq!(serde_json::to_value(&transcript).expect("ser"), expected);
}

fn import_str(text: &str) -> Result<Transcript, FormatError> {
    import_transcript(text.as_bytes(), TranscriptKind::WebVtt, &options("c1"))
}

#[test]
fn zh_sample_reproduces_the_reference_import() {
    check_sample("c20260301-010164");
}

#[test]
fn en_sample_reproduces_the_reference_import() {
    check_sample("c20260301-010105");
}

#[test]
fn mixed_sample_reproduces_the_reference_import() {
    check_sample("c20260310-010280");
}

#[test]
fn crlf_identifiers_hours_and_escapes_are_handled() {
    let text =
        "WEBVTT\r\nLanguage: en-US\r\n\r\nNOTE x\r\n\r\n01:02.500 --> 01:03.000 align:start\r\n\
                <v.loud Customer>a &amp;lt; b &gt; c &x\r\n</v>\r\n";
    let transcript = import_str(text).expect("imports");
    let segment = &transcript.segments[0];
    assert_eq!(segment.speaker, Speaker::Customer);
    assert_eq!((segment.start, segment.end), (62.5, 63.0));
    assert_eq!(segment.text, "a &lt; b > c &x\n");
    assert!(segment.words.is_none());
}

#[test]
fn a_missing_signature_is_malformed() {
    assert_eq!(
        import_str("WEBVT\n\n1\n00:00:00.000 --> 00:00:01.000\n<v Agent>x</v>\n"),
        Err(FormatError::MalformedVtt { line: 1 })
    );
}

#[test]
fn an_unknown_voice_is_refused() {
    let text = "WEBVTT\nLanguage: en-US\n\n00:00:00.000 --> 00:00:01.000\n<v Bob>x</v>\n";
    assert_eq!(import_str(text), Err(FormatError::UnknownSpeaker));
}

#[test]
fn nested_tags_and_bad_timestamps_point_at_their_line() {
    let tag =
        "WEBVTT\nLanguage: en-US\n\n1\n00:00:00.000 --> 00:00:01.000\n<v Agent><b>x</b></v>\n";
    assert_eq!(import_str(tag), Err(FormatError::MalformedVtt { line: 6 }));
    let time = "WEBVTT\nLanguage: en-US\n\n00:00:61.000 --> 00:01:01.000\n<v Agent>x</v>\n";
    assert_eq!(import_str(time), Err(FormatError::MalformedVtt { line: 4 }));
}

#[test]
fn a_missing_language_needs_the_option() {
    let text = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Agent>x</v>\n";
    assert_eq!(
        import_str(text),
        Err(FormatError::MissingHeader { field: "language" })
    );
    let options = ImportOptions {
        language: Some("zh-CN".into()),
        ..options("c1")
    };
    let transcript = import_transcript(text.as_bytes(), TranscriptKind::WebVtt, &options);
    assert_eq!(transcript.expect("imports").language, "zh-CN");
}

#[test]
fn webvtt_without_a_call_id_hint_is_refused() {
    let text = "WEBVTT\nLanguage: en-US\n\n00:00:00.000 --> 00:00:01.000\n<v Agent>x</v>\n";
    let result = crate::formats::parse_transcript(text.as_bytes(), TranscriptKind::WebVtt, None);
    assert_eq!(result, Err(FormatError::MissingHeader { field: "call_id" }));
}

#[test]
fn a_cue_inside_the_header_is_malformed_not_skipped() {
    let text = "WEBVTT\nLanguage: en-US\n00:00:00.000 --> 00:00:01.000\n<v Agent>x</v>\n";
    assert_eq!(import_str(text), Err(FormatError::MalformedVtt { line: 3 }));
}
