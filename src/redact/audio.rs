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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::wav::{parse_wav, Encoding};
    use crate::formats::{parse_transcript, wav_header, TranscriptKind};
    use proptest::prelude::*;

    const NO_LIMIT: u64 = u64::MAX;

    fn wav(encoding: Encoding, rate: u32, channels: u16, samples: &[u8]) -> Vec<u8> {
        let frame_len = usize::from(channels) * encoding.bytes_per_sample();
        let frames = (samples.len() / frame_len) as u64;
        let mut bytes = wav_header(encoding, rate, channels, frames);
        bytes.extend_from_slice(&samples[..frames as usize * frame_len]);
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        bytes
    }

    fn run(spans: &[SilenceSpan], pad: f64, chunks: &[&[u8]]) -> Result<Vec<u8>, AudioError> {
        let mut redactor = AudioRedactor::new(spans.to_vec(), pad, NO_LIMIT);
        let mut out = Vec::new();
        for chunk in chunks {
            redactor.push(chunk, &mut out)?;
        }
        redactor.finish().map(|_| out)
    }

    fn span(channel: u16, start_s: f64, end_s: f64) -> SilenceSpan {
        SilenceSpan {
            channel,
            start_s,
            end_s,
        }
    }

    #[test]
    fn a_span_silences_only_its_channel_with_the_zero_code() {
        for encoding in [Encoding::PcmS16le, Encoding::Mulaw, Encoding::Alaw] {
            let input = wav(encoding, 10, 2, &[0x11; 80]);
            let out = run(&[span(1, 0.3, 0.5)], 0.1, &[&input]).expect("redacts");
            let info = parse_wav(&out).expect("output parses");
            let bps = encoding.bytes_per_sample();
            let data = &out[info.data_offset as usize..];
            for (frame, bytes) in data.chunks(2 * bps).enumerate() {
                assert_eq!(&bytes[..bps], &vec![0x11; bps][..], "channel 0 untouched");
                let silenced = (2..6).contains(&frame);
                let expected = if silenced {
                    encoding.silence_byte()
                } else {
                    0x11
                };
                assert_eq!(&bytes[bps..], &vec![expected; bps][..], "frame {frame}");
            }
        }
    }

    #[test]
    fn padding_is_clamped_at_both_ends_of_the_audio() {
        let input = wav(Encoding::Mulaw, 10, 1, &[1; 10]);
        let out = run(&[span(0, 0.0, 1.0)], 5.0, &[&input]).expect("redacts");
        assert!(out[58..68].iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn redacting_nothing_returns_the_input() {
        let input = wav(Encoding::Alaw, 8000, 1, &[7; 33]);
        assert_eq!(run(&[], DEFAULT_PAD_S, &[&input]), Ok(input));
    }

    #[test]
    fn spans_outside_the_audio_are_refused() {
        let input = wav(Encoding::PcmS16le, 10, 2, &[3; 40]);
        let cases = [
            (span(2, 0.0, 0.1), AudioError::SpanChannel { span: 0 }),
            (span(0, 1.5, 1.6), AudioError::SpanBeyondAudio { span: 0 }),
            (span(0, 0.5, 0.4), AudioError::InvalidSpan { span: 0 }),
            (span(0, f64::NAN, 0.4), AudioError::InvalidSpan { span: 0 }),
            (span(0, -0.1, 0.4), AudioError::InvalidSpan { span: 0 }),
        ];
        for (bad, error) in cases {
            assert_eq!(run(&[bad], 0.2, &[&input]), Err(error));
        }
        assert_eq!(run(&[], -0.2, &[&input]), Err(AudioError::InvalidPad));
    }

    #[test]
    fn nothing_is_written_before_the_spans_are_checked() {
        let input = wav(Encoding::PcmS16le, 10, 1, &[3; 20]);
        let mut redactor = AudioRedactor::new(vec![span(1, 0.0, 0.1)], 0.2, NO_LIMIT);
        let mut out = Vec::new();
        assert!(redactor.push(&input, &mut out).is_err());
        assert!(out.is_empty());
        assert!(redactor.push(&[], &mut out).is_err(), "stays failed");
    }

    #[test]
    fn malformed_files_are_refused() {
        let good = wav(Encoding::PcmS16le, 10, 2, &[3; 40]);
        let mut two_data = good.clone();
        two_data.extend_from_slice(b"data\x04\x00\x00\x00\x01\x02\x03\x04");
        let riff = u32::from_le_bytes(good[4..8].try_into().unwrap()) + 12;
        two_data[4..8].copy_from_slice(&riff.to_le_bytes());
        let mut beyond = good.clone();
        beyond[4..8].copy_from_slice(&(riff - 16).to_le_bytes());
        let mut odd = good[..good.len() - 2].to_vec();
        odd[40..44].copy_from_slice(&38u32.to_le_bytes());
        odd[4..8].copy_from_slice(&(riff - 14).to_le_bytes());
        let cases = [
            (two_data, WavError::ChunkAfterData),
            (beyond, WavError::DataBeyondRiff),
            (good[..good.len() - 1].to_vec(), WavError::Truncated),
            (odd, WavError::DataNotWholeFrames),
            ([&good[..], &[0]].concat(), WavError::TrailingBytes),
        ];
        for (bytes, error) in cases {
            assert_eq!(run(&[], 0.2, &[&bytes]), Err(AudioError::Wav(error)));
        }
    }

    #[test]
    fn too_many_bytes_are_refused() {
        let input = wav(Encoding::Mulaw, 10, 1, &[3; 20]);
        let mut redactor = AudioRedactor::new(Vec::new(), 0.2, input.len() as u64 - 1);
        let result = redactor.push(&input, &mut Vec::new());
        assert_eq!(result, Err(AudioError::TooLarge));
    }

    #[test]
    fn a_header_split_across_pushes_parses() {
        let input = wav(Encoding::Mulaw, 10, 2, &[9; 20]);
        for cut in 0..input.len() {
            let out = run(&[], 0.2, &[&input[..cut], &input[cut..]]).expect("parses");
            assert_eq!(out, input, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&[], 0.2, &bytes), Ok(input.clone()));
    }

    #[test]
    fn info_is_available_once_the_header_is_through() {
        let input = wav(Encoding::Alaw, 10, 1, &[9; 20]);
        let mut redactor = AudioRedactor::new(Vec::new(), 0.2, NO_LIMIT);
        let mut out = Vec::new();
        redactor.push(&input[..40], &mut out).expect("push");
        assert!(redactor.info().is_none());
        redactor.push(&input[40..60], &mut out).expect("push");
        assert_eq!(redactor.info().map(|i| i.frames), Some(20));
    }

    #[test]
    fn dev_corpus_audio_redacting_nothing_is_byte_identical() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/dev/calls");
        for entry in std::fs::read_dir(dir).expect("corpus") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "wav") {
                continue;
            }
            let input = std::fs::read(&path).expect("wav");
            let mut redactor = AudioRedactor::new(Vec::new(), DEFAULT_PAD_S, NO_LIMIT);
            let mut out = Vec::new();
            for chunk in input.chunks(4093) {
                redactor.push(chunk, &mut out).expect("push");
            }
            let info = redactor.finish().expect("finish");
            assert_eq!(out, input);
            let json = std::fs::read(path.with_extension("json")).expect("transcript");
            let transcript = parse_transcript(&json, TranscriptKind::Json, None).expect("valid");
            transcript
                .validate_against_audio(&info)
                .expect("info matches the audio block");
        }
    }

    fn arb_wav() -> impl Strategy<Value = (Vec<u8>, Encoding, u32, u16)> {
        let encoding = prop_oneof![
            Just(Encoding::PcmS16le),
            Just(Encoding::Mulaw),
            Just(Encoding::Alaw)
        ];
        (
            encoding,
            1u32..2000,
            1u16..=2,
            prop::collection::vec(1u8..=254, 0..1500),
        )
            .prop_map(|(encoding, rate, channels, samples)| {
                (
                    wav(encoding, rate, channels, &samples),
                    encoding,
                    rate,
                    channels,
                )
            })
    }

    fn arb_spans() -> impl Strategy<Value = Vec<(u16, u32, u32)>> {
        prop::collection::vec((0u16..2, 0u32..3000, 0u32..500), 0..5)
    }

    proptest! {
        #[test]
        fn chunked_output_equals_one_shot_and_silences_exactly_the_padded_spans(
            (input, encoding, rate, channels) in arb_wav(),
            raw_spans in arb_spans(),
            cuts in prop::collection::vec(0usize..2000, 0..8),
            pad_ms in 0u32..300,
        ) {
            let info = parse_wav(&input).expect("generated wav");
            let duration_ms = (info.duration_s() * 1000.0).floor() as u32;
            let spans: Vec<SilenceSpan> = raw_spans
                .iter()
                .map(|&(c, s, l)| {
                    let start = s.min(duration_ms);
                    span(c % channels, f64::from(start) / 1000.0, f64::from(start + l) / 1000.0)
                })
                .collect();
            let pad = f64::from(pad_ms) / 1000.0;
            let one_shot = run(&spans, pad, &[&input]).expect("redacts");
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for cut in cuts.into_iter().chain([input.len()]) {
                chunks.push(&input[last..cut]);
                last = cut;
            }
            prop_assert_eq!(&run(&spans, pad, &chunks).expect("redacts"), &one_shot);
            let data = info.data_offset as usize;
            prop_assert_eq!(&one_shot[..data], &input[..data]);
            let bps = encoding.bytes_per_sample();
            let rate = f64::from(rate);
            for frame in 0..info.frames as usize {
                for channel in 0..usize::from(channels) {
                    let at = data + (frame * usize::from(channels) + channel) * bps;
                    let (inside, near) = classify(&spans, channel, frame as f64, rate, pad);
                    let sample = &one_shot[at..at + bps];
                    if inside {
                        prop_assert!(sample.iter().all(|&b| b == encoding.silence_byte()));
                    } else if !near {
                        prop_assert_eq!(sample, &input[at..at + bps]);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_redactor(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            split in 0usize..200,
        ) {
            let split = split.min(bytes.len());
            let _ = run(&[span(0, 0.0, 0.1)], 0.2, &[&bytes[..split], &bytes[split..]]);
        }
    }

    /// Whether `frame` is surely inside a padded span on `channel`, or within a frame of one.
    fn classify(
        spans: &[SilenceSpan],
        channel: usize,
        frame: f64,
        rate: f64,
        pad: f64,
    ) -> (bool, bool) {
        let mut result = (false, false);
        for s in spans.iter().filter(|s| usize::from(s.channel) == channel) {
            let (start, end) = ((s.start_s - pad).max(0.0) * rate, (s.end_s + pad) * rate);
            result.0 |= frame >= start + 1.0 && frame <= end - 1.0;
            result.1 |= frame >= start - 1.0 && frame <= end + 1.0;
        }
        result
    }
}
