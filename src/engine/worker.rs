//! A worker: takes one job at a time, finishes the update check where it needs the
//! contents (ETags), and runs the transfer for the pair of sides.

use std::sync::Mutex;

use crossbeam_channel::Receiver;

use super::callbacks;
use super::compare::{self, Same};
use super::filter::{self, Content};
use super::stats::Stats;
use super::transfer::{self, Conditions, Corruption, Ctx, Known, Outcome, TransferError};
use super::{Job, Run};
use crate::callback::{Event, EventKind};
use crate::storage::{Entry, Store, mime};

pub(crate) fn worker<'a>(run: &'a Run<'a>, jobs: Receiver<Job>, ctx: &Ctx<'_, 'a>) {
    let mut buf = Vec::new();
    for job in jobs {
        // After a fatal error the queue is drained without work.
        if run.cancelled() {
            continue;
        }
        process(run, job, ctx, &mut buf);
    }
}

/// `--sync-latest-tagging` for an object whose data is up to date: makes the target's tags
/// equal to the source's (those of its version `version_id` when one is named). Returns
/// whether anything changed.
fn sync_tags(run: &Run<'_>, key: &str, version_id: Option<&str>) -> Result<bool, TransferError> {
    let (Store::S3(src), Store::S3(dst)) = (run.source, run.target) else {
        return Ok(false);
    };
    let sorted = |mut tags: Vec<(String, String)>| {
        tags.sort();
        tags
    };
    let source_tags = sorted(src.object_tags(&src.full_key(key), version_id)?);
    let target_key = dst.full_key(key);
    let target_tags = sorted(dst.object_tags(&target_key, None)?);
    if source_tags == target_tags {
        return Ok(false);
    }
    if !run.config.dry_run {
        if source_tags.is_empty() {
            dst.delete_object_tags(&target_key)?;
        } else {
            dst.put_object_tags(&target_key, &source_tags)?;
        }
    }
    Ok(true)
}

/// `--head-each-target`: what the target holds under the key now, asked directly.
fn target_now(run: &Run<'_>, key: &str) -> Result<Option<Entry>, TransferError> {
    match run.target {
        Store::S3(dst) => Ok(dst
            .head_object(&dst.full_key(key), None)?
            .map(|head| Entry {
                etag: head.raw_tag,
                ..Entry::new(key, head.size, head.modified.unwrap_or_default())
            })),
        Store::Local(dst) => dst
            .stat(key)
            .map_err(|e| transfer::io_err("cannot read", &dst.path_of(key), e)),
        Store::Generic(dst) => Ok(dst.head(key, &Default::default())?.map(|p| Entry {
            etag: p.raw_tag,
            ..Entry::new(key, p.size, p.modified.unwrap_or_default())
        })),
    }
}

/// What the content filters look at: the source's Content-Type (guessed from the extension
/// for a local file), user metadata and tags.
fn content_of(run: &Run<'_>, entry: &Entry) -> Result<(Content, Option<Known>), TransferError> {
    let filters = &run.config.filters;
    match run.source {
        Store::Local(_) => Ok((
            Content {
                content_type: run
                    .config
                    .metadata
                    .guess_mime_type
                    .then(|| mime::content_type_for(&entry.key)),
                ..Content::default()
            },
            None,
        )),
        Store::S3(src) => {
            let full_key = src.full_key(&entry.key);
            let head = src
                .head_object(&full_key, None)?
                .ok_or_else(|| TransferError::SourceGone(format!("{full_key} disappeared")))?;
            let tags = if filters.needs_tags() && head.tag_count.unwrap_or(0) > 0 {
                Some(src.object_tags(&full_key, None)?)
            } else {
                None
            };
            let content = Content {
                content_type: head.content.content_type.clone(),
                metadata: filter::metadata_text(&head.content.user),
                tags: tags.as_deref().and_then(filter::tags_text),
            };
            Ok((content, Some(Known { head, tags })))
        }
        Store::Generic(src) => {
            let props = src.head(&entry.key, &Default::default())?.ok_or_else(|| {
                TransferError::SourceGone(format!("{} disappeared", src.name_of(&entry.key)))
            })?;
            let tags = if filters.needs_tags() && props.tag_count.unwrap_or(0) > 0 {
                Some(src.tags(&entry.key, None)?)
            } else {
                None
            };
            let content = Content {
                content_type: props.content.content_type.clone(),
                metadata: filter::metadata_text(&props.content.user),
                tags: tags.as_deref().and_then(filter::tags_text),
            };
            Ok((content, None))
        }
    }
}

/// Filters 9–14. `None` when the object does not pass (a filtered one is counted as
/// skipped); else what they read of an S3 source, for the transfer to reuse.
fn content_filters(run: &Run<'_>, entry: &Entry) -> Option<Option<Known>> {
    if !run.config.filters.needs_content() {
        return Some(None);
    }
    let key = entry.key.as_str();
    match content_of(run, entry) {
        Ok((content, known)) => run
            .passes(key, filter::by_content(&run.config.filters, &content))
            .then_some(known),
        Err(e) => {
            handle_error(run, key, e);
            None
        }
    }
}

/// Filters 9–14 alone: whether the object passes.
fn passes_content_filters(run: &Run<'_>, entry: &Entry) -> bool {
    content_filters(run, entry).is_some()
}

/// The conditional headers of the job's writes.
fn conditions_of(run: &Run<'_>, job: &Job) -> Conditions {
    let wanted = run.config.conditions;
    let mut write = Vec::new();
    if wanted.if_match {
        match job.target.as_ref().and_then(|t| t.etag.clone()) {
            Some(etag) => write.push(("if-match".to_string(), etag)),
            // Nothing was there: only write if nothing appeared meanwhile.
            None => write.push(("if-none-match".to_string(), "*".to_string())),
        }
    }
    if wanted.if_none_match {
        write.push(("if-none-match".to_string(), "*".to_string()));
    }
    Conditions {
        write,
        copy_source_etag: if wanted.copy_source_if_match {
            job.source.etag.clone()
        } else {
            None
        },
    }
}

fn process<'a>(run: &'a Run<'a>, job: Job, ctx: &Ctx<'_, 'a>, buf: &mut Vec<u8>) {
    let key = job.source.key.as_str();
    let stats = &run.stats;
    if let Some(options) = run.config.report {
        if passes_content_filters(run, &job.source) {
            super::report::object(run, &job, options);
        }
        return;
    }
    if job.head_target {
        match target_now(run, key) {
            Ok(target) => {
                if let Some(next) = super::update_check(run, job.source, target) {
                    process(run, next, ctx, buf);
                }
            }
            Err(e) => handle_error(run, key, e),
        }
        return;
    }
    if job.tags_only {
        if !passes_content_filters(run, &job.source) {
            return;
        }
        match sync_tags(run, key, job.source.version_id.as_deref()) {
            Ok(true) => {
                let dry = if run.config.dry_run { "[dry-run] " } else { "" };
                log::info!(key = key; "{dry}sync(tagging only) completed.");
                Stats::add(&stats.transferred_objects, 1);
            }
            Ok(false) => run.filtered(key, "the tags are the same"),
            Err(e) => handle_error(run, key, e),
        }
        return;
    }
    if job.compare_content {
        match compare::contents(run, &job) {
            // The data is the same; --sync-latest-tagging still looks at the tags.
            Ok(Same::Yes) if run.config.sync_latest_tagging => {
                let tags_job = Job {
                    tags_only: true,
                    compare_content: false,
                    ..job
                };
                return process(run, tags_job, ctx, buf);
            }
            Ok(Same::Yes) => {
                run.filtered(key, "the contents are the same");
                return;
            }
            Ok(Same::Unknown(why)) => {
                run.warning(Some(key), &why);
                Stats::add(&stats.skipped, 1);
                return;
            }
            Ok(Same::No) => {}
            Err(e) => return handle_error(run, key, e),
        }
    }
    let Some(known) = content_filters(run, &job.source) else {
        return;
    };
    let source_last_modified = job.source.last_modified.rfc3339_millis();
    if run.config.dry_run {
        log::info!(
            key = key, source_last_modified = source_last_modified.as_str(), size = job.source.size;
            "[dry-run] sync completed."
        );
        Stats::add(&stats.transferred_objects, 1);
        Stats::add(&stats.transferred_bytes, job.source.size);
        run.emit(|| callbacks::about(EventKind::SyncComplete, &job.source));
        return;
    }
    if key.ends_with('/')
        && job.source.size == 0
        && let (Store::S3(_), Store::Local(dst)) = (run.source, run.target)
        && dst.path_of(key).is_dir()
    {
        run.filtered(key, "the directory exists");
        return;
    }
    run.emit(|| callbacks::about(EventKind::SyncStart, &job.source));
    let ctx = &Ctx {
        config: ctx.config,
        parts: ctx.parts,
        cancel: ctx.cancel,
        conditions: conditions_of(run, &job),
        known: Mutex::new(known),
        journal: ctx.journal,
    };
    if let Some(limiter) = &run.objects {
        limiter.take(1);
    }
    // A local source's properties as they are before the copy reads it (and moves its
    // access time).
    let posix_before = (run.config.metadata.posix)
        .then(|| run.source.backend().local_path(key))
        .flatten()
        .map(|path| {
            transfer::posix::of_file(&path)
                .map_err(|e| format!("cannot stat {}: {e}", path.display()))
        });
    let mut force_retries = 0;
    let result = loop {
        let result = retry_corrupt(
            run,
            key,
            || transfer_once(run, &job, ctx, buf),
            |m| remove_corrupt(run, key, m),
        );
        match result {
            Err(e)
                if e.is_transient()
                    && force_retries < run.config.force_retry_count
                    && !run.cancelled() =>
            {
                force_retries += 1;
                run.warning(
                    Some(key),
                    &format!(
                        "{e}; retrying the whole object ({force_retries} of {})",
                        run.config.force_retry_count
                    ),
                );
                std::thread::sleep(run.config.force_retry_interval);
            }
            other => break other,
        }
    };
    match result {
        Ok(outcome) => {
            if run.config.metadata.posix {
                restore_posix(run, &job.source, posix_before);
            }
            record_transfer(run, &job.source, &outcome)
        }
        Err(e) => handle_error(run, key, e),
    }
}

/// `--preserve-posix-properties` on a local target: see [`transfer::posix::restore_onto`].
fn restore_posix(
    run: &Run<'_>,
    entry: &Entry,
    local: Option<Result<Vec<(String, String)>, String>>,
) {
    let (source, target) = (run.source.backend(), run.target.backend());
    if let Some(w) = transfer::posix::restore_onto(source, target, entry, local) {
        run.warning(Some(&entry.key), &w);
    }
}

/// Runs `once` until what it wrote verifies, up to [`transfer::VERIFY_ATTEMPTS`] times in
/// all; after the last failed attempt `remove` deletes the corrupt object and returns the
/// message to report.
pub(crate) fn retry_corrupt(
    run: &Run<'_>,
    key: &str,
    mut once: impl FnMut() -> Result<Outcome, TransferError>,
    remove: impl FnOnce(String) -> String,
) -> Result<Outcome, TransferError> {
    let mut attempt = 1;
    loop {
        match once() {
            Err(TransferError::Corrupt(kind, m) | TransferError::Removed(kind, m))
                if attempt < transfer::VERIFY_ATTEMPTS && !run.cancelled() =>
            {
                mismatch(run, key, kind, &m);
                attempt += 1;
                run.warning(
                    Some(key),
                    &format!(
                        "{m}; transferring it again (attempt {attempt} of {})",
                        transfer::VERIFY_ATTEMPTS
                    ),
                );
            }
            Err(TransferError::Corrupt(kind, m)) => {
                mismatch(run, key, kind, &m);
                return Err(TransferError::Corrupt(kind, remove(m)));
            }
            Err(TransferError::Removed(kind, m)) => {
                mismatch(run, key, kind, &m);
                return Err(TransferError::Removed(
                    kind,
                    format!(
                        "{m}; gave up after {} attempts (run again to retry)",
                        transfer::VERIFY_ATTEMPTS
                    ),
                ));
            }
            other => return other,
        }
    }
}

/// Announces that what landed for `key` does not match its source.
fn mismatch(run: &Run<'_>, key: &str, kind: Corruption, message: &str) {
    let kind = match kind {
        Corruption::Etag => EventKind::SyncEtagMismatch,
        Corruption::Checksum => EventKind::SyncChecksumMismatch,
    };
    run.emit(|| Event::about(kind, key).with_message(message));
}

/// Announces a finished transfer of `source` and what it proved.
fn announce_transfer(run: &Run<'_>, source: &Entry, outcome: &Outcome) {
    run.emit(|| Event {
        byte_written: Some(source.size),
        ..callbacks::about(EventKind::SyncWrite, source)
    });
    run.emit(|| callbacks::about(EventKind::SyncComplete, source));
    if let Some((source_etag, target_etag)) = &outcome.etag_verified {
        run.emit(|| Event {
            source_etag: Some(source_etag.clone()),
            target_etag: Some(target_etag.clone()),
            ..callbacks::about(EventKind::SyncEtagVerified, source)
        });
    }
    if let Some((algorithm, source_sum, target_sum)) = &outcome.checksum_verified {
        run.emit(|| Event {
            checksum_algorithm: Some(algorithm.name().to_string()),
            source_checksum: Some(source_sum.clone()),
            target_checksum: Some(target_sum.clone()),
            ..callbacks::about(EventKind::SyncChecksumVerified, source)
        });
    }
}

/// Counts and logs a finished transfer of `source` and what it proved.
pub(crate) fn record_transfer(run: &Run<'_>, source: &Entry, outcome: &Outcome) {
    let (key, stats) = (source.key.as_str(), &run.stats);
    if let Some((source_etag, target_etag)) = &outcome.etag_verified {
        Stats::add(&stats.etag_verified, 1);
        log::debug!(
            key = key, source_e_tag = source_etag.as_str(), target_e_tag = target_etag.as_str();
            "e_tag verified."
        );
    }
    if let Some((algorithm, source_sum, target_sum)) = &outcome.checksum_verified {
        Stats::add(&stats.checksum_verified, 1);
        log::debug!(
            key = key, additional_checksum_algorithm = algorithm.name(),
            source_checksum = source_sum.as_str(), target_checksum = target_sum.as_str();
            "additional checksum verified."
        );
    }
    if let Some(warning) = &outcome.warning {
        run.warning(Some(key), warning);
    }
    let source_last_modified = source.last_modified.rfc3339_millis();
    let source_version_id = source.version_id.as_deref().unwrap_or_default();
    match run.target {
        Store::S3(dst) => {
            let target_key = dst.full_key(key);
            log::info!(
                key = key, source_version_id = source_version_id, source_last_modified = source_last_modified.as_str(),
                target_key = target_key.as_str(), size = source.size;
                "sync completed."
            );
        }
        Store::Local(dst) => {
            let real_path = dst.path_of(key).display().to_string();
            log::info!(
                key = key, source_version_id = source_version_id, real_path = real_path.as_str(), size = source.size;
                "sync completed."
            );
        }
        Store::Generic(dst) => {
            let target = dst.name_of(key);
            log::info!(
                key = key, source_version_id = source_version_id, source_last_modified = source_last_modified.as_str(),
                target_key = target.as_str(), size = source.size;
                "sync completed."
            );
        }
    }
    Stats::add(&stats.transferred_objects, 1);
    // Only the bytes sent: a resumed upload's kept parts were sent by an earlier run.
    let kept = outcome.resumed_bytes.unwrap_or(0).min(source.size);
    Stats::add(&stats.transferred_bytes, source.size - kept);
    if kept > 0 {
        Stats::add(&stats.resumed_objects, 1);
        Stats::add(&stats.resumed_bytes, kept);
    }
    announce_transfer(run, source, outcome);
}

/// A written object failed verification on every attempt: it must not stay under its name
/// (a local file never got it: the temporary file was dropped). Returns the message to report.
fn remove_corrupt(run: &Run<'_>, key: &str, message: String) -> String {
    if let Store::Generic(dst) = run.target {
        // The generic path removes what it wrote before it reports; this makes sure.
        return match dst.delete(key, None, None) {
            Ok(()) => format!(
                "{message}; gave up after {} attempts; nothing corrupt is left under its name (run again to retry)",
                transfer::VERIFY_ATTEMPTS
            ),
            Err(e) => format!("{message}; the corrupt object could NOT be removed: {e}"),
        };
    }
    let Store::S3(dst) = run.target else {
        return format!("{message}; nothing was written under its name");
    };
    let full_key = dst.full_key(key);
    match dst.delete_object(&full_key, None) {
        Ok(()) => format!(
            "{message}; gave up after {} attempts and removed the corrupt object (run again to retry)",
            transfer::VERIFY_ATTEMPTS
        ),
        Err(e) => format!("{message}; the corrupt object could NOT be removed: {e}"),
    }
}

/// One attempt at transferring the job's object for the pair of sides.
fn transfer_once<'a>(
    run: &'a Run<'a>,
    job: &Job,
    ctx: &Ctx<'_, 'a>,
    buf: &mut Vec<u8>,
) -> Result<Outcome, TransferError> {
    let key = job.source.key.as_str();
    match (run.source, run.target) {
        (Store::Local(src), Store::S3(dst)) => {
            let posix_source = match run.source {
                Store::Local(src) if run.config.metadata.posix => Some(src.path_of(key)),
                _ => None,
            };
            let upload = transfer::local_upload_metadata(
                run.config,
                posix_source.as_deref(),
                &job.source,
                &dst.full_key(key),
            )?;
            let headers = transfer::s3_object_headers(dst, &upload);
            transfer::upload::upload_file(
                ctx,
                dst,
                &src.path_of(key),
                key,
                job.source.size,
                &headers,
                buf,
            )
        }
        (Store::Local(src), Store::Local(dst)) => transfer::local::copy_local(
            &src.path_of(key),
            &dst.path_of(key),
            job.source.size,
            job.source.last_modified,
            buf,
        )
        .map(|_| Outcome::unverified()),
        (Store::S3(src), Store::Local(dst)) => {
            transfer::download::download(ctx, src, dst, &job.source)
        }
        (Store::S3(src), Store::S3(dst)) => {
            transfer::copy::copy_object(ctx, src, dst, &job.source, run.config.server_side_copy)
        }
        // Any other pair: the one generic path over the storage interface.
        (source, target) => {
            transfer::generic::transfer(ctx, source.backend(), target.backend(), &job.source)
        }
    }
}

/// Counts and logs a failed transfer of `key`; a failure every other transfer would share
/// stops the run.
pub(crate) fn handle_error(run: &Run<'_>, key: &str, e: TransferError) {
    if run.cancelled() {
        // Stopped (signal or a fatal error elsewhere): failures are its consequence.
        log::debug!(key = key; "stopped: {e}");
        return;
    }
    match e {
        TransferError::Cancelled => {}
        TransferError::Declined => {
            log::info!(key = key; "skipped by the preprocess callback.");
            Stats::add(&run.stats.skipped, 1);
            run.emit(|| {
                Event::about(EventKind::SyncCancel, key)
                    .with_message("skipped by the preprocess callback")
            });
        }
        TransferError::SourceGone(m) => {
            run.object_problem(key, &format!("object not found, skipped: {m}"));
        }
        TransferError::Refused(m) => {
            run.object_problem(key, &format!("skipped: {m}"));
            Stats::add(&run.stats.skipped, 1);
        }
        e if e.is_archived() && run.config.ignore_glacier_warnings => {
            log::debug!(key = key; "archived object skipped: {e}");
            Stats::add(&run.stats.skipped, 1);
        }
        e if e.is_fatal() => {
            Stats::add(&run.stats.errors, 1);
            run.fail(format!("{key}: {e}"));
        }
        e if e.skip_reason().is_some() => {
            let reason = e.skip_reason().unwrap_or_default();
            run.object_problem(key, &format!("{reason}, skipped: {e}"));
            Stats::add(&run.stats.skipped, 1);
        }
        e => {
            log::error!(key = key; "sync failed: {e}");
            Stats::add(&run.stats.errors, 1);
        }
    }
}
