//! The one transfer path over the storage interface: any source [`Backend`] to any target
//! [`Backend`], for every pair without a fast path of its own (anything with an Azure Blob
//! side today). What it does is decided from what each side declares and reports, never
//! from which backend it is:
//!
//! - **Server-side copy first**, where the source offers a [`CopySource`] of a kind the
//!   target accepts ([`Capabilities::copy_from`]); a target that answers `Unsupported`
//!   (e.g. a blob too large for one Copy From URL) is streamed instead.
//! - **Up to the multipart threshold, one write**, streamed from the source's reader. The
//!   body's MD5 goes with it for the target to check (S3 and Blob refuse a body that does
//!   not match `Content-MD5`; a local target refuses to rename it into place): the source's
//!   own MD5 where it reports one, else, for a local source, one read ahead (from the page
//!   cache). Otherwise the MD5 is computed as the bytes pass and compared afterwards.
//! - **Above it, numbered parts in parallel** on the run's part threads, each a ranged read
//!   of the source, sized by the target's limits ([`PartLimits::part_size`]). A local source
//!   is hashed ahead in one pass, so every part carries its MD5 and the target keeps the
//!   whole content's MD5 ([`WriteOptions::whole_md5`]).
//! - **Verification** compares what the source says of its content (an MD5, a composite of
//!   part MD5s) with what was read and what landed. A mismatch removes what was written
//!   before the error is counted; nothing corrupt is left under the key.
//!
//! [`Capabilities::copy_from`]: crate::storage::caps::Capabilities::copy_from
//! [`PartLimits::part_size`]: crate::storage::caps::PartLimits::part_size

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use crossbeam_channel::unbounded;
use md5::{Digest, Md5};

use super::source_read::{Hashing, Reads, hash_ahead, md5_of};
use super::{Corruption, Ctx, Outcome, TransferError, preprocess, target_meta, upload_metadata};
use crate::callback::SourceObject;
use crate::config::Md5Check;
use crate::integrity::digest::Parts;
use crate::storage::Entry;
use crate::storage::backend::{
    Backend, Body, CopySource, PartReceipt, PartWriter, ReadOptions, WriteOptions, Written,
};
use crate::storage::caps::CopyKind;
use crate::storage::error::ErrorKind;
use crate::storage::mime;
use crate::storage::props::{ContentTag, Properties};

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `target` can copy from `source` on the server side.
fn accepts(target: &dyn Backend, source: &CopySource) -> bool {
    let kind = match source {
        CopySource::SameEndpoint { .. } => CopyKind::SameEndpoint,
        CopySource::Url(_) => CopyKind::FromUrl,
    };
    target.capabilities().copy_from.contains(&kind)
}

/// The MD5 the target reports for what it stored, if any.
fn landed_md5(w: &Written) -> Option<[u8; 16]> {
    Properties {
        tag: w.tag.clone(),
        stored: w.stored.clone(),
        ..Properties::default()
    }
    .content_md5()
}

/// Everything the new object is given: metadata, tags, tier, conditions, time.
struct Plan {
    meta: crate::storage::props::ObjectMeta,
    tags: Vec<(String, String)>,
    tier: Option<String>,
    if_match: Option<String>,
    if_none_match: bool,
    mtime: crate::util::time::Timestamp,
}

impl Plan {
    fn options(&self, target: &dyn Backend) -> WriteOptions<'_> {
        let caps = target.capabilities();
        WriteOptions {
            content: caps.metadata.then_some(&self.meta),
            tags: if caps.tags { &self.tags } else { &[] },
            tier: self.tier.as_deref().and_then(|t| caps.tier(t)),
            checksum: None,
            whole_md5: None,
            if_match: self.if_match.as_deref(),
            if_none_match: self.if_none_match,
            mtime: Some(self.mtime),
        }
    }
}

fn plan(
    ctx: &Ctx<'_, '_>,
    source: &dyn Backend,
    entry: &Entry,
    props: &Properties,
) -> Result<Plan, TransferError> {
    let config = ctx.config;
    let options = &config.metadata;
    let mut source_meta = props.content.clone();
    if source.capabilities().local_reads && options.guess_mime_type {
        source_meta.content_type = Some(mime::content_type_for(&entry.key));
    }
    let mut meta = target_meta(options, &source_meta, entry.last_modified);
    if options.posix
        && let Some(path) = source.local_path(&entry.key)
    {
        super::posix::add_to(
            &mut meta.user,
            super::posix::of_file(&path)
                .map_err(|e| TransferError::Io(format!("cannot stat {}: {e}", path.display())))?,
        );
    }
    let tags = if source.capabilities().tags
        && props.tag_count.unwrap_or(0) > 0
        && options.tagging.is_none()
        && !options.disable_tagging
    {
        Some(source.tags(&entry.key, entry.version_id.as_deref())?)
    } else {
        None
    };
    let mut upload = upload_metadata(options, meta, tags.as_deref(), props.tier.as_deref());
    preprocess(
        config,
        || SourceObject {
            key: entry.key.clone(),
            source_key: entry.key.clone(),
            size: props.size,
            last_modified: props.modified,
            meta: props.content.clone(),
            ..SourceObject::default()
        },
        &mut upload,
    )?;
    let header = |name: &str| {
        ctx.conditions
            .write
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    Ok(Plan {
        meta: upload.meta,
        tags: upload.tags,
        tier: upload.storage_class,
        if_match: header("if-match"),
        if_none_match: header("if-none-match").is_some(),
        mtime: entry.last_modified,
    })
}

/// Transfers `entry` from `source` to `target` (see the module docs).
pub fn transfer<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a dyn Backend,
    target: &'a dyn Backend,
    entry: &Entry,
) -> Result<Outcome, TransferError> {
    let key = entry.key.as_str();
    let version = entry.version_id.as_deref();
    let props = source
        .head(
            key,
            &ReadOptions {
                version,
                ..Default::default()
            },
        )?
        .ok_or_else(|| TransferError::SourceGone(format!("{} disappeared", source.name_of(key))))?;
    let plan = plan(ctx, source, entry, &props)?;
    let opts = plan.options(target);
    let expected = props.content_md5();
    if ctx.config.md5_check == Md5Check::FailIfDifferentOrMissing
        && expected.is_none()
        && !source.capabilities().local_reads
    {
        return Err(TransferError::Io(format!(
            "{} has no MD5 to check the download against (--check-md5 FailIfDifferentOrMissing)",
            source.name_of(key)
        )));
    }
    let check = ctx.config.md5_check;
    // A copy source the target accepts whole, or failing that (too large for one request)
    // part by part.
    let mut part_source = None;
    if let Some(from) = source
        .copy_source(key, version)
        .filter(|s| accepts(target, s))
    {
        match target.copy(key, &from, &opts) {
            Ok(w) => return check_landed(target, key, expected, expected, &w, check),
            Err(e) if e.kind == ErrorKind::Unsupported => {
                log::debug!(key = key; "no whole server-side copy ({e}); trying one per part");
                part_source = Some(from);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let threshold = ctx
        .config
        .layout
        .threshold
        .min(target.capabilities().parts.max_single);
    if props.size < threshold || props.size == 0 {
        return single(source, target, entry, &props, expected, &opts, check);
    }
    if let Some(from) = &part_source {
        match in_parts(
            ctx,
            source,
            target,
            entry,
            &props,
            expected,
            opts.clone(),
            Some(from),
        ) {
            Err(TransferError::Storage(e)) if e.kind == ErrorKind::Unsupported => {
                log::debug!(key = key; "no server-side copy of parts ({e}); streaming");
            }
            other => return other,
        }
    }
    in_parts(ctx, source, target, entry, &props, expected, opts, None)
}

/// Compares what landed with what was read (`sent`) and what the source claims
/// (`expected`); a mismatch removes the object. `--check-md5` (`check`) may turn the
/// comparison off (`NoCheck`) or make a mismatch a warning that keeps the object
/// (`LogOnly`).
fn check_landed(
    target: &dyn Backend,
    key: &str,
    sent: Option<[u8; 16]>,
    expected: Option<[u8; 16]>,
    w: &Written,
    check: Md5Check,
) -> Result<Outcome, TransferError> {
    if check == Md5Check::NoCheck {
        return Ok(Outcome::unverified());
    }
    let landed = landed_md5(w);
    let bad = |what: String| -> Result<Outcome, TransferError> {
        if check == Md5Check::LogOnly {
            return Ok(Outcome {
                warning: Some(format!("{what}; kept (--check-md5 LogOnly)")),
                ..Outcome::unverified()
            });
        }
        let removed = match target.delete(key, w.version.as_deref(), None) {
            Ok(()) => "removed",
            Err(_) => "could NOT be removed",
        };
        Err(TransferError::Corrupt(
            Corruption::Etag,
            format!(
                "{}: {what}; the object written {removed}",
                target.name_of(key)
            ),
        ))
    };
    if let (Some(s), Some(e)) = (sent, expected)
        && s != e
    {
        return bad(format!(
            "the bytes read have MD5 {} but the source's is {}",
            hex(&s),
            hex(&e)
        ));
    }
    match (sent.or(expected), landed) {
        (Some(s), Some(l)) if s != l => bad(format!(
            "MD5 {} was sent but the target stored {}",
            hex(&s),
            hex(&l)
        )),
        (Some(s), Some(l)) => Ok(Outcome::verified(hex(&s), hex(&l))),
        (Some(s), None) if expected.is_some() && sent.is_some() => {
            Ok(Outcome::verified(hex(&s), hex(&s)))
        }
        _ => Ok(Outcome::unverified()),
    }
}

fn single(
    source: &dyn Backend,
    target: &dyn Backend,
    entry: &Entry,
    props: &Properties,
    expected: Option<[u8; 16]>,
    opts: &WriteOptions<'_>,
    check: Md5Check,
) -> Result<Outcome, TransferError> {
    let key = entry.key.as_str();
    let pinned = ReadOptions {
        version: entry.version_id.as_deref(),
        if_match: props.raw_tag.as_deref(),
        range: None,
    };
    // The MD5 to send with the body, for the target to check it (not under --check-md5
    // NoCheck or LogOnly: a mismatch must not stop the write).
    let relaxed = matches!(check, Md5Check::NoCheck | Md5Check::LogOnly);
    let declared = match expected {
        Some(_) if relaxed => None,
        Some(m) => Some(m),
        None if source.capabilities().local_reads => {
            let (_, reader) = source.read(key, &pinned)?;
            Some(
                md5_of(reader)
                    .map_err(|e| TransferError::Io(format!("{}: {e}", source.name_of(key))))?,
            )
        }
        None => None,
    };
    let hasher = Mutex::new(Md5::new());
    let reads = Reads::start(source, key, &pinned)?;
    let open = || -> io::Result<Box<dyn Read + '_>> {
        let reader = reads.open()?;
        if let Ok(mut h) = hasher.lock() {
            *h = Md5::new();
        }
        Ok(Box::new(Hashing {
            inner: reader,
            md5: &hasher,
        }))
    };
    let body = Body {
        len: props.size,
        md5: declared,
        sha256: None,
        open: &open,
    };
    let w = target.write(key, &body, opts)?;
    let sent: Option<[u8; 16]> = hasher.into_inner().ok().map(|h| h.finalize().into());
    check_landed(target, key, sent, expected.or(declared), &w, check)
}

/// Writes `entry` in numbered parts on the part threads: each a ranged read of the source
/// streamed into the target, or, with `copy_from`, copied by the target's service from
/// that range of the source (no byte passes through here; the source's MD5, where it has
/// one, is what the target is given and what is compared).
#[allow(clippy::too_many_arguments)]
fn in_parts<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a dyn Backend,
    target: &'a dyn Backend,
    entry: &Entry,
    props: &Properties,
    expected: Option<[u8; 16]>,
    mut opts: WriteOptions<'_>,
    copy_from: Option<&CopySource>,
) -> Result<Outcome, TransferError> {
    let key = entry.key.as_str();
    let size = props.size;
    let limits = &target.capabilities().parts;
    // A multipart source whose store tells how it was cut is copied in the same parts, where
    // the target takes them: the parts' MD5s then prove its composite tag exactly.
    let learnt = match &props.tag {
        ContentTag::Composite { parts, .. } => source
            .part_layout(
                key,
                entry.version_id.as_deref(),
                size,
                props.raw_tag.as_deref().unwrap_or_default(),
                ctx.config.auto_chunksize,
            )?
            .and_then(|p| uniform_size(&p))
            .filter(|&p| {
                let count = size.div_ceil(p.max(1));
                p >= limits.min_part.min(size)
                    && p <= limits.max_part
                    && count == u64::from(*parts)
                    && count <= u64::from(limits.max_parts)
            }),
        _ => None,
    };
    let part = match learnt {
        Some(part) => part,
        None => limits
            .part_size(size, ctx.config.layout.chunk_size)
            .ok_or_else(|| {
                TransferError::Refused(format!(
                    "{} bytes do not fit the target's part limits",
                    size
                ))
            })?,
    };
    let count = size.div_ceil(part) as u32;
    let version = entry.version_id.clone();
    let raw_tag = props.raw_tag.clone();
    let pinned = ReadOptions {
        version: version.as_deref(),
        if_match: raw_tag.as_deref(),
        range: None,
    };
    let ahead = if source.capabilities().local_reads && copy_from.is_none() {
        Some(hash_ahead(source, key, &pinned, part)?)
    } else {
        None
    };
    if let Some((whole, _)) = &ahead
        && let Some(e) = expected
        && *whole != e
    {
        return Err(TransferError::Mismatch(format!(
            "{}: changed while it was read",
            source.name_of(key)
        )));
    }
    let sent_whole = ahead.as_ref().map(|(w, _)| *w);
    opts.whole_md5 = match ctx.config.md5_check {
        Md5Check::NoCheck | Md5Check::LogOnly => sent_whole,
        _ => sent_whole.or(expected),
    };
    let writer: Arc<dyn PartWriter + 'a> = Arc::from(target.begin_parts(key, part, &opts)?);
    let part_md5s = Arc::new(ahead.map(|(_, p)| p));
    // The parts' MD5s are worth computing as they pass only to check a composite tag (and
    // cannot be, when the parts are copied by the service).
    let hash_parts = matches!(props.tag, ContentTag::Composite { .. }) && copy_from.is_none();
    let (done_tx, done_rx) = unbounded::<(u32, Result<(PartReceipt, [u8; 16]), TransferError>)>();
    for n in 1..=count {
        let (writer, part_md5s, done) =
            (Arc::clone(&writer), Arc::clone(&part_md5s), done_tx.clone());
        let (key, version, raw_tag) = (key.to_string(), version.clone(), raw_tag.clone());
        let copy_from = copy_from.cloned();
        let cancel = ctx.cancel;
        ctx.parts.submit(Box::new(move || {
            let first = u64::from(n - 1) * part;
            let last = (first + part).min(size) - 1;
            let result = if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                Err(TransferError::Cancelled)
            } else if let Some(from) = &copy_from {
                writer
                    .put_copy(n, from, (first, last))
                    .map(|r| (r, [0u8; 16]))
                    .map_err(TransferError::from)
            } else {
                send_part(
                    source,
                    writer.as_ref(),
                    &key,
                    n,
                    (first, last),
                    version.as_deref(),
                    raw_tag.as_deref(),
                    part_md5s.as_ref().as_ref().map(|p| p[(n - 1) as usize]),
                    hash_parts,
                )
            };
            let _ = done.send((n, result));
        }));
    }
    drop(done_tx);
    let mut receipts = Vec::with_capacity(count as usize);
    let mut hashes = vec![[0u8; 16]; count as usize];
    let mut failure: Option<TransferError> = None;
    for (n, result) in done_rx.iter() {
        match result {
            Ok((r, md5)) => {
                hashes[(n - 1) as usize] = md5;
                receipts.push(r);
            }
            Err(e) => {
                if failure.is_none() || matches!(failure, Some(TransferError::Cancelled)) {
                    failure = Some(e);
                }
            }
        }
    }
    if failure.is_none() && receipts.len() != count as usize {
        failure = Some(TransferError::Io(
            "a part thread stopped unexpectedly".into(),
        ));
    }
    // What the parts' MD5s make: the composite a multipart S3 source's ETag is.
    let mut all = Md5::new();
    for h in &hashes {
        all.update(h);
    }
    let composite: [u8; 16] = all.finalize().into();
    if failure.is_none()
        && hash_parts
        && let ContentTag::Composite { digest, parts, .. } = &props.tag
        && *parts == count
        && *digest != composite
    {
        failure = Some(TransferError::Corrupt(
            Corruption::Etag,
            format!(
                "{}: the parts read make {}-{count}, the source's ETag is {}-{parts} (or it was cut in other part sizes)",
                source.name_of(key),
                hex(&composite),
                hex(digest)
            ),
        ));
    }
    if let Some(f) = failure {
        let _ = writer.abort();
        return Err(f);
    }
    receipts.sort_by_key(|r| r.number);
    let w = writer.complete(&receipts).inspect_err(|_| {
        let _ = writer.abort();
    })?;
    let verified_by_parts =
        hash_parts && matches!(&props.tag, ContentTag::Composite { parts, .. } if *parts == count);
    let outcome = check_landed(target, key, sent_whole, expected, &w, ctx.config.md5_check)?;
    if verified_by_parts && outcome.etag_verified.is_none() {
        let tag = hex(&composite);
        return Ok(Outcome::verified(
            format!("{tag}-{count}"),
            format!("{tag}-{count}"),
        ));
    }
    Ok(outcome)
}

/// The size of every part but a shorter last one, when `parts` are cut that way.
fn uniform_size(parts: &Parts) -> Option<u64> {
    match parts {
        Parts::Uniform(n) => Some(*n),
        Parts::Sizes(sizes) => {
            let (&first, rest) = sizes.split_first()?;
            let (&last, middle) = rest.split_last().unwrap_or((&first, &[]));
            (middle.iter().all(|&n| n == first) && last <= first).then_some(first)
        }
        Parts::Single => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn send_part(
    source: &dyn Backend,
    writer: &dyn PartWriter,
    key: &str,
    number: u32,
    range: (u64, u64),
    version: Option<&str>,
    raw_tag: Option<&str>,
    md5: Option<[u8; 16]>,
    hash: bool,
) -> Result<(PartReceipt, [u8; 16]), TransferError> {
    let read = ReadOptions {
        version,
        if_match: raw_tag,
        range: Some(range),
    };
    let hasher = Mutex::new(Md5::new());
    let reads = Reads::start(source, key, &read)?;
    let open = || -> io::Result<Box<dyn Read + '_>> {
        let reader = reads.open()?;
        if !hash {
            return Ok(reader);
        }
        if let Ok(mut h) = hasher.lock() {
            *h = Md5::new();
        }
        Ok(Box::new(Hashing {
            inner: reader,
            md5: &hasher,
        }))
    };
    let body = Body {
        len: range.1 - range.0 + 1,
        md5,
        sha256: None,
        open: &open,
    };
    let receipt = writer.put(number, &body)?;
    if !hash {
        // The target checked the part against `md5` where there is one.
        return Ok((receipt, md5.unwrap_or_default()));
    }
    let sent: [u8; 16] = hasher
        .into_inner()
        .map(|h| h.finalize().into())
        .map_err(|_| TransferError::Io("a part hasher was poisoned".into()))?;
    if let Some(m) = md5
        && m != sent
    {
        return Err(TransferError::Mismatch(format!(
            "{}: part {number} changed while it was read",
            source.name_of(key)
        )));
    }
    Ok((receipt, sent))
}
