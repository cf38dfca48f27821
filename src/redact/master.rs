//! The stored master (C3 destroyed, C2/PI findings kept) and the role views computed on read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::formats::transcript::{Speaker, Transcript};

use super::audio::SilenceSpan;
use super::detect::detect;
use super::finding::{DestroyedSpan, Finding, RedactError, Report, Tier};
use super::policy::{Kind, Policy, Rendering};
use super::render::{apply, covered, digits_in, remap, Replacement};

/// What is stored sealed for a call: the transcript with every C3 value destroyed, the
/// C2/PI findings indexed against that transcript, the destroyed spans (no values) and the
/// redaction report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Master {
    /// The transcript, C3 values replaced by placeholders in text and tokens.
    pub transcript: Transcript,
    /// C2 and PI findings, indexed against `transcript`.
    pub findings: Vec<Finding>,
    /// Where C3 values were (time spans only), so their audio can be silenced.
    pub destroyed: Vec<DestroyedSpan>,
    /// Counts per class and detector.
    pub report: Report,
}

/// Destroys C3 values and records the rest: the ingest step before sealing.
pub fn make_master(t: Transcript, policy: &Policy) -> Master {
    let found = detect(&t, policy);
    let report = Report::from_findings(&found);
    let (c3, rest): (Vec<Finding>, Vec<Finding>) =
        found.into_iter().partition(|f| f.tier == Tier::C3);
    let destroyed = c3
        .iter()
        .map(|f| DestroyedSpan {
            class: f.class.clone(),
            segment: f.segment,
            speaker: f.speaker,
            start_s: f.start_s,
            end_s: f.end_s,
        })
        .collect();
    let reps = by_segment(c3.iter().map(|f| (f, placeholder(policy, &f.class, None))));
    let mut transcript = t;
    for (i, rs) in &reps {
        transcript.segments[*i] = apply(&transcript.segments[*i], rs);
    }
    let findings = rest
        .into_iter()
        .map(|mut f| {
            if let Some(rs) = reps.get(&f.segment) {
                (f.words, f.chars) = remap(&transcript.segments[f.segment], rs, f.words, f.chars);
            }
            f
        })
        .collect();
    Master {
        transcript,
        findings,
        destroyed,
        report,
    }
}

fn by_segment<'a>(
    items: impl Iterator<Item = (&'a Finding, String)>,
) -> BTreeMap<usize, Vec<Replacement>> {
    let mut m: BTreeMap<usize, Vec<Replacement>> = BTreeMap::new();
    for (f, text) in items {
        m.entry(f.segment).or_default().push(Replacement {
            words: f.words,
            chars: f.chars,
            text,
        });
    }
    for v in m.values_mut() {
        v.sort_by_key(|r| r.chars.0);
    }
    m
}

fn label(policy: &Policy, class: &str) -> String {
    policy
        .class(class)
        .map_or_else(|| class.to_ascii_uppercase(), |c| c.label.clone())
}

/// `[LABEL]`, or with the visible part of a masked value.
fn placeholder(policy: &Policy, class: &str, shown: Option<&str>) -> String {
    match shown {
        Some(s) if !s.is_empty() => format!("[{} {s}]", label(policy, class)),
        _ => format!("[{}]", label(policy, class)),
    }
}

impl Master {
    /// The audio spans of the destroyed C3 values (what ingest silences).
    pub fn c3_audio_spans(&self) -> Vec<SilenceSpan> {
        self.destroyed
            .iter()
            .map(|d| SilenceSpan {
                channel: self.channel(d.speaker),
                start_s: d.start_s,
                end_s: d.end_s,
            })
            .collect()
    }

    fn channel(&self, speaker: Speaker) -> u16 {
        self.transcript
            .audio
            .as_ref()
            .map_or(0, |a| a.channel_map.channel(speaker))
    }
}

/// The transcript as `role` may see it: C3 always gone, C2/PI rendered per the policy.
///
/// # Errors
/// [`RedactError::UnknownRole`] when the role has no view (recorder, admin, unknown).
pub fn view(master: &Master, role: &str, policy: &Policy) -> Result<Transcript, RedactError> {
    if !policy.roles.contains_key(role) {
        return Err(RedactError::UnknownRole(role.to_string()));
    }
    let t = &master.transcript;
    let mut texts = Vec::new();
    for f in &master.findings {
        let r = policy
            .rendering(role, &f.class)
            .unwrap_or(Rendering::Removed);
        if r != Rendering::Full {
            texts.push((f, shown(master, policy, f, r)));
        }
    }
    let reps = by_segment(texts.iter().map(|(f, s)| (*f, s.clone())));
    let mut out = t.clone();
    for (i, rs) in &reps {
        out.segments[*i] = apply(&t.segments[*i], rs);
    }
    Ok(out)
}

/// The placeholder for one finding under rendering `r`.
fn shown(master: &Master, policy: &Policy, f: &Finding, r: Rendering) -> String {
    let kind = policy.class(&f.class).map_or(Kind::Secret, |c| c.kind);
    let seg = &master.transcript.segments[f.segment];
    let text = covered(seg, f.words, f.chars);
    match (kind, r) {
        (Kind::Digits, Rendering::Masked) => {
            let parts: Vec<&Finding> = master
                .findings
                .iter()
                .filter(|g| g.group == f.group)
                .collect();
            if parts.last().is_some_and(|l| !std::ptr::eq(*l, f)) {
                return placeholder(policy, &f.class, None);
            }
            let all: String = parts
                .iter()
                .map(|p| {
                    digits_in(&covered(
                        &master.transcript.segments[p.segment],
                        p.words,
                        p.chars,
                    ))
                })
                .collect();
            let n = policy.mask_last.min(all.chars().count());
            let tail: String = all.chars().skip(all.chars().count() - n).collect();
            placeholder(policy, &f.class, Some(&format!("••••{tail}")))
        }
        (Kind::Email, Rendering::Masked) => match text.rfind('@').or_else(|| text.rfind(" at ")) {
            Some(at) => format!("{}{}", placeholder(policy, &f.class, None), &text[at..]),
            None => placeholder(policy, &f.class, None),
        },
        (Kind::Name, Rendering::SurnameOnly) => surname(&text).map_or_else(
            || placeholder(policy, &f.class, None),
            |(s, zh)| {
                if zh {
                    format!("{s}{}", placeholder(policy, &f.class, None))
                } else {
                    format!("{} {s}", placeholder(policy, &f.class, None))
                }
            },
        ),
        _ => placeholder(policy, &f.class, None),
    }
}

/// The surname of a detected name: the first character of a Chinese name, the last word
/// of an English one (bool: Chinese).
fn surname(name: &str) -> Option<(String, bool)> {
    let name = name.trim_end_matches(super::units::is_punct);
    let first = name.chars().next()?;
    if !first.is_ascii() {
        return Some((first.to_string(), true));
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    (words.len() >= 2).then(|| (words[words.len() - 1].to_string(), false))
}

/// The audio spans `role`'s view must silence: every destroyed C3 span and every C2/PI
/// value the role does not see in full (unpadded; the audio redactor pads).
///
/// # Errors
/// [`RedactError::UnknownRole`] when the role has no view.
pub fn view_audio_spans(
    master: &Master,
    role: &str,
    policy: &Policy,
) -> Result<Vec<SilenceSpan>, RedactError> {
    if !policy.roles.contains_key(role) {
        return Err(RedactError::UnknownRole(role.to_string()));
    }
    let mut spans = master.c3_audio_spans();
    for f in &master.findings {
        if policy
            .rendering(role, &f.class)
            .unwrap_or(Rendering::Removed)
            != Rendering::Full
        {
            spans.push(SilenceSpan {
                channel: master.channel(f.speaker),
                start_s: f.start_s,
                end_s: f.end_s,
            });
        }
    }
    spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(spans)
}

/// One line per finding for `--explain`: segment, class, tier, detector, confidence and
/// the context that decided; never the value.
pub fn explain(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "segment {} chars {}..{} {:?} {} {:?} detector={} confidence={:.2} context: {}",
                f.segment,
                f.chars.0,
                f.chars.1,
                f.speaker,
                f.class,
                f.tier,
                f.detector,
                f.confidence,
                f.context
            )
        })
        .collect()
}
