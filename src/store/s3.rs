//! [`S3Store`]: blobs as objects in an S3-compatible bucket (AWS S3, Garage, MinIO...).
//!
//! Objects up to `part_size` go up in one PutObject; larger ones in a multipart upload that
//! buffers one part at a time, so memory stays bounded by the part size. Overwrites are
//! refused twice: a HeadObject before uploading (cheap, and it saves sending a body that
//! would be refused), then `If-None-Match: *` on PutObject/CompleteMultipartUpload, which
//! closes the race between two writers on servers that honour it (AWS S3). Garage 2.5
//! ignores the header (checked against a real server), so there two writers racing for one
//! key between HEAD and PUT can both succeed and the last one wins; the vault's keys embed
//! the call and upload ids, so such races do not arise in practice.

mod parts;

use async_trait::async_trait;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures::stream;

use super::{BlobKey, BlobStore, ByteStream, StoreError};
use parts::Parts;

/// Default size of one multipart part, and the largest object sent in one PutObject.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// Smallest part size S3 accepts for every part but the last.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// Largest part size S3 accepts.
const MAX_PART_SIZE: usize = 5 * 1024 * 1024 * 1024;

/// Where and how to reach the bucket. Credentials come from the standard AWS sources
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, instance metadata...).
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Bucket that holds the blobs.
    pub bucket: String,
    /// Custom endpoint such as `http://127.0.0.1:3900`; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Region; `None` to take it from the standard AWS configuration (`AWS_REGION`...).
    pub region: Option<String>,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (Garage, MinIO).
    pub force_path_style: bool,
    /// Multipart part size in bytes, between 5 MiB and 5 GiB; see [`DEFAULT_PART_SIZE`].
    pub part_size: usize,
}

impl S3Config {
    /// A configuration for `bucket` on AWS with default settings.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            endpoint: None,
            region: None,
            force_path_style: false,
            part_size: DEFAULT_PART_SIZE,
        }
    }
}

/// A [`BlobStore`] on an S3-compatible server.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    part_size: usize,
}

impl S3Store {
    /// Builds the client from the standard AWS configuration plus `config`.
    ///
    /// Checksums are computed and validated only where the API requires them: servers such
    /// as Garage refuse the SDK's default per-part CRC32s on CompleteMultipartUpload.
    /// Errors: [`StoreError::Backend`] if the part size is out of range. No request is sent.
    pub async fn new(config: S3Config) -> Result<Self, StoreError> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&config.part_size) {
            return Err(StoreError::Backend(
                "part size must be between 5 MiB and 5 GiB".into(),
            ));
        }
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = config.region {
            loader = loader.region(Region::new(region));
        }
        if let Some(endpoint) = config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            bucket: config.bucket,
            part_size: config.part_size,
        })
    }

    /// Keys under `prefix` with a multipart upload that was neither completed nor aborted,
    /// sorted. For tests and operations: a put that failed or was dropped leaves none once
    /// its (background) abort has run.
    pub async fn incomplete_uploads(&self, prefix: &str) -> Result<Vec<BlobKey>, StoreError> {
        let mut keys = Vec::new();
        let (mut key_marker, mut id_marker) = (None, None);
        loop {
            let list = self.client.list_multipart_uploads().bucket(&self.bucket);
            let list = list.prefix(prefix).set_key_marker(key_marker);
            let page = list.set_upload_id_marker(id_marker).send().await;
            let page = page.map_err(|e| backend("ListMultipartUploads", &e))?;
            let listed = page.uploads().iter().filter_map(|u| u.key());
            keys.extend(listed.filter_map(|k| BlobKey::new(k).ok()));
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                break; // A truncated page without a marker: stop rather than loop.
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str());
        match head.send().await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(backend("HeadObject", &e)),
        }
    }

    async fn put_single(&self, key: &BlobKey, body: Bytes) -> Result<(), StoreError> {
        let len = body.len() as i64;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str());
        let request = request.content_length(len).body(SdkBody::from(body));
        match request.if_none_match("*").send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(412) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend("PutObject", &e)),
        }
    }

    /// Uploads `first` and the rest of `parts` as a multipart upload, aborting it on error.
    async fn put_multipart(
        &self,
        key: &BlobKey,
        first: Bytes,
        parts: &mut Parts,
    ) -> Result<(), StoreError> {
        let create = self.client.create_multipart_upload().bucket(&self.bucket);
        let created = create.key(key.as_str()).send().await;
        let created = created.map_err(|e| backend("CreateMultipartUpload", &e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| StoreError::Backend("CreateMultipartUpload: no upload id".into()))?;
        let mut guard = AbortGuard::new(self, key, upload_id);
        let result = self.upload_parts(key, upload_id, first, parts).await;
        if result.is_err() {
            self.abort(key, upload_id).await;
        }
        guard.disarm();
        result
    }

    async fn upload_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
        first: Bytes,
        parts: &mut Parts,
    ) -> Result<(), StoreError> {
        let mut completed = Vec::new();
        let mut next = Some(first);
        while let Some(part) = next {
            let number = completed.len() as i32 + 1;
            let len = part.len() as i64;
            let upload = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key.as_str());
            let upload = upload.upload_id(upload_id).part_number(number);
            let sent = upload
                .content_length(len)
                .body(SdkBody::from(part))
                .send()
                .await;
            let sent = sent.map_err(|e| backend("UploadPart", &e))?;
            // ETags only: echoing per-part checksums makes some servers refuse completion.
            let part = CompletedPart::builder().part_number(number);
            completed.push(part.set_e_tag(sent.e_tag().map(str::to_owned)).build());
            next = parts.next_part().await?;
        }
        let upload = CompletedMultipartUpload::builder()
            .set_parts(Some(completed))
            .build();
        let complete = self.client.complete_multipart_upload().bucket(&self.bucket);
        let complete = complete.key(key.as_str()).upload_id(upload_id);
        match complete
            .multipart_upload(upload)
            .if_none_match("*")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(412) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend("CompleteMultipartUpload", &e)),
        }
    }

    async fn abort(&self, key: &BlobKey, upload_id: &str) {
        let abort = self.client.abort_multipart_upload().bucket(&self.bucket);
        let result = abort.key(key.as_str()).upload_id(upload_id).send().await;
        if let Err(e) = result {
            tracing::warn!(error = %backend("AbortMultipartUpload", &e), "multipart upload left behind");
        }
    }
}

#[async_trait]
impl BlobStore for S3Store {
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64, StoreError> {
        if self.exists(key).await? {
            return Err(StoreError::AlreadyExists);
        }
        let mut parts = Parts::new(body, self.part_size);
        let first = parts.next_part().await?.unwrap_or_default();
        if parts.is_exhausted().await? {
            self.put_single(key, first).await?;
        } else {
            self.put_multipart(key, first, &mut parts).await?;
        }
        Ok(parts.total())
    }

    async fn get(&self, key: &BlobKey) -> Result<ByteStream, StoreError> {
        let get = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str());
        let output = match get.send().await {
            Ok(output) => output,
            Err(e) if status_of(&e) == Some(404) => return Err(StoreError::NotFound),
            Err(e) => return Err(backend("GetObject", &e)),
        };
        let chunks = stream::try_unfold(output.body, |mut body| async move {
            match body.try_next().await {
                Ok(Some(chunk)) => Ok(Some((chunk, body))),
                Ok(None) => Ok(None),
                Err(e) => Err(std::io::Error::other(e)),
            }
        });
        Ok(Box::pin(chunks))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError> {
        let delete = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str());
        match delete.send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(backend("DeleteObject", &e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, StoreError> {
        let list = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix);
        let mut pages = list.into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| backend("ListObjectsV2", &e))?;
            // Objects written by other tools may carry keys this store would refuse.
            let valid = page.contents().iter().filter_map(|o| o.key());
            keys.extend(valid.filter_map(|k| BlobKey::new(k).ok()));
        }
        keys.sort();
        Ok(keys)
    }
}

/// Aborts a multipart upload in the background if the put future is dropped mid-upload.
struct AbortGuard {
    pending: Option<(S3Store, BlobKey, String)>,
}

impl AbortGuard {
    fn new(store: &S3Store, key: &BlobKey, upload_id: &str) -> Self {
        let pending = Some((store.clone(), key.clone(), upload_id.to_owned()));
        Self { pending }
    }

    fn disarm(&mut self) {
        self.pending = None;
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let Some((store, key, upload_id)) = self.pending.take() else {
            return;
        };
        // Best effort: without a runtime the upload stays until the bucket's lifecycle
        // rules clean it up.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { store.abort(&key, &upload_id).await });
        }
    }
}

type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

fn status_of<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// A backend error naming the operation and the S3 error code, without request content.
fn backend<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("unknown error code");
            format!("HTTP {status} {code}")
        }
        other => DisplayErrorContext(other).to_string(),
    };
    StoreError::Backend(format!("{operation}: {detail}"))
}
