//! G.711 μ-law and A-law, the CCITT reference algorithms (bit-identical to Python's `audioop`).
//!
//! μ-law encodes the 14-bit top of a 16-bit sample, A-law the 13-bit top. Decoding and
//! re-encoding returns every code except μ-law `0x7F` (negative zero), which re-encodes as
//! `0xFF`.

/// The μ-law code of a zero sample (digital silence).
pub const MULAW_SILENCE: u8 = 0xFF;
/// The A-law code of a zero sample (digital silence).
pub const ALAW_SILENCE: u8 = 0xD5;

const QUANT_MASK: u8 = 0x0F;
const SEG_MASK: u8 = 0x70;
const SEG_SHIFT: u8 = 4;
const SIGN_BIT: u8 = 0x80;
const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const ULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// The first segment whose end is at least `value`, or 8 when none is.
fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    ends.iter().position(|&end| value <= end).unwrap_or(8) as u8
}

/// Encodes a 16-bit linear sample as μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 2;
    let mask = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    value = value.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let seg = segment(value, &ULAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let code = (seg << 4) | ((value >> (seg + 1)) as u8 & QUANT_MASK);
    code ^ mask
}

/// Decodes a μ-law code to a 16-bit linear sample.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let code = !code;
    let mut t = (i32::from(code & QUANT_MASK) << 3) + ULAW_BIAS;
    t <<= (code & SEG_MASK) >> SEG_SHIFT;
    let value = if code & SIGN_BIT != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    };
    value as i16
}

/// Encodes a 16-bit linear sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &ALAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let code = (seg << SEG_SHIFT) | ((value >> shift) as u8 & QUANT_MASK);
    code ^ mask
}

/// Decodes an A-law code to a 16-bit linear sample.
pub fn alaw_to_linear(code: u8) -> i16 {
    let code = code ^ 0x55;
    let mut t = i32::from(code & QUANT_MASK) << 4;
    let seg = (code & SEG_MASK) >> SEG_SHIFT;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (seg - 1),
    }
    let value = if code & SIGN_BIT != 0 { t } else { -t };
    value as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_encodes_to_the_silence_codes() {
        assert_eq!(linear_to_ulaw(0), MULAW_SILENCE);
        assert_eq!(linear_to_alaw(0), ALAW_SILENCE);
        assert_eq!(ulaw_to_linear(MULAW_SILENCE), 0);
        assert_eq!(alaw_to_linear(ALAW_SILENCE), 8);
    }

    #[test]
    fn extreme_codes_decode_to_the_reference_values() {
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x55), -8);
    }

    #[test]
    fn ulaw_decode_then_encode_returns_every_code_but_negative_zero() {
        for code in 0..=255u8 {
            let back = linear_to_ulaw(ulaw_to_linear(code));
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(back, expected, "code {code:#04x}");
        }
    }

    #[test]
    fn alaw_decode_then_encode_returns_every_code() {
        for code in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "code {code:#04x}"
            );
        }
    }

    #[test]
    fn encoding_is_monotonic_in_the_decoded_value() {
        let mut last = i16::MIN;
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let decoded = ulaw_to_linear(linear_to_ulaw(sample));
            assert!(decoded >= last, "sample {sample}");
            last = decoded;
        }
    }
}
