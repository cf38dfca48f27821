use super::*;
use crate::formats::wav_write::wav_header;

fn wav(encoding: Encoding, channels: u16, frames: u64) -> Vec<u8> {
    let mut bytes = wav_header(encoding, 8000, channels, frames);
    let len = frames as usize * usize::from(channels) * encoding.bytes_per_sample();
    bytes.extend((0..len).map(|i| (i * 7 + 3) as u8));
    if len % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

fn set_riff_size(bytes: &mut [u8], size: u32) {
    bytes[4..8].copy_from_slice(&size.to_le_bytes());
}

fn riff_size(bytes: &[u8]) -> u32 {
    le_u32(bytes, 4)
}

#[test]
fn canonical_files_of_every_encoding_parse() {
    for encoding in [Encoding::PcmS16le, Encoding::Mulaw, Encoding::Alaw] {
        for channels in [1, 2] {
            let bytes = wav(encoding, channels, 101);
            let info = parse_wav(&bytes).expect("valid");
            assert_eq!(info.encoding, encoding);
            assert_eq!(info.channels, channels);
            assert_eq!(info.frames, 101);
            assert_eq!(info.file_len(), bytes.len() as u64);
        }
    }
}

#[test]
fn an_odd_mono_g711_file_needs_its_pad_byte() {
    let bytes = wav(Encoding::Alaw, 1, 7);
    assert!(parse_wav(&bytes).is_ok());
    assert_eq!(
        parse_wav(&bytes[..bytes.len() - 1]),
        Err(WavError::Truncated)
    );
}

#[test]
fn every_truncation_is_refused() {
    let bytes = wav(Encoding::Mulaw, 2, 5);
    for len in 0..bytes.len() {
        assert!(parse_wav(&bytes[..len]).is_err(), "length {len}");
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 4);
    bytes.push(0);
    assert_eq!(parse_wav(&bytes), Err(WavError::TrailingBytes));
}

#[test]
fn a_second_data_chunk_is_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 4);
    bytes.extend_from_slice(b"data\x02\x00\x00\x00\x01\x02");
    let size = riff_size(&bytes) + 10;
    set_riff_size(&mut bytes, size);
    assert_eq!(parse_wav(&bytes), Err(WavError::ChunkAfterData));
}

#[test]
fn data_beyond_the_riff_size_is_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 4);
    let size = riff_size(&bytes) - 2;
    set_riff_size(&mut bytes, size);
    assert_eq!(parse_wav(&bytes), Err(WavError::DataBeyondRiff));
}

#[test]
fn a_riff_size_larger_than_the_file_is_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 4);
    let size = riff_size(&bytes) + 4;
    set_riff_size(&mut bytes, size);
    assert!(parse_wav(&bytes).is_err());
}

#[test]
fn odd_pcm_stereo_data_is_not_whole_frames() {
    let mut bytes = wav(Encoding::PcmS16le, 2, 3);
    let data_len_at = bytes.len() - 12 - 4;
    bytes[data_len_at..data_len_at + 4].copy_from_slice(&10u32.to_le_bytes());
    bytes.truncate(bytes.len() - 2);
    let size = riff_size(&bytes) - 2;
    set_riff_size(&mut bytes, size);
    assert_eq!(parse_wav(&bytes), Err(WavError::DataNotWholeFrames));
}

#[test]
fn a_fact_count_that_disagrees_is_refused() {
    let mut bytes = wav(Encoding::Mulaw, 1, 6);
    // fact body sits right after the 18-byte fmt chunk: 12 + 26 + 8.
    bytes[46..50].copy_from_slice(&5u32.to_le_bytes());
    assert_eq!(parse_wav(&bytes), Err(WavError::FactMismatch));
}

#[test]
fn extensible_and_unknown_tags_are_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 2);
    bytes[20..22].copy_from_slice(&0xFFFEu16.to_le_bytes());
    assert_eq!(parse_wav(&bytes), Err(WavError::Extensible));
    bytes[20..22].copy_from_slice(&3u16.to_le_bytes());
    assert_eq!(parse_wav(&bytes), Err(WavError::UnsupportedFormatTag));
}

#[test]
fn eight_bit_pcm_is_refused() {
    let mut bytes = wav(Encoding::PcmS16le, 1, 2);
    bytes[34..36].copy_from_slice(&8u16.to_le_bytes());
    assert_eq!(parse_wav(&bytes), Err(WavError::UnsupportedBitDepth));
}

#[test]
fn an_unknown_chunk_before_data_is_skipped() {
    let plain = wav(Encoding::Mulaw, 2, 3);
    let data_at = plain.len() - 6 - 8;
    let mut bytes = plain[..data_at].to_vec();
    bytes.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
    bytes.extend_from_slice(&plain[data_at..]);
    let size = riff_size(&bytes) + 12;
    set_riff_size(&mut bytes, size);
    let info = parse_wav(&bytes).expect("valid");
    assert_eq!(info.data_offset, data_at as u64 + 12 + 8);
    assert_eq!(info.frames, 3);
}

#[test]
fn data_before_fmt_is_refused() {
    let mut bytes = b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00".to_vec();
    assert_eq!(parse_wav(&bytes), Err(WavError::MissingFmt));
    bytes[0] = b'X';
    assert_eq!(parse_wav(&bytes), Err(WavError::NotRiffWave));
}

#[test]
fn g711_without_fact_is_refused() {
    let plain = wav(Encoding::Alaw, 1, 2);
    let mut bytes = plain[..38].to_vec();
    bytes.extend_from_slice(&plain[50..]);
    let size = riff_size(&bytes) - 12;
    set_riff_size(&mut bytes, size);
    assert_eq!(parse_wav(&bytes), Err(WavError::MissingFact));
}

#[test]
fn a_header_split_at_any_byte_reports_what_it_needs() {
    let bytes = wav(Encoding::Mulaw, 2, 4);
    let info = parse_wav(&bytes).expect("valid");
    for len in 0..info.data_offset as usize {
        match parse_header(&bytes[..len]) {
            Ok(HeaderStatus::NeedMore(n)) => assert!(n > len, "length {len}"),
            other => panic!("length {len}: {other:?}"),
        }
    }
}

#[test]
fn every_dev_corpus_wav_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/dev/calls");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "wav") {
            let bytes = std::fs::read(&path).expect("read");
            parse_wav(&bytes).expect("dev wav parses");
            seen += 1;
        }
    }
    assert_eq!(seen, 30);
}
