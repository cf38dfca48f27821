//! Writing placeholders into a segment: whole tokens are replaced, consecutive tokens of one
//! value merge into one placeholder token spanning their time, and `"".join(words) == text`
//! keeps holding (leading space and trailing punctuation stay outside the placeholder).

use crate::formats::transcript::{Segment, Word};

use super::numerals::{runs, Num};
use super::units::{tokenize, units_of, Unit};

/// Replace tokens `words` (or, without words, the characters `chars`) by `text`.
#[derive(Clone, Debug)]
pub(crate) struct Replacement {
    pub words: Option<(usize, usize)>,
    pub chars: (usize, usize),
    pub text: String,
}

fn byte_of(text: &str, ch: usize) -> usize {
    text.char_indices().nth(ch).map_or(text.len(), |(b, _)| b)
}

/// The segment with `reps` applied (`reps` sorted by position, not overlapping).
pub(crate) fn apply(seg: &Segment, reps: &[Replacement]) -> Segment {
    let mut out = seg.clone();
    match &seg.words {
        Some(ws) => {
            let units = units_of(seg);
            let mut words = Vec::with_capacity(ws.len());
            let mut i = 0;
            let mut k = 0;
            while i < ws.len() {
                match reps.get(k).and_then(|r| r.words) {
                    Some((a, b)) if a == i && b > a && b <= ws.len() => {
                        let lead = units[a].lead(&seg.text);
                        let trail = units[b - 1].trail(&seg.text);
                        let w = format!("{lead}{}{trail}", reps[k].text);
                        words.push(Word {
                            w,
                            start: ws[a].start,
                            end: ws[b - 1].end,
                        });
                        i = b;
                        k += 1;
                    }
                    Some((a, _)) if a < i => k += 1,
                    _ => {
                        words.push(ws[i].clone());
                        i += 1;
                    }
                }
            }
            out.text = words.iter().map(|w| w.w.as_str()).collect();
            out.words = Some(words);
        }
        None => {
            let mut text = seg.text.clone();
            for r in reps.iter().rev() {
                let (a, b) = (byte_of(&text, r.chars.0), byte_of(&text, r.chars.1));
                text.replace_range(a..b, &r.text);
            }
            out.text = text;
        }
    }
    out
}

/// Where a value that was at `words`/`chars` of `old` is in `new` after `reps`.
pub(crate) fn remap(
    new: &Segment,
    reps: &[Replacement],
    words: Option<(usize, usize)>,
    chars: (usize, usize),
) -> (Option<(usize, usize)>, (usize, usize)) {
    match words {
        Some((a, b)) => {
            let shift: usize = reps
                .iter()
                .filter_map(|r| r.words)
                .filter(|(x, _)| *x < a)
                .map(|(x, y)| y - x - 1)
                .sum();
            let (na, nb) = (a - shift, b - shift);
            let units = units_of(new);
            let lo = new.text[..units[na].core_lo].chars().count();
            let hi = new.text[..units[nb - 1].core_hi].chars().count();
            (Some((na, nb)), (lo, hi))
        }
        None => {
            let mut delta: isize = 0;
            for r in reps.iter().filter(|r| r.chars.1 <= chars.0) {
                delta += r.text.chars().count() as isize - (r.chars.1 - r.chars.0) as isize;
            }
            let m = |x: usize| (x as isize + delta).max(0) as usize;
            (None, (m(chars.0), m(chars.1)))
        }
    }
}

/// The text a finding covers: its tokens (without the first's leading space) or characters.
pub(crate) fn covered(
    seg: &Segment,
    words: Option<(usize, usize)>,
    chars: (usize, usize),
) -> String {
    match (&seg.words, words) {
        (Some(ws), Some((a, b))) => ws[a..b.min(ws.len())]
            .iter()
            .map(|w| w.w.as_str())
            .collect::<String>()
            .trim_start()
            .to_string(),
        _ => {
            let (a, b) = (byte_of(&seg.text, chars.0), byte_of(&seg.text, chars.1));
            seg.text[a..b].to_string()
        }
    }
}

/// The digits (and `X`) spoken or written in `text`, in every form.
pub(crate) fn digits_in(text: &str) -> String {
    let units: Vec<Unit> = tokenize(text);
    let skip = vec![false; units.len()];
    let mut out: String = runs(text, &units, &skip)
        .into_iter()
        .map(|r| r.digits)
        .collect();
    if out.is_empty() {
        for u in &units {
            if let Num::Digits { d, .. } = super::numerals::read(u.core(text)) {
                out.push_str(&d);
            }
        }
    }
    out
}
