//! Whole-corpus and property tests: no C3 value survives into a master or a view, views
//! never show more than their policy allows, and redaction is idempotent.

use std::collections::HashMap;

use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

use crate::formats::transcript::{Speaker, Transcript};

use super::tests::transcript;
use super::{make_master, view, Policy};

const DEV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/dev");

/// The scorer's normalisation, enough for digit and user-name checks.
fn normalize(s: &str) -> String {
    let s: String = s.nfkc().collect::<String>().to_lowercase();
    let zh = |c: char| match c {
        '零' | '〇' => '0',
        '一' | '幺' => '1',
        '二' | '两' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        c => c,
    };
    let s: String = s.chars().map(zh).collect();
    let en = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let words: Vec<String> = s
        .split(' ')
        .map(|w| {
            let core = w.trim_end_matches([',', '.']);
            match en.iter().position(|x| *x == core) {
                Some(i) => format!("{i}{}", &w[core.len()..]),
                None if core == "oh" => format!("0{}", &w[core.len()..]),
                None => w.to_string(),
            }
        })
        .collect();
    let mut out = String::new();
    let mut mult = 1;
    for w in words {
        match w.trim_end_matches(',') {
            "double" => mult = 2,
            "triple" => mult = 3,
            x if x.starts_with(|c: char| c.is_ascii_digit()) => {
                out.push_str(&x[..1].repeat(mult));
                out.push_str(&w[1..]);
                mult = 1;
            }
            _ => out.push_str(&w),
        }
        out.push(' ');
    }
    let cs: Vec<char> = out.chars().collect();
    let sep = |c: char| c.is_whitespace() || "-–—·,，、/.".contains(c);
    let mut res = String::new();
    let mut i = 0;
    while i < cs.len() {
        if sep(cs[i]) && res.ends_with(|c: char| c.is_ascii_digit()) {
            let mut j = i;
            while j < cs.len() && sep(cs[j]) {
                j += 1;
            }
            if j < cs.len() && cs[j].is_ascii_digit() {
                i = j;
                continue;
            }
        }
        res.push(cs[i]);
        i += 1;
    }
    res.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truth() -> HashMap<String, Vec<serde_json::Value>> {
    let text =
        std::fs::read_to_string(format!("{DEV}/truth.jsonl")).expect("dev truth is readable");
    let mut m: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("truth lines are JSON");
        m.entry(v["call_id"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(v);
    }
    m
}

fn c3_leaks(items: &[serde_json::Value], t: &Transcript) -> Vec<String> {
    let mut leaks = Vec::new();
    for it in items.iter().filter(|i| i["tier"] == "C3") {
        let value = normalize(it["value"].as_str().unwrap_or_default()).replace(' ', "");
        for p in it["parts"].as_array().into_iter().flatten() {
            let seg = p["segment"].as_u64().unwrap_or(0) as usize;
            let text = normalize(&t.segments[seg].text).replace(' ', "");
            if text.contains(&value) {
                leaks.push(format!(
                    "{} item {} ({})",
                    t.call_id, it["item"], it["class"]
                ));
            }
        }
    }
    leaks
}

#[test]
fn no_c3_value_of_the_dev_corpus_survives_in_a_master_or_the_auditor_view() {
    let policy = Policy::builtin();
    let truth = truth();
    let mut leaks = Vec::new();
    let mut calls = 0;
    for entry in std::fs::read_dir(format!("{DEV}/calls")).expect("dev calls exist") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let t: Transcript = serde_json::from_slice(&std::fs::read(&path).expect("readable"))
            .expect("a v1 transcript");
        let items = truth.get(&t.call_id).cloned().unwrap_or_default();
        let master = make_master(t, &policy);
        leaks.extend(c3_leaks(&items, &master.transcript));
        let v = view(&master, "auditor", &policy).expect("auditor view");
        leaks.extend(c3_leaks(&items, &v));
        calls += 1;
    }
    assert_eq!(calls, 300);
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn a_policy_error_names_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("callvault-policy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("classes.toml"),
        include_str!("../../policies/redaction/classes.toml"),
    )
    .expect("write");
    std::fs::write(
        dir.join("detectors.toml"),
        include_str!("../../policies/redaction/detectors.toml"),
    )
    .expect("write");
    std::fs::write(
        dir.join("roles.toml"),
        "mask_last = 4\n\n[role.auditor]\ncard_number = \"masked\"\ncvv = \"full\"\n",
    )
    .expect("write");
    let err = Policy::load_dir(&dir)
        .expect_err("C3 shown in full is refused")
        .to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(err.starts_with("roles.toml:5:"), "{err}");
}

/// A random Luhn-valid Visa number.
fn card(body: &[u8]) -> String {
    let mut d: String = std::iter::once('4')
        .chain(body.iter().map(|b| char::from(b'0' + b % 10)))
        .take(15)
        .collect();
    let check = (0..10)
        .find(|c| super::checks::luhn(&format!("{d}{c}")))
        .unwrap_or(0);
    d.push(char::from(b'0' + check as u8));
    d
}

/// Tokens for a digit string in one of the spoken forms.
fn spoken(d: &str, form: u8) -> Vec<String> {
    const EN: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    const ZH: [&str; 10] = ["零", "幺", "两", "三", "四", "五", "六", "七", "八", "九"];
    let ds: Vec<usize> = d.bytes().map(|b| usize::from(b - b'0')).collect();
    match form % 4 {
        0 => vec![format!(" {d}")],
        1 => d
            .as_bytes()
            .chunks(4)
            .map(|c| format!(" {}", String::from_utf8_lossy(c)))
            .collect(),
        2 => ds.iter().map(|&x| format!(" {}", EN[x])).collect(),
        _ => ds
            .chunks(3)
            .map(|c| c.iter().map(|&x| ZH[x]).collect())
            .collect(),
    }
}

fn build(card_no: &str, cvv: &str, phone: &str, forms: (u8, u8, u8)) -> Transcript {
    let mut a: Vec<String> = vec!["Card".into()];
    a.extend(spoken(card_no, forms.0));
    a.push(",".into());
    a.push(" security code".into());
    a.extend(spoken(cvv, forms.1));
    let mut b: Vec<String> = vec!["手机".into()];
    b.extend(spoken(phone, forms.2));
    b.push("。".into());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    transcript(&[
        (Speaker::Agent, &["Go", " on."]),
        (Speaker::Customer, &a),
        (Speaker::Customer, &b),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn views_never_show_masked_values_and_redaction_is_idempotent(
        body in proptest::collection::vec(any::<u8>(), 15),
        cvv in 100u32..1000,
        phone in 0u64..1_000_000_000,
        forms in (any::<u8>(), any::<u8>(), any::<u8>()),
    ) {
        let policy = Policy::builtin();
        let card_no = card(&body);
        let phone = format!("13{phone:09}");
        let t = build(&card_no, &cvv.to_string(), &phone, forms);
        let v1 = view(&make_master(t, &policy), "auditor", &policy).expect("view");
        let text = v1.segments.iter().map(|s| normalize(&s.text)).collect::<Vec<_>>().join(" ");
        for value in [&card_no, &phone] {
            for w in 0..value.len() - 4 {
                prop_assert!(!text.contains(&value[w..w + 5]), "the view shows five digits of a masked value");
            }
        }
        // A masked card or phone keeps its last four digits, which may contain the CVV's
        // digits by chance; the CVV must not appear anywhere else.
        let rest = [&card_no, &phone]
            .iter()
            .fold(text.clone(), |t, v| t.replace(&v[v.len() - 4..], " "));
        prop_assert!(!rest.contains(&cvv.to_string()), "the view shows the CVV");
        let v2 = view(&make_master(v1.clone(), &policy), "auditor", &policy).expect("view");
        prop_assert_eq!(v1, v2);
    }
}
