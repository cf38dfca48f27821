//! Word detectors: e-mail (written and spoken), street addresses, passwords (written and
//! spelled), personal names (Chinese and English).

use crate::formats::transcript::Speaker;

use super::detect::{Groups, Hit, Seg};
use super::lexicon::{Cue, Lexicon};
use super::numerals::{read, Num};

/// Runs the word detectors over one segment, claiming the units they take.
pub(crate) fn detect(
    i: usize,
    seg: &mut Seg,
    lex: &Lexicon,
    hits: &mut Vec<Hit>,
    groups: &mut Groups,
) {
    let start = hits.len();
    let mut push = |seg: &mut Seg,
                    u0: usize,
                    u1: usize,
                    class: &str,
                    detector: &'static str,
                    conf: f32,
                    context: String| {
        if u1 > u0 && seg.free(u0, u1) {
            seg.claim(u0, u1);
            hits.push(Hit {
                class: class.into(),
                seg: i,
                u0,
                u1,
                detector,
                confidence: conf,
                context,
                group: groups.next(),
            });
        }
    };
    for u in 0..seg.units.len() {
        if let Some((a, b, det)) = email_at(seg, u) {
            push(seg, a, b, "email", det, 0.95, "local@domain shape".into());
        }
    }
    for u in 0..seg.units.len() {
        if let Some((a, b, det)) = address_at(seg, lex, u) {
            push(
                seg,
                a,
                b,
                "address",
                det,
                0.9,
                "street name and house number".into(),
            );
        }
    }
    for u in 0..seg.units.len() {
        if let Some((a, b, det, conf, why)) = password_at(seg, u) {
            push(seg, a, b, "password", det, conf, why);
        }
    }
    for u in 0..seg.units.len() {
        if let Some((a, b, det, why)) = name_at(seg, lex, u) {
            push(seg, a, b, "name", det, 0.85, why);
        }
    }
    let _ = start;
}

fn core<'a>(seg: &Seg<'a>, u: usize) -> &'a str {
    seg.units[u].core(seg.text)
}

fn is_ascii_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_digitish(seg: &Seg, u: usize) -> bool {
    matches!(
        read(core(seg, u)),
        Num::Digits { .. } | Num::Oh | Num::Mult(_)
    )
}

type Span = (usize, usize, &'static str);

fn email_at(seg: &Seg, u: usize) -> Option<Span> {
    let c = core(seg, u);
    if let Some((local, domain)) = c.split_once('@') {
        let ok_local = !local.is_empty()
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b));
        let ok_domain = domain.contains('.')
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b));
        return (ok_local && ok_domain).then_some((u, u + 1, "email_written"));
    }
    if !c.eq_ignore_ascii_case("at") || u == 0 {
        return None;
    }
    let end = spoken_domain_end(seg, u + 1)?;
    let start = spoken_local_start(seg, u)?;
    Some((start, end, "email_spoken"))
}

fn is_connector(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "dot" | "underscore" | "dash" | "hyphen"
    )
}

/// `q q dot com`, `gmail dot com`, `一二六 dot com`: pieces, then at least one `dot` + word.
fn spoken_domain_end(seg: &Seg, mut j: usize) -> Option<usize> {
    let n = seg.units.len();
    let mut dots = 0;
    let mut last_word = false;
    let mut pieces = 0;
    while j < n {
        let c = core(seg, j);
        if c.eq_ignore_ascii_case("dot") && pieces > 0 {
            dots += 1;
            pieces = 0;
            last_word = false;
        } else if c.eq_ignore_ascii_case("at") {
            return None; // a user name spoken with "at" before the real one
        } else if is_ascii_word(c) && !is_connector(c) {
            pieces += 1;
            last_word = true;
        } else if is_digitish(seg, j) {
            pieces += 1;
            last_word = false;
        } else {
            break;
        }
        j += 1;
        if last_word && dots > 0 && seg.units[j - 1].trail(seg.text).chars().any(|c| c != ',') {
            break;
        }
    }
    (dots > 0 && last_word).then_some(j)
}

/// The user name before a spoken `at`: piece (connector piece)*, a piece being a word with
/// optional digits after it, or digits alone.
fn spoken_local_start(seg: &Seg, at: usize) -> Option<usize> {
    let mut k = at;
    loop {
        let before = k;
        while k > 0 && is_digitish(seg, k - 1) {
            k -= 1;
        }
        if k > 0 && is_ascii_word(core(seg, k - 1)) && !is_connector(core(seg, k - 1)) {
            k -= 1;
        }
        if k == before {
            break;
        }
        if k > 0 && is_connector(core(seg, k - 1)) {
            k -= 1;
        } else {
            break;
        }
    }
    (k < at).then_some(k)
}

fn ends_with_any(s: &str, list: &[String]) -> bool {
    list.iter().any(|x| s.ends_with(x.as_str()))
}

fn is_han(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn address_at(seg: &Seg, lex: &Lexicon, u: usize) -> Option<Span> {
    let n = seg.units.len();
    let c = core(seg, u);
    let house = |j: usize| {
        j < n && {
            let x = core(seg, j);
            x.strip_suffix('号').is_some_and(|d| {
                !d.is_empty()
                    && d.chars()
                        .all(|ch| ch.is_ascii_digit() || ('０'..='９').contains(&ch))
            })
        }
    };
    if is_han(c) && ends_with_any(c, &lex.zh_street) && house(u + 1) {
        let mut a = u;
        while a > 0
            && u - a < 3
            && is_han(core(seg, a - 1))
            && ends_with_any(core(seg, a - 1), &lex.zh_region)
        {
            a -= 1;
        }
        let mut b = u + 2;
        while b < n && b - u < 6 && is_unit_part(core(seg, b), &lex.zh_unit) {
            b += 1;
        }
        return Some((a, b, "address_zh"));
    }
    en_address_at(seg, lex, u)
}

fn is_unit_part(s: &str, suffixes: &[String]) -> bool {
    suffixes.iter().any(|suf| {
        s.strip_suffix(suf.as_str())
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
    })
}

fn is_capitalised(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_uppercase())
        && cs.all(|c| c.is_ascii_lowercase() || c == '\'' || c == '-')
}

fn en_address_at(seg: &Seg, lex: &Lexicon, u: usize) -> Option<Span> {
    let n = seg.units.len();
    let c = core(seg, u);
    if c.is_empty() || c.len() > 5 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut j = u + 1;
    let mut street = None;
    while j < n && j - u <= 4 && is_capitalised(core(seg, j)) {
        let w = core(seg, j).trim_end_matches('.').to_ascii_lowercase();
        j += 1;
        if lex.en_street.contains(&w) {
            street = Some(j);
            break;
        }
        if !seg.units[j - 1].trail(seg.text).is_empty() {
            break;
        }
    }
    let mut b = street?;
    if b + 1 < n
        && lex.en_unit.contains(&core(seg, b).to_ascii_lowercase())
        && core(seg, b + 1).bytes().all(|x| x.is_ascii_alphanumeric())
    {
        b += 2;
    }
    let comma = seg.units[b - 1].trail(seg.text).starts_with(',');
    if comma
        && b < n
        && is_capitalised(core(seg, b))
        && !lex.en_stop.contains(&core(seg, b).to_ascii_lowercase())
    {
        b += 1;
    }
    Some((u, b, "address_en"))
}

type PwHit = (usize, usize, &'static str, f32, String);

fn password_at(seg: &Seg, u: usize) -> Option<PwHit> {
    let cue = seg
        .cues
        .iter()
        .find(|c| matches!(c.cue, Cue::Password | Cue::Pin))
        .map(|c| seg.text[c.start..c.end].to_string());
    let customer = seg.speaker == Speaker::Customer;
    if cue.is_none() && !customer {
        return None;
    }
    let (conf, why) = match &cue {
        Some(w) => (0.9, format!("password cue {w:?}")),
        None => (0.6, "customer turn, letters and digits".to_string()),
    };
    let c = core(seg, u);
    let letters = c.bytes().filter(u8::is_ascii_alphabetic).count();
    let digits = c.bytes().filter(u8::is_ascii_digit).count();
    if letters >= 2
        && digits >= 2
        && c.bytes().all(|b| b.is_ascii_alphanumeric())
        && c.as_bytes()[0].is_ascii_alphabetic()
    {
        return Some((u, u + 1, "password_written", conf, why));
    }
    spelled_password(seg, u).map(|(a, b)| (a, b, "password_spelled", conf, why))
}

fn is_letter(s: &str) -> bool {
    s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic()
}

fn spelled_password(seg: &Seg, u: usize) -> Option<(usize, usize)> {
    let n = seg.units.len();
    if !is_letter(core(seg, u))
        || (u > 0 && (is_letter(core(seg, u - 1)) || is_digitish(seg, u - 1)))
    {
        return None;
    }
    let mut j = u;
    while j < n && is_letter(core(seg, j)) {
        j += 1;
    }
    let letters = j - u;
    let mut k = j;
    while k < n && is_digitish(seg, k) {
        k += 1;
    }
    (letters >= 2 && (k > j || letters >= 4)).then_some((u, k))
}

type NameHit = (usize, usize, &'static str, String);

fn name_at(seg: &Seg, lex: &Lexicon, u: usize) -> Option<NameHit> {
    let c = core(seg, u);
    let chars: Vec<char> = c.chars().collect();
    if (2..=3).contains(&chars.len()) && is_han(c) {
        if !lex.zh_surnames.contains(&chars[0])
            || chars[1..].iter().any(|ch| lex.zh_stop.contains(ch))
        {
            return None;
        }
        let unit = seg.units[u];
        let prev = seg.text[..unit.core_lo].trim_end();
        let next = seg.text[unit.core_hi..].trim_start();
        let before = lex.zh_before.iter().find(|w| prev.ends_with(w.as_str()));
        let after = lex.zh_after.iter().find(|w| next.starts_with(w.as_str()));
        let closes = next.is_empty()
            || next.starts_with(super::units::is_punct)
            || ["吗", "吧", "呢", "本人"]
                .iter()
                .any(|w| next.starts_with(w));
        return match (before, after) {
            (_, Some(w)) => Some((u, u + 1, "name_zh", format!("title {w:?} after"))),
            (Some(w), None) if closes => Some((u, u + 1, "name_zh", format!("cue {w:?} before"))),
            _ => None,
        };
    }
    en_name_at(seg, lex, u)
}

fn en_name_at(seg: &Seg, lex: &Lexicon, u: usize) -> Option<NameHit> {
    let n = seg.units.len();
    if u + 1 >= n {
        return None;
    }
    let (first, last) = (core(seg, u), core(seg, u + 1));
    let ok = |w: &str| {
        is_capitalised(w) && w.len() >= 2 && !lex.en_stop.contains(&w.to_ascii_lowercase())
    };
    if !ok(first)
        || !ok(last)
        || !seg.units[u].trail(seg.text).is_empty()
        || lex.en_street.contains(&last.to_ascii_lowercase())
    {
        return None;
    }
    let from = seg.units[u.saturating_sub(4)].lo;
    if let Some(cue) = lex.en_name_cue(&seg.text[from..seg.units[u].lo]) {
        return Some((u, u + 2, "name_en", format!("cue {cue:?} before")));
    }
    let mid_sentence = u > 0
        && seg.units[u - 1].trail(seg.text).chars().all(|c| c == ',')
        && !seg.units[u - 1].is_punct_only(seg.text);
    mid_sentence.then(|| {
        (
            u,
            u + 2,
            "name_en_shape",
            "two capitalised words mid-sentence".to_string(),
        )
    })
}
