//! The multipart upload driver shared by local → S3 and streamed S3 → S3: create the
//! upload, run one part task per chunk on the part threads (fill a pooled buffer, hash it,
//! send it), then complete — or abort on the first failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::unbounded;
use md5::{Digest, Md5};

use super::{Ctx, TransferError};
use crate::integrity::etag::{multipart_etag, strip_quotes};
use crate::s3::ops::{CopySource, Written};
use crate::storage::s3::S3Store;
use crate::util::encoding::base64;

/// Fills `buf` with the bytes at `offset` of the source (`buf.len()` of them).
pub type Fill<'a> = Arc<dyn Fn(u64, &mut [u8]) -> Result<(), TransferError> + Send + Sync + 'a>;

/// Where the parts' bytes come from.
#[derive(Clone)]
pub enum PartSource<'a> {
    /// Read through this program: each part is filled into a pooled buffer, hashed and sent.
    Fill(Fill<'a>),
    /// Copied by the server from another object (UploadPartCopy); no bytes pass through here.
    ServerCopy {
        bucket: &'a str,
        key: Arc<str>,
        sse_c: Option<&'a crate::s3::SseCustomerKey>,
    },
}

/// S3 accepts at most this many parts.
pub const MAX_PARTS: u64 = 10_000;

/// What CompleteMultipartUpload reported and, when the bytes passed through here, the ETag
/// computed from them.
pub struct Completed {
    pub written: Written,
    pub expected: Option<String>,
}

impl Completed {
    /// The stored ETag without quotes (empty when the store sent none).
    pub fn etag(&self) -> String {
        self.written
            .etag
            .as_deref()
            .map(strip_quotes)
            .unwrap_or_default()
            .to_string()
    }
}

/// A last check run after every part was sent and before the upload is completed (e.g. that
/// a local file did not change meanwhile); an error aborts the upload.
pub type BeforeComplete<'c> = &'c dyn Fn() -> Result<(), TransferError>;

/// Uploads `size` bytes from `source` to `full_key` in parts of the configured chunk size.
pub fn upload<'a>(
    ctx: &Ctx<'_, 'a>,
    target: &'a S3Store,
    full_key: &str,
    size: u64,
    headers: &[(String, String)],
    source: PartSource<'a>,
    before_complete: Option<BeforeComplete<'_>>,
) -> Result<Completed, TransferError> {
    if size == 0 {
        return Err(TransferError::Io(format!(
            "{full_key}: a multipart upload needs at least one byte"
        )));
    }
    let layout = ctx.config.layout;
    let count = layout.part_count(size);
    if count > MAX_PARTS {
        return Err(TransferError::Io(format!(
            "{full_key} needs {count} parts of {} bytes, more than S3's {MAX_PARTS}: raise --multipart-chunksize",
            layout.chunk_size
        )));
    }
    let client = target.client();
    let bucket = target.bucket();
    let upload_id = client.create_multipart_upload(bucket, full_key, headers)?;
    let key: Arc<str> = Arc::from(full_key);
    let id: Arc<str> = Arc::from(upload_id.as_str());
    let failed = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) =
        unbounded::<(u32, Result<(String, Option<[u8; 16]>), TransferError>)>();
    let mut submitted = 0u64;
    let mut failure: Option<TransferError> = None;
    for index in 0..count {
        if ctx.cancelled() {
            failure = Some(TransferError::Cancelled);
            break;
        }
        let (offset, len) = layout.part_range(size, index);
        let part_number = index as u32 + 1;
        let (key, id, source, failed, done) = (
            Arc::clone(&key),
            Arc::clone(&id),
            source.clone(),
            Arc::clone(&failed),
            done_tx.clone(),
        );
        let pool = ctx.pool;
        let content_md5 = ctx.config.content_md5;
        let cancel = ctx.cancel;
        ctx.parts.submit(Box::new(move || {
            // Once a part failed or the run was cancelled, the rest only report back.
            if failed.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                let _ = done.send((part_number, Err(TransferError::Cancelled)));
                return;
            }
            let result = match &source {
                PartSource::Fill(fill) => {
                    let mut buf = pool.take();
                    let data = &mut buf[..len as usize];
                    let result = fill(offset, data).and_then(|()| {
                        let md5: [u8; 16] = Md5::digest(&*data).into();
                        let headers = if content_md5 {
                            vec![("content-md5".to_string(), base64(&md5))]
                        } else {
                            Vec::new()
                        };
                        let etag =
                            client.upload_part(bucket, &key, &id, part_number, data, &headers)?;
                        Ok((etag, Some(md5)))
                    });
                    pool.give(buf);
                    result
                }
                PartSource::ServerCopy {
                    bucket: src_bucket,
                    key: src_key,
                    sse_c,
                } => {
                    let from = CopySource {
                        bucket: src_bucket,
                        key: src_key,
                        sse_c: *sse_c,
                    };
                    let range = (offset, offset + len - 1);
                    client
                        .upload_part_copy(bucket, &key, &id, part_number, from, range)
                        .map(|etag| (etag, None))
                        .map_err(TransferError::from)
                }
            };
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            let _ = done.send((part_number, result));
        }));
        submitted += 1;
    }
    drop(done_tx);
    let mut parts: Vec<(u32, String, Option<[u8; 16]>)> = Vec::with_capacity(submitted as usize);
    for _ in 0..submitted {
        match done_rx.recv() {
            Ok((n, Ok((etag, md5)))) => parts.push((n, etag, md5)),
            Ok((_, Err(e))) => {
                // Keep the first real cause, not the "cancelled" of the parts that followed it.
                if failure.is_none() || matches!(failure, Some(TransferError::Cancelled)) {
                    failure = Some(e);
                }
            }
            Err(_) => {
                failure.get_or_insert(TransferError::Io(
                    "a part thread stopped unexpectedly".into(),
                ));
                break;
            }
        }
    }
    if failure.is_none()
        && let Some(check) = before_complete
        && let Err(e) = check()
    {
        failure = Some(e);
    }
    if let Some(f) = failure {
        abort(target, full_key, &upload_id);
        return Err(f);
    }
    parts.sort_by_key(|p| p.0);
    let md5s: Option<Vec<[u8; 16]>> = parts.iter().map(|p| p.2).collect();
    let list: Vec<(u32, String)> = parts.into_iter().map(|(n, etag, _)| (n, etag)).collect();
    match client.complete_multipart_upload(bucket, full_key, &upload_id, &list, &[]) {
        Ok(written) => Ok(Completed {
            written,
            expected: md5s.map(|m| multipart_etag(&m)),
        }),
        Err(e) => {
            abort(target, full_key, &upload_id);
            Err(TransferError::S3(e))
        }
    }
}

/// Aborts an upload so no parts are left behind (and billed).
pub fn abort(target: &S3Store, full_key: &str, upload_id: &str) {
    if let Err(e) = target
        .client()
        .abort_multipart_upload(target.bucket(), full_key, upload_id)
    {
        log::warn!(key = full_key, upload_id = upload_id; "could not abort the multipart upload: {e}");
    }
}
