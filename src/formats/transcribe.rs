//! Amazon Transcribe batch output (channel identification or speaker diarization) → v1.
//!
//! One v1 segment per `audio_segments` entry (speaker from its label, times from its
//! `start_time`/`end_time`); one word per pronunciation item (times from the item); a
//! punctuation item is glued to the preceding word (dropped when it opens a segment); a space
//! goes before a word unless the previous character or the word's first character is CJK.
//! `ch_N`/`spk_N` with N = [`AgentChannel`] is the agent, the other index the customer; any
//! other label is refused.

use std::collections::HashMap;

use serde::Deserialize;

use super::import::{json_error, AgentChannel, ImportOptions};
use super::{FormatError, Segment, Speaker, Transcript, Word};

/// Characters after or before which no space is inserted (the reference importer's set).
const CJK_PUNCTUATION: &str = "，。！？；：、…（）";

#[derive(Deserialize)]
struct Document {
    results: Results,
}

#[derive(Deserialize)]
struct Results {
    items: Vec<Item>,
    audio_segments: Vec<AudioSegment>,
    #[serde(default)]
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    id: u64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    alternatives: Vec<Alternative>,
}

#[derive(Deserialize)]
struct Alternative {
    content: String,
}

#[derive(Deserialize)]
struct AudioSegment {
    start_time: String,
    end_time: String,
    #[serde(default)]
    speaker_label: Option<String>,
    #[serde(default)]
    channel_label: Option<String>,
    items: Vec<u64>,
}

/// Imports Transcribe JSON (already known to be UTF-8 and to have `results`). Not validated.
pub(crate) fn import(text: &str, options: &ImportOptions) -> Result<Transcript, FormatError> {
    let document: Document = serde_json::from_str(text).map_err(json_error)?;
    let results = document.results;
    let header = options.header(results.language_code.clone())?;
    let mut by_id = HashMap::with_capacity(results.items.len());
    for item in &results.items {
        if by_id.insert(item.id, item).is_some() {
            return Err(malformed("duplicate item id"));
        }
    }
    let segments = results
        .audio_segments
        .iter()
        .map(|segment| import_segment(segment, &by_id, options.agent_channel))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(header.into_transcript(segments))
}

fn import_segment(
    segment: &AudioSegment,
    by_id: &HashMap<u64, &Item>,
    agent: AgentChannel,
) -> Result<Segment, FormatError> {
    let label = segment
        .speaker_label
        .as_deref()
        .or(segment.channel_label.as_deref())
        .ok_or(malformed("audio segment without a label"))?;
    let mut words: Vec<Word> = Vec::new();
    let mut text = String::new();
    for id in &segment.items {
        let item = by_id.get(id).ok_or(malformed("unknown item id"))?;
        let content = item
            .alternatives
            .first()
            .map(|a| a.content.as_str())
            .ok_or(malformed("item without alternatives"))?;
        match item.kind.as_str() {
            "punctuation" => {
                if let Some(last) = words.last_mut() {
                    last.w.push_str(content);
                    text.push_str(content);
                }
            }
            "pronunciation" => {
                let word = pronunciation(item, content, text.chars().next_back())?;
                text.push_str(&word.w);
                words.push(word);
            }
            _ => return Err(malformed("unknown item type")),
        }
    }
    Ok(Segment {
        speaker: speaker(label, agent)?,
        start: parse_time(&segment.start_time)?,
        end: parse_time(&segment.end_time)?,
        text,
        words: Some(words),
    })
}

fn pronunciation(item: &Item, content: &str, previous: Option<char>) -> Result<Word, FormatError> {
    let first = content
        .chars()
        .next()
        .ok_or(malformed("empty pronunciation"))?;
    let spaced = previous.is_some_and(|p| !is_cjkish(p) && !is_cjkish(first));
    let time = |t: &Option<String>| parse_time(t.as_deref().ok_or(malformed("item without time"))?);
    Ok(Word {
        w: if spaced {
            format!(" {content}")
        } else {
            content.to_owned()
        },
        start: time(&item.start_time)?,
        end: time(&item.end_time)?,
    })
}

/// CJK ideograph, `〇` or CJK punctuation (the reference importer's rule).
fn is_cjkish(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || c == '〇' || CJK_PUNCTUATION.contains(c)
}

fn speaker(label: &str, agent: AgentChannel) -> Result<Speaker, FormatError> {
    let index = label
        .strip_prefix("ch_")
        .or_else(|| label.strip_prefix("spk_"))
        .ok_or(FormatError::UnknownSpeaker)?;
    let index = match index {
        "0" => 0,
        "1" => 1,
        _ => return Err(FormatError::UnknownSpeaker),
    };
    Ok(if index == agent.index() {
        Speaker::Agent
    } else {
        Speaker::Customer
    })
}

/// A Transcribe time: a plain decimal string of seconds (`"12.345"`).
fn parse_time(raw: &str) -> Result<f64, FormatError> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(malformed("time is not a decimal number"));
    }
    raw.parse()
        .map_err(|_| malformed("time is not a decimal number"))
}

fn malformed(what: &'static str) -> FormatError {
    FormatError::MalformedTranscribe { what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{import_transcript, validate_call_id, TranscriptKind};

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/formats/transcribe"
    );

    fn options_from(expected: &serde_json::Value) -> ImportOptions {
        let field = |k: &str| expected[k].as_str().map(str::to_owned);
        ImportOptions {
            call_id: Some(validate_call_id(expected["call_id"].as_str().unwrap()).unwrap()),
            started_at: field("started_at"),
            agent_id: field("agent_id"),
            language: field("language"),
            agent_channel: AgentChannel::default(),
        }
    }

    fn check_sample(name: &str) {
        let input = std::fs::read(format!("{DIR}/{name}.json")).expect("sample");
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(format!("{DIR}/{name}.v1.json")).expect("v1"))
                .expect("json");
        let transcript = import_transcript(&input, TranscriptKind::Json, &options_from(&expected))
            .expect("imports");
        assert_eq!(serde_json::to_value(&transcript).expect("ser"), expected);
    }

    #[test]
    fn channel_identification_zh_sample_reproduces_the_reference_import() {
        check_sample("c20260301-010013.channels");
    }

    #[test]
    fn channel_identification_en_sample_reproduces_the_reference_import() {
        check_sample("c20260310-010250.channels");
    }

    #[test]
    fn diarization_mixed_sample_reproduces_the_reference_import() {
        check_sample("c20260313-010206.speakers");
    }

    #[test]
    fn agent_channel_one_swaps_the_speakers() {
        let agent = AgentChannel::new(1).unwrap();
        assert_eq!(speaker("ch_1", agent), Ok(Speaker::Agent));
        assert_eq!(speaker("spk_0", agent), Ok(Speaker::Customer));
        assert_eq!(speaker("spk_2", agent), Err(FormatError::UnknownSpeaker));
        assert_eq!(speaker("ch_01", agent), Err(FormatError::UnknownSpeaker));
        assert!(AgentChannel::new(2).is_err());
    }

    #[test]
    fn transcribe_without_header_options_names_the_missing_field() {
        let input = std::fs::read(format!("{DIR}/c20260301-010013.channels.json")).unwrap();
        let id = validate_call_id("c20260301-010013").unwrap();
        let result = crate::formats::parse_transcript(&input, TranscriptKind::Json, Some(&id));
        assert_eq!(
            result,
            Err(FormatError::MissingHeader {
                field: "started_at"
            })
        );
    }

    #[test]
    fn a_dangling_item_id_is_malformed() {
        let input = r#"{"results": {"items": [], "audio_segments": [{"start_time": "0.0",
            "end_time": "1.0", "channel_label": "ch_0", "items": [7]}]}}"#;
        let options = ImportOptions {
            call_id: Some(validate_call_id("c1").unwrap()),
            started_at: Some("2026-03-01T21:40:09+08:00".into()),
            agent_id: Some("A1".into()),
            language: Some("en-US".into()),
            agent_channel: AgentChannel::default(),
        };
        let result = import_transcript(input.as_bytes(), TranscriptKind::Json, &options);
        assert_eq!(result, Err(malformed("unknown item id")));
    }

    #[test]
    fn times_must_be_plain_decimals() {
        for bad in ["", "1e3", "-1.0", "NaN", "inf", "1.", ".5", " 1.0"] {
            assert!(parse_time(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_time("12.345"), Ok(12.345));
        assert_eq!(parse_time("7"), Ok(7.0));
    }
}
