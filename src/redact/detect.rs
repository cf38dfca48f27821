//! Detection: runs the word and number detectors over a transcript and turns their hits
//! into [`Finding`]s.

use crate::formats::transcript::{Speaker, Transcript};

use super::finding::{Finding, Tier};
use super::lexicon::CueHit;
use super::policy::Policy;
use super::units::{is_placeholder, units_of, Unit};
use super::{custom, digits, words};

/// One segment prepared for detection.
pub(crate) struct Seg<'a> {
    pub text: &'a str,
    pub speaker: Speaker,
    pub units: Vec<Unit>,
    /// Units already taken by a hit (or placeholders).
    pub claimed: Vec<bool>,
    pub cues: Vec<CueHit>,
}

impl Seg<'_> {
    /// Marks units `a..b` as taken.
    pub(crate) fn claim(&mut self, a: usize, b: usize) {
        for c in &mut self.claimed[a..b] {
            *c = true;
        }
    }

    /// True when none of `a..b` is taken.
    pub(crate) fn free(&self, a: usize, b: usize) -> bool {
        !self.claimed[a..b].iter().any(|&c| c)
    }
}

/// A detector's hit: units `u0..u1` of segment `seg`.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    pub class: String,
    pub seg: usize,
    pub u0: usize,
    pub u1: usize,
    pub detector: &'static str,
    pub confidence: f32,
    pub context: String,
    /// Hits with the same group are parts of one value.
    pub group: usize,
}

/// Hands out group numbers.
#[derive(Default)]
pub(crate) struct Groups(usize);

impl Groups {
    pub(crate) fn next(&mut self) -> usize {
        self.0 += 1;
        self.0 - 1
    }
}

/// Finds every C3/C2/PI value in `t` (keep values are recognised and left alone).
pub fn detect(t: &Transcript, policy: &Policy) -> Vec<Finding> {
    let mut segs: Vec<Seg> = t
        .segments
        .iter()
        .map(|s| {
            let units = units_of(s);
            let claimed = units
                .iter()
                .map(|u| is_placeholder(u.core(&s.text)))
                .collect();
            Seg {
                text: &s.text,
                speaker: s.speaker,
                units,
                claimed,
                cues: policy.lex.cues_in(&s.text),
            }
        })
        .collect();
    let mut groups = Groups::default();
    let mut hits = Vec::new();
    for (i, seg) in segs.iter_mut().enumerate() {
        words::detect(i, seg, &policy.lex, &mut hits, &mut groups);
    }
    digits::detect(&mut segs, &policy.lex, &mut hits, &mut groups);
    for (i, seg) in segs.iter_mut().enumerate() {
        custom::detect(i, seg, &policy.custom, &mut hits, &mut groups);
    }
    hits.sort_by_key(|h| (h.seg, h.u0));
    hits.into_iter()
        .filter_map(|h| to_finding(t, &segs, policy, h))
        .collect()
}

fn to_finding(t: &Transcript, segs: &[Seg], policy: &Policy, h: Hit) -> Option<Finding> {
    let tier = policy.tier(&h.class)?;
    if tier == Tier::Keep {
        return None;
    }
    let seg = &t.segments[h.seg];
    let s = &segs[h.seg];
    let (lo, hi) = (s.units[h.u0].core_lo, s.units[h.u1 - 1].core_hi);
    let chars = (
        seg.text[..lo].chars().count(),
        seg.text[..hi].chars().count(),
    );
    let (words, start_s, end_s) = match &seg.words {
        Some(ws) => (Some((h.u0, h.u1)), ws[h.u0].start, ws[h.u1 - 1].end),
        None => (None, seg.start, seg.end),
    };
    Some(Finding {
        class: h.class,
        tier,
        detector: h.detector.to_string(),
        confidence: h.confidence,
        segment: h.seg,
        words,
        chars,
        start_s,
        end_s,
        speaker: seg.speaker,
        context: h.context,
        group: h.group,
    })
}
