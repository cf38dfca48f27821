//! Validators: Luhn and issuer prefixes, the PRC resident ID checksum, mainland mobiles,
//! hotlines and card expiry shapes. Inputs are digit strings (`X` only as an ID check).

/// Luhn check over ASCII digits.
pub(crate) fn luhn(d: &str) -> bool {
    if d.len() < 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = d
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = v * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                v
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card scheme whose prefix and length `d` has, if any.
pub(crate) fn issuer(d: &str) -> Option<&'static str> {
    let n = d.len();
    let p2: u32 = d.get(..2)?.parse().ok()?;
    let p4: u32 = d.get(..4)?.parse().ok()?;
    match () {
        _ if p2 == 62 && (16..=19).contains(&n) => Some("unionpay"),
        _ if d.starts_with('4') && matches!(n, 13 | 16 | 19) => Some("visa"),
        _ if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16 => {
            Some("mastercard")
        }
        _ if (p2 == 34 || p2 == 37) && n == 15 => Some("amex"),
        _ if (3528..=3589).contains(&p4) && (16..=19).contains(&n) => Some("jcb"),
        _ => None,
    }
}

/// A Luhn-valid number with an issuer prefix of the right length.
pub(crate) fn is_card(d: &str) -> Option<&'static str> {
    if luhn(d) {
        issuer(d)
    } else {
        None
    }
}

const ID_W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// An 18-character PRC resident ID: region, a real birth date, ISO 7064 MOD 11-2 check.
pub(crate) fn is_id(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b'1'..=b'8').contains(&b[0]) {
        return false;
    }
    let year: u32 = d[6..10].parse().unwrap_or(0);
    let month: u32 = d[10..12].parse().unwrap_or(0);
    let day: u32 = d[12..14].parse().unwrap_or(0);
    if !(1900..=2030).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(ID_W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17] == check
}

/// A mainland mobile, optionally with the country code 86 in front; returns the digits
/// of the country code to skip.
pub(crate) fn mobile(d: &str) -> Option<usize> {
    let ok = |m: &str| {
        m.len() == 11
            && m.starts_with('1')
            && matches!(m.as_bytes()[1], b'3'..=b'9')
            && m.bytes().all(|b| b.is_ascii_digit())
    };
    if ok(d) {
        Some(0)
    } else if d.len() == 13 && d.starts_with("86") && ok(&d[2..]) {
        Some(2)
    } else {
        None
    }
}

/// An official hotline: 95xxx, or 400/800 followed by seven digits.
pub(crate) fn is_hotline(d: &str) -> bool {
    (d.len() == 5 && d.starts_with("95"))
        || (d.len() == 10 && (d.starts_with("400") || d.starts_with("800")))
}

/// `MMYY` with a real month.
pub(crate) fn is_expiry(d: &str) -> bool {
    d.len() == 4
        && d.bytes().all(|b| b.is_ascii_digit())
        && matches!(d[..2].parse::<u32>(), Ok(1..=12))
}

/// The named custom-detector validator.
pub(crate) fn by_name(name: &str, d: &str) -> bool {
    match name {
        "luhn" => luhn(d),
        "id_checksum" => is_id(d),
        "mobile" => mobile(d).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_valid_cards_and_rejects_one_digit_off() {
        assert_eq!(is_card("4111111111111111"), Some("visa"));
        assert_eq!(
            is_card("6222021234567890").is_some(),
            luhn("6222021234567890")
        );
        assert!(is_card("4111111111111112").is_none());
        assert_eq!(is_card("378282246310005"), Some("amex"));
    }

    #[test]
    fn a_luhn_valid_number_without_issuer_prefix_is_no_card() {
        assert!(luhn("1234567812345670"));
        assert!(is_card("1234567812345670").is_none());
    }

    #[test]
    fn id_checksum_and_birth_date_are_checked() {
        assert!(is_id("11010519491231002X"));
        assert!(!is_id("11010519491231002"));
        assert!(!is_id("110105194912310021"));
        assert!(!is_id("11010519491331002X"));
    }

    #[test]
    fn mobiles_need_1_3_to_9_and_eleven_digits() {
        assert_eq!(mobile("13812345678"), Some(0));
        assert_eq!(mobile("8613812345678"), Some(2));
        assert_eq!(mobile("12812345678"), None);
        assert_eq!(mobile("1381234567"), None);
    }

    #[test]
    fn hotlines_are_recognised() {
        assert!(is_hotline("95588") && is_hotline("4008208820"));
        assert!(!is_hotline("95588123") && !is_hotline("13812345678"));
    }
}
