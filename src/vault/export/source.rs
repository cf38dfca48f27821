//! The payload of an export bundle, read straight from the vault: per call the regulator
//! view of the transcript and audio, the metadata and the redaction report, plus the small
//! custody and audit files prepared before the build. Runs on a blocking thread (the
//! builder is synchronous) and reaches the async vault through a runtime handle.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Cursor, Read};
use std::sync::Arc;

use futures::StreamExt;
use tokio::runtime::Handle;

use crate::catalog::CallRecord;
use crate::export::pack::PayloadSource;
use crate::redact::audio::AudioRedactor;
use crate::redact::{view, view_audio_spans, Master};
use crate::store::ByteStream;
use crate::vault::Vault;

/// The redaction view exported: a role of its own in `policies/redaction/roles.toml`.
pub(super) const EXPORT_VIEW: &str = "regulator";

/// The four per-call files; `audio.wav` only for calls with audio.
const CALL_FILES: [&str; 4] = [
    "metadata.json",
    "transcript.json",
    "redaction-report.json",
    "audio.wav",
];

/// `metadata.json`: the call's metadata without the digests of the upload. Those hash the
/// transcript and audio as recorded, C3 values included; outside the vault a digest of a
/// text whose only hidden part is a three-digit CVV would let anyone test all thousand.
#[derive(serde::Serialize)]
struct ExportMetadata<'a> {
    call_id: &'a str,
    started_at: &'a str,
    agent_id: &'a str,
    language: &'a str,
    has_audio: bool,
    duration_s: Option<f64>,
    ingested_at: &'a str,
    view: &'static str,
}

impl<'a> From<&'a CallRecord> for ExportMetadata<'a> {
    fn from(rec: &'a CallRecord) -> Self {
        Self {
            call_id: &rec.call_id,
            started_at: &rec.started_at,
            agent_id: &rec.agent_id,
            language: &rec.language,
            has_audio: rec.audio_blob.is_some(),
            duration_s: rec.duration_s,
            ingested_at: &rec.created_at,
            view: EXPORT_VIEW,
        }
    }
}

/// Payload of one export; see the module doc.
pub(super) struct ExportSource {
    vault: Arc<Vault>,
    handle: Handle,
    calls: HashMap<String, CallRecord>,
    /// Files prepared up front (custody, audit material), by bag path.
    prepared: BTreeMap<String, Vec<u8>>,
    /// The master read last: a call's transcript and report come from one unsealing.
    cached: Option<(String, Master)>,
}

fn failed(kind: &'static str) -> io::Error {
    io::Error::other(kind)
}

impl ExportSource {
    pub(super) fn new(
        vault: Arc<Vault>,
        handle: Handle,
        calls: Vec<CallRecord>,
        prepared: BTreeMap<String, Vec<u8>>,
    ) -> Self {
        Self {
            vault,
            handle,
            calls: calls.into_iter().map(|c| (c.call_id.clone(), c)).collect(),
            prepared,
            cached: None,
        }
    }

    fn master(&mut self, rec: &CallRecord) -> io::Result<&Master> {
        let hit = matches!(&self.cached, Some((id, _)) if *id == rec.call_id);
        if !hit {
            let master = self
                .handle
                .block_on(self.vault.load_master(rec))
                .map_err(|_| failed("unsealing a call failed"))?;
            self.cached = Some((rec.call_id.clone(), master));
        }
        Ok(&self.cached.as_ref().expect("just cached").1)
    }

    fn call_file(&mut self, call_id: &str, file: &str) -> io::Result<Box<dyn Read + Send>> {
        let rec = self
            .calls
            .get(call_id)
            .cloned()
            .ok_or_else(|| failed("no such call in the export"))?;
        let json = |bytes: Vec<u8>| -> io::Result<Box<dyn Read + Send>> {
            Ok(Box::new(Cursor::new(bytes)))
        };
        match file {
            "metadata.json" => json(pretty_json(&ExportMetadata::from(&rec))?),
            "transcript.json" => {
                let vault = Arc::clone(&self.vault);
                let master = self.master(&rec)?;
                let t = view(master, EXPORT_VIEW, &vault.policy)
                    .map_err(|_| failed("the regulator view failed"))?;
                json(pretty_json(&t)?)
            }
            "redaction-report.json" => {
                let report = self.master(&rec)?.report.clone();
                json(pretty_json(&report)?)
            }
            "audio.wav" => self.audio(&rec),
            _ => Err(failed("no such payload file")),
        }
    }

    fn audio(&mut self, rec: &CallRecord) -> io::Result<Box<dyn Read + Send>> {
        let vault = Arc::clone(&self.vault);
        let pad_s = vault.limits.audio_pad_s;
        let spans = view_audio_spans(self.master(rec)?, EXPORT_VIEW, &vault.policy)
            .map_err(|_| failed("the regulator view failed"))?;
        let stream = self
            .handle
            .block_on(self.vault.master_audio(rec))
            .map_err(|_| failed("opening the audio failed"))?
            .ok_or_else(|| failed("the call has no audio"))?;
        Ok(Box::new(AudioView {
            handle: self.handle.clone(),
            stream,
            redactor: Some(AudioRedactor::new(spans, pad_s, u64::MAX)),
            out: Vec::new(),
            pos: 0,
        }))
    }
}

impl PayloadSource for ExportSource {
    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.prepared.keys().cloned().collect();
        for rec in self.calls.values() {
            for file in CALL_FILES {
                if file == "audio.wav" && rec.audio_blob.is_none() {
                    continue;
                }
                paths.push(format!("data/calls/{}/{file}", rec.call_id));
            }
        }
        paths
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        if self.prepared.contains_key(path) {
            return Ok(Box::new(Cursor::new(self.prepared[path].as_slice())));
        }
        let rest = path
            .strip_prefix("data/calls/")
            .ok_or_else(|| failed("no such payload file"))?;
        let (call_id, file) = rest
            .split_once('/')
            .ok_or_else(|| failed("no such payload file"))?;
        self.call_file(call_id, file)
    }
}

/// The regulator view of a call's audio as a blocking reader: unsealed chunk by chunk and
/// silenced where the view says, never held whole.
struct AudioView {
    handle: Handle,
    stream: ByteStream,
    redactor: Option<AudioRedactor>,
    out: Vec<u8>,
    pos: usize,
}

impl Read for AudioView {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            let Some(redactor) = self.redactor.as_mut() else {
                return Ok(0);
            };
            self.out.clear();
            self.pos = 0;
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(chunk)) => redactor
                    .push(&chunk, &mut self.out)
                    .map_err(|_| failed("the audio does not parse"))?,
                Some(Err(_)) => {
                    self.redactor = None;
                    return Err(failed("integrity failure in the audio"));
                }
                None => {
                    let r = self.redactor.take().expect("present");
                    r.finish().map_err(|_| failed("the audio does not parse"))?;
                }
            }
        }
    }
}

/// A JSON document of the bag: pretty-printed, with a final newline.
pub(super) fn pretty_json<T: serde::Serialize>(v: &T) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|_| failed("json"))?;
    bytes.push(b'\n');
    Ok(bytes)
}
