use crate::formats::{
    parse_transcript, parse_wav, validate_call_id, FormatError, Transcript, TranscriptKind,
};

const CALLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/dev/calls");
const SAMPLE: &str = "c20260301-010013";

fn dev_paths(extension: &str) -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(CALLS)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths
}

fn sample_value() -> serde_json::Value {
    let bytes = std::fs::read(format!("{CALLS}/{SAMPLE}.json")).expect("sample");
    serde_json::from_slice(&bytes).expect("json")
}

fn parse_value(value: &serde_json::Value) -> Result<Transcript, FormatError> {
    let bytes = serde_json::to_vec(value).expect("ser");
    parse_transcript(&bytes, TranscriptKind::Json, None)
}

#[test]
fn every_dev_transcript_parses_and_validates() {
    let paths = dev_paths("json");
    assert_eq!(paths.len(), 300);
    for path in paths {
        let bytes = std::fs::read(&path).expect("read");
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        let id = validate_call_id(stem).expect("id");
        parse_transcript(&bytes, TranscriptKind::Json, Some(&id)).expect("dev transcript");
    }
}

#[test]
fn every_dev_wav_agrees_with_its_transcript() {
    let paths = dev_paths("wav");
    assert_eq!(paths.len(), 30);
    for path in paths {
        let info = parse_wav(&std::fs::read(&path).expect("wav")).expect("parses");
        let json = std::fs::read(path.with_extension("json")).expect("json");
        let transcript = parse_transcript(&json, TranscriptKind::Json, None).expect("valid");
        transcript.validate_against_audio(&info).expect("agrees");
    }
}

#[test]
fn malformed_json_reports_its_position() {
    let result = parse_transcript(b"{\"schema\": \n  nope}", TranscriptKind::Json, None);
    assert_eq!(
        result,
        Err(FormatError::MalformedJson { line: 2, column: 4 })
    );
}

#[test]
fn a_different_schema_is_wrong_schema() {
    let mut value = sample_value();
    value["schema"] = "callvault.transcript/v2".into();
    assert_eq!(parse_value(&value), Err(FormatError::WrongSchema));
}

#[test]
fn json_of_neither_shape_is_an_unknown_format() {
    let result = parse_transcript(b"{\"hello\": 1}", TranscriptKind::Json, None);
    assert_eq!(result, Err(FormatError::UnknownFormat));
}

#[test]
fn an_unknown_field_is_invalid_structure() {
    let mut value = sample_value();
    value["extra"] = 1.into();
    assert!(matches!(
        parse_value(&value),
        Err(FormatError::InvalidStructure { .. })
    ));
}

#[test]
fn words_that_do_not_spell_the_text_are_refused() {
    let mut value = sample_value();
    value["segments"][2]["words"][0]["w"] = "X".into();
    assert_eq!(
        parse_value(&value),
        Err(FormatError::WordsDoNotMatchText { segment: 2 })
    );
}

#[test]
fn a_segment_beyond_the_audio_is_refused() {
    let mut value = sample_value();
    let last = value["segments"].as_array().expect("segments").len() - 1;
    value["segments"][last]["end"] = 1000.0.into();
    assert_eq!(
        parse_value(&value),
        Err(FormatError::SegmentBeyondAudio { segment: last })
    );
}

#[test]
fn a_segment_beyond_the_wav_is_refused_against_audio() {
    let mut transcript: Transcript = serde_json::from_value(sample_value()).expect("v1");
    let wav = std::fs::read(format!("{CALLS}/{SAMPLE}.wav")).expect("wav");
    let mut info = parse_wav(&wav).expect("wav parses");
    info.frames /= 2;
    let audio = transcript.audio.as_mut().expect("audio");
    audio.duration_s = info.duration_s();
    let first_beyond = transcript
        .segments
        .iter()
        .position(|s| s.end > info.duration_s() + 0.001)
        .expect("some segment beyond");
    assert_eq!(
        transcript.validate_against_audio(&info),
        Err(FormatError::SegmentBeyondAudio {
            segment: first_beyond
        })
    );
}

#[test]
fn an_audio_block_that_disagrees_with_the_wav_is_refused() {
    let transcript: Transcript = serde_json::from_value(sample_value()).expect("v1");
    let wav = std::fs::read(format!("{CALLS}/{SAMPLE}.wav")).expect("wav");
    let mut info = parse_wav(&wav).expect("wav parses");
    info.sample_rate = 16000;
    assert_eq!(
        transcript.validate_against_audio(&info),
        Err(FormatError::AudioMismatch {
            field: "sample_rate"
        })
    );
}

#[test]
fn overlapping_segments_are_out_of_order() {
    let mut value = sample_value();
    let end = value["segments"][0]["end"].clone();
    value["segments"][1]["start"] = end.as_f64().map(|e| e - 0.5).expect("end").into();
    assert_eq!(
        parse_value(&value),
        Err(FormatError::TimesOutOfOrder { segment: 1 })
    );
}

#[test]
fn sub_millisecond_and_negative_times_are_invalid() {
    for bad in [0.0005, -1.0] {
        let mut value = sample_value();
        value["segments"][0]["words"][0]["start"] = bad.into();
        assert_eq!(
            parse_value(&value),
            Err(FormatError::InvalidTime { segment: 0 })
        );
    }
}

#[test]
fn a_word_outside_its_segment_is_refused() {
    let mut value = sample_value();
    let end = value["segments"][0]["end"].as_f64().expect("end");
    let words = value["segments"][0]["words"].as_array_mut().expect("words");
    words.last_mut().expect("word")["end"] = (end + 0.002).into();
    assert!(matches!(
        parse_value(&value),
        Err(FormatError::WordOutsideSegment { segment: 0, .. })
    ));
}

#[test]
fn header_fields_are_checked() {
    let cases: [(&str, serde_json::Value, FormatError); 5] = [
        ("language", "fr-FR".into(), FormatError::InvalidLanguage),
        (
            "started_at",
            "yesterday".into(),
            FormatError::InvalidStartedAt,
        ),
        ("agent_id", "".into(), FormatError::InvalidAgentId),
        ("call_id", "../x".into(), FormatError::InvalidCallId),
        ("call_id", "a/b".into(), FormatError::InvalidCallId),
    ];
    for (field, bad, error) in cases {
        let mut value = sample_value();
        value[field] = bad;
        assert_eq!(parse_value(&value), Err(error), "{field}");
    }
    let mut value = sample_value();
    value["call_id"] = "x".repeat(129).into();
    assert_eq!(parse_value(&value), Err(FormatError::InvalidCallId));
}

#[test]
fn an_audio_block_is_checked_in_itself() {
    let cases: [(&str, serde_json::Value); 4] = [
        ("encoding", "opus".into()),
        ("channels", 3.into()),
        ("file", "../c.wav".into()),
        ("sample_rate", 0.into()),
    ];
    for (field, bad) in cases {
        let mut value = sample_value();
        value["audio"][field] = bad;
        assert_eq!(
            parse_value(&value),
            Err(FormatError::InvalidAudio { field }),
            "{field}"
        );
    }
    let mut value = sample_value();
    value["audio"]["channel_map"]["customer"] = 2.into();
    assert_eq!(
        parse_value(&value),
        Err(FormatError::InvalidAudio {
            field: "channel_map"
        })
    );
}

#[test]
fn invalid_utf8_is_refused_for_every_kind() {
    for kind in [TranscriptKind::Json, TranscriptKind::WebVtt] {
        let result = parse_transcript(b"{\"schema\": \"\xff\"}", kind, None);
        assert_eq!(result, Err(FormatError::InvalidUtf8));
    }
}

#[test]
fn a_hint_that_differs_from_the_content_is_a_mismatch() {
    let bytes = serde_json::to_vec(&sample_value()).expect("ser");
    let other = validate_call_id("c-other").expect("id");
    let result = parse_transcript(&bytes, TranscriptKind::Json, Some(&other));
    assert_eq!(result, Err(FormatError::CallIdMismatch));
}

#[test]
fn an_oversized_input_is_too_large() {
    let bytes = vec![b' '; crate::formats::MAX_TRANSCRIPT_LEN + 1];
    let result = parse_transcript(&bytes, TranscriptKind::Json, None);
    assert_eq!(result, Err(FormatError::TooLarge));
}
