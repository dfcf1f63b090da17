//! What both S3 → S3 paths (streamed, [`super::copy`], and server-side,
//! [`super::server_copy`]) need: the source's HEAD, the target's headers, how to cut the copy
//! and how to compare the result.

use super::{
    Corruption, Ctx, Known, Outcome, TransferError, mark_origin, parts_of, preprocess,
    s3_object_headers, target_meta, upload_metadata,
};
use crate::callback::SourceObject;
use crate::integrity::digest::Parts;
use crate::integrity::etag::{is_multipart_etag, strip_quotes};
use crate::storage::backend::Written;
use crate::storage::props::Properties;
use crate::storage::s3::S3Store;
use crate::storage::s3_backend::S3Backend;
use crate::util::time::Timestamp;

/// The largest object a single CopyObject may copy.
pub(super) const MAX_COPY_OBJECT: u64 = 5 << 30;

pub(super) fn hex_to_bytes(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Compares the source's ETag with the target's. `same_parts`: the target was cut exactly
/// as the source, so even multipart ETags must be equal.
pub(super) fn compare(
    ctx: &Ctx<'_, '_>,
    head: &Properties,
    written: &Written,
    full_key: &str,
    same_parts: bool,
) -> Result<Outcome, TransferError> {
    let source_etag = head.raw_tag.as_deref().map(strip_quotes);
    let target_etag = written.tag_text();
    let (Some(source_etag), Some(target_etag), false) =
        (source_etag, target_etag, written.tag_is_opaque())
    else {
        return Ok(Outcome::unverified());
    };
    let multipart = is_multipart_etag(source_etag) || is_multipart_etag(target_etag);
    if !ctx.config.verify_etag || head.encrypted || (multipart && !ctx.config.verify_multipart) {
        return Ok(Outcome::unverified());
    }
    if source_etag == target_etag {
        return Ok(Outcome::verified(source_etag, target_etag));
    }
    if multipart && !same_parts {
        let why = if is_multipart_etag(source_etag) {
            "the store does not report the source's part sizes, so the copy was cut differently"
        } else {
            "the source is a single-part object and the copy was uploaded in parts"
        };
        return Ok(Outcome::warn(format!(
            "ETags of {full_key} differ (source {source_etag}, target {target_etag}): {why}; the bytes sent \
             were verified part by part"
        )));
    }
    Err(TransferError::Corrupt(
        Corruption::Etag,
        format!(
            "ETag mismatch copying {full_key}: source {source_etag}, target {target_etag}; the target may be corrupt"
        ),
    ))
}

/// The target's headers for a copy of the object `head` describes: its metadata and storage
/// class, and its tags (fetched only when the object reports some and they are wanted).
/// The preprocess callback, when there is one, may change all that; with
/// `--enable-versioning` the copy of a version then names its origin.
/// `known_tags`: the tags when they were already fetched.
pub(super) fn headers_for(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    target: &S3Backend,
    keys: &Keys<'_>,
    head: &Properties,
    known_tags: Option<Vec<(String, String)>>,
) -> Result<Vec<(String, String)>, TransferError> {
    let options = &ctx.config.metadata;
    let wants_tags =
        options.tagging.is_none() && !options.disable_tagging && head.tag_count.unwrap_or(0) > 0;
    let tags = match known_tags {
        Some(tags) if wants_tags => Some(tags),
        _ if wants_tags => Some(source.object_tags(keys.src, keys.version)?),
        _ => None,
    };
    let meta = target_meta(options, &head.content, keys.last_modified);
    let mut upload = upload_metadata(options, meta, tags.as_deref(), head.tier.as_deref());
    let source_object = || SourceObject {
        key: keys.dst.to_string(),
        source_key: keys
            .src
            .strip_prefix(source.prefix())
            .unwrap_or(keys.src)
            .to_string(),
        size: head.size,
        last_modified: head.modified,
        e_tag: head.raw_tag.clone(),
        version_id: keys.version.map(str::to_string),
        meta: head.content.clone(),
        storage_class: head.tier.clone(),
        tag_count: head.tag_count,
        checksum: head.checksum().map(|(a, v)| (a, v.to_string())),
        checksum_type: head.checksum_type.clone(),
        parts_count: head.parts,
        server_side_encryption: head.encryption.clone(),
        sse_customer_algorithm: head.customer_key.clone(),
    };
    preprocess(ctx.config, source_object, &mut upload)?;
    if let (true, Some(version)) = (ctx.config.enable_versioning, keys.version) {
        // After the callback: later runs recognise the copy by these, whatever it did.
        mark_origin(&mut upload.meta, version, keys.last_modified);
    }
    Ok(s3_object_headers(target, &upload))
}

/// HeadObject of the source (of its version `version` when named), which must still exist,
/// and its tags when they were fetched already. The first attempt at an unversioned copy
/// takes what the content filters read instead of asking again.
pub(super) fn head_source(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    src_key: &str,
    version: Option<&str>,
) -> Result<Known, TransferError> {
    if version.is_none()
        && let Some(known) = ctx.take_known()
    {
        return Ok(known);
    }
    let head = source.head_object(src_key, version)?.ok_or_else(|| {
        TransferError::SourceGone(format!("{src_key} disappeared before it was copied"))
    })?;
    Ok(Known { head, tags: None })
}

/// The full keys of one copy, the source's version (when one is named) and its
/// LastModified.
pub(super) struct Keys<'k> {
    pub(super) src: &'k str,
    pub(super) version: Option<&'k str>,
    pub(super) dst: &'k str,
    pub(super) last_modified: Timestamp,
}

/// How to cut the copy of the object `head` describes: like the source when it is multipart
/// and the store tells its part sizes (then `true`: the ETags will be equal), else in parts
/// of the configured size.
pub(super) fn copy_parts(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    keys: &Keys<'_>,
    head: &Properties,
) -> Result<(Parts, bool), TransferError> {
    let etag = head
        .raw_tag
        .as_deref()
        .map(strip_quotes)
        .unwrap_or_default();
    if !is_multipart_etag(etag) {
        return Ok((Parts::Uniform(ctx.config.layout.chunk_size), false));
    }
    parts_of(ctx.config, source, keys.src, keys.version, head.size, etag)
}
