//! Validation of a v1 transcript, in itself and against the header of its audio.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{validate_call_id, AudioRef, Encoding, FormatError, Segment, Transcript, WavInfo};

/// The languages a transcript may declare.
pub const LANGUAGES: [&str; 3] = ["zh-CN", "en-US", "mixed"];
/// How far a time may be from whole milliseconds, in seconds.
const MS_TOLERANCE: f64 = 1e-6;
/// How far a word may stick out of its segment, or a segment out of the audio, in seconds.
const EDGE_TOLERANCE: f64 = 0.001;
/// The longest agent id, in bytes.
const MAX_AGENT_ID_LEN: usize = 128;

impl Transcript {
    /// Checks every invariant of the v1 format that needs no audio.
    ///
    /// Schema, call id, language, RFC 3339 `started_at`, agent id; times finite, non-negative
    /// and whole milliseconds, `start <= end`; segments in order without overlap; words in
    /// order, inside their segment (±1 ms) and concatenating exactly to the text; the audio
    /// block consistent in itself and no segment ending after its `duration_s` (±1 ms).
    pub fn validate(&self) -> Result<(), FormatError> {
        if self.schema != super::SCHEMA_V1 {
            return Err(FormatError::WrongSchema);
        }
        validate_call_id(&self.call_id)?;
        if !LANGUAGES.contains(&self.language.as_str()) {
            return Err(FormatError::InvalidLanguage);
        }
        OffsetDateTime::parse(&self.started_at, &Rfc3339)
            .map_err(|_| FormatError::InvalidStartedAt)?;
        validate_agent_id(&self.agent_id)?;
        if let Some(audio) = &self.audio {
            validate_audio_block(audio)?;
        }
        let mut previous_end = 0.0;
        for (index, segment) in self.segments.iter().enumerate() {
            validate_segment(index, segment)?;
            if segment.start < previous_end - MS_TOLERANCE {
                return Err(FormatError::TimesOutOfOrder { segment: index });
            }
            previous_end = segment.end;
            if let Some(audio) = &self.audio {
                if segment.end > audio.duration_s + EDGE_TOLERANCE {
                    return Err(FormatError::SegmentBeyondAudio { segment: index });
                }
            }
        }
        Ok(())
    }

    /// Checks the transcript against the header of its audio file.
    ///
    /// The audio block must exist and agree with `info` (encoding, rate, channels,
    /// `duration_s` within 1 ms of frames / rate), and no segment may end after the audio
    /// (±1 ms). Call [`Transcript::validate`] as well; this does not repeat it.
    pub fn validate_against_audio(&self, info: &WavInfo) -> Result<(), FormatError> {
        let audio = self
            .audio
            .as_ref()
            .ok_or(FormatError::AudioMismatch { field: "audio" })?;
        let mismatch = |field| Err(FormatError::AudioMismatch { field });
        if audio.encoding != info.encoding.as_str() {
            return mismatch("encoding");
        }
        if audio.sample_rate != info.sample_rate {
            return mismatch("sample_rate");
        }
        if audio.channels != info.channels {
            return mismatch("channels");
        }
        let duration = info.duration_s();
        if (audio.duration_s - duration).abs() > EDGE_TOLERANCE {
            return mismatch("duration_s");
        }
        match self
            .segments
            .iter()
            .position(|s| s.end > duration + EDGE_TOLERANCE)
        {
            Some(segment) => Err(FormatError::SegmentBeyondAudio { segment }),
            None => Ok(()),
        }
    }
}

fn validate_agent_id(agent_id: &str) -> Result<(), FormatError> {
    if agent_id.is_empty()
        || agent_id.len() > MAX_AGENT_ID_LEN
        || agent_id.chars().any(char::is_control)
    {
        return Err(FormatError::InvalidAgentId);
    }
    Ok(())
}

fn validate_audio_block(audio: &AudioRef) -> Result<(), FormatError> {
    let invalid = |field| Err(FormatError::InvalidAudio { field });
    if !is_plain_file_name(&audio.file) {
        return invalid("file");
    }
    if Encoding::from_name(&audio.encoding).is_none() {
        return invalid("encoding");
    }
    if audio.sample_rate == 0 {
        return invalid("sample_rate");
    }
    if audio.channels != 1 && audio.channels != 2 {
        return invalid("channels");
    }
    if audio.channel_map.agent >= audio.channels || audio.channel_map.customer >= audio.channels {
        return invalid("channel_map");
    }
    if !audio.duration_s.is_finite() || audio.duration_s < 0.0 {
        return invalid("duration_s");
    }
    Ok(())
}

/// A file name without directories, `..`, control characters or a leading dot.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':'])
        && !name.chars().any(char::is_control)
}

fn validate_segment(index: usize, segment: &Segment) -> Result<(), FormatError> {
    check_span(index, segment.start, segment.end)?;
    let Some(words) = &segment.words else {
        return Ok(());
    };
    let mut previous_end = 0.0;
    for (word_index, word) in words.iter().enumerate() {
        check_span(index, word.start, word.end)?;
        let outside =
            word.start < segment.start - EDGE_TOLERANCE || word.end > segment.end + EDGE_TOLERANCE;
        if outside {
            return Err(FormatError::WordOutsideSegment {
                segment: index,
                word: word_index,
            });
        }
        if word.start < previous_end - MS_TOLERANCE {
            return Err(FormatError::WordsOutOfOrder {
                segment: index,
                word: word_index,
            });
        }
        previous_end = word.end;
    }
    if !words_match(&segment.text, words.iter().map(|w| w.w.as_str())) {
        return Err(FormatError::WordsDoNotMatchText { segment: index });
    }
    Ok(())
}

/// Whether the tokens concatenate exactly to `text`, without building the concatenation.
fn words_match<'a>(text: &str, words: impl Iterator<Item = &'a str>) -> bool {
    let mut rest = text;
    for word in words {
        match rest.strip_prefix(word) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    rest.is_empty()
}

fn check_span(segment: usize, start: f64, end: f64) -> Result<(), FormatError> {
    if !is_whole_ms(start) || !is_whole_ms(end) {
        return Err(FormatError::InvalidTime { segment });
    }
    if start > end {
        return Err(FormatError::StartAfterEnd { segment });
    }
    Ok(())
}

/// Finite, non-negative and within [`MS_TOLERANCE`] of whole milliseconds.
fn is_whole_ms(t: f64) -> bool {
    t.is_finite() && t >= 0.0 && (t - (t * 1000.0).round() / 1000.0).abs() <= MS_TOLERANCE
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
