//! Input formats: transcript v1 (the native format), Amazon Transcribe batch JSON and WebVTT
//! (imported into v1), and WAV audio (PCM, μ-law, A-law).
//!
//! The seam for the rest of the crate is [`parse_transcript`] / [`import_transcript`] (bytes in,
//! validated [`Transcript`] out), [`validate_call_id`], [`parse_wav`] / [`parse_header`] and
//! [`Transcript::validate_against_audio`].

mod call_id;
pub mod g711;
mod import;
mod transcribe;
pub mod transcript;
mod validate;
pub mod wav;
mod wav_write;
mod webvtt;

#[cfg(test)]
mod proptests;

use thiserror::Error;

pub use call_id::{validate_call_id, CallId, MAX_CALL_ID_LEN};
pub use import::{
    import_transcript, parse_transcript, AgentChannel, ImportOptions, TranscriptKind,
    MAX_TRANSCRIPT_LEN,
};
pub use transcript::{AudioRef, ChannelMap, Segment, Speaker, Transcript, Word, SCHEMA_V1};
pub use wav::{
    check_total_len, parse_header, parse_wav, Encoding, HeaderStatus, WavError, WavInfo,
};
pub use wav_write::wav_header;

/// Why a transcript (or its audio) was refused.
///
/// Variants name the problem and where (segment and word indices), never the content.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The input is longer than [`MAX_TRANSCRIPT_LEN`].
    #[error("transcript is too large")]
    TooLarge,
    /// The input is not UTF-8.
    #[error("transcript is not valid UTF-8")]
    InvalidUtf8,
    /// The JSON does not parse.
    #[error("malformed JSON at line {line}, column {column}")]
    MalformedJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON parses but a field is missing, unknown or of the wrong type.
    #[error("unexpected JSON structure at line {line}, column {column}")]
    InvalidStructure {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON is neither a v1 transcript nor Amazon Transcribe output.
    #[error("unknown transcript format")]
    UnknownFormat,
    /// The `schema` field is not `callvault.transcript/v1`.
    #[error("wrong schema")]
    WrongSchema,
    /// The call id does not match `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` or is path-like.
    #[error("invalid call id")]
    InvalidCallId,
    /// The content names a different call id than the caller expected.
    #[error("call id differs from the expected one")]
    CallIdMismatch,
    /// A header field the format does not carry was not given in the import options.
    #[error("missing header field {field}")]
    MissingHeader {
        /// The field (`call_id`, `started_at`, `agent_id`, `language`).
        field: &'static str,
    },
    /// `started_at` is not an RFC 3339 timestamp.
    #[error("started_at is not RFC 3339")]
    InvalidStartedAt,
    /// `agent_id` is empty, too long or has control characters.
    #[error("invalid agent id")]
    InvalidAgentId,
    /// `language` is not `zh-CN`, `en-US` or `mixed`.
    #[error("unsupported language")]
    InvalidLanguage,
    /// The `audio` block is inconsistent in itself.
    #[error("invalid audio block: {field}")]
    InvalidAudio {
        /// The offending field.
        field: &'static str,
    },
    /// A time is not finite, negative or not whole milliseconds.
    #[error("invalid time in segment {segment}")]
    InvalidTime {
        /// Segment index.
        segment: usize,
    },
    /// A segment or word ends before it starts.
    #[error("start after end in segment {segment}")]
    StartAfterEnd {
        /// Segment index.
        segment: usize,
    },
    /// A segment starts before the previous one ends.
    #[error("segment {segment} is out of time order or overlaps the previous one")]
    TimesOutOfOrder {
        /// Segment index.
        segment: usize,
    },
    /// A word starts before the previous word ends.
    #[error("word {word} of segment {segment} is out of order")]
    WordsOutOfOrder {
        /// Segment index.
        segment: usize,
        /// Word index.
        word: usize,
    },
    /// A word lies outside its segment's span.
    #[error("word {word} lies outside segment {segment}")]
    WordOutsideSegment {
        /// Segment index.
        segment: usize,
        /// Word index.
        word: usize,
    },
    /// The words do not concatenate to the segment text.
    #[error("words do not match the text of segment {segment}")]
    WordsDoNotMatchText {
        /// Segment index.
        segment: usize,
    },
    /// A segment ends after the audio does.
    #[error("segment {segment} ends after the audio")]
    SegmentBeyondAudio {
        /// Segment index.
        segment: usize,
    },
    /// The `audio` block disagrees with the WAV header.
    #[error("audio block disagrees with the WAV header: {field}")]
    AudioMismatch {
        /// The disagreeing field.
        field: &'static str,
    },
    /// A speaker label or voice that maps to neither agent nor customer.
    #[error("unknown speaker")]
    UnknownSpeaker,
    /// Amazon Transcribe output that is inconsistent (dangling item id, missing time...).
    #[error("malformed Transcribe output: {what}")]
    MalformedTranscribe {
        /// What is wrong.
        what: &'static str,
    },
    /// WebVTT that does not follow the expected layout.
    #[error("malformed WebVTT at line {line}")]
    MalformedVtt {
        /// 1-based line.
        line: usize,
    },
    /// The WAV file was refused.
    #[error("invalid WAV: {0}")]
    Wav(#[from] WavError),
}
