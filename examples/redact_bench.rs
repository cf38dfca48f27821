//! Text-detection throughput and findings, for `scripts/bench_presidio.sh`.
//!
//! `cargo run --release --example redact_bench -- CORPUS OUT.json` runs
//! `redact::detect` with the built-in policy over every `CORPUS/calls/*.json`, on one
//! thread, repeating the whole set until at least three seconds have passed. It then writes
//! `{"chars_per_s": f64, "findings": [{"call_id", "segment", "char_start", "char_end"}]}`
//! (every C3/C2/PI finding of one more pass, character ranges in the segment text) for
//! `scripts/bench_presidio.py` to score against the labels. Notes go to stderr.

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use callvault::formats::transcript::Transcript;
use callvault::redact::{detect, Policy, Tier};
use serde_json::json;

/// How long the timed passes run at least.
const MIN_TIME: Duration = Duration::from_secs(3);

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [corpus, out] = args.as_slice() else {
        return Err("usage: redact_bench CORPUS OUT.json".into());
    };
    let calls = load_calls(&corpus.join("calls"))?;
    let chars: usize = calls
        .iter()
        .flat_map(|t| &t.segments)
        .map(|s| s.text.chars().count())
        .sum();
    let policy = Policy::builtin();

    let started = Instant::now();
    let mut passes = 0usize;
    while started.elapsed() < MIN_TIME {
        for t in &calls {
            black_box(detect(black_box(t), &policy));
        }
        passes += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    let chars_per_s = (chars * passes) as f64 / secs;
    eprintln!(
        "# redact_bench: {} calls, {chars} chars, {passes} passes, {secs:.1} s",
        calls.len()
    );

    let mut findings = Vec::new();
    for t in &calls {
        for f in detect(t, &policy)
            .into_iter()
            .filter(|f| f.tier != Tier::Keep)
        {
            findings.push(json!({
                "call_id": t.call_id,
                "segment": f.segment,
                "char_start": f.chars.0,
                "char_end": f.chars.1,
            }));
        }
    }
    let doc = json!({ "chars_per_s": chars_per_s, "findings": findings });
    std::fs::write(out, serde_json::to_vec(&doc)?)?;
    Ok(())
}

/// Every `*.json` transcript in `dir`, in file-name order.
fn load_calls(dir: &Path) -> Result<Vec<Transcript>, Box<dyn Error>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|x| x == "json"));
    paths.sort();
    paths
        .iter()
        .map(|p| Ok(serde_json::from_slice(&std::fs::read(p)?)?))
        .collect()
}
