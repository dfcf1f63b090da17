//! S3 → S3: streamed through this program (each side with its own endpoint and
//! credentials), or copied by the server: with `--server-side-copy`, and by default when
//! both sides are one endpoint and one identity (`--client-side-copy` turns that off).

use std::sync::Arc;

use super::copy_plan::{Keys, compare, copy_parts, head_source, headers_for, hex_to_bytes};
use super::multipart;
use super::part_source::PartSource;
use super::{
    Corruption, Ctx, Known, Outcome, TransferError, checked_write, checks_checksum, is_md5_etag,
    verify_checksum_write, verify_write,
};
use crate::integrity::checksum::{self, ChecksumSpec};
use crate::integrity::digest::Digests;
use crate::integrity::etag::{is_multipart_etag, strip_quotes};
use crate::storage::Entry;
use crate::storage::backend::Written;
use crate::storage::props::Properties;
use crate::storage::s3::S3Store;
use crate::storage::s3::convert::copy_refused;
use crate::storage::s3::headers::content_md5;
use crate::storage::s3::streams::{ReGet, Trailer};
use crate::storage::s3_backend::S3Backend;
use crate::util::encoding::hex;

/// Copies `entry` (relative key) from `source` to `target`.
pub fn copy_object<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    target: &'a S3Backend,
    entry: &Entry,
    server_side: bool,
) -> Result<Outcome, TransferError> {
    let src_key = source.full_key(&entry.key);
    let dst_key = target.full_key(&entry.key);
    let keys = Keys {
        src: &src_key,
        version: entry.version_id.as_deref(),
        dst: &dst_key,
        last_modified: entry.last_modified,
    };
    if server_side {
        if !ctx.config.server_side_copy_auto {
            return super::server_copy::server_copy(ctx, source, target, &keys);
        }
        match super::server_copy::server_copy(ctx, source, target, &keys) {
            Err(TransferError::Storage(e)) if copy_refused(&e) => log::info!(
                key = dst_key.as_str();
                "the server would not copy this object itself ({e}); it passes through s3sync instead"
            ),
            other => return other,
        }
    }
    let listed_multipart = entry.etag.as_deref().is_some_and(is_multipart_etag);
    let listed_md5 = entry.etag.as_deref().is_some_and(is_md5_etag);
    if (entry.size < ctx.config.layout.threshold && !listed_multipart)
        || (listed_md5 && entry.size <= MAX_SINGLE_PUT)
    {
        stream_single(ctx, source, target, &keys)
    } else {
        stream_multipart(ctx, source, target, &keys)
    }
}

/// The largest object a single PutObject may write.
const MAX_SINGLE_PUT: u64 = 5 << 30;

/// The source's MD5, when its ETag is one (single-part, not SSE-KMS or SSE-C): a copy sent
/// in one PUT with it as Content-MD5 is checked by the target, byte for byte.
fn source_md5(head: &Properties) -> Option<&str> {
    head.raw_tag
        .as_deref()
        .filter(|e| is_md5_etag(e) && !head.encrypted)
        .map(strip_quotes)
}

/// A small object, or one whose ETag is its MD5 (up to 5 GiB): GET streamed into a PUT. The
/// source's MD5 ETag, when it has one, goes out as Content-MD5 so the target refuses bytes
/// altered on the way; the bytes are hashed on the way too, and a copy found corrupt
/// afterwards is removed before it is reported.
fn stream_single(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    target: &S3Backend,
    keys: &Keys<'_>,
) -> Result<Outcome, TransferError> {
    let (src_key, dst_key) = (keys.src, keys.dst);
    let (head, first) = source.get_object(src_key, keys.version, None)?;
    let known_tags = keys
        .version
        .is_none()
        .then(|| ctx.take_known())
        .flatten()
        .and_then(|k| k.tags);
    let mut headers = headers_for(ctx, source, target, keys, &head, known_tags)?;
    if let (true, Some(md5)) = (
        ctx.config.content_md5,
        source_md5(&head).and_then(hex_to_bytes),
    ) {
        headers.push(content_md5(&md5));
    }
    let spec = copy_spec(ctx, &head);
    let body = ReGet::new(source, src_key, keys.version, None, first);
    // The checksum is known only once the bytes have passed: it goes in a trailer, and the
    // object's own Content-Encoding after `aws-chunked`.
    let trailer = spec.map(|s| Trailer::new(s.algorithm, head.size));
    if let Some(t) = &trailer {
        let encoding = headers
            .iter()
            .position(|(k, _)| k == "content-encoding")
            .map(|i| headers.remove(i).1);
        headers.extend(t.headers(encoding.as_deref()));
    }
    headers.extend(ctx.conditions.write.iter().cloned());
    let open = || Ok(Trailer::wrap(trailer.as_ref(), body.open()?));
    let payload = Trailer::payload(trailer.as_ref(), head.size, &open);
    let written = match target.put_object(dst_key, payload, &headers) {
        Ok(written) => written,
        Err(e) if e.code.as_deref() == Some("BadDigest") => {
            drop_refused(target, dst_key, body.md5());
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let sent = body.md5().map(|m| hex(&m[..]));
    let sent_sum = trailer
        .and_then(|t| t.raw())
        .map(|raw| checksum::encode(&raw));
    checked_write(target, dst_key, &written, || {
        // First: the target stored exactly the bytes that passed through here.
        verify_write(ctx.config, false, sent.as_deref(), &written, dst_key)?;
        // Then: those bytes are the source object's.
        let outcome = compare(ctx, &head, &written, dst_key, true)?;
        Ok(outcome.and(checksum_outcome(
            ctx, target, spec, &head, sent_sum, &written, dst_key, true,
        )?))
    })
}

/// After the target refused a PUT for its Content-MD5 (bytes altered on the way) on every
/// attempt: a store that keeps the refused bytes anyway (s3s-fs does, with an unsigned
/// payload) must not leave them under the key. Only an object that holds exactly the bytes
/// of the last attempt (`sent`, their MD5) is removed, never an older one.
fn drop_refused(target: &S3Store, dst_key: &str, sent: Option<[u8; 16]>) {
    let (Some(sent), Ok(Some(now))) = (sent, target.head_object(dst_key, None)) else {
        return;
    };
    if now.raw_tag.as_deref().map(strip_quotes) != Some(hex(&sent).as_str()) {
        return;
    }
    match target.delete_object(dst_key, None) {
        Ok(()) => log::info!(key = dst_key; "removed the refused bytes the target kept"),
        Err(e) => {
            log::warn!(key = dst_key; "the target kept bytes it refused and they could NOT be removed: {e}")
        }
    }
}

/// The additional checksum a copy of the object `head` describes gets: the user's
/// algorithm, or with `--enable-additional-checksum` the source's own.
fn copy_spec(ctx: &Ctx<'_, '_>, head: &Properties) -> Option<ChecksumSpec> {
    let config = ctx.config;
    if config.server_side_copy {
        return None;
    }
    if config.checksum.is_some() {
        return config.checksum;
    }
    if !config.enable_additional_checksum {
        return None;
    }
    let (algorithm, value) = head.checksum()?;
    ChecksumSpec::of_stored(algorithm, value, head.checksum_type.as_deref())
}

/// What the checksums of a copy prove: the value S3 stored equals the one computed from the
/// bytes sent, and (with `--enable-additional-checksum`) the source's value equals it too
/// when the two are of the same kind. `same_parts`: the copy was cut like the source.
#[allow(clippy::too_many_arguments)]
fn checksum_outcome(
    ctx: &Ctx<'_, '_>,
    target: &S3Store,
    spec: Option<ChecksumSpec>,
    head: &Properties,
    sent: Option<String>,
    written: &Written,
    dst_key: &str,
    same_parts: bool,
) -> Result<Outcome, TransferError> {
    let config = ctx.config;
    let mut outcome =
        verify_checksum_write(config, target, spec, sent.as_deref(), written, dst_key)?;
    if let Some((algorithm, value)) = head.checksum()
        && config.enable_additional_checksum
        && !checksum::is_well_formed(algorithm, value)
    {
        return Ok(outcome.and(Outcome::warn(format!(
            "the source of {dst_key} reports a malformed {algorithm} checksum ({value}); not compared"
        ))));
    }
    let (Some(spec), Some(sent), true) = (spec, sent, config.enable_additional_checksum) else {
        return Ok(outcome);
    };
    if !checks_checksum(config, &sent) {
        return Ok(outcome);
    }
    match head.checksum() {
        Some((algorithm, source)) if algorithm == spec.algorithm => {
            let comparable = checksum::composite_parts(source).is_some()
                == checksum::composite_parts(&sent).is_some()
                && (same_parts || checksum::composite_parts(source).is_none());
            if !comparable {
                log::debug!(key = dst_key; "the source's {algorithm} checksum is of another kind; compared with what S3 stored only");
            } else if source == sent {
                let stored = outcome
                    .checksum_verified
                    .take()
                    .map(|(_, _, t)| t)
                    .unwrap_or_else(|| sent.clone());
                outcome.checksum_verified = Some((algorithm, source.to_string(), stored));
            } else {
                return Err(TransferError::Corrupt(
                    Corruption::Checksum,
                    format!(
                        "{algorithm} checksum mismatch copying {dst_key}: the source says {source}, the bytes read give {sent}"
                    ),
                ));
            }
        }
        _ => {
            outcome = outcome.and(Outcome::warn(format!(
                "the source of {dst_key} has no {} checksum; only what S3 stored was compared",
                spec.algorithm
            )));
        }
    }
    Ok(outcome)
}

/// A large object: each part streamed from a ranged GET into UploadPart.
fn stream_multipart<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    target: &'a S3Backend,
    keys: &Keys<'_>,
) -> Result<Outcome, TransferError> {
    let (src_key, dst_key) = (keys.src, keys.dst);
    let Known {
        head,
        tags: known_tags,
    } = head_source(ctx, source, src_key, keys.version)?;
    let multipart_source = head.raw_tag.as_deref().is_some_and(is_multipart_etag);
    if (head.size < ctx.config.layout.threshold && !multipart_source)
        || (source_md5(&head).is_some() && head.size <= MAX_SINGLE_PUT)
    {
        // Replaced by a smaller object since the listing, or a listing without ETags.
        return stream_single(ctx, source, target, keys);
    }
    let (parts, same_parts) = copy_parts(ctx, source, keys, &head)?;
    let headers = headers_for(ctx, source, target, keys, &head, known_tags)?;
    let from = PartSource::Object {
        store: source,
        key: Arc::from(src_key),
        version_id: keys.version.map(Arc::from),
        etag: Arc::from(
            head.raw_tag
                .as_deref()
                .map(strip_quotes)
                .unwrap_or_default(),
        ),
    };
    let spec = copy_spec(ctx, &head);
    // Bytes altered on the way from the source pass every part check (the target stores
    // what it was sent): compare them with the source's ETag and checksum before the upload
    // is completed, so a corrupt copy never lands.
    let matches_source = |sent: Option<&Digests>| match sent {
        Some(sent) => read_as_source(ctx, &head, sent, spec, same_parts, dst_key),
        None => Ok(()),
    };
    let done = multipart::upload(
        ctx,
        target,
        dst_key,
        head.size,
        &parts,
        spec,
        &headers,
        from,
        Some(&matches_source),
    )?;
    let sent = done.expected.as_ref().map(|d| d.etag.as_str());
    let sent_sum = done.expected.as_ref().and_then(|d| d.checksum.clone());
    checked_write(target, dst_key, &done.written, || {
        verify_write(ctx.config, true, sent, &done.written, dst_key)?;
        let outcome = compare(ctx, &head, &done.written, dst_key, same_parts)?;
        Ok(outcome.and(checksum_outcome(
            ctx,
            target,
            spec,
            &head,
            sent_sum,
            &done.written,
            dst_key,
            same_parts,
        )?))
    })
}

/// Whether the bytes read from the source (`sent`, cut like the source when `same_parts`)
/// give the source's multipart ETag and, when it reports one of the copy's algorithm, its
/// checksum; checked before CompleteMultipartUpload. A difference means they were altered
/// on the way: the upload is aborted (nothing lands) and the object is transferred again.
fn read_as_source(
    ctx: &Ctx<'_, '_>,
    head: &Properties,
    sent: &Digests,
    spec: Option<ChecksumSpec>,
    same_parts: bool,
    dst_key: &str,
) -> Result<(), TransferError> {
    let config = ctx.config;
    let aborted = |kind, what: &str, source: &str, read: &str| {
        Err(TransferError::Removed(
            kind,
            format!(
                "{what} of the bytes read for {dst_key} ({read}) differs from the source's ({source}); \
                 the upload was aborted, nothing was stored"
            ),
        ))
    };
    let source_etag = head
        .raw_tag
        .as_deref()
        .map(strip_quotes)
        .unwrap_or_default();
    if same_parts
        && is_multipart_etag(source_etag)
        && !head.encrypted
        && config.verify_etag
        && config.verify_multipart
        && sent.etag != source_etag
    {
        return aborted(Corruption::Etag, "the ETag", source_etag, &sent.etag);
    }
    if let (Some(spec), Some(read), Some((algorithm, source))) =
        (spec, sent.checksum.as_deref(), head.checksum())
        && algorithm == spec.algorithm
        && checksum::is_well_formed(algorithm, source)
        && checks_checksum(config, source)
        && checksum::composite_parts(source).is_some() == checksum::composite_parts(read).is_some()
        && (same_parts || checksum::composite_parts(source).is_none())
        && source != read
    {
        return aborted(Corruption::Checksum, "the checksum", source, read);
    }
    Ok(())
}
