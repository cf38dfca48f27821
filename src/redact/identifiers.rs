//! Customer identifiers in canonical form, for the keyed blind index: the card numbers,
//! phone numbers and ID numbers found in a master, and the same normalisation for a value
//! typed into a search. Both sides go through [`normalize`], so `138 1234 5678`,
//! `+86-13812345678` and `幺三八幺二三四五六七八` meet in one index entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::checks;
use super::master::Master;
use super::numerals::{read, Num};
use super::units::tokenize;

/// Which kind of customer identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// A payment card number (Luhn-valid, known issuer prefix).
    CardNumber,
    /// A mainland mobile number, without the country code.
    Phone,
    /// A PRC resident ID number (check character upper-case `X`).
    IdNumber,
}

impl IdentifierKind {
    /// Every kind.
    pub const ALL: [IdentifierKind; 3] = [
        IdentifierKind::CardNumber,
        IdentifierKind::Phone,
        IdentifierKind::IdNumber,
    ];

    /// The data-class name (and JSON field name) of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::CardNumber => "card_number",
            IdentifierKind::Phone => "phone",
            IdentifierKind::IdNumber => "id_number",
        }
    }

    /// The kind whose class name is `class`.
    pub fn from_class(class: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == class)
    }
}

/// Reads the digits (and a final `X`) out of text in any spoken form.
fn spoken_digits(text: &str) -> String {
    let mut out = String::new();
    let mut mult = 1usize;
    for unit in tokenize(text) {
        let digits = match read(unit.core(text)) {
            Num::Digits { d, .. } => d,
            Num::Oh => "0".to_string(),
            Num::X => "X".to_string(),
            Num::Mult(n) => {
                mult = usize::from(n);
                continue;
            }
            Num::Sep | Num::Other => continue,
        };
        let mut chars = digits.chars();
        if let Some(first) = chars.next() {
            out.extend(std::iter::repeat_n(first, mult));
            out.extend(chars);
        }
        mult = 1;
    }
    out
}

/// The canonical form of an identifier of `kind` written in `text`, or `None` when `text`
/// holds no valid one. A valid value inside a longer digit run is found too.
pub fn normalize(kind: IdentifierKind, text: &str) -> Option<Zeroizing<String>> {
    let d = Zeroizing::new(spoken_digits(text));
    let found = match kind {
        IdentifierKind::CardNumber => windows(&d, 15..=19).find(|w| checks::is_card(w).is_some()),
        IdentifierKind::Phone => windows(&d, 11..=13)
            .find_map(|w| checks::mobile(w).map(|skip| &w[skip..]))
            .filter(|m| m.len() == 11),
        IdentifierKind::IdNumber => windows(&d, 18..=18).find(|w| checks::is_id(w)),
    };
    found.map(|v| Zeroizing::new(v.to_string()))
}

/// Every substring of `d` with a length in `lens`, longest first, then left to right.
fn windows(d: &str, lens: std::ops::RangeInclusive<usize>) -> impl Iterator<Item = &str> {
    lens.rev()
        .flat_map(move |n| (0..=d.len().saturating_sub(n)).map(move |i| (i, n)))
        .filter(move |(i, n)| i + n <= d.len())
        .map(move |(i, n)| &d[i..i + n])
}

/// The customer identifiers in a master's findings, canonical and de-duplicated. Parts of
/// one value split across turns are joined in order before normalising.
pub fn customer_identifiers(master: &Master) -> Vec<(IdentifierKind, Zeroizing<String>)> {
    let mut groups: BTreeMap<(usize, IdentifierKind), Zeroizing<String>> = BTreeMap::new();
    for f in &master.findings {
        let Some(kind) = IdentifierKind::from_class(&f.class) else {
            continue;
        };
        let Some(seg) = master.transcript.segments.get(f.segment) else {
            continue;
        };
        let part: String = seg
            .text
            .chars()
            .skip(f.chars.0)
            .take(f.chars.1.saturating_sub(f.chars.0))
            .collect();
        let entry = groups.entry((f.group, kind)).or_default();
        entry.push(' ');
        entry.push_str(&part);
    }
    let mut out: Vec<(IdentifierKind, Zeroizing<String>)> = groups
        .into_iter()
        .filter_map(|((_, kind), text)| normalize(kind, &text).map(|v| (kind, v)))
        .collect();
    out.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
    out.dedup_by(|a, b| a.0 == b.0 && a.1.as_str() == b.1.as_str());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(kind: IdentifierKind, text: &str) -> Option<String> {
        normalize(kind, text).map(|v| v.to_string())
    }

    #[test]
    fn phones_in_every_form_meet_in_one_canonical_value() {
        for text in [
            "13812345678",
            "138 1234 5678",
            "+86-138-1234-5678",
            "+8613812345678",
            "幺三八幺二三四五六七八",
            "one three eight one two three four five six seven eight",
            "138 幺二三四 five six seven eight",
        ] {
            assert_eq!(
                norm(IdentifierKind::Phone, text).as_deref(),
                Some("13812345678"),
                "form {}",
                text.len()
            );
        }
        assert_eq!(norm(IdentifierKind::Phone, "12345678901"), None);
    }

    #[test]
    fn cards_are_found_by_luhn_even_inside_a_longer_run() {
        let card = "4111111111111111";
        assert_eq!(
            norm(IdentifierKind::CardNumber, "4111 1111 1111 1111").as_deref(),
            Some(card)
        );
        assert_eq!(
            norm(
                IdentifierKind::CardNumber,
                "four one double one, triple one one, 1111 1111"
            )
            .as_deref(),
            Some(card)
        );
        assert_eq!(
            norm(IdentifierKind::CardNumber, "41111111111111117").as_deref(),
            Some(card)
        );
        assert_eq!(norm(IdentifierKind::CardNumber, "4111111111111112"), None);
    }

    #[test]
    fn id_numbers_keep_an_upper_case_check_character() {
        assert_eq!(
            norm(IdentifierKind::IdNumber, "11010519491231002x").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(norm(IdentifierKind::IdNumber, "110105194912310021"), None);
    }
}
