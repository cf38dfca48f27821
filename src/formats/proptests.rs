//! Property tests for the parsers: no input panics them; v1 survives a round trip.

use proptest::prelude::*;

use super::{
    parse_header, parse_transcript, parse_wav, AudioRef, ChannelMap, Segment, Speaker, Transcript,
    TranscriptKind, Word, SCHEMA_V1,
};

/// Words as (text, duration ms, gap ms before).
type RawWords = Vec<(String, u32, u32)>;

fn build_segment(start_ms: u32, speaker: bool, raw: &RawWords, with_words: bool) -> Segment {
    let mut t = start_ms;
    let mut words = Vec::new();
    for (i, (text, duration, gap)) in raw.iter().enumerate() {
        if i > 0 {
            t += gap;
        }
        let word_start = t;
        t += duration;
        words.push(Word {
            w: text.clone(),
            start: f64::from(word_start) / 1000.0,
            end: f64::from(t) / 1000.0,
        });
    }
    Segment {
        speaker: if speaker {
            Speaker::Agent
        } else {
            Speaker::Customer
        },
        start: f64::from(start_ms) / 1000.0,
        end: f64::from(t) / 1000.0,
        text: words.iter().map(|w| w.w.as_str()).collect(),
        words: with_words.then_some(words),
    }
}

fn arb_transcript() -> impl Strategy<Value = Transcript> {
    let word = ("[a-z一-龥 ，。]{1,4}", 0u32..800, 0u32..200);
    let segment = (
        0u32..2000,
        any::<bool>(),
        prop::collection::vec(word, 1..6),
        any::<bool>(),
    );
    (
        "[A-Za-z0-9][A-Za-z0-9_-]{0,40}",
        prop::sample::select(vec!["zh-CN", "en-US", "mixed"]),
        "[A-Z][0-9]{1,5}",
        prop::collection::vec(segment, 0..6),
        prop::option::of((1u16..=2, 0u32..5000)),
    )
        .prop_map(|(call_id, language, agent_id, raw_segments, audio)| {
            let mut t = 0;
            let mut segments = Vec::new();
            for (gap, speaker, words, with_words) in raw_segments {
                let segment = build_segment(t + gap, speaker, &words, with_words);
                t = (segment.end * 1000.0).round() as u32;
                segments.push(segment);
            }
            Transcript {
                schema: SCHEMA_V1.to_owned(),
                audio: audio.map(|(channels, tail)| AudioRef {
                    file: format!("{call_id}.wav"),
                    encoding: "mulaw".to_owned(),
                    sample_rate: 8000,
                    channels,
                    duration_s: f64::from(t + tail) / 1000.0,
                    channel_map: ChannelMap {
                        agent: 0,
                        customer: channels - 1,
                    },
                }),
                call_id,
                started_at: "2026-03-01T21:40:09+08:00".to_owned(),
                agent_id,
                language: language.to_owned(),
                segments,
            }
        })
}

proptest! {
    #[test]
    fn a_valid_v1_transcript_survives_serialize_then_parse(transcript in arb_transcript()) {
        let bytes = serde_json::to_vec(&transcript).expect("serializes");
        let parsed = parse_transcript(&bytes, TranscriptKind::Json, None);
        prop_assert_eq!(parsed, Ok(transcript));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_transcript(&bytes, TranscriptKind::Json, None);
        let _ = parse_transcript(&bytes, TranscriptKind::WebVtt, None);
        let _ = parse_wav(&bytes);
        let _ = parse_header(&bytes);
    }

    #[test]
    fn vtt_like_text_never_panics_the_importer(
        text in "(WEBVTT\n|Language: en-US\n|\n|NOTE x\n|00:0[0-9]:0[0-9]\\.[0-9]{3} --> 0[0-9]:00\\.[0-9]{3}\n|<v Agent>|</v>|&amp;|&|<|[a-z0-9 .:]{0,4}|\r)*",
    ) {
        let options = super::ImportOptions {
            call_id: Some(super::validate_call_id("c1").expect("id")),
            started_at: Some("2026-03-01T21:40:09+08:00".to_owned()),
            agent_id: Some("A1".to_owned()),
            ..Default::default()
        };
        let _ = super::import_transcript(text.as_bytes(), TranscriptKind::WebVtt, &options);
    }

    #[test]
    fn json_like_text_never_panics_the_importers(
        text in "(\\{|\\}|\\[|\\]|\"results\"|\"items\"|\"audio_segments\"|\"schema\"|:|,|\"[a-z_0-9.]{0,6}\"|[0-9]{1,3})*",
    ) {
        let _ = parse_transcript(text.as_bytes(), TranscriptKind::Json, None);
    }
}
