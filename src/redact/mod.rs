//! Redaction by minimal-necessity policy.
//!
//! Detectors find authentication data (C3: CVV, expiry, PIN, password, one-time code),
//! account and identity data (C2: card, ID and mobile numbers) and personal data (PI:
//! names, street addresses, e-mail) in every spoken form of the corpus, and leave keep
//! values (hotlines, amounts, dates, rates, order and agent numbers, last-four
//! verifications, mentions) alone. At ingest [`make_master`] destroys C3 values; on read
//! [`view`] renders C2/PI per the caller's role from the [`Policy`].

pub mod audio;
mod checks;
mod custom;
mod detect;
mod digits;
mod finding;
pub mod identifiers;
mod lexicon;
mod master;
mod numerals;
mod offline;
mod policy;
mod policy_file;
mod render;
mod units;
mod words;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

pub use detect::detect;
pub use finding::{DestroyedSpan, Finding, RedactError, Report, Tier};
pub use master::{explain, make_master, view, view_audio_spans, Master};
pub use offline::{redact_file, FileOutcome};
pub use policy::{Policy, PolicyError, Rendering};
