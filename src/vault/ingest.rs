//! The ingest pipeline: parse ▸ validate ▸ destroy C3 ▸ seal ▸ store ▸ catalog ▸ audit.
//!
//! The transcript (at most a few MiB) is held in memory, never written anywhere in the
//! clear. The audio is streamed: C3 spans are silenced chunk by chunk before the bytes are
//! sealed, so no authentication data reaches the disk, not even encrypted.

use std::io;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sealing::{context, seal_stream};
use super::{Vault, VaultError};
use crate::access::authz::{Action, Resource};
use crate::access::Principal;
use crate::audit::{now_rfc3339, AuditEntry, Outcome};
use crate::catalog::{CallRecord, InsertOutcome};
use crate::formats::transcript::{AudioRef, ChannelMap, Transcript};
use crate::formats::{import_transcript, CallId, FormatError, ImportOptions, TranscriptKind};
use crate::redact::audio::AudioRedactor;
use crate::redact::identifiers::customer_identifiers;
use crate::redact::{make_master, Master};
use crate::seal::{BlobKind, DataKey};
use crate::store::{BlobKey, ByteStream};

/// Agent id recorded for foreign-format uploads that name none.
pub const UNKNOWN_AGENT: &str = "unknown";

/// Largest WAV header accepted before the first sample (a few chunks of metadata).
const MAX_AUDIO_HEADER_BYTES: usize = 1 << 20;

/// One upload as the HTTP layer (or a test) hands it over.
pub struct Upload {
    /// The transcript part, already size-checked.
    pub transcript: Bytes,
    /// How to parse it.
    pub kind: TranscriptKind,
    /// Header fields for formats without them (call id, start time, agent, language,
    /// agent channel). Missing start time and agent default to the upload time and
    /// `unknown`; v1 transcripts carry their own and ignore these.
    pub options: ImportOptions,
    /// Call id from the transcript's file name: used only when neither the content nor
    /// `options` gives one.
    pub file_call_id: Option<CallId>,
    /// The audio part, streamed.
    pub audio: Option<ByteStream>,
}

/// What the uploader gets back: proof of what was stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The call id.
    pub call_id: String,
    /// SHA-256 of the uploaded transcript bytes.
    pub transcript_sha256: String,
    /// SHA-256 of the uploaded audio bytes.
    pub audio_sha256: Option<String>,
    /// Index of the ingest entry in the audit log.
    pub audit_index: u64,
    /// How many values of each class were destroyed or sealed (no values).
    pub redaction: serde_json::Value,
}

impl Vault {
    /// Ingests one call. Returns the receipt and whether it was newly created (an
    /// identical repeat returns the first receipt).
    ///
    /// On any error nothing is stored: blobs written so far are deleted.
    pub async fn ingest(
        &self,
        actor: &Principal,
        origin: &str,
        upload: Upload,
    ) -> Result<(Receipt, bool), VaultError> {
        let decision = self
            .authorize(
                actor,
                origin,
                "call.ingest",
                Action::Ingest,
                Resource::Vault,
                None,
            )
            .await?;
        let result = self
            .ingest_inner(actor, origin, upload, decision.policies)
            .await;
        if let Err(e) = &result {
            if !matches!(e, VaultError::Audit(_)) {
                self.audit_refusal(actor, origin, "call.ingest", None, e.kind())
                    .await?;
            }
        }
        result
    }

    async fn ingest_inner(
        &self,
        actor: &Principal,
        origin: &str,
        upload: Upload,
        policies: Vec<String>,
    ) -> Result<(Receipt, bool), VaultError> {
        if upload.transcript.len() as u64 > self.limits.max_transcript_bytes {
            return Err(VaultError::TooLarge {
                part: "transcript",
                limit: self.limits.max_transcript_bytes,
            });
        }
        let mut options = upload.options;
        options.started_at.get_or_insert_with(now_rfc3339);
        options
            .agent_id
            .get_or_insert_with(|| UNKNOWN_AGENT.to_string());
        let mut transcript = match import_transcript(&upload.transcript, upload.kind, &options) {
            Err(FormatError::MissingHeader { field: "call_id" })
                if upload.file_call_id.is_some() =>
            {
                options.call_id = upload.file_call_id;
                import_transcript(&upload.transcript, upload.kind, &options)?
            }
            other => other?,
        };
        transcript.validate()?;
        let call_id = transcript.call_id.clone();
        let transcript_sha256 = hex::encode(Sha256::digest(&upload.transcript));
        drop(upload.transcript);

        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let key = DataKey::generate();
        let mut written: Vec<BlobKey> = Vec::new();
        let outcome = self
            .store_blobs(
                &mut transcript,
                upload.audio,
                &key,
                &call_id,
                &upload_id,
                &mut written,
            )
            .await;
        let stored = match outcome {
            Ok(s) => s,
            Err(e) => {
                self.delete_blobs(&written).await;
                return Err(e);
            }
        };

        let record = CallRecord {
            call_id: call_id.clone(),
            started_at: transcript.started_at.clone(),
            agent_id: transcript.agent_id.clone(),
            language: transcript.language.clone(),
            has_audio: stored.audio.is_some(),
            duration_s: transcript.audio.as_ref().map(|a| a.duration_s),
            upload_id: upload_id.clone(),
            transcript_blob: stored.master_key.as_str().to_string(),
            audio_blob: stored.audio.as_ref().map(|a| a.key.as_str().to_string()),
            key_version: 0,
            wrapped_key: Vec::new(),
            transcript_sha256: transcript_sha256.clone(),
            audio_sha256: stored.audio.as_ref().map(|a| a.plain_sha256.clone()),
            sealed_transcript_sha256: stored.master_sealed_sha256.clone(),
            sealed_audio_sha256: stored.audio.as_ref().map(|a| a.sealed_sha256.clone()),
            receipt_json: String::new(),
            created_at: now_rfc3339(),
        };
        let wrapped = self.keys.wrap(&call_id, &key);
        let record = CallRecord {
            key_version: wrapped.version,
            wrapped_key: wrapped.bytes.clone(),
            ..record
        };

        let mut receipt = Receipt {
            call_id: call_id.clone(),
            transcript_sha256,
            audio_sha256: record.audio_sha256.clone(),
            audit_index: 0,
            redaction: serde_json::to_value(&stored.report).unwrap_or_default(),
        };
        match self.catalog.insert_call(&record).await {
            Ok(InsertOutcome::Inserted) => {}
            Ok(InsertOutcome::Exists(existing)) => {
                self.delete_blobs(&written).await;
                return self.repeat(actor, origin, &existing, &record).await;
            }
            Err(e) => {
                self.delete_blobs(&written).await;
                return Err(e.into());
            }
        }
        if let Err(e) = self
            .catalog
            .index_customer(&call_id, &stored.customer_macs)
            .await
        {
            let _ = self.catalog.delete_call(&call_id).await;
            self.delete_blobs(&written).await;
            return Err(e.into());
        }
        let entry = AuditEntry::new(Some(actor), "call.ingest", Outcome::Success, origin)
            .object(&call_id)
            .policies(policies);
        let index = match self.audit.append(&entry).await {
            Ok(i) => i,
            Err(e) => {
                // Fail closed: a call whose ingest is not audited is not kept.
                let _ = self.catalog.delete_call(&call_id).await;
                self.delete_blobs(&written).await;
                return Err(e.into());
            }
        };
        receipt.audit_index = index;
        let json = serde_json::to_string(&receipt).expect("receipts serialise");
        self.catalog.set_receipt(&call_id, &json).await?;
        tracing::info!(call_id = %call_id, audit_index = index, "call ingested");
        Ok((receipt, true))
    }

    /// An upload under an existing id: the same content gets the first receipt, other
    /// content is a conflict.
    async fn repeat(
        &self,
        actor: &Principal,
        origin: &str,
        existing: &CallRecord,
        new: &CallRecord,
    ) -> Result<(Receipt, bool), VaultError> {
        let same = existing.transcript_sha256 == new.transcript_sha256
            && existing.audio_sha256 == new.audio_sha256;
        if !same {
            return Err(VaultError::Conflict);
        }
        let entry = AuditEntry::new(Some(actor), "call.ingest.repeat", Outcome::Success, origin)
            .object(&existing.call_id);
        self.audit.append(&entry).await?;
        let receipt: Receipt =
            serde_json::from_str(&existing.receipt_json).map_err(|_| VaultError::Integrity)?;
        Ok((receipt, false))
    }

    async fn store_blobs(
        &self,
        transcript: &mut Transcript,
        audio: Option<ByteStream>,
        key: &DataKey,
        call_id: &str,
        upload_id: &str,
        written: &mut Vec<BlobKey>,
    ) -> Result<StoredBlobs, VaultError> {
        let audio = match (audio, transcript.audio.is_some()) {
            (Some(a), _) => Some(self.prepare_audio(transcript, a).await?),
            (None, true) => {
                return Err(VaultError::BadUpload(
                    "the transcript names an audio file but no audio part was sent",
                ))
            }
            (None, false) => None,
        };
        let master = make_master(transcript.clone(), &self.policy);
        let customer_macs = customer_identifiers(&master)
            .iter()
            .map(|(kind, value)| self.blind.mac(*kind, value).to_vec())
            .collect();
        let stored_audio = match audio {
            Some((prefix, rest)) => Some(
                self.seal_audio(&master, prefix, rest, key, call_id, upload_id, written)
                    .await?,
            ),
            None => None,
        };
        let master_key = BlobKey::new(format!("calls/{call_id}/{upload_id}/master"))?;
        let json = serde_json::to_vec(&master).expect("masters serialise");
        let body = futures::stream::iter([Ok::<Bytes, io::Error>(Bytes::from(json))]);
        let (sealed, digest) = seal_stream(
            body,
            key,
            &context(call_id, BlobKind::Transcript),
            self.backend,
        );
        self.store.put(&master_key, sealed).await?;
        written.push(master_key.clone());
        Ok(StoredBlobs {
            master_key,
            master_sealed_sha256: digest.get().unwrap_or_default(),
            audio: stored_audio,
            report: master.report,
            customer_macs,
        })
    }

    /// Reads the WAV header off the front of the audio stream, checks the transcript
    /// against it (filling the transcript's audio block for formats without one), and hands
    /// back the bytes read so far with the rest of the stream.
    async fn prepare_audio(
        &self,
        transcript: &mut Transcript,
        mut audio: ByteStream,
    ) -> Result<(Vec<Bytes>, ByteStream), VaultError> {
        let mut probe = AudioRedactor::new(Vec::new(), 0.0, self.limits.max_audio_bytes);
        let mut prefix = Vec::new();
        let mut seen = 0usize;
        let mut scratch = Vec::new();
        let info = loop {
            if let Some(info) = probe.info() {
                break info.clone();
            }
            if seen > MAX_AUDIO_HEADER_BYTES {
                return Err(VaultError::BadUpload(
                    "the audio part does not start with a WAV header",
                ));
            }
            match audio.next().await {
                Some(Ok(chunk)) => {
                    seen += chunk.len();
                    scratch.clear();
                    probe.push(&chunk, &mut scratch)?;
                    prefix.push(chunk);
                }
                Some(Err(_)) => return Err(VaultError::Body),
                None => {
                    probe.finish()?;
                    return Err(VaultError::BadUpload(
                        "the audio part ended inside its header",
                    ));
                }
            }
        };
        if transcript.audio.is_none() {
            let map = if info.channels >= 2 {
                ChannelMap {
                    agent: 0,
                    customer: 1,
                }
            } else {
                ChannelMap {
                    agent: 0,
                    customer: 0,
                }
            };
            transcript.audio = Some(AudioRef {
                file: format!("{}.wav", transcript.call_id),
                encoding: info.encoding.as_str().to_string(),
                sample_rate: info.sample_rate,
                channels: info.channels,
                duration_s: (info.duration_s() * 1000.0).round() / 1000.0,
                channel_map: map,
            });
        }
        transcript.validate_against_audio(&info)?;
        Ok((prefix, audio))
    }

    #[allow(clippy::too_many_arguments)] // one pipeline step; the arguments are its inputs
    async fn seal_audio(
        &self,
        master: &Master,
        prefix: Vec<Bytes>,
        rest: ByteStream,
        key: &DataKey,
        call_id: &str,
        upload_id: &str,
        written: &mut Vec<BlobKey>,
    ) -> Result<StoredAudio, VaultError> {
        let spans = master.c3_audio_spans();
        let redactor =
            AudioRedactor::new(spans, self.limits.audio_pad_s, self.limits.max_audio_bytes);
        let input = futures::stream::iter(prefix.into_iter().map(Ok)).chain(rest);
        let (redacted, state) = redacting_stream(input, redactor);
        let (sealed, digest) = seal_stream(
            redacted,
            key,
            &context(call_id, BlobKind::Audio),
            self.backend,
        );
        let blob = BlobKey::new(format!("calls/{call_id}/{upload_id}/audio"))?;
        let put = self.store.put(&blob, sealed).await;
        if let Some(err) = state.take_error() {
            return Err(err);
        }
        put?;
        written.push(blob.clone());
        let plain_sha256 = state.digest().ok_or(VaultError::Body)?;
        Ok(StoredAudio {
            key: blob,
            plain_sha256,
            sealed_sha256: digest.get().unwrap_or_default(),
        })
    }

    async fn delete_blobs(&self, keys: &[BlobKey]) {
        for k in keys {
            if let Err(e) = self.store.delete(k).await {
                tracing::warn!(error = %e, "could not delete a blob of a failed upload");
            }
        }
    }

    /// Appends a refusal or failure entry; an append failure fails the request.
    pub(crate) async fn audit_refusal(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        call_id: Option<&str>,
        reason: &str,
    ) -> Result<(), VaultError> {
        let outcome = if reason == "forbidden" {
            Outcome::Denied
        } else {
            Outcome::Failure
        };
        let mut entry = AuditEntry::new(Some(actor), event, outcome, origin).reason(reason);
        if let Some(id) = call_id {
            entry = entry.object(id);
        }
        self.audit.append(&entry).await?;
        Ok(())
    }
}

struct StoredBlobs {
    master_key: BlobKey,
    master_sealed_sha256: String,
    audio: Option<StoredAudio>,
    report: crate::redact::Report,
    /// Blind-index MACs of the customer identifiers in the call.
    customer_macs: Vec<Vec<u8>>,
}

struct StoredAudio {
    key: BlobKey,
    plain_sha256: String,
    sealed_sha256: String,
}

/// Shared between the redacting stream and the pipeline: the first error (with its real
/// cause, which the store only sees as an I/O error) and the digest of the raw upload.
#[derive(Clone, Default)]
struct RedactState(std::sync::Arc<std::sync::Mutex<(Option<VaultError>, Option<String>)>>);

impl RedactState {
    fn fail(&self, e: VaultError) {
        let mut g = self.0.lock().expect("state lock");
        g.0.get_or_insert(e);
    }
    fn take_error(&self) -> Option<VaultError> {
        self.0.lock().expect("state lock").0.take()
    }
    fn digest(&self) -> Option<String> {
        self.0.lock().expect("state lock").1.clone()
    }
}

/// Silences the C3 spans of a streamed WAV, hashing the raw bytes as they pass. An
/// invalid WAV ends the stream with an error, so the store keeps nothing.
fn redacting_stream<S>(
    input: S,
    redactor: AudioRedactor,
) -> (
    impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    RedactState,
)
where
    S: Stream<Item = io::Result<Bytes>> + Send + 'static,
{
    let state = RedactState::default();
    let st = state.clone();
    let mut redactor = Some(redactor);
    let mut hasher = Some(Sha256::new());
    let mut input = Box::pin(input);
    let stream = futures::stream::poll_fn(move |cx| {
        use std::task::Poll;
        loop {
            let Some(r) = redactor.as_mut() else {
                return Poll::Ready(None);
            };
            match input.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(_))) => {
                    redactor = None;
                    st.fail(VaultError::Body);
                    return Poll::Ready(Some(Err(io::Error::other("upload body failed"))));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(h) = hasher.as_mut() {
                        h.update(&chunk);
                    }
                    let mut out = Vec::with_capacity(chunk.len());
                    if let Err(e) = r.push(&chunk, &mut out) {
                        redactor = None;
                        st.fail(VaultError::Audio(e));
                        return Poll::Ready(Some(Err(io::Error::other("invalid audio"))));
                    }
                    if out.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Bytes::from(out))));
                }
                Poll::Ready(None) => {
                    let r = redactor.take().expect("redactor present");
                    if let Err(e) = r.finish() {
                        st.fail(VaultError::Audio(e));
                        return Poll::Ready(Some(Err(io::Error::other("invalid audio"))));
                    }
                    if let Some(h) = hasher.take() {
                        st.0.lock().expect("state lock").1 = Some(hex::encode(h.finalize()));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    });
    (stream, state)
}
