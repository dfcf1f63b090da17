//! The multipart upload driver shared by local → S3 and S3 → S3: create the upload, run one
//! part task per chunk on the part threads, then complete — or abort on the first failure.
//!
//! No part is held in memory. A local part is hashed in a first pass over its byte range and
//! streamed in a second (the page cache makes the second read cheap), so it goes out with
//! Content-MD5 and a signed SHA-256; the MD5s of local parts of one length are computed
//! side by side, [`md5x::LANES`] parts at a time, by the first of their part threads to
//! start (a third read, from the page cache, that costs far less than the MD5s it
//! replaces). A part of another object is streamed from a ranged GET
//! straight into UploadPart and hashed on the way; the part ETag S3 returns must equal that
//! MD5. Memory therefore stays flat whatever the object size and part count.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_channel::unbounded;
use md5::Digest;
use sha2::Sha256;

use super::part_source::PartSource;
use super::streams::{RangeReader, md5_side_by_side, side_by_side_parts};
use super::{Ctx, STREAM_BUFFER, TransferError, digest_headers, retry_body};
use crate::http::body::Payload;
use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::integrity::digest::{self, Digests, PartDigest, PartHasher, Parts};
use crate::integrity::etag::strip_quotes;
use crate::integrity::md5x;
use crate::storage::backend::{PartReceipt, Written};
use crate::storage::local::copy_observed;
use crate::storage::s3::streams::{ReGet, Trailer};
use crate::storage::s3::{CopyFrom, S3Store};
use crate::util::encoding::hex;

/// Up to [`md5x::LANES`] parts of a local file, all of one length, whose MD5s are computed
/// together, once, by the first of their part threads to need them (the others wait for
/// it, briefly: eight MD5s side by side take about as long as one alone).
struct Md5Batch {
    ranges: Vec<(u64, u64)>,
    md5s: OnceLock<Result<Vec<[u8; 16]>, ReadFailure>>,
}

/// Why a file could not be read: the kind (an early end means the file is being
/// rewritten) and the message.
type ReadFailure = (std::io::ErrorKind, String);

impl Md5Batch {
    /// Batches for `ranges`: each range hashed side by side ([`side_by_side_parts`]) gets
    /// its batch and its slot in it; the others (the short last part) get `None`.
    fn plan(ranges: &[(u64, u64)]) -> Vec<Option<(Arc<Md5Batch>, usize)>> {
        let mut plan: Vec<Option<(Arc<Md5Batch>, usize)>> = vec![None; ranges.len()];
        for group in side_by_side_parts(ranges).chunks(md5x::LANES) {
            let batch = Arc::new(Md5Batch {
                ranges: group.iter().map(|&i| ranges[i]).collect(),
                md5s: OnceLock::new(),
            });
            for (slot, &i) in group.iter().enumerate() {
                plan[i] = Some((Arc::clone(&batch), slot));
            }
        }
        plan
    }

    /// The MD5 of the batch's range number `slot` of `file`.
    fn md5(&self, file: &Arc<File>, slot: usize) -> Result<[u8; 16], ReadFailure> {
        let all = self.md5s.get_or_init(|| {
            md5_side_by_side(file, &self.ranges, &mut Vec::new())
                .map_err(|e| (e.kind(), e.to_string()))
        });
        match all {
            Ok(md5s) => md5s.get(slot).copied().ok_or_else(|| {
                (
                    std::io::ErrorKind::Other,
                    "a part's MD5 is missing from its batch (a bug)".to_string(),
                )
            }),
            Err(e) => Err(e.clone()),
        }
    }
}

/// S3 accepts at most this many parts.
pub const MAX_PARTS: u64 = 10_000;

/// What CompleteMultipartUpload reported and, when the bytes passed through here, the ETag
/// (and checksum) computed from them.
pub struct Completed {
    pub written: Written,
    pub expected: Option<Digests>,
    /// Bytes not sent because a resumed upload already held them (see `resume`).
    pub reused_bytes: u64,
    /// The upload was one an interrupted run left, resumed with some of its parts kept.
    pub resumed: bool,
}

impl Completed {
    /// The stored ETag without quotes (empty when the store sent none).
    pub fn etag(&self) -> String {
        self.written.tag_text().unwrap_or_default().to_string()
    }
}

/// A last check run after every part was sent and before the upload is completed (e.g. that
/// a local file did not change meanwhile, or that the bytes read from another object give
/// its ETag); it gets the digests of the bytes sent, when they passed through here. An
/// error aborts the upload, so nothing lands.
pub type BeforeComplete<'c> = &'c dyn Fn(Option<&Digests>) -> Result<(), TransferError>;

/// Uploads `size` bytes from `source` to `full_key` cut as `parts` says. With `spec` the
/// object gets that additional checksum: every part whose bytes pass through here carries
/// it, and parts copied by the server get it computed there.
#[allow(clippy::too_many_arguments)]
pub fn upload<'a>(
    ctx: &Ctx<'_, 'a>,
    target: &'a S3Store,
    full_key: &str,
    size: u64,
    parts_plan: &Parts,
    spec: Option<ChecksumSpec>,
    headers: &[(String, String)],
    source: PartSource<'a>,
    before_complete: Option<BeforeComplete<'_>>,
) -> Result<Completed, TransferError> {
    if size == 0 {
        return Err(TransferError::Io(format!(
            "{full_key}: a multipart upload needs at least one byte"
        )));
    }
    let ranges = parts_plan.ranges(size);
    let count = ranges.len() as u64;
    if count > MAX_PARTS {
        return Err(TransferError::Io(format!(
            "{full_key} needs {count} {}, more than S3's {MAX_PARTS}: raise --multipart-chunksize",
            parts_plan.describe()
        )));
    }
    let mut create_headers = headers.to_vec();
    if let Some(spec) = spec {
        create_headers.extend(crate::storage::s3::headers::upload_checksum(spec));
    }
    let start = super::resume::begin(
        ctx,
        target,
        full_key,
        size,
        parts_plan,
        spec,
        &create_headers,
        &source,
    )?;
    let upload_id = start.upload_id;
    let key: Arc<str> = Arc::from(full_key);
    let id: Arc<str> = Arc::from(upload_id.as_str());
    let failed = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = unbounded::<(u32, Result<SentPart, TransferError>)>();
    let mut submitted = 0u64;
    let mut failure: Option<TransferError> = None;
    let mut batches = match source {
        PartSource::File { .. } => Md5Batch::plan(&ranges),
        _ => Vec::new(),
    }
    .into_iter();
    for (index, &(offset, len)) in ranges.iter().enumerate() {
        if ctx.cancelled() {
            failure = Some(TransferError::Cancelled);
            break;
        }
        let part_number = index as u32 + 1;
        let (key, id, source, failed, done) = (
            Arc::clone(&key),
            Arc::clone(&id),
            source.clone(),
            Arc::clone(&failed),
            done_tx.clone(),
        );
        let content_md5 = ctx.config.content_md5;
        // A part listed without an ETag may be kept on its size alone only when the object's
        // ETag, which covers every part's MD5, is verified once it is complete.
        let sized_ok = ctx.config.verify_etag && ctx.config.verify_multipart;
        let cancel = ctx.cancel;
        let batch = batches.next().flatten();
        // What a resumed upload holds under this number, if it has the length expected.
        let uploaded: Option<Arc<str>> = start
            .uploaded
            .get(&part_number)
            .filter(|p| p.size == len)
            .map(|p| Arc::from(p.tag.as_str()));
        ctx.parts.submit(Box::new(move || {
            // Once a part failed or the run was cancelled, the rest only report back.
            if failed.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                let _ = done.send((part_number, Err(TransferError::Cancelled)));
                return;
            }
            let part = Part {
                target,
                key: &key,
                upload_id: &id,
                number: part_number,
                offset,
                len,
            };
            let batch = batch.as_ref().map(|(b, slot)| (&**b, *slot));
            let uploaded = uploaded.as_deref().map(|etag| Uploaded { etag, sized_ok });
            let result = send_part(&part, &source, content_md5, spec, batch, uploaded);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            let _ = done.send((part_number, result));
        }));
        submitted += 1;
    }
    drop(done_tx);
    let mut parts: Vec<(u32, SentPart)> = Vec::with_capacity(submitted as usize);
    for _ in 0..submitted {
        match done_rx.recv() {
            Ok((n, Ok(sent))) => parts.push((n, sent)),
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
    if failure.is_none() && ctx.cancelled() {
        // Stopped while the last parts were in flight: not completed, so nothing lands.
        failure = Some(TransferError::Cancelled);
    }
    parts.sort_by_key(|p| p.0);
    let digests: Option<Vec<PartDigest>> = parts.iter().map(|p| p.1.digest.clone()).collect();
    let expected = digests.map(|d| digest::combine(true, spec, &d));
    if failure.is_none()
        && let Some(check) = before_complete
        && let Err(e) = check(expected.as_ref())
    {
        failure = Some(e);
    }
    if let Some(f) = failure {
        abort(target, full_key, &upload_id);
        super::resume::finished(ctx, target, full_key, &upload_id);
        return Err(f);
    }
    let reused_bytes = parts
        .iter()
        .filter(|p| p.1.reused)
        .filter_map(|p| p.1.digest.as_ref().map(|d| d.len))
        .sum();
    let list: Vec<PartReceipt> = parts
        .into_iter()
        .map(|(number, sent)| {
            let len = ranges[(number - 1) as usize].1;
            sent.completed(number, len, spec)
        })
        .collect();
    let completed = target.complete_upload(
        full_key,
        &upload_id,
        &list,
        spec.map(|s| s.algorithm),
        &ctx.conditions.write,
    );
    if completed.is_err() {
        abort(target, full_key, &upload_id);
    }
    super::resume::finished(ctx, target, full_key, &upload_id);
    Ok(Completed {
        written: completed?,
        expected,
        reused_bytes,
        resumed: reused_bytes > 0,
    })
}

/// One part of an upload in progress.
struct Part<'p> {
    target: &'p S3Store,
    key: &'p str,
    upload_id: &'p str,
    number: u32,
    offset: u64,
    len: u64,
}

impl Part<'_> {
    /// UploadPart of this part.
    fn upload<'a>(
        &'a self,
        payload: Payload<'a>,
        headers: &[(String, String)],
    ) -> Result<Written, TransferError> {
        Ok(self
            .target
            .upload_part(self.key, self.upload_id, self.number, payload, headers)?)
    }
}

/// What one sent part left: its ETag and, when the bytes passed through here, their
/// digests (its additional checksum among them); for a part the server copied, the
/// checksum it reported.
struct SentPart {
    etag: String,
    digest: Option<PartDigest>,
    copied_checksum: Option<(Algorithm, String)>,
    /// Already held by the resumed upload: not sent.
    reused: bool,
}

impl SentPart {
    fn sent(etag: Option<String>, digest: PartDigest) -> SentPart {
        SentPart {
            etag: etag.unwrap_or_default(),
            digest: Some(digest),
            copied_checksum: None,
            reused: false,
        }
    }

    /// The part (`len` bytes) as CompleteMultipartUpload lists it; its checksum is of the
    /// upload's algorithm (`spec`).
    fn completed(self, number: u32, len: u64, spec: Option<ChecksumSpec>) -> PartReceipt {
        let raw = self.digest.and_then(|d| d.checksum);
        let computed = spec.and(raw).map(|raw| checksum::encode(&raw));
        let copied = self
            .copied_checksum
            .filter(|(a, _)| spec.is_some_and(|s| s.algorithm == *a))
            .map(|(_, v)| v);
        PartReceipt {
            number,
            tag: self.etag,
            size: len,
            checksum: computed.or(copied),
        }
    }
}

/// A part a resumed upload already holds.
#[derive(Clone, Copy)]
struct Uploaded<'e> {
    /// Its ETag, unquoted; empty where the store lists none.
    etag: &'e str,
    /// Whether a part listed without an ETag may be kept (see `resume`).
    sized_ok: bool,
}

/// Sends one part. A local part a resumed upload already holds is not sent again when its
/// ETag is the MD5 of the local bytes (or, listed without one, when `sized_ok`).
fn send_part(
    part: &Part<'_>,
    source: &PartSource<'_>,
    content_md5: bool,
    spec: Option<ChecksumSpec>,
    batch: Option<(&Md5Batch, usize)>,
    uploaded: Option<Uploaded<'_>>,
) -> Result<SentPart, TransferError> {
    let (offset, len) = (part.offset, part.len);
    match source {
        PartSource::File { file, name } => {
            let read_error = |kind: std::io::ErrorKind, e: &dyn std::fmt::Display| {
                if kind == std::io::ErrorKind::UnexpectedEof {
                    // Being rewritten: worth another try once the writer is done.
                    TransferError::Mismatch(format!("{name} shrank while it was being read"))
                } else {
                    TransferError::Io(format!("cannot read {name}: {e}"))
                }
            };
            let batch_md5 = match batch {
                Some((batch, slot)) => Some(
                    batch
                        .md5(file, slot)
                        .map_err(|(kind, e)| read_error(kind, &e))?,
                ),
                None => None,
            };
            let keep = |digest: PartDigest| {
                let held = uploaded?;
                let md5 = hex(&digest.md5?);
                let same = if held.etag.is_empty() {
                    held.sized_ok
                } else {
                    held.etag == md5
                };
                same.then(|| SentPart {
                    etag: format!("\"{md5}\""),
                    digest: Some(digest),
                    copied_checksum: None,
                    reused: true,
                })
            };
            if spec.is_none()
                && let Some(md5) = batch_md5
                && let Some(kept) = keep(PartDigest {
                    md5: Some(md5),
                    checksum: None,
                    len,
                })
            {
                return Ok(kept);
            }
            let signed = part.target.signs_payload();
            let mut hasher = PartHasher::with_md5(batch_md5.is_none(), spec);
            let mut sha = Sha256::new();
            // The first pass, unless the batch left it nothing to compute.
            if batch_md5.is_none() || signed || spec.is_some() {
                let mut buf = vec![0u8; STREAM_BUFFER];
                copy_observed(
                    &mut RangeReader::new(Arc::clone(file), offset, len),
                    &mut std::io::sink(),
                    &mut buf,
                    &mut |c| {
                        hasher.update(c);
                        if signed {
                            sha.update(c);
                        }
                    },
                )
                .map_err(|e| read_error(e.kind(), &e))?;
            }
            let mut digest = hasher.finish();
            if batch_md5.is_some() {
                digest.md5 = batch_md5;
                digest.len = len;
            }
            if let Some(kept) = keep(digest.clone()) {
                return Ok(kept);
            }
            let open = || -> std::io::Result<Box<dyn Read>> {
                Ok(Box::new(RangeReader::new(Arc::clone(file), offset, len)))
            };
            let payload = Payload::Stream {
                len,
                sha256: signed.then(|| hex(&sha.finalize())),
                open: &open,
            };
            let written = part.upload(payload, &digest_headers(&digest, content_md5, spec))?;
            Ok(SentPart::sent(written.raw_tag, digest))
        }
        PartSource::Object {
            store: source,
            key,
            version_id,
            etag,
        } => retry_body(source, || {
            let range = (offset, offset + len - 1);
            let version = version_id.as_deref();
            let (got, resp) = source.get_object(key, version, Some(range))?;
            let got = got.raw_tag;
            if !etag.is_empty() && got.as_deref().map(strip_quotes) != Some(&**etag) {
                return Err(TransferError::Mismatch(format!(
                    "{key} changed while it was being copied; run again"
                )));
            }
            let body = ReGet::new(source, key, version, Some(range), resp);
            // The part's checksum is known only once its bytes have passed: a trailer.
            let trailer = spec.map(|s| Trailer::new(s.algorithm, len));
            let open = || Ok(Trailer::wrap(trailer.as_ref(), body.open()?));
            let headers = trailer
                .as_ref()
                .map(|t| t.headers(None))
                .unwrap_or_default();
            let payload = Trailer::payload(trailer.as_ref(), len, &open);
            let written = part.upload(payload, &headers)?;
            let md5 = body
                .md5()
                .ok_or_else(|| TransferError::Io("lost the digest of a part".into()))?;
            let stored = written.tag_text().unwrap_or_default();
            // The part's ETag is the MD5 of what S3 received unless the target encrypts with
            // KMS or a customer key: a difference means bytes changed on the way, so resend.
            if !written.tag_is_opaque() && !stored.is_empty() && stored != hex(&md5) {
                return Err(TransferError::Network(format!(
                    "part {} of {} arrived altered (sent MD5 {}, S3 computed {stored})",
                    part.number,
                    part.key,
                    hex(&md5)
                )));
            }
            let digest = PartDigest {
                md5: Some(md5),
                checksum: trailer.and_then(|t| t.raw()),
                len,
            };
            Ok(SentPart::sent(written.raw_tag, digest))
        }),
        PartSource::ServerCopy {
            source,
            key,
            version_id,
            if_match,
        } => {
            let from = CopyFrom {
                store: source,
                key,
                version: version_id.as_deref(),
                if_match: if_match.as_deref(),
            };
            let copied = part.target.upload_part_copy(
                part.key,
                part.upload_id,
                part.number,
                &from,
                (offset, offset + len - 1),
            )?;
            Ok(SentPart {
                etag: copied.etag,
                digest: None,
                copied_checksum: copied.checksum,
                reused: false,
            })
        }
    }
}

/// Aborts an upload so no parts are left behind (and billed).
pub fn abort(target: &S3Store, full_key: &str, upload_id: &str) {
    if let Err(e) = target.abort_upload(full_key, upload_id) {
        log::warn!(key = full_key, upload_id = upload_id; "could not abort the multipart upload: {e}");
    }
}
