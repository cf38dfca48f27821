//! Detector and view tests with hand-written sentences (not the corpus phrase bank), in
//! Mandarin and English: positives and hard negatives.

use crate::formats::transcript::{Segment, Speaker, Transcript, Word, SCHEMA_V1};

use super::{make_master, view, Policy, Tier};

/// A transcript from turns given as token lists (English tokens with their leading space).
pub(crate) fn transcript(turns: &[(Speaker, &[&str])]) -> Transcript {
    let mut t0 = 0.0;
    let segments = turns
        .iter()
        .map(|(speaker, toks)| {
            let start = t0;
            let words: Vec<Word> = toks
                .iter()
                .map(|w| {
                    let word = Word {
                        w: w.to_string(),
                        start: t0,
                        end: t0 + 0.25,
                    };
                    t0 += 0.3;
                    word
                })
                .collect();
            t0 += 0.5;
            Segment {
                speaker: *speaker,
                start,
                end: t0 - 0.5,
                text: toks.concat(),
                words: Some(words),
            }
        })
        .collect();
    Transcript {
        schema: SCHEMA_V1.into(),
        call_id: "t1".into(),
        started_at: "2026-03-01T10:00:00+08:00".into(),
        agent_id: "A1".into(),
        language: "mixed".into(),
        audio: None,
        segments,
    }
}

use Speaker::{Agent as A, Customer as C};

/// The auditor view's text of each segment.
fn auditor(turns: &[(Speaker, &[&str])]) -> Vec<String> {
    let p = Policy::builtin();
    let v = view(&make_master(transcript(turns), &p), "auditor", &p).expect("auditor has a view");
    v.segments.into_iter().map(|s| s.text).collect()
}

fn classes(turns: &[(Speaker, &[&str])]) -> Vec<String> {
    super::detect(&transcript(turns), &Policy::builtin())
        .into_iter()
        .map(|f| f.class)
        .collect()
}

#[test]
fn builtin_policy_has_the_roles_and_refuses_recorder() {
    let p = Policy::builtin();
    for r in [
        "auditor",
        "qa_reviewer",
        "regulator",
        "compliance",
        "break_glass",
    ] {
        assert!(p.roles().contains(&r), "{r}");
    }
    let m = make_master(transcript(&[(C, &["ok"])]), &p);
    assert!(view(&m, "recorder", &p).is_err());
    assert!(view(&m, "admin", &p).is_err());
}

#[test]
fn a_card_without_context_is_found_by_luhn_and_masked_to_last_four() {
    let out = auditor(&[(C, &["就是", "这张", "4111111111111111", "，", "快点"])]);
    assert_eq!(out[0], "就是这张[CARD ••••1111]，快点");
}

#[test]
fn a_card_read_in_chinese_numerals_with_yao_is_found() {
    let out = auditor(&[(
        C,
        &[
            "号码",
            "四幺幺",
            "幺幺幺",
            "幺幺幺",
            "幺幺幺",
            "幺幺幺",
            "一",
            "。",
        ],
    )]);
    assert!(out[0].starts_with("号码[CARD"), "{}", out[0]);
}

#[test]
fn an_order_number_failing_luhn_is_kept() {
    let out = auditor(&[(A, &["Your", " ticket", " is", " 4111111111111112", "."])]);
    assert_eq!(out[0], "Your ticket is 4111111111111112.");
}

#[test]
fn a_card_run_into_a_code_is_still_found() {
    let out = auditor(&[(
        C,
        &["It's", " 4111", " 1111", " 1111", " 1111", " 123", "."],
    )]);
    assert!(
        !out[0].contains("1111 1111") && !out[0].contains("123"),
        "{}",
        out[0]
    );
}

#[test]
fn hotlines_amounts_dates_and_rates_survive() {
    let turns: &[(Speaker, &[&str])] = &[
        (A, &["Dial", " 95588", " or", " 400-820-8820", "."]),
        (
            C,
            &["I", " paid", " 500", " dollars", " on", " 2026-03-05", "."],
        ),
        (A, &["费率", "是", "0.05%/天", "，", "金额", "1280元", "。"]),
    ];
    let out = auditor(turns);
    let orig: Vec<String> = transcript(turns)
        .segments
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(out, orig);
}

#[test]
fn a_mention_without_a_value_redacts_nothing() {
    assert!(classes(&[(
        A,
        &["We", " will", " never", " ask", " for", " your", " CVV", "."]
    )])
    .is_empty());
    assert!(classes(&[(A, &["请", "不要", "透露", "短信", "验证码", "。"])]).is_empty());
}

#[test]
fn a_cvv_after_its_cue_is_destroyed_in_both_languages() {
    assert_eq!(
        classes(&[(C, &["The", " CVC", " is", " seven", " oh", " two", "."])]),
        vec!["cvv"]
    );
    assert_eq!(
        classes(&[(C, &["卡背", "的数", "字", "七零二", "。"])]),
        vec!["cvv"]
    );
}

#[test]
fn an_expiry_pin_and_otp_are_destroyed() {
    assert_eq!(
        classes(&[(C, &["Card", " expires", " 08/29", "."])]),
        vec!["expiry"]
    );
    assert_eq!(
        classes(&[(C, &["取钱", "密码", "是", "三八", "五零", "幺二", "。"])]),
        vec!["pin"]
    );
    assert_eq!(
        classes(&[(C, &["The", " SMS", " gave", " me", " 839", " 201", "."])]),
        vec!["otp"]
    );
}

#[test]
fn the_last_four_the_agent_asked_for_is_kept() {
    let turns: &[(Speaker, &[&str])] = &[
        (
            A,
            &[
                "Read", " me", " the", " last", " four", " of", " your", " ID.",
            ],
        ),
        (C, &["Um,", " 0 4 2 X"]),
    ];
    assert!(classes(turns).is_empty());
    let out = auditor(&[
        (A, &["Read", " me", " your", " PIN."]),
        (C, &["Um,", " 3850."]),
    ]);
    assert!(!out[1].contains("3850"));
}

#[test]
fn an_agent_number_is_kept() {
    assert!(classes(&[(A, &["您好，", "工号", "八三", "七二", "为您", "服务"])]).is_empty());
    assert!(classes(&[(A, &["Hi,", " operator", " 4471", " here."])]).is_empty());
}

#[test]
fn an_id_number_with_x_is_found_and_a_wrong_check_is_not() {
    assert_eq!(
        classes(&[(C, &["证件", "11010519491231002X", "。"])]),
        vec!["id_number"]
    );
    assert!(classes(&[(A, &["编号", "110105194912310021", "。"])]).is_empty());
}

#[test]
fn a_mobile_with_plus86_is_found() {
    assert_eq!(
        classes(&[(C, &["Ring", " +86", " 138-1234-5678", "."])]),
        vec!["phone"]
    );
    assert_eq!(
        classes(&[(C, &["电话", "幺三八", "幺二三", "四五六", "七八", "。"])]),
        vec!["phone"]
    );
}

#[test]
fn a_value_split_across_two_customer_turns_is_found_as_one() {
    let turns: &[(Speaker, &[&str])] = &[
        (C, &["Card", " reads", " 4111", " 1111", "..."]),
        (A, &["Sure,", " continue."]),
        (C, &["Then", " 1111", " 1111", "."]),
    ];
    let fs = super::detect(&transcript(turns), &Policy::builtin());
    assert_eq!(fs.len(), 2);
    assert!(fs
        .iter()
        .all(|f| f.class == "card_number" && f.group == fs[0].group));
    let out = auditor(turns);
    assert!(
        !out[0].contains("4111") && out[2].contains("••••1111"),
        "{out:?}"
    );
}

#[test]
fn names_are_reduced_to_the_surname() {
    assert_eq!(
        auditor(&[(C, &["本人", "欧阳", "娜娜", "。"])])[0]
            .matches("娜娜")
            .count(),
        1
    );
    assert_eq!(
        auditor(&[(A, &["核对", "一下", "户主", "是", "刘思远", "先生", "吗"])])[0],
        "核对一下户主是刘[NAME]先生吗"
    );
    assert_eq!(
        auditor(&[(A, &["Is", " the", " holder", " Olivia", " Garcia?"])])[0],
        "Is the holder [NAME] Garcia?"
    );
}

#[test]
fn addresses_lose_the_street_and_number() {
    let zh = auditor(&[(
        C,
        &[
            "送到",
            "杭州市",
            "西湖区",
            "文三路",
            "18号",
            "2单元",
            "301室",
            "。",
        ],
    )]);
    assert!(!zh[0].contains("文三路18号"), "{}", zh[0]);
    let en = auditor(&[(
        C,
        &[
            "Ship", " to", " 77", " Harbor", " Lane,", " Unit", " 4,", " Dover.",
        ],
    )]);
    assert!(!en[0].contains("77 Harbor"), "{}", en[0]);
}

#[test]
fn emails_lose_the_user_name_but_keep_the_domain() {
    let w = auditor(&[(C, &["邮箱", "lin.hao88@163.com", "。"])]);
    assert_eq!(w[0], "邮箱[EMAIL]@163.com。");
    let s = auditor(&[(
        C,
        &[
            "Mail",
            " me,",
            " jo",
            " underscore",
            " kim",
            " at",
            " outlook",
            " dot",
            " com.",
        ],
    )]);
    assert!(
        !s[0].contains("jo underscore kim") && s[0].contains("outlook dot com"),
        "{}",
        s[0]
    );
}

#[test]
fn passwords_written_and_spelled_are_destroyed() {
    assert_eq!(
        classes(&[(C, &["I", " log", " in", " with", " river2024", "."])]),
        vec!["password"]
    );
    assert_eq!(
        classes(&[(C, &["口令", "是", "z", " h", " u", " 八六二", "。"])]),
        vec!["password"]
    );
}

#[test]
fn the_master_holds_no_c3_and_keeps_c2_for_views() {
    let p = Policy::builtin();
    let t = transcript(&[(C, &["CVV", " 123,", " card", " 4111111111111111."])]);
    let m = make_master(t, &p);
    assert!(!m.transcript.segments[0].text.contains("123"));
    assert!(m.findings.iter().all(|f| f.tier != Tier::C3));
    assert_eq!(m.destroyed.len(), 1);
    let full = view(&m, "break_glass", &p).unwrap();
    assert!(full.segments[0].text.contains("4111111111111111"));
}

#[test]
fn words_still_concatenate_to_text_after_redaction() {
    let p = Policy::builtin();
    let t = transcript(&[(
        C,
        &[
            "My",
            " PIN",
            " is",
            " one",
            " two",
            " three",
            " four,",
            " and",
            " card",
            " 4111111111111111.",
        ],
    )]);
    let v = view(&make_master(t, &p), "auditor", &p).unwrap();
    let s = &v.segments[0];
    assert_eq!(
        s.words
            .as_ref()
            .unwrap()
            .iter()
            .map(|w| w.w.as_str())
            .collect::<String>(),
        s.text
    );
    assert_eq!(s.text, "My PIN is [PIN], and card [CARD ••••1111].");
}

#[test]
fn a_segment_without_words_is_redacted_in_its_text() {
    let p = Policy::builtin();
    let mut t = transcript(&[(C, &["卡号4111111111111111，CVV 123。"])]);
    t.segments[0].words = None;
    let m = make_master(t, &p);
    let v = view(&m, "auditor", &p).unwrap();
    assert_eq!(v.segments[0].text, "卡号[CARD ••••1111]，CVV [CVV]。");
}
