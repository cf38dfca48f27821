//! What detection produces: findings, destroyed spans, the redaction report, errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::formats::transcript::Speaker;

/// The protection tier of a data class (JR/T 0171 and PCI terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    /// Authentication data: destroyed at ingest, never retained.
    C3,
    /// Account and identity data: sealed, masked per role.
    C2,
    /// Other personal data: sealed, shown per role.
    #[serde(rename = "PI")]
    Pi,
    /// Values that must survive every view.
    #[serde(rename = "keep")]
    Keep,
}

impl Tier {
    /// Parses the policy-file spelling (`C3`, `C2`, `PI`, `keep`).
    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "C3" => Some(Tier::C3),
            "C2" => Some(Tier::C2),
            "PI" => Some(Tier::Pi),
            "keep" => Some(Tier::Keep),
            _ => None,
        }
    }
}

/// One detected sensitive value (or one part of a value split across turns).
///
/// A finding never carries the value itself: only where it is and why it was found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Data class name (`card_number`, `cvv`, ...).
    pub class: String,
    /// The class's tier.
    pub tier: Tier,
    /// Which detector decided (`card_luhn`, `short_code_cue`, ...).
    pub detector: String,
    /// 0..1.
    pub confidence: f32,
    /// Segment index.
    pub segment: usize,
    /// Word-token index range (end exclusive); `None` for segments without words.
    pub words: Option<(usize, usize)>,
    /// Character range in the segment text (end exclusive).
    pub chars: (usize, usize),
    /// Time span: first token start, last token end (whole segment without words).
    pub start_s: f64,
    /// See `start_s`.
    pub end_s: f64,
    /// Who said it.
    pub speaker: Speaker,
    /// The context that decided (cue words, validator names), never the value.
    pub context: String,
    /// Findings with the same group are the parts of one value (split across turns).
    pub group: usize,
}

/// The time span of a destroyed (C3) value: kept so ingest can silence the audio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestroyedSpan {
    /// Data class name.
    pub class: String,
    /// Segment index.
    pub segment: usize,
    /// Who said it (selects the audio channel).
    pub speaker: Speaker,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// Counts of what redaction found in one call; never values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Findings per class (value parts).
    pub per_class: BTreeMap<String, usize>,
    /// Findings per detector.
    pub per_detector: BTreeMap<String, usize>,
    /// C3 value parts destroyed at ingest.
    pub destroyed: usize,
    /// C2/PI value parts kept sealed in the master.
    pub sealed: usize,
}

impl Report {
    /// Counts `findings` (C3 ones count as destroyed).
    pub fn from_findings(findings: &[Finding]) -> Report {
        let mut r = Report::default();
        for f in findings {
            *r.per_class.entry(f.class.clone()).or_default() += 1;
            *r.per_detector.entry(f.detector.clone()).or_default() += 1;
            if f.tier == Tier::C3 {
                r.destroyed += 1;
            } else {
                r.sealed += 1;
            }
        }
        r
    }
}

/// Errors of views and the offline redactor. Texts never carry transcript content.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The role has no view in the policy (recorder, admin, unknown names).
    #[error("role {0:?} has no view in the redaction policy")]
    UnknownRole(String),
    /// The transcript file could not be read or written.
    #[error("{path}: {what}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        what: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The transcript file is not a v1 transcript.
    #[error("{path}: not a callvault v1 transcript")]
    Format {
        /// The file.
        path: String,
    },
    /// The audio could not be redacted.
    #[error("{path}: audio redaction failed: {reason}")]
    Audio {
        /// The file.
        path: String,
        /// The audio error, as text.
        reason: String,
    },
}
