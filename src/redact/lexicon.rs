//! Compiled cue words and word lists of the built-in detectors (from `detectors.toml`).

use std::collections::{BTreeMap, HashSet};

use regex::{Regex, RegexSet};
use serde::Deserialize;

/// A group of context words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Cue {
    Cvv,
    Expiry,
    Pin,
    Password,
    Otp,
    Card,
    Id,
    Phone,
    Last4,
    Agent,
    Hotline,
    Order,
    Amount,
    Negation,
}

const CUE_KEYS: [(&str, Cue); 14] = [
    ("cvv", Cue::Cvv),
    ("expiry", Cue::Expiry),
    ("pin", Cue::Pin),
    ("password", Cue::Password),
    ("otp", Cue::Otp),
    ("card", Cue::Card),
    ("id", Cue::Id),
    ("phone", Cue::Phone),
    ("last4", Cue::Last4),
    ("agent", Cue::Agent),
    ("hotline", Cue::Hotline),
    ("order", Cue::Order),
    ("amount", Cue::Amount),
    ("negation", Cue::Negation),
];

impl Cue {
    /// The C3 class a cue points at, if any.
    pub(crate) fn c3_class(self) -> Option<&'static str> {
        match self {
            Cue::Cvv => Some("cvv"),
            Cue::Expiry => Some("expiry"),
            Cue::Pin => Some("pin"),
            Cue::Password => Some("password"),
            Cue::Otp => Some("otp"),
            _ => None,
        }
    }

    /// Whether the cue speaks for keeping a nearby short number.
    pub(crate) fn is_keep(self) -> bool {
        matches!(self, Cue::Last4 | Cue::Agent | Cue::Hotline | Cue::Order)
    }

    /// The policy-file key.
    pub(crate) fn key(self) -> &'static str {
        CUE_KEYS
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(k, _)| *k)
            .unwrap_or("")
    }
}

/// One cue occurrence in a text (byte range).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CueHit {
    pub cue: Cue,
    pub start: usize,
    pub end: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LexiconSource {
    cues: BTreeMap<String, Vec<String>>,
    names: NamesSource,
    address: AddressSource,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamesSource {
    zh_surnames: String,
    zh_stop_chars: String,
    zh_before: Vec<String>,
    zh_after: Vec<String>,
    en_before: Vec<String>,
    en_stopwords: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressSource {
    zh_street_suffixes: Vec<String>,
    zh_region_suffixes: Vec<String>,
    zh_unit_suffixes: Vec<String>,
    en_street_suffixes: Vec<String>,
    en_unit_words: Vec<String>,
}

/// Compiled word lists.
#[derive(Clone, Debug)]
pub(crate) struct Lexicon {
    cues: Vec<(Cue, Regex)>,
    set: RegexSet,
    pub zh_surnames: HashSet<char>,
    pub zh_stop: HashSet<char>,
    pub zh_before: Vec<String>,
    pub zh_after: Vec<String>,
    pub en_before: Regex,
    pub en_stop: HashSet<String>,
    pub zh_street: Vec<String>,
    pub zh_region: Vec<String>,
    pub zh_unit: Vec<String>,
    pub en_street: HashSet<String>,
    pub en_unit: HashSet<String>,
}

/// A case-insensitive alternation of cue words; English words are whole words (checked by
/// [`is_word_match`]), any whitespace between them.
pub(crate) fn cue_regex(words: &[String]) -> Result<Regex, String> {
    let mut ws: Vec<&String> = words.iter().filter(|w| !w.trim().is_empty()).collect();
    if ws.is_empty() {
        return Err("a cue list is empty".into());
    }
    ws.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let alts: Vec<String> = ws
        .iter()
        .map(|w| {
            w.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    Regex::new(&format!("(?i)(?:{})", alts.join("|")))
        .map_err(|_| "a cue word does not compile".into())
}

/// True when a match does not cut an ASCII word on either side.
pub(crate) fn is_word_match(text: &str, start: usize, end: usize) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let first = text[start..].chars().next();
    let last = text[..end].chars().next_back();
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let left_ok = !(first.is_some_and(alnum) && before.is_some_and(alnum));
    let right_ok = !(last.is_some_and(alnum) && after.is_some_and(alnum));
    left_ok && right_ok
}

fn lower_set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_lowercase()).collect()
}

impl Lexicon {
    pub(crate) fn compile(src: LexiconSource) -> Result<Lexicon, String> {
        let mut cues = Vec::new();
        for (key, cue) in CUE_KEYS {
            let words = src
                .cues
                .get(key)
                .ok_or_else(|| format!("[cues] {key} is missing"))?;
            cues.push((
                cue,
                cue_regex(words).map_err(|m| format!("[cues] {key}: {m}"))?,
            ));
        }
        if let Some(k) = src
            .cues
            .keys()
            .find(|k| !CUE_KEYS.iter().any(|(c, _)| c == k))
        {
            return Err(format!("[cues] {k} is not a known cue group"));
        }
        let set = RegexSet::new(cues.iter().map(|(_, r)| r.as_str()))
            .map_err(|_| "cue set does not compile".to_string())?;
        let n = src.names;
        let a = src.address;
        if n.zh_surnames.trim().is_empty()
            || a.zh_street_suffixes.is_empty()
            || a.en_street_suffixes.is_empty()
        {
            return Err(
                "[names] zh_surnames and [address] street suffixes must not be empty".into(),
            );
        }
        Ok(Lexicon {
            cues,
            set,
            zh_surnames: n
                .zh_surnames
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
            zh_stop: n.zh_stop_chars.chars().collect(),
            zh_before: n.zh_before,
            zh_after: n.zh_after,
            en_before: cue_regex(&n.en_before).map_err(|m| format!("[names] en_before: {m}"))?,
            en_stop: lower_set(&n.en_stopwords),
            zh_street: a.zh_street_suffixes,
            zh_region: a.zh_region_suffixes,
            zh_unit: a.zh_unit_suffixes,
            en_street: lower_set(&a.en_street_suffixes),
            en_unit: lower_set(&a.en_unit_words),
        })
    }

    /// Every cue occurrence in `text`, in text order.
    pub(crate) fn cues_in(&self, text: &str) -> Vec<CueHit> {
        let mut out = Vec::new();
        for i in self.set.matches(text).iter() {
            let (cue, re) = &self.cues[i];
            for m in re.find_iter(text) {
                if is_word_match(text, m.start(), m.end()) {
                    out.push(CueHit {
                        cue: *cue,
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
        out.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        // A cue inside a longer one (码 in 密码) is not a cue of its own.
        let mut kept: Vec<CueHit> = Vec::with_capacity(out.len());
        for h in out {
            let inside = kept.iter().any(|k| {
                k.start <= h.start && h.end <= k.end && (k.end - k.start) > (h.end - h.start)
            });
            if !inside {
                kept.push(h);
            }
        }
        kept
    }

    /// True when some English name cue ends within `text` (the words before a name).
    pub(crate) fn en_name_cue(&self, text: &str) -> Option<String> {
        self.en_before
            .find_iter(text)
            .filter(|m| is_word_match(text, m.start(), m.end()))
            .last()
            .map(|m| m.as_str().to_lowercase())
    }
}
