//! Tests of the BagIt parsers: percent-decoding, manifest lines, labels, Oxum and dates.

use super::*;

#[test]
fn only_the_three_rfc_8493_escapes_decode() {
    assert_eq!(
        percent_decode("a%0Ab%0dc%25d").as_deref(),
        Some("a\nb\rc%d")
    );
    assert_eq!(percent_decode("plain"), Some("plain".into()));
    assert_eq!(percent_decode("a%20b"), None);
    assert_eq!(percent_decode("a%2"), None);
}

#[test]
fn manifest_lines_need_a_full_digest_and_a_safe_path() {
    let d = "ab".repeat(32);
    let ok = format!("{d}  data/x\n{}\tdata/y\n", d.to_uppercase());
    let parsed = parse_manifest("m", &ok, Alg::Sha256).unwrap();
    assert_eq!(parsed[1], ("data/y".to_string(), d.clone()));
    for bad in [
        format!("{d} \n"),
        format!("{}  data/x\n", &d[1..]),
        format!("{d}  data/../x\n"),
        format!("{d}  /data/x\n"),
        format!("{d}  data/x"),
        "\n".to_string(),
    ] {
        assert!(parse_manifest("m", &bad, Alg::Sha256).is_err(), "{bad:?}");
    }
    let twice = format!("{d}  data/x\n{d}  data/x\n");
    assert!(matches!(
        parse_manifest("m", &twice, Alg::Sha256),
        Err(BagError::ListedTwice { .. })
    ));
}

#[test]
fn continuation_lines_join_the_previous_value() {
    let pairs = label_values("b", "A: one\n  two\nB:three\n").unwrap();
    assert_eq!(pairs[0], ("A".into(), "one two".into()));
    assert_eq!(pairs[1], ("B".into(), "three".into()));
    assert!(label_values("b", " leading\n").is_err());
}

#[test]
fn oxum_and_dates_have_one_form() {
    assert!(is_oxum("0.0") && is_oxum("1024.3"));
    assert!(!is_oxum("01.3") && !is_oxum("1.") && !is_oxum("12"));
    assert!(is_date("2026-03-01") && !is_date("2026-3-01"));
}
