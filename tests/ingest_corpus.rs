//! The whole dev corpus through a real dev server: `callvault ingest`, read back as the
//! auditor and scored, the stored masters checked through the library, and the data
//! directory grepped for plaintext.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::{dev_corpus, scorer, TestServer};
use futures::StreamExt;
use serde_json::Value;

fn truth() -> Vec<Value> {
    std::fs::read_to_string(dev_corpus().join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn call_ids() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dev_corpus().join("calls"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "json").then(|| p.file_stem().unwrap().to_str().unwrap().to_string())
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn dev_corpus_round_trips_as_the_auditor_view_and_leaves_no_plaintext_on_disk() {
    let server = TestServer::start();
    let calls_dir = dev_corpus().join("calls");

    // 1. Ingest everything with the CLI, 8 in flight.
    let out = server
        .cli("recorder")
        .args(["ingest", "--jobs", "8"])
        .arg(&calls_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("300 new"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An identical repeat is not an error and stores nothing new.
    let again = server
        .cli("recorder")
        .arg("ingest")
        .arg(calls_dir.join("c20260301-010013.json"))
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 already stored"));

    // 2. The list has every call, across pages.
    let list = server
        .cli("auditor")
        .args(["calls", "list", "--json", "--limit", "37"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let listed: Vec<Value> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 300);
    assert_eq!(listed.iter().filter(|c| c["has_audio"] == true).count(), 30);

    // 3. Read every call back as the auditor (through one approved grant) and score it
    // like the offline redactor.
    let ids = call_ids();
    server.grant(
        "auditor",
        &ids.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let out_dir = tempfile::tempdir().unwrap();
    for id in call_ids() {
        let t = server
            .cli("auditor")
            .args(["calls", "get", &id, "--transcript", "-o"])
            .arg(out_dir.path().join(format!("{id}.json")))
            .output()
            .unwrap();
        assert!(
            t.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&t.stderr)
        );
        if calls_dir.join(format!("{id}.wav")).exists() {
            let a = server
                .cli("auditor")
                .args(["calls", "get", &id, "--audio", "-o"])
                .arg(out_dir.path().join(format!("{id}.wav")))
                .output()
                .unwrap();
            assert!(
                a.status.success(),
                "{id}: {}",
                String::from_utf8_lossy(&a.stderr)
            );
        }
    }
    let score = std::process::Command::new("python3")
        .arg(scorer())
        .arg(dev_corpus())
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(
        score.status.success(),
        "the auditor view leaks or loses data:\n{}",
        String::from_utf8_lossy(&score.stdout)
    );

    // 4. Nothing under the data directory holds a sentence or a sensitive value in the clear.
    let data = server.stop();
    grep_data_dir(data.path());

    // 5. Through the library: each stored master is the original minus its C3 values.
    check_masters(data.path());
}

/// Sentences of 12+ characters from every transcript and sensitive values of 6+ characters.
fn needles() -> Vec<String> {
    let mut set = HashSet::new();
    for id in call_ids() {
        let t: Value = serde_json::from_slice(
            &std::fs::read(dev_corpus().join("calls").join(format!("{id}.json"))).unwrap(),
        )
        .unwrap();
        for seg in t["segments"].as_array().unwrap() {
            let text = seg["text"].as_str().unwrap();
            for sentence in text.split(['。', '！', '？', '.', '!', '?', '，', ',']) {
                let s = sentence.trim();
                if s.chars().count() >= 12 {
                    set.insert(s.to_string());
                }
            }
        }
    }
    for item in truth() {
        if item["tier"] == "keep" {
            continue;
        }
        let mut vals = vec![item["value"].as_str().unwrap().to_string()];
        for p in item["parts"].as_array().unwrap() {
            vals.push(p["text"].as_str().unwrap().to_string());
        }
        for v in vals {
            if v.chars().count() >= 6 {
                set.insert(v);
            }
        }
    }
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort();
    v
}

fn grep_data_dir(dir: &Path) {
    let needles = needles();
    assert!(needles.len() > 1000, "too few needles: {}", needles.len());
    let finder: Vec<memchr::memmem::Finder<'_>> = needles
        .iter()
        .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
        .collect();
    let files = common::walk(dir);
    assert!(files.len() > 300, "expected blobs under the data directory");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for (i, fd) in finder.iter().enumerate() {
            for at in fd.find_iter(&bytes) {
                // Short digit values turn up by chance inside the hex digests and ids the
                // catalog holds (16^-6 per place, ~10^5 places, and SQLite may split a
                // string across pages): a digits-only match glued to hex digits is not a
                // value in the clear, which would stand between non-hex characters.
                if inside_hex(&bytes, at, needles[i].len()) {
                    continue;
                }
                // Report the file and the needle's index only: never print the value itself.
                panic!("{} contains plaintext needle #{i}", f.display());
            }
        }
    }
}

/// Whether `bytes[at..at + len]` is all digits and touches a hex digit on either side.
fn inside_hex(bytes: &[u8], at: usize, len: usize) -> bool {
    let hex = |b: u8| b.is_ascii_hexdigit();
    if !bytes[at..at + len].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let left = at.checked_sub(1).map(|i| bytes[i]).is_some_and(hex);
    let right = bytes.get(at + len).copied().is_some_and(hex);
    left || right
}

fn check_masters(data: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = callvault::config::Config {
            data_dir: data.to_path_buf(),
            ..Default::default()
        };
        let vault = callvault::vault::open_vault(&config, true).await.unwrap();
        let mut c3: BTreeMap<(String, usize), Vec<(usize, usize)>> = BTreeMap::new();
        let mut c3_spans: BTreeMap<String, Vec<(String, f64, f64)>> = BTreeMap::new();
        for item in truth() {
            if item["tier"] != "C3" {
                continue;
            }
            let id = item["call_id"].as_str().unwrap().to_string();
            for p in item["parts"].as_array().unwrap() {
                let seg = p["segment"].as_u64().unwrap() as usize;
                c3.entry((id.clone(), seg)).or_default().push((
                    p["char_start"].as_u64().unwrap() as usize,
                    p["char_end"].as_u64().unwrap() as usize,
                ));
                c3_spans.entry(id.clone()).or_default().push((
                    item["speaker"].as_str().unwrap().to_string(),
                    p["start"].as_f64().unwrap(),
                    p["end"].as_f64().unwrap(),
                ));
            }
        }
        for id in call_ids() {
            let original: Value = serde_json::from_slice(
                &std::fs::read(dev_corpus().join("calls").join(format!("{id}.json"))).unwrap(),
            )
            .unwrap();
            let rec = vault.catalog.get_call(&id).await.unwrap().expect("stored");
            let master = vault.load_master(&rec).await.unwrap();
            let segs = original["segments"].as_array().unwrap();
            assert_eq!(master.transcript.segments.len(), segs.len(), "{id}");
            for (i, (m, o)) in master.transcript.segments.iter().zip(segs).enumerate() {
                let text: Vec<char> = o["text"].as_str().unwrap().chars().collect();
                let Some(spans) = c3.get(&(id.clone(), i)) else {
                    assert_eq!(
                        m.text,
                        o["text"].as_str().unwrap(),
                        "{id} segment {i} changed without C3"
                    );
                    continue;
                };
                // Every piece of the original outside the C3 spans survives, in order;
                // the C3 text itself does not.
                let mut spans = spans.clone();
                spans.sort();
                let mut pos = 0;
                let mut rest = m.text.as_str();
                for (s, e) in spans.iter().copied().chain([(text.len(), text.len())]) {
                    let piece: String = text[pos.min(s)..s].iter().collect();
                    let at = rest
                        .find(&piece)
                        .unwrap_or_else(|| panic!("{id} segment {i}: a kept piece is missing"));
                    rest = &rest[at + piece.len()..];
                    if e > s {
                        let value: String = text[s..e].iter().collect();
                        assert!(
                            !m.text.contains(&value),
                            "{id} segment {i}: a C3 value survived in the master"
                        );
                    }
                    pos = e;
                }
            }
            // Stored audio equals the upload except inside padded C3 spans of the speaker.
            let Some(mut audio) = vault.master_audio(&rec).await.unwrap() else {
                continue;
            };
            let mut stored = Vec::new();
            while let Some(c) = audio.next().await {
                stored.extend_from_slice(&c.unwrap());
            }
            let upload =
                std::fs::read(dev_corpus().join("calls").join(format!("{id}.wav"))).unwrap();
            assert_eq!(stored.len(), upload.len(), "{id}: audio length changed");
            let a = &original["audio"];
            let (rate, channels) = (
                a["sample_rate"].as_f64().unwrap(),
                a["channels"].as_u64().unwrap() as usize,
            );
            let bytes_per_sample = if a["encoding"] == "pcm_s16le" { 2 } else { 1 };
            let data_start = data_offset(&upload);
            let spans = c3_spans.get(&id).cloned().unwrap_or_default();
            let mut changed_outside = 0usize;
            for (i, (x, y)) in upload.iter().zip(&stored).enumerate() {
                if x == y {
                    continue;
                }
                if i < data_start {
                    changed_outside += 1;
                    continue;
                }
                let sample = (i - data_start) / bytes_per_sample;
                let (frame, ch) = (sample / channels, sample % channels);
                let t = frame as f64 / rate;
                let inside = spans.iter().any(|(speaker, s, e)| {
                    let want = if channels == 1 {
                        0
                    } else if speaker == "agent" {
                        a["channel_map"]["agent"].as_u64().unwrap() as usize
                    } else {
                        a["channel_map"]["customer"].as_u64().unwrap() as usize
                    };
                    ch == want && t >= s - 0.25 && t <= e + 0.25
                });
                if !inside {
                    changed_outside += 1;
                }
            }
            assert_eq!(
                changed_outside, 0,
                "{id}: stored audio changed outside the C3 spans"
            );
        }
    });
}

/// Offset of the first byte of the `data` chunk's payload.
fn data_offset(wav: &[u8]) -> usize {
    let mut pos = 12;
    loop {
        let id = &wav[pos..pos + 4];
        let len = u32::from_le_bytes(wav[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            return pos + 8;
        }
        pos += 8 + len + (len & 1);
    }
}
