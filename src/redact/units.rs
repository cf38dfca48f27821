//! Word units of a segment: its tokens, or (without `words`) a tokenisation of its text.
//!
//! Every value occupies whole tokens, so detectors work on units and redact whole units.

use crate::formats::transcript::Segment;

/// Punctuation that may trail a token (and is kept when the token is redacted).
pub(crate) fn is_punct(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
            | '"'
            | '“'
            | '”'
            | ')'
            | '）'
    )
}

/// A token: byte range in the segment text, and its core (no leading space, no trailing
/// punctuation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    pub lo: usize,
    pub hi: usize,
    pub core_lo: usize,
    pub core_hi: usize,
}

impl Unit {
    pub(crate) fn new(text: &str, lo: usize, hi: usize) -> Unit {
        let s = &text[lo..hi];
        let lead = s.len() - s.trim_start().len();
        let body = &s[lead..];
        let core = body.trim_end_matches(is_punct);
        let core = if core.is_empty() { body } else { core };
        Unit {
            lo,
            hi,
            core_lo: lo + lead,
            core_hi: lo + lead + core.len(),
        }
    }

    /// The token without leading whitespace and trailing punctuation.
    pub(crate) fn core<'a>(&self, text: &'a str) -> &'a str {
        &text[self.core_lo..self.core_hi]
    }

    /// The leading whitespace.
    pub(crate) fn lead<'a>(&self, text: &'a str) -> &'a str {
        &text[self.lo..self.core_lo]
    }

    /// The trailing punctuation.
    pub(crate) fn trail<'a>(&self, text: &'a str) -> &'a str {
        &text[self.core_hi..self.hi]
    }

    /// True for a token made only of punctuation.
    pub(crate) fn is_punct_only(&self, text: &str) -> bool {
        let c = self.core(text);
        !c.is_empty()
            && c.chars()
                .all(|ch| is_punct(ch) || matches!(ch, '-' | '/' | '·' | '—' | '–'))
    }
}

/// True for a placeholder token written by a view (`[CARD ••••1234]`, `王[NAME]`).
pub(crate) fn is_placeholder(core: &str) -> bool {
    core.contains('[') && core.contains(']')
}

/// The units of a segment.
pub(crate) fn units_of(seg: &Segment) -> Vec<Unit> {
    match &seg.words {
        Some(ws) => {
            let mut out = Vec::with_capacity(ws.len());
            let mut at = 0;
            for w in ws {
                let hi = (at + w.w.len()).min(seg.text.len());
                out.push(Unit::new(&seg.text, at, hi));
                at = hi;
            }
            out
        }
        None => tokenize(&seg.text),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    Ascii,
    Numeral,
    Han,
    Punct,
}

fn class_of(c: char) -> Class {
    if c.is_whitespace() {
        Class::Space
    } else if is_punct(c) {
        Class::Punct
    } else if c.is_ascii_alphanumeric()
        || "@._+-/%$¥#&'".contains(c)
        || ('０'..='９').contains(&c)
        || c == 'Ｘ'
    {
        Class::Ascii
    } else if "零〇一幺二两三四五六七八九".contains(c) {
        Class::Numeral
    } else {
        Class::Han
    }
}

/// Tokenises text without word times: whitespace leads the next token; ASCII words, runs of
/// Chinese numerals and single other characters are tokens; punctuation trails its token.
pub(crate) fn tokenize(text: &str) -> Vec<Unit> {
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    let mut prev = Class::Space;
    for (i, c) in text.char_indices() {
        let k = class_of(c);
        let cut = match (prev, k) {
            (_, Class::Space) => prev != Class::Space,
            (Class::Space, _) => false,
            (_, Class::Punct) => false,
            (Class::Punct, _) => true,
            (a, b) => a != b || a == Class::Han,
        };
        if cut {
            if let Some(s) = start {
                bounds.push((s, i));
            }
            start = Some(i);
        } else if start.is_none() {
            start = Some(i);
        }
        prev = k;
    }
    if let Some(s) = start {
        bounds.push((s, text.len()));
    }
    bounds.iter().map(|&(a, b)| Unit::new(text, a, b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cores(text: &str) -> Vec<&str> {
        tokenize(text).iter().map(|u| u.core(text)).collect()
    }

    #[test]
    fn tokenizer_splits_ascii_numerals_and_han() {
        assert_eq!(
            cores("卡号是6222 0212，谢谢"),
            vec!["卡", "号", "是", "6222", "0212", "谢", "谢"]
        );
        assert_eq!(cores("码是三五六。"), vec!["码", "是", "三五六"]);
    }

    #[test]
    fn tokenizer_units_cover_the_text_exactly() {
        let t = " My card is 4111-1111, ok?  码是一二";
        let us = tokenize(t);
        let joined: String = us.iter().map(|u| &t[u.lo..u.hi]).collect();
        assert_eq!(joined.trim_start(), t.trim_start());
    }

    #[test]
    fn core_strips_leading_space_and_trailing_punctuation() {
        let t = " four,";
        let u = Unit::new(t, 0, t.len());
        assert_eq!((u.lead(t), u.core(t), u.trail(t)), (" ", "four", ","));
    }
}
