//! Handlers of `/v1/calls`: upload (multipart, streamed), list, metadata, transcript, audio.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use super::problem::Problem;
use super::{AppState, Authenticated};
use crate::formats::{validate_call_id, AgentChannel, CallId, ImportOptions, TranscriptKind};
use crate::vault::{Upload, VaultError};

/// Largest page of `GET /v1/calls`.
const MAX_PAGE: u32 = 1000;
/// Default page size.
const DEFAULT_PAGE: u32 = 100;
/// Bytes of a refused upload read and dropped so the client sees the answer.
const DRAIN_LIMIT: u64 = 64 << 20;
/// Chunks of audio buffered between the HTTP body and the pipeline.
const AUDIO_CHANNEL_DEPTH: usize = 4;

/// `POST /v1/calls`: a `transcript` part, then an optional `audio` part.
pub async fn upload(
    State(state): State<AppState>,
    auth: Authenticated,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Problem> {
    let mut multipart =
        multipart.map_err(|_| Problem::bad_request("expected a multipart/form-data body"))?;
    let gave_up = AtomicBool::new(false);
    let result = upload_parts(&state, &auth, &mut multipart, &gave_up).await;
    if result.is_err() && !gave_up.load(Ordering::Relaxed) {
        drain(&mut multipart).await;
    }
    result
}

/// Reads and drops what is left of a refused upload (up to [`DRAIN_LIMIT`]), so a client
/// that is still sending reads the problem response instead of a reset connection.
async fn drain(multipart: &mut Multipart) {
    let mut drained: u64 = 0;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_LIMIT {
                return;
            }
        }
    }
}

async fn upload_parts(
    state: &AppState,
    auth: &Authenticated,
    multipart: &mut Multipart,
    gave_up: &AtomicBool,
) -> Result<Response, Problem> {
    let limits = state.vault.limits.clone();
    let mut transcript: Option<(Bytes, TranscriptKind)> = None;
    let mut options = ImportOptions::default();
    let mut file_hint: Option<CallId> = None;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|_| Problem::bad_request("the multipart body is malformed"))?;
        let Some(field) = field else { break };
        match field.name().unwrap_or_default() {
            "call_id" => {
                let text = read_field_text(field, "call_id").await?;
                options.call_id = Some(validate_call_id(text.trim()).map_err(|e| Problem::from(VaultError::Format(e)))?);
            }
            "started_at" => options.started_at = Some(read_field_text(field, "started_at").await?),
            "agent_id" => options.agent_id = Some(read_field_text(field, "agent_id").await?),
            "language" => options.language = Some(read_field_text(field, "language").await?),
            "agent_channel" => {
                let text = read_field_text(field, "agent_channel").await?;
                let index = text.trim().parse::<u8>().map_err(|_| Problem::bad_request("agent_channel must be 0 or 1"))?;
                options.agent_channel = AgentChannel::new(index).map_err(|e| Problem::from(VaultError::Format(e)))?;
            }
            "transcript" => {
                if transcript.is_some() {
                    return Err(Problem::bad_request("more than one transcript part"));
                }
                let kind = transcript_kind(&field)?;
                file_hint = field.file_name().and_then(file_stem_call_id);
                let bytes = read_limited(field, limits.max_transcript_bytes, "transcript", gave_up).await?;
                transcript = Some((bytes, kind));
            }
            "audio" => {
                let Some((bytes, kind)) = transcript.take() else {
                    return Err(Problem::bad_request("the audio part must come after the transcript part"));
                };
                check_audio_type(&field)?;
                let upload = Upload { transcript: bytes, kind, options, file_call_id: file_hint, audio: None };
                return ingest_with_audio(state, auth, upload, field, gave_up).await;
            }
            _ => {
                return Err(Problem::bad_request(
                    "unknown part: expected transcript, audio, call_id, started_at, agent_id, language or agent_channel",
                ))
            }
        }
    }
    let Some((bytes, kind)) = transcript else {
        return Err(Problem::bad_request("the transcript part is missing"));
    };
    let upload = Upload {
        transcript: bytes,
        kind,
        options,
        file_call_id: file_hint,
        audio: None,
    };
    let result = state
        .vault
        .ingest(&auth.principal, &auth.origin, upload)
        .await;
    receipt_response(state, result)
}

/// Runs the pipeline while pumping the audio field into it through a small bounded
/// channel, so the upload streams and memory stays flat.
async fn ingest_with_audio(
    state: &AppState,
    auth: &Authenticated,
    mut upload: Upload,
    mut field: Field<'_>,
    gave_up: &AtomicBool,
) -> Result<Response, Problem> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(AUDIO_CHANNEL_DEPTH);
    let audio = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    upload.audio = Some(Box::pin(audio));
    let metrics = state.metrics.clone();
    let pump = async move {
        // When the pipeline stops early (bad audio, too large), keep reading a bounded
        // amount of the body so the client, still sending, gets the problem response
        // instead of a reset connection.
        let mut discarded: u64 = 0;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    metrics.audio_bytes.inc_by(chunk.len() as u64);
                    if tx.is_closed() || tx.send(Ok(chunk.clone())).await.is_err() {
                        discarded += chunk.len() as u64;
                        if discarded > DRAIN_LIMIT {
                            gave_up.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                Ok(None) => return,
                Err(_) => {
                    let _ = tx.send(Err(io::Error::other("upload body failed"))).await;
                    return;
                }
            }
        }
    };
    let ingest = state.vault.ingest(&auth.principal, &auth.origin, upload);
    let ((), result) = tokio::join!(pump, ingest);
    receipt_response(state, result)
}

fn receipt_response(
    state: &AppState,
    result: Result<(crate::vault::Receipt, bool), VaultError>,
) -> Result<Response, Problem> {
    let (receipt, created) = result?;
    if created {
        state.metrics.ingested.inc();
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)).into_response())
}

/// A small text form field (at most 256 bytes of UTF-8).
async fn read_field_text(field: Field<'_>, name: &'static str) -> Result<String, Problem> {
    let bytes = read_limited(field, 256, name, &AtomicBool::new(false)).await?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Problem::from(VaultError::Format(crate::formats::FormatError::InvalidUtf8)))
}

/// Reads a whole part of at most `limit` bytes. An oversize part is read on (and dropped)
/// up to [`DRAIN_LIMIT`] so the client gets the answer; past that, `gave_up` is set and
/// the connection is let go.
async fn read_limited(
    mut field: Field<'_>,
    limit: u64,
    part: &'static str,
    gave_up: &AtomicBool,
) -> Result<Bytes, Problem> {
    let malformed = || Problem::bad_request("the multipart body is malformed");
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
        if (buf.len() + chunk.len()) as u64 > limit {
            let mut dropped = buf.len() as u64 + chunk.len() as u64;
            drop(buf);
            while let Ok(Some(more)) = field.chunk().await {
                dropped += more.len() as u64;
                if dropped > DRAIN_LIMIT {
                    gave_up.store(true, Ordering::Relaxed);
                    break;
                }
            }
            return Err(VaultError::TooLarge { part, limit }.into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn transcript_kind(field: &Field<'_>) -> Result<TranscriptKind, Problem> {
    let ct = field.content_type().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match ct.as_deref() {
        Some("application/json") => Ok(TranscriptKind::Json),
        Some("text/vtt") => Ok(TranscriptKind::WebVtt),
        None | Some("application/octet-stream") => match field.file_name() {
            Some(n) if n.ends_with(".vtt") => Ok(TranscriptKind::WebVtt),
            _ => Ok(TranscriptKind::Json),
        },
        Some(_) => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "the transcript part must be application/json or text/vtt",
        )),
    }
}

fn check_audio_type(field: &Field<'_>) -> Result<(), Problem> {
    let ct = field.content_type().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match ct.as_deref() {
        None
        | Some(
            "audio/wav"
            | "audio/x-wav"
            | "audio/wave"
            | "audio/vnd.wave"
            | "application/octet-stream",
        ) => Ok(()),
        Some(_) => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "the audio part must be audio/wav",
        )),
    }
}

/// `c20260301-010164.vtt` → `c20260301-010164`, when that is a valid call id.
fn file_stem_call_id(name: &str) -> Option<CallId> {
    let base = name.rsplit(['/', '\\']).next()?;
    let stem = base.split('.').next()?;
    validate_call_id(stem).ok()
}

/// Query of `GET /v1/calls`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
    after: Option<String>,
}

/// `GET /v1/calls?limit=N&after=CURSOR`.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|_| Problem::bad_request("limit must be a positive integer"))?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::bad_request(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let after = match q.after.as_deref() {
        Some(a) => Some(
            validate_call_id(a)
                .map_err(|_| Problem::bad_request("after must be a call id cursor"))?,
        ),
        None => None,
    };
    let page = state
        .vault
        .list_calls(
            &auth.principal,
            &auth.origin,
            after.as_ref().map(|c| c.as_ref()),
            limit,
        )
        .await?;
    let next = (page.len() as u32 == limit)
        .then(|| page.last().map(|c| c.call_id.clone()))
        .flatten();
    let calls: Vec<_> = page
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "call_id": c.call_id, "started_at": c.started_at, "agent_id": c.agent_id,
                "has_audio": c.has_audio, "duration_s": c.duration_s,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({"calls": calls, "next": next})).into_response())
}

/// Validates the path's call id and names it in the request's span.
fn call_id(raw: &str) -> Result<CallId, Problem> {
    let id = validate_call_id(raw).map_err(|e| Problem::from(VaultError::Format(e)))?;
    tracing::Span::current().record("call_id", id.as_ref());
    Ok(id)
}

/// Counts an integrity failure in the metrics.
fn count_integrity(state: &AppState, e: &VaultError) {
    if matches!(e, VaultError::Integrity) {
        state.metrics.integrity_failures.inc();
    }
}

/// `GET /v1/calls/{id}`.
pub async fn metadata(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = call_id(&id)?;
    let meta = state
        .vault
        .metadata(&auth.principal, &auth.origin, id.as_ref())
        .await?;
    Ok(Json(meta).into_response())
}

/// `GET /v1/calls/{id}/transcript`: the caller's role view.
pub async fn transcript(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = call_id(&id)?;
    let t = state
        .vault
        .transcript(&auth.principal, &auth.origin, id.as_ref())
        .await
        .inspect_err(|e| count_integrity(&state, e))?;
    Ok(Json(t).into_response())
}

/// `GET /v1/calls/{id}/audio`: the caller's role view, streamed. An integrity failure
/// mid-stream aborts the response rather than ending it cleanly.
pub async fn audio(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = call_id(&id)?;
    let stream = state
        .vault
        .audio(&auth.principal, &auth.origin, id.as_ref())
        .await
        .inspect_err(|e| count_integrity(&state, e))?;
    let metrics = state.metrics.clone();
    let stream = futures::StreamExt::inspect(stream, move |item| {
        if item.is_err() {
            metrics.integrity_failures.inc();
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "audio/wav")],
        Body::from_stream(stream),
    )
        .into_response())
}
