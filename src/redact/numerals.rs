//! Reading digits out of tokens in every spoken form, and grouping them into runs.
//!
//! Forms: ASCII or full-width digits (grouped, hyphenated, `+86`), Chinese numerals (零〇 for
//! 0, 一幺 for 1, 二两 for 2), English digit words with `oh`, `double`, `triple`, and the
//! check character `X` of an ID number.

use super::units::{is_placeholder, Unit};

/// What a token contributes to a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Num {
    /// Digits (and possibly a final `X`); `slash` when written `MM/YY`-like.
    Digits { d: String, slash: bool },
    /// `oh`/`o`: a zero when next to other digits.
    Oh,
    /// `double`/`triple`: repeats the next digit.
    Mult(u8),
    /// `X` spoken as its own token.
    X,
    /// A separator-only token (`-`, `,`), part of a number.
    Sep,
    /// Anything else: ends a number.
    Other,
}

fn fold(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        '零' | '〇' => Some('0'),
        '一' | '幺' => Some('1'),
        '二' | '两' => Some('2'),
        '三' => Some('3'),
        '四' => Some('4'),
        '五' => Some('5'),
        '六' => Some('6'),
        '七' => Some('7'),
        '八' => Some('8'),
        '九' => Some('9'),
        'X' | 'x' | 'Ｘ' | 'ｘ' => Some('X'),
        _ => None,
    }
}

const EN: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Reads one token core.
pub(crate) fn read(core: &str) -> Num {
    if core.is_empty() || is_placeholder(core) {
        return Num::Other;
    }
    if core
        .chars()
        .all(|c| matches!(c, '-' | '/' | '·' | '–' | '—'))
    {
        return Num::Sep;
    }
    let lower = core.to_ascii_lowercase();
    if let Some(i) = EN.iter().position(|w| *w == lower) {
        return Num::Digits {
            d: char::from(b'0' + i as u8).to_string(),
            slash: false,
        };
    }
    match lower.as_str() {
        "oh" | "o" => return Num::Oh,
        "double" => return Num::Mult(2),
        "triple" => return Num::Mult(3),
        "x" => return Num::X,
        _ => {}
    }
    read_written(core)
}

/// Digits written with digit characters or Chinese numerals, with `+`, `-`, `/` and spaces
/// inside; an amount (`2,200`), an ISO date or a decimal is not a number here.
fn read_written(core: &str) -> Num {
    let mut d = String::with_capacity(core.len());
    let mut slash = false;
    let mut seps = 0;
    let body = core.strip_prefix('+').unwrap_or(core);
    for c in body.chars() {
        match fold(c) {
            Some('X') if !d.is_empty() => d.push('X'),
            Some('X') => return Num::Other,
            Some(x) => {
                if d.ends_with('X') {
                    return Num::Other;
                }
                d.push(x)
            }
            None if matches!(c, '-' | '/' | '／' | '－' | ' ') && !d.is_empty() => {
                slash |= matches!(c, '/' | '／');
                seps += 1;
            }
            None => return Num::Other,
        }
    }
    if d.is_empty() || is_iso_date(core) || seps > 6 {
        return Num::Other;
    }
    Num::Digits { d, slash }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s.bytes()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(
            &s[5..7],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

/// A maximal number in one segment: its digits and which units carry which digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// The digits (`X` only last).
    pub digits: String,
    /// (unit index, first digit, end digit) for every unit of the run, in order.
    pub parts: Vec<(usize, usize, usize)>,
    /// Some unit was written with a slash (`08/28`).
    pub slash: bool,
}

impl Run {
    /// First and end unit index (end exclusive).
    pub(crate) fn unit_span(&self) -> (usize, usize) {
        (self.parts[0].0, self.parts[self.parts.len() - 1].0 + 1)
    }

    /// The sub-run of the units `a..b` (unit indices), if any digits fall in it.
    pub(crate) fn slice_units(&self, a: usize, b: usize) -> Option<Run> {
        let parts: Vec<_> = self
            .parts
            .iter()
            .copied()
            .filter(|p| p.0 >= a && p.0 < b)
            .collect();
        let lo = parts.iter().find(|p| p.2 > p.1)?.1;
        let hi = parts.iter().rev().find(|p| p.2 > p.1)?.2;
        let parts = parts
            .into_iter()
            .map(|(u, s, e)| (u, s.max(lo) - lo, e.max(lo) - lo))
            .collect();
        Some(Run {
            digits: self.digits[lo..hi].to_string(),
            parts,
            slash: self.slash,
        })
    }
}

/// True when a token ends a clause (so a number cannot continue past it).
fn ends_clause(trail: &str) -> bool {
    trail.chars().any(|c| !matches!(c, ',' | '、'))
}

/// Groups the units of a segment into runs. `skip[i]` units (already claimed) end runs.
pub(crate) fn runs(text: &str, units: &[Unit], skip: &[bool]) -> Vec<Run> {
    let nums: Vec<Num> = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            if skip[i] {
                Num::Other
            } else {
                read(u.core(text))
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut cur = Builder::default();
    for (i, u) in units.iter().enumerate() {
        let n = &nums[i];
        let punct = u.is_punct_only(text) && !matches!(n, Num::Sep);
        if matches!(n, Num::Other) || punct {
            cur.flush(&mut out);
            continue;
        }
        let next_digit = nums[i + 1..]
            .iter()
            .find(|x| !matches!(x, Num::Sep | Num::Mult(_)));
        cur.push(i, n, next_digit);
        if ends_clause(u.trail(text)) || cur.ended_with_x() {
            cur.flush(&mut out);
        }
    }
    cur.flush(&mut out);
    out
}

#[derive(Default)]
struct Builder {
    digits: String,
    parts: Vec<(usize, usize, usize)>,
    mult: u8,
    slash: bool,
    real: bool,
}

impl Builder {
    fn ended_with_x(&self) -> bool {
        self.digits.ends_with('X')
    }

    fn push(&mut self, i: usize, n: &Num, next: Option<&Num>) {
        let s = self.digits.len();
        match n {
            Num::Digits { d, slash } => {
                let reps = self.mult.max(1) as usize;
                let mut cs = d.chars();
                if let Some(first) = cs.next() {
                    for _ in 0..reps {
                        self.digits.push(first);
                    }
                }
                self.digits.extend(cs);
                self.slash |= *slash;
                self.real = true;
                self.mult = 0;
            }
            Num::Oh => {
                let near = self.real || matches!(next, Some(Num::Digits { .. }) | Some(Num::Oh));
                if !near {
                    return;
                }
                for _ in 0..self.mult.max(1) {
                    self.digits.push('0');
                }
                self.mult = 0;
            }
            Num::Mult(k) => self.mult = *k,
            Num::X if !self.digits.is_empty() => self.digits.push('X'),
            _ => return,
        }
        self.parts.push((i, s, self.digits.len()));
    }

    fn flush(&mut self, out: &mut Vec<Run>) {
        while self.parts.last().is_some_and(|p| p.2 == p.1) {
            self.parts.pop();
        }
        if self.real && !self.parts.is_empty() {
            out.push(Run {
                digits: std::mem::take(&mut self.digits),
                parts: std::mem::take(&mut self.parts),
                slash: self.slash,
            });
        }
        *self = Builder::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_of(words: &[&str]) -> Vec<String> {
        let text: String = words.concat();
        let mut at = 0;
        let units: Vec<Unit> = words
            .iter()
            .map(|w| {
                at += w.len();
                Unit::new(&text, at - w.len(), at)
            })
            .collect();
        let skip = vec![false; units.len()];
        runs(&text, &units, &skip)
            .into_iter()
            .map(|r| r.digits)
            .collect()
    }

    #[test]
    fn english_words_with_oh_double_and_triple_are_read() {
        assert_eq!(
            digits_of(&["six", " two", " double", " six", " oh", " eight,", " triple", " five"]),
            vec!["62660 8555".replace(' ', "")]
        );
    }

    #[test]
    fn chinese_numerals_with_yao_and_liang_are_read() {
        assert_eq!(
            digits_of(&["码是", "幺五三", "四两六", "〇"]),
            vec!["1534260"]
        );
    }

    #[test]
    fn fullwidth_hyphen_and_plus86_forms_are_read() {
        assert_eq!(digits_of(&["+86", " 177-6995-5486"]), vec!["8617769955486"]);
        assert_eq!(digits_of(&["１２/３１"]), vec!["1231"]);
    }

    #[test]
    fn amounts_dates_and_words_are_not_numbers() {
        assert!(digits_of(&["2,200", " dollars"]).is_empty());
        assert!(digits_of(&["2026-03-05"]).is_empty());
        assert!(digits_of(&["Oh,", " I", " see."]).is_empty());
        assert!(digits_of(&["1280元"]).is_empty());
    }

    #[test]
    fn an_id_check_character_ends_the_run() {
        assert_eq!(digits_of(&["一一五X"]), vec!["115X"]);
        assert_eq!(digits_of(&["four", " nine", " X,"]), vec!["49X"]);
    }

    #[test]
    fn a_sentence_end_splits_runs() {
        assert_eq!(digits_of(&["123。", "456"]), vec!["123", "456"]);
        assert_eq!(digits_of(&["four,", " five"]), vec!["45"]);
    }
}
