//! Passwords of human principals: the policy, Argon2id hashing, verification that costs the
//! same whether or not the principal exists, and the failed-login rate limit.
//!
//! Hashing and verifying are slow on purpose (tens of milliseconds of one core and 19 MiB
//! of memory); async callers run them in `tokio::task::spawn_blocking`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// Fewest characters a password may have (NIST SP 800-63B asks for at least 8; PCI DSS 4.0
/// for 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most bytes a password may have; bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id memory cost in KiB (OWASP's first recommended configuration).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id passes.
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;

/// A PHC string in the current parameters with random salt and output, so no password is
/// known to match it. Verifying against it costs what verifying a real hash costs, so an unknown name (or a principal without a password)
/// takes as long to refuse as a wrong password. `dummy_hash_uses_the_current_parameters`
/// fails when the parameters change and this is not regenerated.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    hQ3TqTtbA3gAaeCdWmBRpA$EVTOB9ZAxlYdxSEyFZqNtnOD1d4hXzX7QXPb+DBAwGo";

/// Why a password cannot be set. Texts never carry the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// The hash could not be computed (never expected with valid parameters).
    #[error("password hashing failed")]
    Hash,
}

/// Checks the password policy: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes. No composition rules (NIST SP 800-63B).
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .expect("the Argon2id parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with Argon2id and a random 16-byte salt, after checking the policy.
/// Returns the PHC string (`$argon2id$v=19$m=…`), which carries salt and parameters.
/// Blocking: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_policy(password)?;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    let hash = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| PasswordError::Hash)?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string. With no stored hash (unknown
/// principal, no password set) or an unreadable one, the password is verified against a
/// dummy hash and `false` returned, so every call does one Argon2id computation of the same
/// cost. Passwords longer than [`MAX_PASSWORD_BYTES`] are refused before hashing (their
/// length, not the principal, decides that). Blocking: call from `spawn_blocking`.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
    let (hash, real) = match parsed {
        Some(h) => (h, true),
        None => (
            PasswordHash::new(DUMMY_HASH).expect("the dummy hash is a valid PHC string"),
            false,
        ),
    };
    let matches = hasher().verify_password(password.as_bytes(), &hash).is_ok();
    matches && real
}

/// The failed-login limits: at most `per_name` failures for one principal name and
/// `per_origin` from one origin within `window_secs`. Attempts past a limit are refused
/// without running Argon2id.
///
/// Every attempt counts as a failure from the moment it starts until it succeeds, so
/// parallel guesses cannot all slip past the check. A success clears the failures of that
/// name *from that origin* only; failures from other origins keep counting until they
/// age out of the window. Behind a proxy every client shares the proxy's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Failures allowed per principal name in the window.
    pub per_name: u32,
    /// Failures allowed per origin (IP address) in the window.
    pub per_origin: u32,
    /// Length of the sliding window, seconds.
    pub window_secs: i64,
}

impl Default for RateLimit {
    /// 5 per name and 20 per origin within 15 minutes.
    fn default() -> Self {
        Self {
            per_name: 5,
            per_origin: 20,
            window_secs: 15 * 60,
        }
    }
}

/// Failures counted in the window for one attempt, and the oldest of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureCounts {
    /// Failures recorded for the name (this attempt included).
    pub by_name: u32,
    /// When the oldest of them happened (unix seconds).
    pub oldest_by_name: Option<i64>,
    /// Failures recorded from the origin (this attempt included).
    pub by_origin: u32,
    /// When the oldest of them happened (unix seconds).
    pub oldest_by_origin: Option<i64>,
}

impl RateLimit {
    /// Seconds to wait before trying again, if the attempt counted in `counts` is over a
    /// limit at `now`; `None` if it may proceed. `counts` includes the attempt itself.
    pub fn retry_after(&self, counts: &FailureCounts, now: i64) -> Option<u64> {
        let wait = |oldest: Option<i64>| {
            let until = oldest.unwrap_or(now).saturating_add(self.window_secs);
            u64::try_from(until.saturating_sub(now)).unwrap_or(0).max(1)
        };
        let name = (counts.by_name > self.per_name).then(|| wait(counts.oldest_by_name));
        let origin = (counts.by_origin > self.per_origin).then(|| wait(counts.oldest_by_origin));
        name.into_iter().chain(origin).max()
    }

    /// The start of the window at `now`: failures before it no longer count.
    pub fn window_start(&self, now: i64) -> i64 {
        now.saturating_sub(self.window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "correct horse battery";

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let phc = hash_password(GOOD).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(&phc), GOOD));
        assert!(!verify_password(Some(&phc), "correct horse battery!"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        assert_ne!(hash_password(GOOD).unwrap(), hash_password(GOOD).unwrap());
    }

    #[test]
    fn the_policy_refuses_short_and_oversized_passwords() {
        assert_eq!(hash_password("elevenchars"), Err(PasswordError::TooShort));
        assert_eq!(check_policy("twelve chars"), Ok(()));
        // Characters, not bytes, count towards the minimum.
        assert_eq!(check_policy("ééééééééééé"), Err(PasswordError::TooShort));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(check_policy(&long), Err(PasswordError::TooLong));
        assert_eq!(check_policy(&long[1..]), Ok(()));
    }

    #[test]
    fn unknown_principals_are_verified_against_the_dummy_hash() {
        // The same code path runs (one Argon2id verification), and it never succeeds, not
        // even with the dummy's own password.
        assert!(!verify_password(None, GOOD));
        assert!(!verify_password(Some("not a phc string"), GOOD));
    }

    #[test]
    fn dummy_hash_uses_the_current_parameters() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let current = PasswordHash::new(&hash_password(GOOD).unwrap())
            .unwrap()
            .to_string();
        let current = PasswordHash::new(&current).unwrap();
        assert_eq!(dummy.algorithm, current.algorithm);
        assert_eq!(dummy.version, current.version);
        assert_eq!(dummy.params, current.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            current.hash.map(|h| h.len()),
            "same output length"
        );
    }

    #[test]
    fn oversized_passwords_never_verify() {
        let phc = hash_password(GOOD).unwrap();
        let long = format!("{GOOD}{}", "x".repeat(MAX_PASSWORD_BYTES));
        assert!(!verify_password(Some(&phc), &long));
    }

    fn counts(by_name: u32, by_origin: u32, oldest: i64) -> FailureCounts {
        FailureCounts {
            by_name,
            oldest_by_name: Some(oldest),
            by_origin,
            oldest_by_origin: Some(oldest),
        }
    }

    #[test]
    fn the_sixth_failure_for_a_name_is_rate_limited_until_the_first_ages_out() {
        let limit = RateLimit::default();
        let now = 10_000;
        assert_eq!(limit.retry_after(&counts(5, 5, now - 60), now), None);
        assert_eq!(
            limit.retry_after(&counts(6, 6, now - 60), now),
            Some(900 - 60)
        );
    }

    #[test]
    fn many_names_from_one_origin_hit_the_origin_limit() {
        let limit = RateLimit::default();
        let now = 10_000;
        assert_eq!(limit.retry_after(&counts(1, 20, now - 10), now), None);
        assert_eq!(limit.retry_after(&counts(1, 21, now - 10), now), Some(890));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let limit = RateLimit::default();
        let now = 10_000;
        assert_eq!(limit.retry_after(&counts(9, 9, now - 900), now), Some(1));
        assert_eq!(limit.window_start(now), now - 900);
    }
}
