//! Operator-defined detectors from `custom.toml`: a regex, optional context words and an
//! optional validator; a match covers the whole tokens it touches.

use super::checks;
use super::detect::{Groups, Hit, Seg};
use super::lexicon::is_word_match;
use super::numerals::{read, Num};
use super::policy::CustomDetector;

/// Runs every custom detector over one segment.
pub(crate) fn detect(
    i: usize,
    seg: &mut Seg,
    detectors: &[CustomDetector],
    hits: &mut Vec<Hit>,
    groups: &mut Groups,
) {
    for d in detectors {
        let context = d.context.as_ref().and_then(|re| {
            re.find_iter(seg.text)
                .find(|m| is_word_match(seg.text, m.start(), m.end()))
                .map(|m| m.as_str().to_string())
        });
        if d.context_required && context.is_none() {
            continue;
        }
        let found: Vec<(usize, usize)> = d
            .pattern
            .find_iter(seg.text)
            .map(|m| (m.start(), m.end()))
            .collect();
        for (lo, hi) in found {
            if let Some(v) = &d.validator {
                if !checks::by_name(v, &digits_in(&seg.text[lo..hi])) {
                    continue;
                }
            }
            let Some(u0) = seg.units.iter().position(|u| u.hi > lo) else {
                continue;
            };
            let u1 = seg
                .units
                .iter()
                .rposition(|u| u.lo < hi)
                .map_or(u0 + 1, |x| x + 1)
                .max(u0 + 1);
            if !seg.free(u0, u1) {
                continue;
            }
            seg.claim(u0, u1);
            let why = match &context {
                Some(w) => format!("custom pattern, context {w:?}"),
                None => "custom pattern".to_string(),
            };
            let conf = if context.is_some() {
                d.confidence
            } else {
                d.confidence * 0.8
            };
            let detector: &'static str = "custom";
            hits.push(Hit {
                class: d.class.clone(),
                seg: i,
                u0,
                u1,
                detector,
                confidence: conf,
                context: format!("{}: {why}", d.name),
                group: groups.next(),
            });
        }
    }
}

fn digits_in(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '-')
        .filter_map(|w| match read(w) {
            Num::Digits { d, .. } => Some(d),
            _ => None,
        })
        .collect()
}
