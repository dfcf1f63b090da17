//! S3 → S3 copied by the server: CopyObject for single-part objects below 5 GiB,
//! UploadPartCopy in the source's parts otherwise; with a checksum option the server
//! computes the copy's checksum, compared with the source's where the two are of one kind.

use std::sync::Arc;

use super::copy_plan::{Keys, MAX_COPY_OBJECT, compare, copy_parts, head_source, headers_for};
use super::multipart;
use super::part_source::PartSource;
use super::{Corruption, Ctx, Known, Outcome, TransferError, checked_write, checks_checksum};
use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::integrity::etag::is_multipart_etag;
use crate::storage::backend::Written;
use crate::storage::props::Properties;
use crate::storage::s3::headers::copy_directives;
use crate::storage::s3::{CopyFrom, S3Store};
use crate::storage::s3_backend::S3Backend;

/// `--server-side-copy` (or chosen for one endpoint and identity): CopyObject for
/// single-part objects below 5 GiB, UploadPartCopy in the source's parts otherwise. With a
/// checksum option the server computes the copy's checksum (`x-amz-checksum-algorithm`),
/// which is then compared with the source's where the two are of one kind.
pub(super) fn server_copy<'a>(
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
    let headers = headers_for(ctx, source, target, keys, &head, known_tags)?;
    let source_sum = source_checksum(ctx, source, keys, &head)?;
    let spec = server_spec(ctx, source_sum.as_ref());
    let multipart_source = head.raw_tag.as_deref().is_some_and(is_multipart_etag);
    let mut same_parts = !multipart_source;
    let written = if head.size < MAX_COPY_OBJECT && !multipart_source {
        let mut all = headers;
        all.extend(copy_directives(spec.map(|s| s.algorithm)));
        all.extend(ctx.conditions.write.iter().cloned());
        let from = CopyFrom {
            store: source,
            key: src_key,
            version: keys.version,
            if_match: ctx.conditions.copy_source_etag.as_deref(),
        };
        target.copy_object(dst_key, &from, &all)?
    } else {
        let from = PartSource::ServerCopy {
            source,
            key: Arc::from(src_key),
            version_id: keys.version.map(Arc::from),
            if_match: ctx.conditions.copy_source_etag.as_deref().map(Arc::from),
        };
        let (parts, same) = copy_parts(ctx, source, keys, &head)?;
        same_parts = same;
        multipart::upload(
            ctx, target, dst_key, head.size, &parts, spec, &headers, from, None,
        )?
        .written
    };
    checked_write(target, dst_key, &written, || {
        let outcome = compare(ctx, &head, &written, dst_key, same_parts)?;
        Ok(outcome.and(server_checksum_outcome(
            ctx,
            target,
            spec,
            source_sum.as_ref(),
            &written,
            dst_key,
            same_parts,
        )?))
    })
}

/// The source's additional checksum, for a server-side copy with a checksum option: from
/// its HEAD when that asked for checksums, else from one that does.
fn source_checksum(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    keys: &Keys<'_>,
    head: &Properties,
) -> Result<Option<(Algorithm, String, Option<String>)>, TransferError> {
    let config = ctx.config;
    if config.checksum.is_none() && !config.enable_additional_checksum {
        return Ok(None);
    }
    let with_type = |h: &Properties| {
        h.checksum()
            .map(|(a, v)| (a, v.to_string(), h.checksum_type.clone()))
    };
    if head.checksum().is_some() {
        return Ok(with_type(head));
    }
    let fresh = source.head_checksums(keys.src, keys.version)?;
    Ok(fresh.as_ref().and_then(with_type))
}

/// The checksum a server-side copy asks for: the user's algorithm, or with
/// `--enable-additional-checksum` the source's own (of its kind).
fn server_spec(
    ctx: &Ctx<'_, '_>,
    source_sum: Option<&(Algorithm, String, Option<String>)>,
) -> Option<ChecksumSpec> {
    if ctx.config.checksum.is_some() {
        return ctx.config.checksum;
    }
    if !ctx.config.enable_additional_checksum {
        return None;
    }
    let (algorithm, value, checksum_type) = source_sum?;
    ChecksumSpec::of_stored(*algorithm, value, checksum_type.as_deref())
}

/// What the checksums of a server-side copy prove: the target keeps one of the algorithm
/// asked for (else a warning), and it equals the source's when both are of that algorithm
/// and kind (full-object or single-part values always; composite ones when the copy was
/// cut like the source). Counted as verified only then.
fn server_checksum_outcome(
    ctx: &Ctx<'_, '_>,
    target: &S3Store,
    spec: Option<ChecksumSpec>,
    source_sum: Option<&(Algorithm, String, Option<String>)>,
    written: &Written,
    dst_key: &str,
    same_parts: bool,
) -> Result<Outcome, TransferError> {
    let config = ctx.config;
    let Some(spec) = spec.filter(|_| config.verify_checksum) else {
        return Ok(Outcome::unverified());
    };
    let algorithm = spec.algorithm;
    let stored = match super::stored_checksum(target, algorithm, written, dst_key) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(Outcome::warn(super::no_checksum_stored(dst_key, algorithm))),
        Err(e) => {
            return Ok(Outcome::warn(format!(
                "{}: cannot read back the stored checksum ({e})",
                super::no_checksum_stored(dst_key, algorithm)
            )));
        }
    };
    if !checksum::is_well_formed(algorithm, &stored) {
        return Ok(Outcome::warn(format!(
            "the target reports a malformed {algorithm} checksum for {dst_key} ({stored}); not compared"
        )));
    }
    let Some((_, source, _)) = source_sum.filter(|(a, v, _)| {
        *a == algorithm && checksum::is_well_formed(*a, v) && checks_checksum(config, v)
    }) else {
        log::debug!(key = dst_key; "the source has no {algorithm} checksum; the copy's was computed by the server");
        return Ok(Outcome::unverified());
    };
    let composite = |v: &str| checksum::composite_parts(v).is_some();
    if composite(source) != composite(&stored) || (composite(source) && !same_parts) {
        log::debug!(key = dst_key; "the source's {algorithm} checksum is of another kind than the copy's; not compared");
        return Ok(Outcome::unverified());
    }
    if *source != stored {
        return Err(TransferError::Corrupt(
            Corruption::Checksum,
            format!(
                "{algorithm} checksum mismatch copying {dst_key}: the source has {source}, the copy {stored}"
            ),
        ));
    }
    Ok(Outcome {
        checksum_verified: Some((algorithm, source.clone(), stored)),
        ..Outcome::default()
    })
}
