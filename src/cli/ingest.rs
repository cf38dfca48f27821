//! `callvault ingest PATH...`: uploads transcripts (and their audio) with several uploads
//! in flight, a progress bar on a terminal, and a summary at the end.

use std::path::{Path, PathBuf};

use anyhow::Context;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};

use super::{Client, ExitError, IngestArgs, EXIT_PARTIAL_FAILURE};

/// One file to upload and the audio found for it.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    transcript: PathBuf,
    audio: Option<PathBuf>,
    call_id_hint: Option<String>,
    vtt: bool,
}

enum Outcome {
    Created,
    Repeated,
}

/// Runs `callvault ingest`.
pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.client)?;
    let mut jobs = Vec::new();
    for p in &args.paths {
        collect(p, &mut jobs).with_context(|| format!("reading {}", p.display()))?;
    }
    if jobs.is_empty() {
        anyhow::bail!("no *.json or *.vtt files found");
    }
    let bar = ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} calls ({per_sec}) {msg}",
        )
        .expect("the progress template is valid"),
    );
    let jobs_in_flight = args.jobs.clamp(1, 64);
    let results: Vec<(Job, anyhow::Result<Outcome>)> = futures::stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let r = upload(&client, &job).await;
                bar.inc(1);
                (job, r)
            }
        })
        .buffer_unordered(jobs_in_flight)
        .collect()
        .await;
    bar.finish_and_clear();
    let (mut created, mut repeated, mut failed) = (0, 0, 0);
    for (job, r) in &results {
        match r {
            Ok(Outcome::Created) => created += 1,
            Ok(Outcome::Repeated) => repeated += 1,
            Err(e) => {
                failed += 1;
                eprintln!("failed: {}: {e:#}", job.transcript.display());
            }
        }
    }
    eprintln!(
        "ingested {} calls: {created} new, {repeated} already stored, {failed} failed",
        results.len()
    );
    if failed > 0 {
        return Err(ExitError {
            code: EXIT_PARTIAL_FAILURE,
            message: format!("{failed} of {} uploads failed", results.len()),
        }
        .into());
    }
    Ok(())
}

/// Adds the transcript files under `path` (a file or a directory, recursively) in name order.
fn collect(path: &Path, jobs: &mut Vec<Job>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || is_transcript(&e) {
                collect(&e, jobs)?;
            }
        }
        return Ok(());
    }
    if !path.is_file() {
        anyhow::bail!("no such file or directory");
    }
    jobs.push(job_for(path)?);
    Ok(())
}

fn is_transcript(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "vtt"))
}

/// Finds the audio of a transcript: a v1 transcript names it in `audio.file`; other
/// formats find it beside them as `CALL_ID.wav`, the call id being the file name up to its
/// first dot.
fn job_for(path: &Path) -> anyhow::Result<Job> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let vtt = path.extension().and_then(|e| e.to_str()) == Some("vtt");
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .map(str::to_string);
    if !vtt {
        let bytes = std::fs::read(path)?;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if v.get("schema").is_some() {
                let audio = v["audio"]["file"]
                    .as_str()
                    .map(|f| dir.join(Path::new(f).file_name().unwrap_or_default()));
                return Ok(Job {
                    transcript: path.to_path_buf(),
                    audio,
                    call_id_hint: None,
                    vtt,
                });
            }
        }
    }
    let audio = stem
        .as_ref()
        .map(|s| dir.join(format!("{s}.wav")))
        .filter(|p| p.is_file());
    Ok(Job {
        transcript: path.to_path_buf(),
        audio,
        call_id_hint: stem,
        vtt,
    })
}

async fn upload(client: &Client, job: &Job) -> anyhow::Result<Outcome> {
    let transcript = tokio::fs::read(&job.transcript)
        .await
        .context("reading the transcript")?;
    let name = job
        .transcript
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("transcript")
        .to_string();
    let mime = if job.vtt {
        "text/vtt"
    } else {
        "application/json"
    };
    let mut form = Form::new();
    if let Some(id) = &job.call_id_hint {
        form = form.text("call_id", id.clone());
    }
    form = form.part(
        "transcript",
        Part::bytes(transcript).file_name(name).mime_str(mime)?,
    );
    if let Some(audio) = &job.audio {
        let file = tokio::fs::File::open(audio)
            .await
            .with_context(|| format!("opening {}", audio.display()))?;
        let len = file.metadata().await?.len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            file,
            64 * 1024,
        ));
        let part = Part::stream_with_length(body, len)
            .file_name("audio.wav")
            .mime_str("audio/wav")?;
        form = form.part("audio", part);
    }
    let resp = client
        .send(client.request(Method::POST, "/v1/calls")?.multipart(form))
        .await?;
    Ok(if resp.status() == StatusCode::CREATED {
        Outcome::Created
    } else {
        Outcome::Repeated
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_transcript_finds_its_named_audio() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("c1.json");
        std::fs::write(
            &t,
            r#"{"schema":"callvault.transcript/v1","audio":{"file":"c1.wav"}}"#,
        )
        .unwrap();
        let job = job_for(&t).unwrap();
        assert_eq!(job.audio, Some(dir.path().join("c1.wav")));
        assert_eq!(job.call_id_hint, None);
    }

    #[test]
    fn other_formats_find_call_id_wav_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("c9.speakers.json");
        std::fs::write(&t, r#"{"results":{}}"#).unwrap();
        std::fs::write(dir.path().join("c9.wav"), b"RIFF").unwrap();
        let job = job_for(&t).unwrap();
        assert_eq!(job.audio, Some(dir.path().join("c9.wav")));
        assert_eq!(job.call_id_hint.as_deref(), Some("c9"));
    }

    #[test]
    fn directories_are_walked_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.json", "a.vtt", "c.txt"] {
            std::fs::write(dir.path().join(n), "{}").unwrap();
        }
        let mut jobs = Vec::new();
        collect(dir.path(), &mut jobs).unwrap();
        let names: Vec<_> = jobs
            .iter()
            .map(|j| {
                j.transcript
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.vtt", "b.json"]);
    }
}
