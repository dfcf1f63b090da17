//! Local file → S3: one PUT below the multipart threshold, a multipart upload at or above it.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use md5::Digest;
use sha2::Sha256;

use super::multipart;
use super::part_source::PartSource;
use super::{
    Ctx, Outcome, TransferError, checked_write, digest_headers, io_err, open_source, stream_buffer,
    verify_checksum_write, verify_write,
};
use crate::http::body::Payload;
use crate::integrity::checksum::ChecksumSpec;
use crate::integrity::digest::{self, Digests, PartHasher, Parts};
use crate::storage::backend::Written;
use crate::storage::local::copy_observed;
use crate::storage::s3::S3Store;
use crate::util::encoding::hex;

/// Objects up to this size are read into memory once; larger single-part objects are hashed
/// in a first pass and streamed in a second, so no worker holds more than this.
const INLINE_LIMIT: u64 = 1 << 20;

/// Uploads the file at `path` (`size` bytes) to `key` (relative to the store's prefix),
/// with `headers` (metadata) on the PUT or CreateMultipartUpload.
pub fn upload_file<'a>(
    ctx: &Ctx<'_, 'a>,
    store: &'a S3Store,
    path: &Path,
    key: &str,
    size: u64,
    headers: &[(String, String)],
    inline_buf: &mut Vec<u8>,
) -> Result<Outcome, TransferError> {
    let config = ctx.config;
    let full_key = store.full_key(key);
    let multipart = config.layout.is_multipart(size);
    let mut resumed_bytes = None;
    let (written, expected) = if multipart {
        let file = Arc::new(open_source(path)?);
        let before = stamp(&file, path)?;
        let source = PartSource::File {
            file: Arc::clone(&file),
            name: Arc::from(path.display().to_string()),
        };
        // Parts are read at different times: a file modified meanwhile would be stored torn
        // while every part checks out, so compare its size and mtime before completing.
        let unchanged = |_: Option<&Digests>| {
            if stamp(&file, path)? == before {
                Ok(())
            } else {
                Err(TransferError::Mismatch(format!(
                    "{} changed while it was being uploaded",
                    path.display()
                )))
            }
        };
        let done = multipart::upload(
            ctx,
            store,
            &full_key,
            size,
            &Parts::Uniform(config.layout.chunk_size),
            config.checksum,
            headers,
            source,
            Some(&unchanged),
        )?;
        resumed_bytes = done.resumed.then_some(done.reused_bytes);
        (done.written, done.expected)
    } else {
        let (written, digests) = upload_single(
            store,
            path,
            &full_key,
            size,
            config.content_md5,
            config.checksum,
            &[headers, &ctx.conditions.write].concat(),
            inline_buf,
        )?;
        (written, Some(digests))
    };
    let etag = expected.as_ref().map(|d| d.etag.as_str());
    let sum = expected.as_ref().and_then(|d| d.checksum.as_deref());
    let mut outcome = checked_write(store, &full_key, &written, || {
        let outcome = verify_write(config, multipart, etag, &written, &full_key)?;
        Ok(outcome.and(verify_checksum_write(
            config,
            store,
            config.checksum,
            sum,
            &written,
            &full_key,
        )?))
    })?;
    outcome.resumed_bytes = resumed_bytes;
    Ok(outcome)
}

/// Size and modification time of an open file, to notice changes.
fn stamp(file: &File, path: &Path) -> Result<(u64, Option<std::time::SystemTime>), TransferError> {
    let meta = file
        .metadata()
        .map_err(|e| io_err("cannot stat", path, e))?;
    Ok((meta.len(), meta.modified().ok()))
}

/// One PutObject with Content-MD5 and, with `spec`, the additional checksum header; returns
/// what S3 reported and the digests of the bytes sent.
#[allow(clippy::too_many_arguments)]
fn upload_single(
    store: &S3Store,
    path: &Path,
    full_key: &str,
    size: u64,
    content_md5: bool,
    spec: Option<ChecksumSpec>,
    meta_headers: &[(String, String)],
    inline_buf: &mut Vec<u8>,
) -> Result<(Written, Digests), TransferError> {
    let file = open_source(path)?;
    let mut hasher = PartHasher::new(spec);
    // A file being rewritten: worth another try (a whole-object retry) once the writer is done.
    let changed =
        || TransferError::Mismatch(format!("{} changed size while being read", path.display()));
    if size <= INLINE_LIMIT {
        inline_buf.clear();
        let read = file
            .take(size + 1)
            .read_to_end(inline_buf)
            .map_err(|e| io_err("cannot read", path, e))?;
        if read as u64 != size {
            return Err(changed());
        }
        hasher.update(inline_buf);
        let part = hasher.finish();
        let headers = [meta_headers, &digest_headers(&part, content_md5, spec)].concat();
        let written = store.put_object(full_key, Payload::Bytes(inline_buf), &headers)?;
        return Ok((written, digest::combine(false, spec, &[part])));
    }
    // First pass: digests for the headers. Second pass: stream the same bytes. If the file
    // changes in between, S3 rejects the digest (or the ETag check catches it).
    let signed = store.signs_payload();
    let mut sha = Sha256::new();
    let mut buf = stream_buffer(size);
    let read = copy_observed(
        &mut file.take(size),
        &mut io::sink(),
        &mut buf,
        &mut |chunk| {
            hasher.update(chunk);
            if signed {
                sha.update(chunk);
            }
        },
    )
    .map_err(|e| io_err("cannot read", path, e))?;
    if read != size {
        return Err(changed());
    }
    let part = hasher.finish();
    let headers = [meta_headers, &digest_headers(&part, content_md5, spec)].concat();
    let open = || -> io::Result<Box<dyn Read>> { Ok(Box::new(File::open(path)?.take(size))) };
    let payload = Payload::Stream {
        len: size,
        sha256: signed.then(|| hex(&sha.finalize())),
        open: &open,
    };
    let written = store.put_object(full_key, payload, &headers)?;
    Ok((written, digest::combine(false, spec, &[part])))
}
