use super::*;
use sha2::Sha512;
use time::macros::date;

fn info() -> BagInfo {
    BagInfo {
        source_organization: "Acme Bank".into(),
        external_identifier: "CASE-2024-17".into(),
        bagging_date: date!(2024 - 03 - 05),
        legal_basis: "FCA s.165 notice".into(),
        export_id: "exp-42".into(),
        regulator: "FCA".into(),
    }
}

fn entry(path: &str, content: &[u8]) -> PayloadEntry {
    PayloadEntry {
        path: path.into(),
        size: content.len() as u64,
        sha256: Sha256::digest(content).into(),
        sha512: Sha512::digest(content).into(),
    }
}

fn payload() -> Vec<PayloadEntry> {
    vec![
        entry("data/custody.json", b"{}"),
        entry("data/calls/c1/transcript.json", b"hello"),
        entry("data/audit/log-key.txt", b""),
    ]
}

#[test]
fn bagit_txt_is_the_bagit_1_0_declaration() {
    assert_eq!(
        BAGIT_TXT,
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
}

#[test]
fn bag_info_has_every_label_in_order() {
    assert_eq!(
        info().render(&payload()).unwrap(),
        "Source-Organization: Acme Bank\n\
         External-Identifier: CASE-2024-17\n\
         Bagging-Date: 2024-03-05\n\
         Payload-Oxum: 7.3\n\
         Callvault-Legal-Basis: FCA s.165 notice\n\
         Callvault-Export-Id: exp-42\n\
         Callvault-Regulator: FCA\n\
         Callvault-Bundle-Version: 1\n"
    );
}

#[test]
fn payload_oxum_counts_bytes_and_files_including_empty_ones() {
    assert_eq!(payload_oxum(&payload()), "7.3");
    assert_eq!(payload_oxum(&[]), "0.0");
    assert_eq!(payload_oxum(&[entry("data/a", b"")]), "0.1");
}

#[test]
fn a_newline_in_the_legal_basis_is_refused() {
    for bad in [
        "a\nExternal-Identifier: forged",
        "a\r",
        "a\tb",
        "a\u{2028}b",
        "a\u{85}b",
    ] {
        let mut i = info();
        i.legal_basis = bad.into();
        assert!(
            matches!(i.render(&payload()), Err(ExportError::InvalidInfo(m)) if m.contains("Legal-Basis")),
            "{bad:?}"
        );
    }
}

#[test]
fn an_unclean_case_id_is_refused_without_echoing_it() {
    for bad in ["", " CASE", "CASE ", "CA\nSE", "CA\u{7f}SE"] {
        let mut i = info();
        i.external_identifier = bad.into();
        let err = i.render(&payload()).unwrap_err();
        assert!(err.to_string().contains("External-Identifier"), "{bad:?}");
        assert!(!err.to_string().contains("CA"), "{err}");
    }
}

#[test]
fn unicode_values_are_allowed() {
    let mut i = info();
    i.source_organization = "Banque Générale — Zürich".into();
    assert!(i
        .render(&[])
        .unwrap()
        .contains("Banque Générale — Zürich\n"));
}

#[test]
fn a_five_digit_year_is_refused() {
    let mut i = info();
    i.bagging_date = time::Date::from_calendar_date(-1, time::Month::January, 1).unwrap();
    assert!(matches!(i.render(&[]), Err(ExportError::InvalidInfo(_))));
}

#[test]
fn a_bad_export_id_is_refused() {
    for bad in ["", ".hidden", "a/b", "a b", "a\\b", "..", &"x".repeat(129)] {
        let mut i = info();
        i.export_id = bad.into();
        assert!(
            matches!(i.render(&[]), Err(ExportError::InvalidPath(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn manifests_are_sorted_by_path_with_lowercase_hex_and_two_spaces() {
    let tags = TagFiles::render(&info(), &payload(), b"script").unwrap();
    let lines: Vec<&str> = tags.manifest_sha256.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  data/audit/log-key.txt"
    );
    assert!(lines[1].ends_with("  data/calls/c1/transcript.json"));
    assert!(lines[2].ends_with("  data/custody.json"));
    let sha512_lines: Vec<&str> = tags.manifest_sha512.lines().collect();
    assert_eq!(
        sha512_lines[0].len(),
        128 + 2 + "data/audit/log-key.txt".len()
    );
    assert_eq!(sha512_lines[0], sha512_lines[0].to_lowercase());
    assert!(tags.manifest_sha512.ends_with("  data/custody.json\n"));
}

#[test]
fn sorting_is_by_bytes_not_by_segments() {
    let tags = TagFiles::render(
        &info(),
        &[
            entry("data/a/b", b"1"),
            entry("data/a-b", b"2"),
            entry("data/a.b", b"3"),
        ],
        b"",
    )
    .unwrap();
    let paths: Vec<&str> = tags.manifest_sha256.lines().map(|l| &l[66..]).collect();
    assert_eq!(paths, ["data/a-b", "data/a.b", "data/a/b"]);
}

#[test]
fn the_tag_manifest_covers_the_five_tag_files_in_order() {
    let tags = TagFiles::render(&info(), &payload(), b"print()\n").unwrap();
    let expected = [
        ("bag-info.txt", tags.bag_info.as_bytes()),
        ("bagit.txt", tags.bagit.as_bytes()),
        ("manifest-sha256.txt", tags.manifest_sha256.as_bytes()),
        ("manifest-sha512.txt", tags.manifest_sha512.as_bytes()),
        ("verify_audit.py", b"print()\n".as_slice()),
    ];
    let rendered: String = expected
        .iter()
        .map(|(p, c)| format!("{}  {p}\n", hex::encode(Sha256::digest(c))))
        .collect();
    assert_eq!(tags.tagmanifest_sha256, rendered);
}

#[test]
fn percent_cr_and_lf_are_percent_encoded_in_manifest_paths() {
    assert_eq!(encode_manifest_path("data/plain.txt"), "data/plain.txt");
    assert_eq!(
        encode_manifest_path("data/100%\r\n.txt"),
        "data/100%25%0D%0A.txt"
    );
    assert_eq!(encode_manifest_path("data/tab\there"), "data/tab\there");
    let tags = TagFiles::render(&info(), &[entry("data/50%", b"")], b"").unwrap();
    assert!(tags.manifest_sha256.ends_with("  data/50%25\n"));
}

#[test]
fn payload_paths_outside_data_or_with_bad_segments_are_refused() {
    for bad in [
        "custody.json",
        "/data/x",
        "data/",
        "data//x",
        "data/x/",
        "data/../bagit.txt",
        "data/./x",
        "data/a\\b",
        "data/a\0b",
        "datax/y",
    ] {
        assert!(
            matches!(validate_payload_path(bad), Err(ExportError::InvalidPath(_))),
            "{bad:?}"
        );
    }
    validate_payload_path("data/calls/c1/audio.wav").unwrap();
    validate_payload_path("data/..x/...").unwrap();
}

#[test]
fn a_duplicate_payload_path_is_refused() {
    let twice = [entry("data/a", b"1"), entry("data/a", b"2")];
    assert!(matches!(
        TagFiles::render(&info(), &twice, b""),
        Err(ExportError::InvalidPath(_))
    ));
}

#[test]
fn an_invalid_payload_path_is_refused_when_rendering() {
    assert!(matches!(
        TagFiles::render(&info(), &[entry("data/../x", b"")], b""),
        Err(ExportError::InvalidPath(_))
    ));
}
