//! Strict RIFF/WAVE parsing for the three encodings callvault stores.
//!
//! Accepted: 16-bit PCM (format tag 1, 16-byte `fmt `), μ-law (tag 7) and A-law (tag 6) with an
//! 18-byte `fmt ` (cbSize 0) and a `fact` chunk; mono or stereo; any sample rate above zero.
//! The layout must be `RIFF` `WAVE`, then exactly one `fmt ` and at most one `fact` before
//! exactly one `data` chunk; unknown chunks before `data` (e.g. `LIST`) are skipped.
//!
//! Fail closed: a file that could be read two ways is refused. In particular
//! * nothing may follow `data` except its pad byte: the RIFF size must end exactly there, so a
//!   second `data` chunk or any trailing chunk (`ChunkAfterData`) and bytes beyond the RIFF
//!   end (`TrailingBytes`) are errors;
//! * `WAVE_FORMAT_EXTENSIBLE` is refused (`Extensible`): its sub-format, channel mask and
//!   valid-bits fields would all need checking, and no source we import writes it;
//! * the data length must be whole frames and agree with `fact`.

use thiserror::Error;

/// The largest header (everything before the first `data` byte) accepted, in bytes.
pub const MAX_HEADER_LEN: usize = 64 * 1024;

const RIFF_HEADER_LEN: usize = 12;
const CHUNK_HEADER_LEN: usize = 8;
const TAG_PCM: u16 = 1;
const TAG_ALAW: u16 = 6;
const TAG_MULAW: u16 = 7;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// Why a WAV file was refused. No variant carries file content.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WavError {
    /// The file does not start with `RIFF` .. `WAVE`.
    #[error("not a RIFF/WAVE file")]
    NotRiffWave,
    /// The input ended before the end the RIFF header announces.
    #[error("WAV file is truncated")]
    Truncated,
    /// Bytes follow the end the RIFF header announces.
    #[error("bytes after the end of the RIFF chunk")]
    TrailingBytes,
    /// A chunk (other than `data`) extends beyond the RIFF end.
    #[error("a chunk extends beyond the RIFF size")]
    ChunkBeyondRiff,
    /// The `data` chunk extends beyond the RIFF end.
    #[error("the data chunk extends beyond the RIFF size")]
    DataBeyondRiff,
    /// A chunk (a second `data`, `LIST`, ...) follows the `data` chunk.
    #[error("a chunk follows the data chunk")]
    ChunkAfterData,
    /// The RIFF chunk ended without a `data` chunk.
    #[error("no data chunk")]
    MissingData,
    /// `data` came before any `fmt ` chunk.
    #[error("no fmt chunk before the data chunk")]
    MissingFmt,
    /// More than one `fmt ` chunk.
    #[error("more than one fmt chunk")]
    DuplicateFmt,
    /// More than one `fact` chunk.
    #[error("more than one fact chunk")]
    DuplicateFact,
    /// The `fmt ` or `fact` chunk has the wrong size for its format (or a non-zero cbSize).
    #[error("fmt or fact chunk has the wrong size")]
    ChunkSize,
    /// `WAVE_FORMAT_EXTENSIBLE` is refused.
    #[error("WAVE_FORMAT_EXTENSIBLE is not supported")]
    Extensible,
    /// A format tag other than PCM, μ-law or A-law.
    #[error("unsupported WAV format tag")]
    UnsupportedFormatTag,
    /// A bit depth other than 16 (PCM) or 8 (G.711).
    #[error("unsupported bit depth")]
    UnsupportedBitDepth,
    /// Not mono or stereo.
    #[error("unsupported channel count")]
    UnsupportedChannels,
    /// A sample rate of zero.
    #[error("sample rate is zero")]
    ZeroSampleRate,
    /// Block align or byte rate disagree with channels, bit depth and rate.
    #[error("block align or byte rate is inconsistent")]
    InconsistentFmt,
    /// A G.711 file without a `fact` chunk.
    #[error("no fact chunk")]
    MissingFact,
    /// The `fact` frame count disagrees with the data length.
    #[error("fact frame count disagrees with the data length")]
    FactMismatch,
    /// The data length is not a multiple of the frame size.
    #[error("data length is not a whole number of frames")]
    DataNotWholeFrames,
    /// The header (everything before the samples) exceeds [`MAX_HEADER_LEN`].
    #[error("WAV header is too large")]
    HeaderTooLarge,
}

/// A sample encoding callvault stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// 16-bit signed little-endian PCM.
    PcmS16le,
    /// G.711 μ-law, 8 bits per sample.
    Mulaw,
    /// G.711 A-law, 8 bits per sample.
    Alaw,
}

impl Encoding {
    /// The name used in transcript v1 `audio.encoding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::PcmS16le => "pcm_s16le",
            Encoding::Mulaw => "mulaw",
            Encoding::Alaw => "alaw",
        }
    }

    /// The encoding named `name` in transcript v1 terms, if known.
    pub fn from_name(name: &str) -> Option<Self> {
        [Encoding::PcmS16le, Encoding::Mulaw, Encoding::Alaw]
            .into_iter()
            .find(|e| e.as_str() == name)
    }

    /// Bytes per sample of one channel.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::PcmS16le => 2,
            Encoding::Mulaw | Encoding::Alaw => 1,
        }
    }

    /// The byte that encodes a zero sample (every byte of a PCM sample is this).
    pub fn silence_byte(self) -> u8 {
        match self {
            Encoding::PcmS16le => 0,
            Encoding::Mulaw => super::g711::MULAW_SILENCE,
            Encoding::Alaw => super::g711::ALAW_SILENCE,
        }
    }
}

/// What the header of an accepted WAV file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WavInfo {
    /// Sample encoding.
    pub encoding: Encoding,
    /// Frames per second, above zero.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Number of frames (one sample per channel each).
    pub frames: u64,
    /// Offset of the first sample byte in the file.
    pub data_offset: u64,
    /// Length of the sample data in bytes (`frames * frame_len`).
    pub data_len: u64,
}

impl WavInfo {
    /// Length in seconds, `frames / sample_rate`.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }

    /// Bytes per frame (all channels).
    pub fn frame_len(&self) -> usize {
        self.encoding.bytes_per_sample() * usize::from(self.channels)
    }

    /// The exact length of the file: header, data and the pad byte when the data is odd.
    pub fn file_len(&self) -> u64 {
        self.data_offset + self.data_len + (self.data_len & 1)
    }
}

/// Result of looking at a prefix of a WAV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderStatus {
    /// The prefix ends inside the header; at least this many bytes are needed in total.
    NeedMore(usize),
    /// The header is complete and valid.
    Complete(WavInfo),
}

/// Parses the header from a prefix of a WAV file (any length), for streaming readers.
///
/// Errors as soon as the prefix proves the file invalid. A `Complete` header still needs the
/// caller to check that exactly [`WavInfo::file_len`] bytes follow in total.
pub fn parse_header(prefix: &[u8]) -> Result<HeaderStatus, WavError> {
    if prefix.len() < RIFF_HEADER_LEN {
        return Ok(HeaderStatus::NeedMore(RIFF_HEADER_LEN));
    }
    if &prefix[0..4] != b"RIFF" || &prefix[8..12] != b"WAVE" {
        return Err(WavError::NotRiffWave);
    }
    let riff_end = 8 + u64::from(le_u32(prefix, 4));
    let mut state = ChunkState::default();
    let mut pos = RIFF_HEADER_LEN;
    loop {
        if pos as u64 == riff_end {
            return Err(WavError::MissingData);
        }
        if pos as u64 + CHUNK_HEADER_LEN as u64 > riff_end {
            return Err(WavError::ChunkBeyondRiff);
        }
        if prefix.len() < pos + CHUNK_HEADER_LEN {
            return need(pos + CHUNK_HEADER_LEN);
        }
        let id: [u8; 4] = prefix[pos..pos + 4].try_into().expect("four bytes");
        let size = le_u32(prefix, pos + 4);
        let body = pos + CHUNK_HEADER_LEN;
        if &id == b"data" {
            return finish_header(&state, body as u64, u64::from(size), riff_end);
        }
        let end = body as u64 + u64::from(size);
        if end > riff_end {
            return Err(WavError::ChunkBeyondRiff);
        }
        let next = end + u64::from(size & 1);
        if next + CHUNK_HEADER_LEN as u64 > MAX_HEADER_LEN as u64 {
            return Err(WavError::HeaderTooLarge);
        }
        let (end, next) = (end as usize, next as usize);
        match &id {
            b"fmt " | b"fact" if prefix.len() < end => return need(end),
            b"fmt " => state.read_fmt(&prefix[body..end])?,
            b"fact" => state.read_fact(&prefix[body..end])?,
            _ => {}
        }
        pos = next;
    }
}

/// Parses and checks a whole WAV file held in memory.
pub fn parse_wav(bytes: &[u8]) -> Result<WavInfo, WavError> {
    match parse_header(bytes)? {
        HeaderStatus::NeedMore(_) => Err(WavError::Truncated),
        HeaderStatus::Complete(info) => check_total_len(&info, bytes.len() as u64).map(|()| info),
    }
}

/// Checks that a file of `total` bytes ends exactly where the header says.
pub fn check_total_len(info: &WavInfo, total: u64) -> Result<(), WavError> {
    match total.cmp(&info.file_len()) {
        std::cmp::Ordering::Less => Err(WavError::Truncated),
        std::cmp::Ordering::Greater => Err(WavError::TrailingBytes),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn need(len: usize) -> Result<HeaderStatus, WavError> {
    if len > MAX_HEADER_LEN {
        return Err(WavError::HeaderTooLarge);
    }
    Ok(HeaderStatus::NeedMore(len))
}

fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// The format as read from `fmt `.
#[derive(Clone, Copy, Debug)]
struct Fmt {
    encoding: Encoding,
    channels: u16,
    sample_rate: u32,
}

/// What the chunks before `data` said so far.
#[derive(Default)]
struct ChunkState {
    fmt: Option<Fmt>,
    fact_frames: Option<u32>,
}

impl ChunkState {
    fn read_fmt(&mut self, body: &[u8]) -> Result<(), WavError> {
        if self.fmt.is_some() {
            return Err(WavError::DuplicateFmt);
        }
        self.fmt = Some(parse_fmt(body)?);
        Ok(())
    }

    fn read_fact(&mut self, body: &[u8]) -> Result<(), WavError> {
        if self.fact_frames.is_some() {
            return Err(WavError::DuplicateFact);
        }
        if body.len() != 4 {
            return Err(WavError::ChunkSize);
        }
        self.fact_frames = Some(le_u32(body, 0));
        Ok(())
    }
}

fn parse_fmt(body: &[u8]) -> Result<Fmt, WavError> {
    if body.len() < 16 {
        return Err(WavError::ChunkSize);
    }
    let tag = le_u16(body, 0);
    let (encoding, fmt_len, bits) = match tag {
        TAG_PCM => (Encoding::PcmS16le, 16, 16),
        TAG_MULAW => (Encoding::Mulaw, 18, 8),
        TAG_ALAW => (Encoding::Alaw, 18, 8),
        TAG_EXTENSIBLE => return Err(WavError::Extensible),
        _ => return Err(WavError::UnsupportedFormatTag),
    };
    if body.len() != fmt_len || (fmt_len == 18 && le_u16(body, 16) != 0) {
        return Err(WavError::ChunkSize);
    }
    if le_u16(body, 14) != bits {
        return Err(WavError::UnsupportedBitDepth);
    }
    let channels = le_u16(body, 2);
    if channels != 1 && channels != 2 {
        return Err(WavError::UnsupportedChannels);
    }
    let sample_rate = le_u32(body, 4);
    if sample_rate == 0 {
        return Err(WavError::ZeroSampleRate);
    }
    let block_align = u64::from(channels) * encoding.bytes_per_sample() as u64;
    let byte_rate = u64::from(le_u32(body, 8));
    if u64::from(le_u16(body, 12)) != block_align
        || byte_rate != u64::from(sample_rate) * block_align
    {
        return Err(WavError::InconsistentFmt);
    }
    Ok(Fmt {
        encoding,
        channels,
        sample_rate,
    })
}

fn finish_header(
    state: &ChunkState,
    data_offset: u64,
    data_len: u64,
    riff_end: u64,
) -> Result<HeaderStatus, WavError> {
    let fmt = state.fmt.ok_or(WavError::MissingFmt)?;
    let data_end = data_offset + data_len;
    if data_end > riff_end {
        return Err(WavError::DataBeyondRiff);
    }
    if data_end + (data_len & 1) != riff_end {
        return Err(WavError::ChunkAfterData);
    }
    let frame_len = u64::from(fmt.channels) * fmt.encoding.bytes_per_sample() as u64;
    if !data_len.is_multiple_of(frame_len) {
        return Err(WavError::DataNotWholeFrames);
    }
    let frames = data_len / frame_len;
    match state.fact_frames {
        None if fmt.encoding != Encoding::PcmS16le => return Err(WavError::MissingFact),
        Some(n) if u64::from(n) != frames => return Err(WavError::FactMismatch),
        _ => {}
    }
    Ok(HeaderStatus::Complete(WavInfo {
        encoding: fmt.encoding,
        sample_rate: fmt.sample_rate,
        channels: fmt.channels,
        frames,
        data_offset,
        data_len,
    }))
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
