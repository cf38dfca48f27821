//! The streaming audio redactor: silences time spans on one channel of a WAV file.
//!
//! Used at ingest (silencing C3 spans before sealing) and on read (silencing the spans a role
//! may not hear). Memory is O(input chunk) plus the header (at most
//! [`MAX_HEADER_LEN`](crate::formats::wav::MAX_HEADER_LEN)), never the whole file.
//!
//! The output is byte-for-byte the input except the silenced samples, which become the
//! encoding's zero code (PCM `0`, μ-law `0xFF`, A-law `0xD5`) on the span's channel only.
//! Fail closed: a span on a missing channel, starting after the audio, ending before it starts
//! or not finite is an error, so a caller never "succeeds" with the voice intact; so is any
//! WAV the strict parser refuses. Call [`AudioRedactor::finish`], or a truncated input goes
//! unnoticed; after any error the redactor refuses further input.

use thiserror::Error;

use crate::formats::wav::{check_total_len, parse_header, HeaderStatus, WavError, WavInfo};

/// The default padding around every span, in seconds.
pub const DEFAULT_PAD_S: f64 = 0.2;
/// How far a span may start after the end of the audio and still be clamped, in seconds.
const EDGE_TOLERANCE_S: f64 = 0.001;
/// Slack when turning times into frame indices (times are whole milliseconds).
const FRAME_EPSILON: f64 = 1e-6;

/// A span to silence, without padding.
#[derive(Clone, Debug, PartialEq)]
pub struct SilenceSpan {
    /// The channel to silence (0-based).
    pub channel: u16,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// Why audio could not be redacted. No variant carries audio content.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AudioError {
    /// The WAV file was refused by the strict parser.
    #[error("invalid WAV: {0}")]
    Wav(#[from] WavError),
    /// The input exceeds the size limit.
    #[error("audio exceeds the size limit")]
    TooLarge,
    /// The padding is negative or not finite.
    #[error("invalid padding")]
    InvalidPad,
    /// A span names a channel the audio does not have.
    #[error("span {span} names a channel the audio does not have")]
    SpanChannel {
        /// Index of the span.
        span: usize,
    },
    /// A span starts after the end of the audio.
    #[error("span {span} starts after the end of the audio")]
    SpanBeyondAudio {
        /// Index of the span.
        span: usize,
    },
    /// A span is negative, not finite, or ends before it starts.
    #[error("span {span} is invalid")]
    InvalidSpan {
        /// Index of the span.
        span: usize,
    },
}

/// Silences spans of a WAV file fed to it in chunks of any size.
#[derive(Debug)]
pub struct AudioRedactor {
    spans: Vec<SilenceSpan>,
    pad_s: f64,
    max_bytes: u64,
    /// Bytes pushed so far.
    total: u64,
    stage: Stage,
}

#[derive(Debug)]
enum Stage {
    /// Collecting the header; parse again once `needed` bytes are there.
    Header { buffer: Vec<u8>, needed: usize },
    /// Passing the body through, silencing the frame ranges.
    Body { info: WavInfo, silence: Silence },
    /// An error happened; it is returned for every later call.
    Failed(AudioError),
}

/// The padded spans as sorted, merged frame ranges per channel.
#[derive(Debug)]
struct Silence {
    ranges: Vec<Vec<(u64, u64)>>,
    byte: u8,
    bytes_per_sample: usize,
    frame_len: usize,
}

impl AudioRedactor {
    /// A redactor for `spans` (unpadded), each widened by `pad_s` on both sides (clamped to the
    /// audio), refusing inputs longer than `max_bytes`. Spans are checked once the header is
    /// known.
    pub fn new(spans: Vec<SilenceSpan>, pad_s: f64, max_bytes: u64) -> Self {
        Self {
            spans,
            pad_s,
            max_bytes,
            total: 0,
            stage: Stage::Header {
                buffer: Vec::new(),
                needed: 0,
            },
        }
    }

    /// Feeds input bytes; appends output bytes to `out`.
    ///
    /// Nothing is written before the header has been parsed and every span checked against
    /// it. Errors on a refused header or span, on bytes beyond the RIFF end and when more
    /// than `max_bytes` arrive in total; the redactor is then unusable.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), AudioError> {
        let result = self.push_inner(input, out);
        if let Err(error) = &result {
            self.stage = Stage::Failed(error.clone());
        }
        result
    }

    /// The header, once it has been parsed (so the transcript can be checked against it
    /// before the body is through).
    pub fn info(&self) -> Option<&WavInfo> {
        match &self.stage {
            Stage::Body { info, .. } => Some(info),
            _ => None,
        }
    }

    /// Ends the input. Errors when it is truncated (or an earlier push failed).
    pub fn finish(self) -> Result<WavInfo, AudioError> {
        match self.stage {
            Stage::Header { .. } => Err(WavError::Truncated.into()),
            Stage::Failed(error) => Err(error),
            Stage::Body { info, .. } => {
                check_total_len(&info, self.total)?;
                Ok(info)
            }
        }
    }

    fn push_inner(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), AudioError> {
        let start = self.total;
        self.total += input.len() as u64;
        match &mut self.stage {
            Stage::Failed(error) => return Err(error.clone()),
            _ if self.total > self.max_bytes => return Err(AudioError::TooLarge),
            Stage::Header { buffer, needed } => {
                buffer.extend_from_slice(input);
                if buffer.len() < *needed {
                    return Ok(());
                }
                match parse_header(buffer)? {
                    HeaderStatus::NeedMore(n) => *needed = n,
                    HeaderStatus::Complete(info) => {
                        let silence = Silence::new(&info, &self.spans, self.pad_s)?;
                        let buffer = std::mem::take(buffer);
                        write_body(&info, &silence, 0, &buffer, out)?;
                        self.stage = Stage::Body { info, silence };
                    }
                }
            }
            Stage::Body { info, silence } => write_body(info, silence, start, input, out)?,
        }
        Ok(())
    }
}

/// Copies `input` (file bytes from offset `at`) to `out`, silencing the spans' samples.
fn write_body(
    info: &WavInfo,
    silence: &Silence,
    at: u64,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), AudioError> {
    let end = at + input.len() as u64;
    if end > info.file_len() {
        return Err(WavError::TrailingBytes.into());
    }
    let base = out.len();
    out.extend_from_slice(input);
    let data_start = at.max(info.data_offset);
    let data_end = end.min(info.data_offset + info.data_len);
    if data_start < data_end {
        let window = &mut out[base + (data_start - at) as usize..base + (data_end - at) as usize];
        silence.apply(data_start - info.data_offset, window);
    }
    Ok(())
}

impl Silence {
    fn new(info: &WavInfo, spans: &[SilenceSpan], pad_s: f64) -> Result<Self, AudioError> {
        if !pad_s.is_finite() || pad_s < 0.0 {
            return Err(AudioError::InvalidPad);
        }
        let duration = info.duration_s();
        let rate = f64::from(info.sample_rate);
        let mut ranges = vec![Vec::new(); usize::from(info.channels)];
        for (index, span) in spans.iter().enumerate() {
            let valid = span.start_s.is_finite() && span.end_s.is_finite();
            if !valid || span.start_s < 0.0 || span.end_s < span.start_s {
                return Err(AudioError::InvalidSpan { span: index });
            }
            if span.channel >= info.channels {
                return Err(AudioError::SpanChannel { span: index });
            }
            if span.start_s > duration + EDGE_TOLERANCE_S {
                return Err(AudioError::SpanBeyondAudio { span: index });
            }
            let start = (span.start_s - pad_s).max(0.0);
            let end = (span.end_s + pad_s).min(duration);
            let first = ((start * rate + FRAME_EPSILON).floor() as u64).min(info.frames);
            let last = ((end * rate - FRAME_EPSILON).ceil().max(0.0) as u64).min(info.frames);
            if first < last {
                ranges[usize::from(span.channel)].push((first, last));
            }
        }
        ranges.iter_mut().for_each(merge);
        Ok(Self {
            ranges,
            byte: info.encoding.silence_byte(),
            bytes_per_sample: info.encoding.bytes_per_sample(),
            frame_len: info.frame_len(),
        })
    }

    /// Silences the samples of `window`, which holds data bytes from offset `at`.
    fn apply(&self, at: u64, window: &mut [u8]) {
        let frame_len = self.frame_len as u64;
        let end = at + window.len() as u64;
        let (first_frame, end_frame) = (at / frame_len, end.div_ceil(frame_len));
        for (channel, ranges) in self.ranges.iter().enumerate() {
            let from = ranges.partition_point(|&(_, stop)| stop <= first_frame);
            for &(start, stop) in ranges[from..].iter().take_while(|r| r.0 < end_frame) {
                for frame in start.max(first_frame)..stop.min(end_frame) {
                    let sample = frame * frame_len + (channel * self.bytes_per_sample) as u64;
                    for byte in sample..sample + self.bytes_per_sample as u64 {
                        if (at..end).contains(&byte) {
                            window[(byte - at) as usize] = self.byte;
                        }
                    }
                }
            }
        }
    }
}

/// Sorts ranges and merges the overlapping or touching ones.
fn merge(ranges: &mut Vec<(u64, u64)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(start, stop) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(stop),
            _ => merged.push((start, stop)),
        }
    }
    *ranges = merged;
}
