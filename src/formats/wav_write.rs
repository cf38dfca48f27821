//! Writing the canonical WAV header callvault accepts (the layout the corpus uses).

use super::wav::Encoding;

/// The canonical header for `frames` frames: `RIFF`, `fmt ` (16 bytes for PCM, 18 with
/// cbSize 0 for G.711), `fact` for G.711, then the `data` chunk header.
///
/// Append `frames * channels * bytes_per_sample` sample bytes and, when that is odd, one pad
/// byte. Panics if the file would not fit a 32-bit RIFF size.
pub fn wav_header(encoding: Encoding, sample_rate: u32, channels: u16, frames: u64) -> Vec<u8> {
    let block_align = channels * encoding.bytes_per_sample() as u16;
    let data_len = u32::try_from(frames * u64::from(block_align)).expect("data fits a RIFF");
    let pcm = encoding == Encoding::PcmS16le;
    let fmt_len: u32 = if pcm { 16 } else { 18 };
    let fact_len: u32 = if pcm { 0 } else { 12 };
    let riff_size = 4 + (8 + fmt_len) + fact_len + 8 + data_len + (data_len & 1);
    let tag: u16 = match encoding {
        Encoding::PcmS16le => 1,
        Encoding::Alaw => 6,
        Encoding::Mulaw => 7,
    };
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&fmt_len.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&(8 * encoding.bytes_per_sample() as u16).to_le_bytes());
    if !pcm {
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&(frames as u32).to_le_bytes());
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out
}
