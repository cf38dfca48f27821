//! The second factor: RFC 6238 time-based one-time passwords (HMAC-SHA-1, 6 digits, 30 s
//! steps, one step of clock skew either way), as every authenticator app understands them.
//!
//! Replay protection: a code is accepted only for a time step later than the last step
//! accepted for the same principal, so a code seen once (shoulder-surfed, logged by a
//! proxy) cannot be used again, not even within its 90-second window. The caller stores
//! the accepted step atomically (see `CredentialStore::advance_totp_step`).

use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

/// Digits of a code.
pub const DIGITS: usize = 6;
/// Length of a time step, seconds.
pub const STEP_SECS: u64 = 30;
/// Steps of clock skew accepted before and after the current one.
pub const SKEW_STEPS: u64 = 1;
/// Length of a generated secret: 256 bits (RFC 4226 asks for at least 160), the size of a
/// data key so the vault's key ring can wrap it.
pub const SECRET_BYTES: usize = 32;
/// The issuer shown by authenticator apps.
pub const ISSUER: &str = "callvault";

/// Why a TOTP secret cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    /// The secret is shorter than 128 bits.
    #[error("a TOTP secret must have at least 16 bytes")]
    ShortSecret,
    /// The account name cannot go into an `otpauth://` URI (it contains `:`).
    #[error("the account name cannot contain ':'")]
    BadAccountName,
}

/// A principal's TOTP secret. Wiped on drop; not `Debug`, not `Clone`.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// A fresh random secret of [`SECRET_BYTES`] bytes from the OS generator.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// A secret from raw bytes (after unwrapping; test vectors).
    ///
    /// # Errors
    /// [`TotpError::ShortSecret`] for fewer than 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if bytes.len() < 16 {
            return Err(TotpError::ShortSecret);
        }
        Ok(TotpSecret(Zeroizing::new(bytes.to_vec())))
    }

    /// The raw secret, for wrapping it under the key ring.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, digits: usize, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            digits,
            // Skew is applied by `verify`, which needs to know the matching step.
            0,
            STEP_SECS,
            self.0.to_vec(),
            Some(ISSUER.to_string()),
            account.to_string(),
        )
    }

    /// The secret in unpadded base32, for typing into an authenticator app.
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp(DIGITS, "").get_secret_base32())
    }

    /// The `otpauth://totp/callvault:ACCOUNT?secret=…&issuer=callvault` URI (for a QR code).
    ///
    /// # Errors
    /// [`TotpError::BadAccountName`] if `account` contains `:`.
    pub fn otpauth_uri(&self, account: &str) -> Result<Zeroizing<String>, TotpError> {
        if account.contains(':') {
            return Err(TotpError::BadAccountName);
        }
        Ok(Zeroizing::new(self.totp(DIGITS, account).get_url()))
    }

    /// The code for the step containing `unix` (seconds), with `digits` digits (6 to 8).
    pub fn code_at(&self, unix: u64, digits: usize) -> Zeroizing<String> {
        Zeroizing::new(self.totp(digits, "").generate(unix))
    }

    /// The time step `code` belongs to, if it is the 6-digit code of the current step
    /// at `now` (unix seconds) or of one step either side, and that step is later than
    /// `last_step` (the last step accepted for this principal). `None` otherwise.
    /// Comparisons are constant-time.
    pub fn verify(&self, code: &str, now: u64, last_step: Option<u64>) -> Option<u64> {
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp(DIGITS, "");
        let current = now / STEP_SECS;
        let first = current.saturating_sub(SKEW_STEPS);
        let mut accepted = None;
        // Every candidate step is computed and compared, matched or not.
        for step in first..=current.saturating_add(SKEW_STEPS) {
            let expected = Zeroizing::new(totp.generate(step.saturating_mul(STEP_SECS)));
            let same: bool =
                subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
            let fresh = last_step.is_none_or(|last| step > last);
            if same && fresh && accepted.is_none() {
                accepted = Some(step);
            }
        }
        accepted
    }
}

/// The time step containing `unix` (seconds).
pub fn step_of(unix: u64) -> u64 {
    unix / STEP_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, the SHA-1 rows: the seed is the ASCII string
    /// "12345678901234567890"; codes have 8 digits.
    const RFC6238_SHA1: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc6238_sha1_vectors_match() {
        let s = rfc_secret();
        for (t, code) in RFC6238_SHA1 {
            assert_eq!(*s.code_at(t, 8), code, "t = {t}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_rfc_vectors() {
        // Truncation keeps the low decimal digits, so the 6-digit code is a suffix.
        let s = rfc_secret();
        for (t, code) in RFC6238_SHA1 {
            assert_eq!(*s.code_at(t, DIGITS), code[2..], "t = {t}");
            assert_eq!(s.verify(&code[2..], t, None), Some(step_of(t)), "t = {t}");
        }
    }

    #[test]
    fn one_step_of_skew_either_way_is_accepted_and_two_are_not() {
        let s = TotpSecret::generate();
        let now: u64 = 1_700_000_000;
        for (offset, ok) in [
            (-60i64, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let t = now.checked_add_signed(offset).unwrap();
            let code = s.code_at(t, DIGITS);
            let got = s.verify(&code, now, None);
            assert_eq!(got.is_some(), ok, "offset {offset}");
            if ok {
                assert_eq!(got, Some(step_of(t)));
            }
        }
    }

    #[test]
    fn a_code_is_not_accepted_twice() {
        let s = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = s.code_at(now, DIGITS);
        let step = s.verify(&code, now, None).unwrap();
        assert_eq!(s.verify(&code, now, Some(step)), None);
        assert_eq!(s.verify(&code, now + 29, Some(step)), None);
        // An older code after a newer one was used is refused too.
        let previous = s.code_at(now - 30, DIGITS);
        assert_eq!(s.verify(&previous, now, Some(step)), None);
        // The next step's code is fresh.
        let next = s.code_at(now + 30, DIGITS);
        assert_eq!(s.verify(&next, now + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        let s = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = s.code_at(now, DIGITS);
        for bad in [
            "",
            "12345",
            "1234567",
            "abcdef",
            " 12345",
            &format!("{}x", &code[..5]),
        ] {
            assert_eq!(s.verify(bad, now, None), None, "{bad:?}");
        }
        let mut other = code.to_string();
        let last = if other.ends_with('0') { '1' } else { '0' };
        other.pop();
        other.push(last);
        assert_eq!(s.verify(&other, now, None), None);
    }

    #[test]
    fn generated_secrets_are_long_random_and_exportable() {
        let a = TotpSecret::generate();
        let b = TotpSecret::generate();
        assert_eq!(a.expose().len(), SECRET_BYTES);
        assert_ne!(a.expose(), b.expose());
        let b32 = a.base32();
        assert_eq!(b32.len(), (SECRET_BYTES * 8).div_ceil(5));
        let uri = a.otpauth_uri("alice").unwrap();
        assert!(uri.starts_with("otpauth://totp/callvault:alice?secret="));
        assert!(uri.contains(b32.as_str()));
        assert!(uri.contains("issuer=callvault"));
        assert_eq!(a.otpauth_uri("a:b").err(), Some(TotpError::BadAccountName));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TotpSecret::from_bytes(&[0u8; 15]).err(),
            Some(TotpError::ShortSecret)
        );
    }
}
