//! The offline redactor behind `callvault redact`: exactly what ingest and a role view do,
//! without storing anything.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::formats::transcript::{Transcript, SCHEMA_V1};

use super::audio::{AudioRedactor, DEFAULT_PAD_S};
use super::finding::{RedactError, Report};
use super::master::{explain as explain_lines, make_master, view, view_audio_spans};
use super::policy::Policy;

/// Bytes read from the WAV file per step (the redactor streams; memory stays flat).
const AUDIO_CHUNK: usize = 64 * 1024;

/// What `redact_file` wrote.
#[derive(Clone, Debug)]
pub struct FileOutcome {
    /// The call id.
    pub call_id: String,
    /// `out_dir/<call_id>.json`.
    pub json: PathBuf,
    /// `out_dir/<call_id>.wav` when the call has audio.
    pub wav: Option<PathBuf>,
    /// Counts per class and detector.
    pub report: Report,
    /// One line per finding when `explain` was asked for (never values).
    pub explain: Vec<String>,
}

fn io<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> RedactError + 'a {
    move |source| RedactError::Io {
        path: path.display().to_string(),
        what,
        source,
    }
}

fn valid_call_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// Reads a v1 transcript, writes `out_dir/<call_id>.json` (the role view of its master) and,
/// when the call has audio beside the JSON, `out_dir/<call_id>.wav` with the destroyed and
/// the role's masked spans silenced.
///
/// # Errors
/// Unreadable or invalid files, an unknown role, or audio the redactor refuses.
pub fn redact_file(
    json_path: &Path,
    out_dir: &Path,
    role: &str,
    policy: &Policy,
    explain: bool,
) -> Result<FileOutcome, RedactError> {
    let raw = std::fs::read(json_path).map_err(io(json_path, "cannot read transcript"))?;
    let format_err = || RedactError::Format {
        path: json_path.display().to_string(),
    };
    let t: Transcript = serde_json::from_slice(&raw).map_err(|_| format_err())?;
    if t.schema != SCHEMA_V1 || !valid_call_id(&t.call_id) {
        return Err(format_err());
    }
    let explain = if explain {
        explain_lines(&super::detect::detect(&t, policy))
    } else {
        Vec::new()
    };
    let master = make_master(t, policy);
    let out = view(&master, role, policy)?;
    let json = out_dir.join(format!("{}.json", out.call_id));
    let body = serde_json::to_vec(&out).map_err(|_| format_err())?;
    std::fs::write(&json, body).map_err(io(&json, "cannot write view"))?;
    let wav = match &master.transcript.audio {
        Some(a) => {
            let src = json_path.parent().unwrap_or(Path::new(".")).join(&a.file);
            let dst = out_dir.join(format!("{}.wav", out.call_id));
            let spans = view_audio_spans(&master, role, policy)?;
            redact_audio(&src, &dst, spans)?;
            Some(dst)
        }
        None => None,
    };
    Ok(FileOutcome {
        call_id: out.call_id,
        json,
        wav,
        report: master.report,
        explain,
    })
}

fn redact_audio(
    src: &Path,
    dst: &Path,
    spans: Vec<super::audio::SilenceSpan>,
) -> Result<(), RedactError> {
    let audio_err = |e: super::audio::AudioError| RedactError::Audio {
        path: src.display().to_string(),
        reason: e.to_string(),
    };
    let mut input = File::open(src).map_err(io(src, "cannot read audio"))?;
    let mut output = BufWriter::new(File::create(dst).map_err(io(dst, "cannot write audio"))?);
    let mut redactor = AudioRedactor::new(spans, DEFAULT_PAD_S, u64::MAX);
    let mut buf = vec![0u8; AUDIO_CHUNK];
    let mut out = Vec::with_capacity(AUDIO_CHUNK);
    loop {
        let n = input.read(&mut buf).map_err(io(src, "cannot read audio"))?;
        if n == 0 {
            break;
        }
        out.clear();
        redactor.push(&buf[..n], &mut out).map_err(audio_err)?;
        output
            .write_all(&out)
            .map_err(io(dst, "cannot write audio"))?;
    }
    redactor.finish().map_err(audio_err)?;
    output.flush().map_err(io(dst, "cannot write audio"))?;
    Ok(())
}
