//! Bytes in, validated v1 transcript out: format detection and the import options.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{transcribe, webvtt, CallId, FormatError, Transcript, SCHEMA_V1};

/// The largest transcript accepted, in bytes.
pub const MAX_TRANSCRIPT_LEN: usize = 16 * 1024 * 1024;

/// How the transcript bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptKind {
    /// JSON: transcript v1 (has `"schema"`) or Amazon Transcribe batch output (has `results`),
    /// told apart by shape.
    Json,
    /// WebVTT with `<v Agent>` / `<v Customer>` voice spans.
    WebVtt,
}

/// Which Transcribe channel (`ch_N`) or speaker (`spk_N`) is the agent; the other is the
/// customer. Defaults to 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentChannel(u8);

impl AgentChannel {
    /// Channel/speaker `index` is the agent. Errors unless `index` is 0 or 1.
    pub fn new(index: u8) -> Result<Self, FormatError> {
        if index > 1 {
            return Err(FormatError::UnknownSpeaker);
        }
        Ok(Self(index))
    }

    /// The agent's channel/speaker index (0 or 1).
    pub fn index(self) -> u8 {
        self.0
    }
}

/// Header fields for formats that do not carry them, and importer choices.
///
/// For v1 JSON only `call_id` is used (it must then equal the content's). For Transcribe and
/// WebVTT, `call_id`, `started_at` and `agent_id` are required; `language` is required for
/// Transcribe unless the output has a `language_code`, and for WebVTT unless it has a
/// `Language:` header (the option wins over the content when both are present).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The call the transcript belongs to.
    pub call_id: Option<CallId>,
    /// RFC 3339 start of the call.
    pub started_at: Option<String>,
    /// The agent's id.
    pub agent_id: Option<String>,
    /// `zh-CN`, `en-US` or `mixed`.
    pub language: Option<String>,
    /// Which Transcribe channel or speaker is the agent.
    pub agent_channel: AgentChannel,
}

impl ImportOptions {
    /// Options naming only the call.
    pub fn for_call(call_id: Option<&CallId>) -> Self {
        Self {
            call_id: call_id.cloned(),
            ..Self::default()
        }
    }

    /// The header fields a foreign format lacks, each required.
    pub(crate) fn header(&self, language: Option<String>) -> Result<Header, FormatError> {
        let missing = |field| FormatError::MissingHeader { field };
        Ok(Header {
            call_id: self.call_id.clone().ok_or(missing("call_id"))?,
            started_at: self.started_at.clone().ok_or(missing("started_at"))?,
            agent_id: self.agent_id.clone().ok_or(missing("agent_id"))?,
            language: self
                .language
                .clone()
                .or(language)
                .ok_or(missing("language"))?,
        })
    }
}

/// The v1 header fields an importer fills in.
pub(crate) struct Header {
    pub(crate) call_id: CallId,
    pub(crate) started_at: String,
    pub(crate) agent_id: String,
    pub(crate) language: String,
}

impl Header {
    /// A v1 transcript with this header, no audio block and the given segments.
    pub(crate) fn into_transcript(self, segments: Vec<super::Segment>) -> Transcript {
        Transcript {
            schema: SCHEMA_V1.to_owned(),
            call_id: self.call_id.to_string(),
            started_at: self.started_at,
            agent_id: self.agent_id,
            language: self.language,
            audio: None,
            segments,
        }
    }
}

/// Parses and validates a transcript; `call_id_hint` names the call for formats without an id
/// (and must equal the id of a v1 transcript when given).
///
/// Only v1 JSON imports without further options: Transcribe and WebVTT lack `started_at` and
/// `agent_id`, so they fail with [`FormatError::MissingHeader`] here; use
/// [`import_transcript`] for them.
pub fn parse_transcript(
    bytes: &[u8],
    kind: TranscriptKind,
    call_id_hint: Option<&CallId>,
) -> Result<Transcript, FormatError> {
    import_transcript(bytes, kind, &ImportOptions::for_call(call_id_hint))
}

/// Parses any supported format into a validated v1 transcript.
///
/// Errors: [`FormatError::TooLarge`] over [`MAX_TRANSCRIPT_LEN`], [`FormatError::InvalidUtf8`],
/// the format's parse errors, [`FormatError::MissingHeader`] for header fields neither the
/// content nor `options` give, [`FormatError::CallIdMismatch`], and every
/// [`Transcript::validate`] error.
pub fn import_transcript(
    bytes: &[u8],
    kind: TranscriptKind,
    options: &ImportOptions,
) -> Result<Transcript, FormatError> {
    if bytes.len() > MAX_TRANSCRIPT_LEN {
        return Err(FormatError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| FormatError::InvalidUtf8)?;
    let transcript = match kind {
        TranscriptKind::WebVtt => webvtt::import(text, options)?,
        TranscriptKind::Json => match sniff_json(text)? {
            JsonShape::V1 => parse_v1(text, options.call_id.as_ref())?,
            JsonShape::Transcribe => transcribe::import(text, options)?,
        },
    };
    transcript.validate()?;
    Ok(transcript)
}

enum JsonShape {
    V1,
    Transcribe,
}

/// Only the top-level keys that tell the JSON formats apart.
#[derive(Deserialize)]
struct Probe {
    schema: Option<IgnoredAny>,
    results: Option<IgnoredAny>,
}

fn sniff_json(text: &str) -> Result<JsonShape, FormatError> {
    let probe: Probe = serde_json::from_str(text).map_err(json_error)?;
    match (probe.schema.is_some(), probe.results.is_some()) {
        (true, _) => Ok(JsonShape::V1),
        (false, true) => Ok(JsonShape::Transcribe),
        (false, false) => Err(FormatError::UnknownFormat),
    }
}

/// Only the schema field, so a v2 document is reported as such rather than as a bad field.
#[derive(Deserialize)]
struct SchemaProbe<'a> {
    #[serde(borrow)]
    schema: std::borrow::Cow<'a, str>,
}

fn parse_v1(text: &str, expected: Option<&CallId>) -> Result<Transcript, FormatError> {
    let probe: SchemaProbe<'_> =
        serde_json::from_str(text).map_err(|_| FormatError::WrongSchema)?;
    if probe.schema != SCHEMA_V1 {
        return Err(FormatError::WrongSchema);
    }
    let transcript: Transcript = serde_json::from_str(text).map_err(json_error)?;
    if let Some(expected) = expected {
        if transcript.call_id != expected.as_str() {
            return Err(FormatError::CallIdMismatch);
        }
    }
    Ok(transcript)
}

/// Maps a serde_json error to a content-free [`FormatError`] (serde messages may quote input).
pub(crate) fn json_error(error: serde_json::Error) -> FormatError {
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        serde_json::error::Category::Data => FormatError::InvalidStructure { line, column },
        _ => FormatError::MalformedJson { line, column },
    }
}
