//! The read pipeline: authorize ▸ catalog ▸ store ▸ unseal ▸ role view ▸ audit.
//!
//! Authorization comes first and does not depend on the call existing, so a caller who may
//! not read learns nothing. Every read and every refusal is audited before any content
//! leaves; an audit failure fails the read.

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::authorize::CallAccess;
use super::sealing::{context, integrity_io_error, is_integrity, open_stream};
use super::{Vault, VaultError};
use crate::access::authz::{Action, Resource};
use crate::access::Principal;
use crate::audit::{AuditEntry, Outcome};
use crate::catalog::{CallRecord, CallSummary};
use crate::formats::transcript::Transcript;
use crate::redact::audio::AudioRedactor;
use crate::redact::{view, view_audio_spans, Master};
use crate::seal::{BlobKind, DataKey, WrappedKey};
use crate::store::{BlobKey, ByteStream};

/// Largest sealed master accepted on read (the transcript limit plus findings).
const MAX_MASTER_BYTES: usize = 64 << 20;

/// Call metadata: no content, no customer values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallMetadata {
    /// The call id.
    pub call_id: String,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// The agent.
    pub agent_id: String,
    /// `zh-CN`, `en-US` or `mixed`.
    pub language: String,
    /// Whether audio is stored.
    pub has_audio: bool,
    /// Audio duration, seconds.
    pub duration_s: Option<f64>,
    /// When the vault stored it.
    pub ingested_at: String,
    /// SHA-256 of the uploaded transcript.
    pub transcript_sha256: String,
    /// SHA-256 of the uploaded audio.
    pub audio_sha256: Option<String>,
}

impl From<&CallRecord> for CallMetadata {
    fn from(rec: &CallRecord) -> Self {
        CallMetadata {
            call_id: rec.call_id.clone(),
            started_at: rec.started_at.clone(),
            agent_id: rec.agent_id.clone(),
            language: rec.language.clone(),
            has_audio: rec.has_audio,
            duration_s: rec.duration_s,
            ingested_at: rec.created_at.clone(),
            transcript_sha256: rec.transcript_sha256.clone(),
            audio_sha256: rec.audio_sha256.clone(),
        }
    }
}

impl Vault {
    /// One page of calls, ordered by id, after `after`.
    pub async fn list_calls(
        &self,
        actor: &Principal,
        origin: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CallSummary>, VaultError> {
        let decision = self
            .authorize(
                actor,
                origin,
                "call.list",
                Action::ListCalls,
                Resource::Vault,
                None,
            )
            .await?;
        let page = self.catalog.list_calls(after, limit).await?;
        self.audit
            .append(
                &AuditEntry::new(Some(actor), "call.list", Outcome::Success, origin)
                    .policies(decision.policies),
            )
            .await?;
        Ok(page)
    }

    /// Metadata of one call.
    pub async fn metadata(
        &self,
        actor: &Principal,
        origin: &str,
        call_id: &str,
    ) -> Result<CallMetadata, VaultError> {
        let event = "call.read.metadata";
        let (rec, access) = self
            .authorize_call(actor, origin, event, Action::ReadMetadata, call_id)
            .await?;
        self.audit_read(actor, origin, event, call_id, &access)
            .await?;
        Ok(CallMetadata::from(&rec))
    }

    /// The caller's role view of a call's transcript.
    pub async fn transcript(
        &self,
        actor: &Principal,
        origin: &str,
        call_id: &str,
    ) -> Result<Transcript, VaultError> {
        let event = "call.read.transcript";
        let (rec, access) = self
            .authorize_call(actor, origin, event, Action::ReadTranscript, call_id)
            .await?;
        let role = access.view_role;
        let master = match self.load_master(&rec).await {
            Ok(m) => m,
            Err(e) => return Err(self.failed_read(actor, origin, event, call_id, e).await),
        };
        let out = view(&master, role, &self.policy)?;
        self.audit_read(actor, origin, event, call_id, &access)
            .await?;
        Ok(out)
    }

    /// The caller's role view of a call's audio, as a stream of WAV bytes.
    ///
    /// An integrity failure found mid-stream ends the stream with an error (the HTTP layer
    /// aborts the response) and is audited; no byte past the failing chunk is sent.
    pub async fn audio(
        &self,
        actor: &Principal,
        origin: &str,
        call_id: &str,
    ) -> Result<ByteStream, VaultError> {
        let event = "call.read.audio";
        let (rec, access) = self
            .authorize_call(actor, origin, event, Action::ReadAudio, call_id)
            .await?;
        let role = access.view_role;
        let Some(audio_blob) = rec.audio_blob.clone() else {
            self.audit_refusal(actor, origin, event, Some(call_id), "not-found")
                .await?;
            return Err(VaultError::NotFound);
        };
        let master = match self.load_master(&rec).await {
            Ok(m) => m,
            Err(e) => return Err(self.failed_read(actor, origin, event, call_id, e).await),
        };
        let spans = view_audio_spans(&master, role, &self.policy)?;
        let key = self.unwrap_key(&rec)?;
        let sealed = self.store.get(&BlobKey::new(audio_blob)?).await?;
        let mut plain = open_stream(
            sealed,
            &key,
            &context(&rec.call_id, BlobKind::Audio),
            self.backend,
        );
        // Verify the header and first chunk before answering, so a swapped or foreign blob
        // is a clean integrity problem rather than an aborted response.
        let first = loop {
            match plain.next().await {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => break chunk,
                Some(Err(_)) | None => {
                    return Err(self
                        .failed_read(actor, origin, event, call_id, VaultError::Integrity)
                        .await)
                }
            }
        };
        self.audit_read(actor, origin, event, call_id, &access)
            .await?;
        let plain: ByteStream = Box::pin(futures::stream::iter([Ok(first)]).chain(plain));
        Ok(self.redact_on_read(plain, spans, actor, origin, call_id))
    }

    fn redact_on_read(
        &self,
        plain: ByteStream,
        spans: Vec<crate::redact::audio::SilenceSpan>,
        actor: &Principal,
        origin: &str,
        call_id: &str,
    ) -> ByteStream {
        let mut redactor = Some(AudioRedactor::new(spans, self.limits.audio_pad_s, u64::MAX));
        let audit = self.audit.clone();
        let failure = AuditEntry::new(Some(actor), "call.read.audio", Outcome::Failure, origin)
            .object(call_id)
            .reason("integrity");
        let mut failure = Some(failure);
        let mut plain = plain;
        Box::pin(futures::stream::poll_fn(move |cx| {
            use std::task::Poll;
            loop {
                let Some(r) = redactor.as_mut() else {
                    return Poll::Ready(None);
                };
                let fail = |redactor: &mut Option<AudioRedactor>,
                            failure: &mut Option<AuditEntry>| {
                    *redactor = None;
                    if let Some(entry) = failure.take() {
                        let audit = audit.clone();
                        tracing::error!("integrity failure while streaming audio");
                        tokio::spawn(async move {
                            if let Err(e) = audit.append(&entry).await {
                                tracing::error!(error = %e, "could not audit an integrity failure");
                            }
                        });
                    }
                    Poll::Ready(Some(Err(integrity_io_error())))
                };
                match plain.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(chunk))) => {
                        let mut out = Vec::with_capacity(chunk.len());
                        if r.push(&chunk, &mut out).is_err() {
                            return fail(&mut redactor, &mut failure);
                        }
                        if out.is_empty() {
                            continue;
                        }
                        return Poll::Ready(Some(Ok(Bytes::from(out))));
                    }
                    Poll::Ready(Some(Err(_))) => return fail(&mut redactor, &mut failure),
                    Poll::Ready(None) => {
                        let r = redactor.take().expect("redactor present");
                        if r.finish().is_err() {
                            return fail(&mut redactor, &mut failure);
                        }
                        return Poll::Ready(None);
                    }
                }
            }
        }))
    }

    /// Unseals the stored audio of a call as it was stored (C3 silenced, nothing else):
    /// for operations and library tests only; no HTTP route exposes it and it is not audited.
    pub async fn master_audio(&self, rec: &CallRecord) -> Result<Option<ByteStream>, VaultError> {
        let Some(blob) = rec.audio_blob.clone() else {
            return Ok(None);
        };
        let key = self.unwrap_key(rec)?;
        let sealed = self.store.get(&BlobKey::new(blob)?).await?;
        Ok(Some(open_stream(
            sealed,
            &key,
            &context(&rec.call_id, BlobKind::Audio),
            self.backend,
        )))
    }

    /// Unseals the stored master of a call (used by reads and by library tests).
    pub async fn load_master(&self, rec: &CallRecord) -> Result<Master, VaultError> {
        let key = self.unwrap_key(rec)?;
        let sealed = self
            .store
            .get(&BlobKey::new(rec.transcript_blob.clone())?)
            .await?;
        let mut plain = open_stream(
            sealed,
            &key,
            &context(&rec.call_id, BlobKind::Transcript),
            self.backend,
        );
        let mut buf = Vec::new();
        while let Some(chunk) = plain.next().await {
            match chunk {
                Ok(b) => {
                    buf.extend_from_slice(&b);
                    if buf.len() > MAX_MASTER_BYTES {
                        return Err(VaultError::Integrity);
                    }
                }
                Err(e) if is_integrity(&e) => return Err(VaultError::Integrity),
                // The store failed underneath (outage, I/O): unavailable, not tampered.
                Err(e) => return Err(VaultError::Store(crate::store::StoreError::Io(e))),
            }
        }
        serde_json::from_slice(&buf).map_err(|_| VaultError::Integrity)
    }

    fn unwrap_key(&self, rec: &CallRecord) -> Result<DataKey, VaultError> {
        let wrapped = WrappedKey {
            version: rec.key_version,
            bytes: rec.wrapped_key.clone(),
        };
        self.keys
            .unwrap(&rec.call_id, &wrapped)
            .map_err(|_| VaultError::Integrity)
    }

    async fn audit_read(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        call_id: &str,
        access: &CallAccess,
    ) -> Result<(), VaultError> {
        let entry = access
            .annotate(AuditEntry::new(
                Some(actor),
                event,
                Outcome::Success,
                origin,
            ))
            .object(call_id);
        self.audit.append(&entry).await?;
        Ok(())
    }

    async fn failed_read(
        &self,
        actor: &Principal,
        origin: &str,
        event: &str,
        call_id: &str,
        e: VaultError,
    ) -> VaultError {
        if matches!(e, VaultError::Integrity) {
            tracing::error!(call_id = %call_id, "integrity failure on read");
        }
        match self
            .audit_refusal(actor, origin, event, Some(call_id), e.kind())
            .await
        {
            Ok(()) => e,
            Err(audit_err) => audit_err,
        }
    }
}
