//! The number detector: cards, ID numbers, mobiles (validated), short authentication codes
//! (by context), values split across two customer turns, and the keep values (hotlines,
//! agent numbers, last-four verifications, order numbers, amounts) that must survive.

use crate::formats::transcript::Speaker;

use super::checks;
use super::detect::{Groups, Hit, Seg};
use super::lexicon::{Cue, CueHit, Lexicon};
use super::numerals::{runs, Run};

/// Bytes between a cue and a number for the cue to count in an agent's turn.
const AGENT_CUE_REACH: usize = 18;
/// Bytes after a number in which a cue still counts (`05/28到期`).
const AFTER_REACH: usize = 10;

/// Runs the number detector over all segments (word detectors have claimed their units).
pub(crate) fn detect(segs: &mut [Seg], lex: &Lexicon, hits: &mut Vec<Hit>, groups: &mut Groups) {
    let mut all: Vec<Vec<Option<Run>>> = segs
        .iter()
        .map(|s| {
            runs(s.text, &s.units, &s.claimed)
                .into_iter()
                .map(Some)
                .collect()
        })
        .collect();
    join_split_values(segs, &mut all, hits, groups);
    for i in 0..segs.len() {
        let prev_last4 = previous_agent_asks_last4(segs, i);
        for run in all[i].iter_mut().filter_map(Option::take) {
            let ctx = Ctx {
                seg: &segs[i],
                idx: i,
                prev_last4,
            };
            classify(&ctx, &run, hits, groups);
        }
        let _ = lex;
    }
    for h in hits.iter() {
        segs[h.seg].claim(h.u0, h.u1);
    }
}

struct Ctx<'a, 'b> {
    seg: &'a Seg<'b>,
    idx: usize,
    prev_last4: bool,
}

impl Ctx<'_, '_> {
    fn hit(
        &self,
        run: &Run,
        class: &str,
        detector: &'static str,
        confidence: f32,
        context: String,
        group: usize,
    ) -> Hit {
        let (u0, u1) = run.unit_span();
        Hit {
            class: class.to_string(),
            seg: self.idx,
            u0,
            u1,
            detector,
            confidence,
            context,
            group,
        }
    }

    fn byte_span(&self, run: &Run) -> (usize, usize) {
        let (a, b) = run.unit_span();
        (self.seg.units[a].core_lo, self.seg.units[b - 1].core_hi)
    }

    fn customer(&self) -> bool {
        self.seg.speaker == Speaker::Customer
    }
}

/// The agent's turn right before asks for a last-four verification: a last-four cue, or
/// "four" said without any authentication-data cue.
fn previous_agent_asks_last4(segs: &[Seg], i: usize) -> bool {
    if i == 0 || segs[i - 1].speaker != Speaker::Agent {
        return false;
    }
    let prev = &segs[i - 1];
    let cue = prev.cues.iter().any(|c| c.cue == Cue::Last4);
    let four = prev.text.contains('四')
        || prev
            .text
            .to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "four" || w == "4");
    cue || (four && !prev.cues.iter().any(|c| c.cue.c3_class().is_some()))
}

/// A validated C2 value: class, detector, context.
fn strong(d: &str) -> Option<(&'static str, &'static str, String)> {
    if checks::is_id(d) {
        return Some((
            "id_number",
            "id_checksum",
            "18 characters, birth date, MOD 11-2 check".into(),
        ));
    }
    if let Some(scheme) = checks::is_card(d) {
        return Some((
            "card_number",
            "card_luhn",
            format!("Luhn valid, {scheme} prefix, {} digits", d.len()),
        ));
    }
    if checks::mobile(d).is_some() {
        return Some((
            "phone",
            "mobile_prefix",
            "mainland mobile 1[3-9] + 9 digits".into(),
        ));
    }
    None
}

/// Values given in two parts: the number ending one customer turn and the first number of
/// the next customer turn (an agent turn without digits may sit between).
fn join_split_values(
    segs: &[Seg],
    all: &mut [Vec<Option<Run>>],
    hits: &mut Vec<Hit>,
    groups: &mut Groups,
) {
    for a in 0..segs.len() {
        if segs[a].speaker != Speaker::Customer {
            continue;
        }
        let b = if segs
            .get(a + 1)
            .is_some_and(|s| s.speaker == Speaker::Customer)
        {
            a + 1
        } else if segs
            .get(a + 2)
            .is_some_and(|s| s.speaker == Speaker::Customer)
            && all[a + 1].is_empty()
        {
            a + 2
        } else {
            continue;
        };
        let Some(ra) = all[a].last().and_then(|r| r.clone()) else {
            continue;
        };
        let Some(rb) = all[b].first().and_then(|r| r.clone()) else {
            continue;
        };
        if !ends_turn(&segs[a], &ra)
            || ra.digits.ends_with('X')
            || strong(&ra.digits).is_some()
            || strong(&rb.digits).is_some()
        {
            continue;
        }
        let b_lo = segs[b].units[rb.parts[0].0].core_lo;
        if segs[b]
            .cues
            .iter()
            .any(|c| c.end <= b_lo && (c.cue.is_keep() || c.cue.c3_class().is_some()))
        {
            continue; // the second turn announces a value of its own
        }
        let joined = format!("{}{}", ra.digits, rb.digits);
        let found = strong(&joined).or_else(|| {
            let otp = segs[a].cues.iter().any(|c| c.cue == Cue::Otp);
            (joined.len() == 6 && otp).then(|| {
                (
                    "otp",
                    "split_code_cue",
                    "code cue before a 6-digit value in two turns".to_string(),
                )
            })
        });
        let Some((class, detector, context)) = found else {
            continue;
        };
        let g = groups.next();
        for (seg, run) in [(a, &ra), (b, &rb)] {
            let (u0, u1) = run.unit_span();
            let context = format!("{context}; split across turns");
            hits.push(Hit {
                class: class.to_string(),
                seg,
                u0,
                u1,
                detector,
                confidence: 0.9,
                context,
                group: g,
            });
        }
        let last = all[a].len() - 1;
        all[a][last] = None;
        all[b][0] = None;
    }
}

fn ends_turn(seg: &Seg, run: &Run) -> bool {
    let (_, end) = run.unit_span();
    seg.units[end..]
        .iter()
        .all(|u| u.is_punct_only(seg.text) || u.core(seg.text).is_empty())
}

fn classify(ctx: &Ctx, run: &Run, hits: &mut Vec<Hit>, groups: &mut Groups) {
    let d = run.digits.as_str();
    if let Some((class, det, why)) = strong(d) {
        hits.push(ctx.hit(run, class, det, 0.95, why, groups.next()));
    } else if checks::is_hotline(d) {
        // keep: an official hotline
    } else if d.len() >= 12 {
        long(ctx, run, hits, groups);
    } else if d.len() >= 3 {
        short(ctx, run, hits, groups);
    }
}

/// Twelve or more digits that are not one valid value: a value run into other digits, an
/// order number (keep), or an unvalidated long number a customer read out.
fn long(ctx: &Ctx, run: &Run, hits: &mut Vec<Hit>, groups: &mut Groups) {
    let decisive = nearest_before(ctx, run, |c| {
        c.is_keep() || c.c3_class().is_some() || matches!(c, Cue::Card | Cue::Id | Cue::Phone)
    });
    if !ctx.customer() || decisive.is_some_and(|c| c.cue == Cue::Order) {
        return; // keep: an order or transaction number
    }
    let (a, b) = run.unit_span();
    let mut best: Option<(usize, Run, Run, bool)> = None;
    for cut in a + 1..b {
        let (Some(p), Some(s)) = (run.slice_units(a, cut), run.slice_units(cut, b)) else {
            continue;
        };
        for (piece, first) in [(&p, true), (&s, false)] {
            if strong(&piece.digits).is_some()
                && best.as_ref().is_none_or(|x| piece.digits.len() > x.0)
            {
                best = Some((piece.digits.len(), p.clone(), s.clone(), first));
            }
        }
    }
    if let Some((_, p, s, first)) = best {
        let (good, rest) = if first { (p, s) } else { (s, p) };
        classify(ctx, &good, hits, groups);
        classify(ctx, &rest, hits, groups);
        return;
    }
    if let Some((class, det, why)) = inner_window(&run.digits) {
        hits.push(ctx.hit(run, class, det, 0.85, why, groups.next()));
        return;
    }
    let class = match run.digits.len() {
        17 | 18 if run.digits.ends_with('X') => "id_number",
        12 | 13 => "phone",
        _ => "card_number",
    };
    let why = "customer read out a long number that fails every validator".to_string();
    hits.push(ctx.hit(
        run,
        class,
        "unvalidated_long_number",
        0.5,
        why,
        groups.next(),
    ));
}

/// A card or ID inside a longer run of digits (e.g. a card number run into a code).
fn inner_window(d: &str) -> Option<(&'static str, &'static str, String)> {
    for start in 0..d.len() {
        for len in [19, 18, 17, 16, 15] {
            let Some(w) = d.get(start..start + len) else {
                continue;
            };
            if checks::is_id(w) {
                return Some((
                    "id_number",
                    "id_checksum_inner",
                    "ID checksum valid inside a longer number".into(),
                ));
            }
            if let Some(s) = checks::is_card(w) {
                return Some((
                    "card_number",
                    "card_luhn_inner",
                    format!("Luhn valid {s} number inside a longer number"),
                ));
            }
        }
    }
    None
}

fn nearest_before<'a>(ctx: &'a Ctx, run: &Run, want: impl Fn(Cue) -> bool) -> Option<&'a CueHit> {
    let (lo, _) = ctx.byte_span(run);
    ctx.seg
        .cues
        .iter()
        .filter(|c| c.end <= lo && want(c.cue))
        .last()
}

fn c3_compatible(class: &str, d: &str) -> bool {
    let n = d.len();
    match class {
        "cvv" => n == 3 || n == 4,
        "pin" => n == 4 || n == 6,
        "otp" => (4..=8).contains(&n),
        "expiry" => checks::is_expiry(d),
        _ => false, // digits alone are a PIN, not a password
    }
}

fn class_by_length(d: &str) -> &'static str {
    match d.len() {
        3 => "cvv",
        4 if checks::is_expiry(d) => "expiry",
        4 => "pin",
        _ => "otp",
    }
}

/// Three to eleven digits: an authentication code when a C3 cue is nearer than a keep cue
/// (or, in a customer turn, when nothing explains the number); otherwise kept.
fn short(ctx: &Ctx, run: &Run, hits: &mut Vec<Hit>, groups: &mut Groups) {
    let d = run.digits.as_str();
    let (lo, hi) = ctx.byte_span(run);
    let after = ctx
        .seg
        .cues
        .iter()
        .find(|c| c.start >= hi && c.start - hi <= AFTER_REACH);
    if after.is_some_and(|c| c.cue == Cue::Amount) {
        return; // keep: an amount
    }
    let decisive = nearest_before(ctx, run, |c| c.is_keep() || c.c3_class().is_some());
    let c3_before = decisive.filter(|c| c.cue.c3_class().is_some());
    if !ctx.customer() {
        let near = c3_before.filter(|c| lo - c.end <= AGENT_CUE_REACH);
        let negated = ctx
            .seg
            .cues
            .iter()
            .any(|c| c.cue == Cue::Negation && c.end <= lo);
        if let (Some(c), false) = (near, negated) {
            push_c3(ctx, run, c, hits, groups, "agent turn, cue right before");
        }
        return;
    }
    if let Some(c) = c3_before {
        return push_c3(ctx, run, c, hits, groups, "cue before");
    }
    if decisive.is_some() {
        return; // keep: last four, agent, hotline or order cue is nearest
    }
    if let Some(c) = after.filter(|c| c.cue.c3_class().is_some()) {
        return push_c3(ctx, run, c, hits, groups, "cue right after");
    }
    if run.slash && checks::is_expiry(d) {
        let why = "MM/YY written with a slash".to_string();
        return hits.push(ctx.hit(run, "expiry", "expiry_shape", 0.7, why, groups.next()));
    }
    if ctx.prev_last4 && d.len() == 4 {
        return; // keep: the last-four verification the agent asked for
    }
    let why = "customer read out digits nothing explains".to_string();
    hits.push(ctx.hit(
        run,
        class_by_length(d),
        "unexplained_digits",
        0.5,
        why,
        groups.next(),
    ));
}

fn push_c3(
    ctx: &Ctx,
    run: &Run,
    cue: &CueHit,
    hits: &mut Vec<Hit>,
    groups: &mut Groups,
    how: &str,
) {
    let d = run.digits.as_str();
    let nearest = cue.cue.c3_class().filter(|c| c3_compatible(c, d));
    let compatible = nearest.or_else(|| {
        let (lo, _) = ctx.byte_span(run);
        ctx.seg
            .cues
            .iter()
            .rev()
            .filter(|c| c.end <= lo)
            .filter_map(|c| c.cue.c3_class())
            .find(|c| c3_compatible(c, d))
    });
    let class = compatible.unwrap_or_else(|| class_by_length(d));
    let word = &ctx.seg.text[cue.start..cue.end];
    let why = format!("{} cue {:?} ({how})", cue.cue.key(), word);
    hits.push(ctx.hit(run, class, "short_code_cue", 0.85, why, groups.next()));
}
