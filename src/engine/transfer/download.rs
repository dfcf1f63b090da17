//! S3 → local file: the object is written to a temporary file in the target directory,
//! hashed, flushed, given the object's LastModified and renamed into place, so no partial
//! file ever carries the final name. A single GET is hashed while it is written; a
//! multipart object comes as one ranged GET per part, and its parts of one size are read
//! back once written and hashed eight at a time (`md5x`), which costs a copy from the page
//! cache and saves most of the MD5 time.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::unbounded;

use super::streams::{md5_side_by_side, side_by_side_parts};
use super::{Corruption, Ctx, Outcome, TransferError, io_err, parts_of, retry_body, stream_buffer};
use crate::config::{Config, Md5Check};
use crate::integrity::checksum::{self, ChecksumSpec};
use crate::integrity::digest::{self, Digester, Digests, PartDigest, PartHasher, Parts};
use crate::integrity::etag::{is_multipart_etag, strip_quotes};
use crate::integrity::md5x;
use crate::storage::Entry;
use crate::storage::local::{LocalStore, TempFile};
use crate::storage::props::Properties;
use crate::storage::s3::S3Store;

/// Why a key cannot be written under the target directory as a file of the same relative
/// name, if it cannot: `.` and `..` segments (split on `/` and `\`), segments of only dots
/// and spaces, NUL bytes, and empty segments (`/x`, `a//b`), which a file system would fold
/// into another name, so the file could never be matched with its key again.
pub fn unsafe_key(key: &str) -> Option<&'static str> {
    if key.contains('\0') {
        return Some("contains a NUL byte");
    }
    let body = key.strip_suffix('/').unwrap_or(key);
    if body.is_empty() || body.split('/').any(str::is_empty) {
        return Some(
            "has an empty path segment (a leading '/' or '//'); use a prefix ending in '/'",
        );
    }
    for segment in key.split(['/', '\\']) {
        if !segment.is_empty()
            && segment.chars().all(|c| c == '.' || c == ' ')
            && segment.contains('.')
        {
            return Some("has a '.' or '..' path segment");
        }
    }
    None
}

/// Writes `bytes` at `offset` of `file`.
fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.write_all_at(bytes, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(bytes)
    }
}

/// Streams `reader` into `file` from `offset`, feeding `observe`; returns the byte count.
/// A body read that fails, or ends before `expected` bytes, is a [`TransferError::Network`]
/// (retried); a failed disk write is an [`TransferError::Io`].
fn stream_into(
    reader: &mut dyn Read,
    file: &File,
    offset: u64,
    expected: u64,
    what: &str,
    observe: &mut dyn FnMut(&[u8]),
) -> Result<(), TransferError> {
    let mut buf = stream_buffer(expected);
    let mut pos = offset;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(TransferError::Network(format!(
                    "reading {what} failed: {e}"
                )));
            }
        };
        observe(&buf[..n]);
        write_at(file, &buf[..n], pos)
            .map_err(|e| TransferError::Io(format!("writing {what} to disk failed: {e}")))?;
        pos += n as u64;
    }
    let got = pos - offset;
    if got != expected {
        return Err(TransferError::Network(format!(
            "{what}: got {got} of {expected} bytes (connection cut?)"
        )));
    }
    Ok(())
}

/// What a download received: the object's headers, the digests of the bytes written, and
/// whether those digests were cut at the object's real part boundaries, and how they were
/// cut (for messages).
struct Received {
    head: Properties,
    computed: Digests,
    parts_known: bool,
    cut: String,
}

/// Downloads `entry` (relative key) from `source` into `target`.
pub fn download<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    target: &LocalStore,
    entry: &Entry,
) -> Result<Outcome, TransferError> {
    let key = entry.key.as_str();
    if let Some(problem) = unsafe_key(key) {
        return Err(TransferError::Refused(format!(
            "key {key:?} {problem}; it would escape the target directory"
        )));
    }
    let dest = target.path_of(key);
    if key.ends_with('/') || key.ends_with('\\') {
        if entry.size > 0 {
            return Err(TransferError::Refused(format!(
                "key {key:?} ends with '/' but holds {} bytes; a directory cannot hold data",
                entry.size
            )));
        }
        std::fs::create_dir_all(&dest).map_err(|e| io_err("cannot create directory", &dest, e))?;
        return Ok(Outcome::unverified());
    }
    let config = ctx.config;
    let full_key = source.full_key(key);
    let version = entry.version_id.as_deref();
    // Ranged GETs in parallel for a multipart object; a store whose listings carry no ETag
    // (s3s-fs, some gateways) is asked by HEAD in `download_parts`.
    let maybe_multipart = entry.etag.as_deref().is_none_or(is_multipart_etag);
    let parallel = entry.size >= config.layout.threshold && maybe_multipart;
    let mut temp = TempFile::create(&dest)
        .map_err(|e| io_err("cannot create a temporary file for", &dest, e))?;
    let received = if parallel {
        download_parts(ctx, source, &full_key, version, &mut temp, &dest)?
    } else {
        download_stream(ctx, source, &full_key, version, &mut temp, &dest)?
    };
    // A file that does not verify is dropped with the temporary file: nothing under `dest`.
    let outcome = verify(config, &received, &full_key)?;
    temp.commit(&dest, entry.last_modified)
        .map_err(|e| io_err("cannot finish writing", &dest, e))?;
    Ok(outcome)
}

/// How to cut the object `head` describes to recompute its ETag and checksum: its real part
/// sizes when it is multipart and the store tells them, else the configured part size (then
/// `false`: a multipart ETag computed that way proves nothing when it differs).
fn plan_parts(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    full_key: &str,
    version: Option<&str>,
    head: &Properties,
) -> Result<(Parts, bool), TransferError> {
    let etag = head
        .raw_tag
        .as_deref()
        .map(strip_quotes)
        .unwrap_or_default();
    let composite = head
        .checksum()
        .is_some_and(|(_, v)| checksum::composite_parts(v).is_some());
    if !is_multipart_etag(etag) && !composite {
        return Ok((Parts::Single, true));
    }
    let value = match head.checksum() {
        Some((_, v)) if !is_multipart_etag(etag) => v,
        _ => etag,
    };
    parts_of(ctx.config, source, full_key, version, head.size, value)
}

/// The checksum to recompute while downloading: the one the object carries, when the user
/// asked for checksum verification.
fn download_spec(config: &Config, head: &Properties) -> Option<ChecksumSpec> {
    if !config.enable_additional_checksum {
        return None;
    }
    let (algorithm, value) = head.checksum()?;
    ChecksumSpec::of_stored(algorithm, value, head.checksum_type.as_deref())
}

/// One GET (of `version` when named), streamed to disk and digested on the way.
fn download_stream(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    full_key: &str,
    version: Option<&str>,
    temp: &mut TempFile,
    dest: &Path,
) -> Result<Received, TransferError> {
    let file = temp.file().map_err(|e| io_err("cannot write", dest, e))?;
    retry_body(source, || {
        // Every attempt starts from an empty file and fresh digests.
        file.set_len(0)
            .map_err(|e| io_err("cannot truncate", dest, e))?;
        let (head, resp) = source.get_object(full_key, version, None)?;
        let (parts, parts_known) = plan_parts(ctx, source, full_key, version, &head)?;
        let cut = parts.describe();
        let spec = download_spec(ctx.config, &head);
        let mut digester = Digester::with_md5(parts, checks_etag(ctx.config, &head), spec);
        stream_into(
            &mut resp.into_reader(),
            file,
            0,
            head.size,
            full_key,
            &mut |chunk| digester.update(chunk),
        )?;
        Ok(Received {
            head,
            computed: digester.finish(),
            parts_known,
            cut,
        })
    })
}

/// Ranged GETs, `--max-parallel-uploads` at a time, each written at its offset: one per
/// part of the object when its part sizes are known, else of the configured part size.
/// Every range must come from the version the HEAD described (same ETag).
fn download_parts<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    full_key: &str,
    version: Option<&str>,
    temp: &mut TempFile,
    dest: &Path,
) -> Result<Received, TransferError> {
    let known = version.is_none().then(|| ctx.take_known()).flatten();
    let head = match known {
        Some(known) => known.head,
        None => source.head_object(full_key, version)?.ok_or_else(|| {
            TransferError::SourceGone(format!("{full_key} disappeared before it was read"))
        })?,
    };
    let size = head.size;
    let (parts, parts_known) = plan_parts(ctx, source, full_key, version, &head)?;
    let spec = download_spec(ctx.config, &head);
    let md5 = checks_etag(ctx.config, &head);
    let file = temp.file().map_err(|e| io_err("cannot write", dest, e))?;
    file.set_len(size)
        .map_err(|e| io_err("cannot size", dest, e))?;
    let file = Arc::new(
        file.try_clone()
            .map_err(|e| io_err("cannot share", dest, e))?,
    );
    let ranges = parts.ranges(size);
    let count = ranges.len();
    // Parts of one length get their MD5s side by side once written (`md5x`, several times
    // cheaper than one MD5 per stream); a part of another length (the last) is hashed
    // while it streams in.
    let mut later = vec![false; count];
    if md5 {
        for i in side_by_side_parts(&ranges) {
            later[i] = true;
        }
    }
    let key: Arc<str> = Arc::from(full_key);
    let version: Option<Arc<str>> = version.map(Arc::from);
    let expected: Arc<str> = Arc::from(
        head.raw_tag
            .as_deref()
            .map(strip_quotes)
            .unwrap_or_default(),
    );
    let (done_tx, done_rx) = unbounded::<(usize, Result<PartDigest, TransferError>)>();
    for (index, &(offset, len)) in ranges.iter().enumerate() {
        let md5_now = md5 && !later[index];
        let (file, key, version, expected, done) = (
            Arc::clone(&file),
            Arc::clone(&key),
            version.clone(),
            Arc::clone(&expected),
            done_tx.clone(),
        );
        let cancel = ctx.cancel;
        ctx.parts.submit(Box::new(move || {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = done.send((index, Err(TransferError::Cancelled)));
                return;
            }
            let result = retry_body(source, || {
                let range = Some((offset, offset + len - 1));
                let (got, resp) = source.get_object(&key, version.as_deref(), range)?;
                if got.raw_tag.as_deref().map(strip_quotes) != Some(&*expected) {
                    return Err(TransferError::Mismatch(format!(
                        "{key} changed while it was being downloaded (ETag {} instead of {expected}); run again",
                        got.raw_tag.as_deref().unwrap_or("none")
                    )));
                }
                let mut hasher = PartHasher::with_md5(md5_now, spec);
                let what = format!("bytes {offset}-{} of {key}", offset + len - 1);
                stream_into(&mut resp.into_reader(), &file, offset, len, &what, &mut |c| {
                    hasher.update(c)
                })?;
                Ok(hasher.finish())
            });
            let _ = done.send((index, result));
        }));
    }
    drop(done_tx);
    let mut digests: Vec<Option<PartDigest>> = vec![None; count];
    let mut failure: Option<TransferError> = None;
    let mut hashing = LaneHashing::new(&file, dest);
    for (index, result) in done_rx.iter() {
        match result {
            Ok(d) => {
                digests[index] = Some(d);
                if later[index]
                    && failure.is_none()
                    && let Err(e) = hashing.push(index, ranges[index], &mut digests)
                {
                    failure = Some(e);
                }
            }
            Err(e) => {
                if failure.is_none() || matches!(failure, Some(TransferError::Cancelled)) {
                    failure = Some(e);
                }
            }
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    hashing.flush(&mut digests)?;
    let digests: Vec<PartDigest> = digests.into_iter().collect::<Option<_>>().ok_or_else(|| {
        TransferError::Io(format!("downloading {full_key}: a part never answered"))
    })?;
    Ok(Received {
        head,
        computed: digest::combine(!matches!(parts, Parts::Single), spec, &digests),
        parts_known,
        cut: parts.describe(),
    })
}

/// The MD5s of written parts of one length, [`md5x::LANES`] at a time, read back from the
/// temporary file while later parts still download. Reading back what landed (from the page
/// cache, as the parts were just written) costs a copy; hashing eight parts side by side
/// saves several times that.
struct LaneHashing<'f> {
    file: &'f Arc<File>,
    dest: &'f Path,
    waiting: Vec<(usize, (u64, u64))>,
    buffers: Vec<Vec<u8>>,
}

impl<'f> LaneHashing<'f> {
    fn new(file: &'f Arc<File>, dest: &'f Path) -> LaneHashing<'f> {
        LaneHashing {
            file,
            dest,
            waiting: Vec::new(),
            buffers: Vec::new(),
        }
    }

    /// Part `index`, written at `range` (offset, length), is complete: hashed with the
    /// next ones of its length once there are enough of them.
    fn push(
        &mut self,
        index: usize,
        range: (u64, u64),
        digests: &mut [Option<PartDigest>],
    ) -> Result<(), TransferError> {
        self.waiting.push((index, range));
        if self.waiting.len() == md5x::LANES {
            self.flush(digests)
        } else {
            Ok(())
        }
    }

    /// Hashes the parts waiting and stores their MD5s in `digests`.
    fn flush(&mut self, digests: &mut [Option<PartDigest>]) -> Result<(), TransferError> {
        let batch = std::mem::take(&mut self.waiting);
        let ranges: Vec<(u64, u64)> = batch.iter().map(|b| b.1).collect();
        let md5s = md5_side_by_side(self.file, &ranges, &mut self.buffers)
            .map_err(|e| io_err("cannot read back", self.dest, e))?;
        for (&(index, _), md5) in batch.iter().zip(md5s) {
            if let Some(d) = digests.get_mut(index).and_then(Option::as_mut) {
                d.md5 = Some(md5);
            }
        }
        Ok(())
    }
}

/// Whether the ETag of the object `head` describes is compared with the bytes received: not
/// when the user turned that off, nor when it is no MD5 (SSE-C and SSE-KMS objects). When
/// it is not, the download skips the MD5.
fn checks_etag(config: &Config, head: &Properties) -> bool {
    head.raw_tag
        .as_deref()
        .map(strip_quotes)
        .is_some_and(|etag| {
            config.verify_etag
                && !head.encrypted
                && (!is_multipart_etag(etag) || config.verify_multipart)
        })
}

/// Compares the digests of the bytes written with the object's ETag and (when asked for)
/// its additional checksum. A difference is corruption, except for a multipart value the
/// parts of which could not be learnt: then it proves nothing and is reported as a warning.
///
/// azcopy's `--check-md5` (`config.md5_check`) shapes the ETag's part: `LogOnly` keeps a
/// file whose MD5 differs, with a warning; `FailIfDifferentOrMissing` fails an object whose
/// MD5 cannot be checked (no ETag, an encrypted object's, a multipart one whose parts the
/// store does not tell). `NoCheck` arrives as `verify_etag` off.
fn verify(config: &Config, got: &Received, full_key: &str) -> Result<Outcome, TransferError> {
    let head = &got.head;
    let mut outcome = Outcome::unverified();
    let strict = config.md5_check == Md5Check::FailIfDifferentOrMissing;
    let missing = |why: &str| {
        Err(TransferError::Io(format!(
            "{full_key} has no MD5 to check the download against ({why}; --check-md5 \
             FailIfDifferentOrMissing): not written"
        )))
    };
    let etag = head.raw_tag.as_deref().map(strip_quotes);
    if strict && !etag.is_some_and(|_| checks_etag(config, head)) {
        return missing(if head.encrypted {
            "an encrypted object's ETag is no MD5"
        } else {
            "no ETag"
        });
    }
    if let Some(etag) = etag {
        let multipart = is_multipart_etag(etag);
        if checks_etag(config, head) {
            if etag == got.computed.etag {
                outcome.etag_verified = Some((got.computed.etag.clone(), etag.to_string()));
            } else if multipart && !got.parts_known {
                if strict {
                    return missing("the store does not tell the part sizes of its multipart ETag");
                }
                outcome.warning = Some(format!(
                    "ETag of {full_key} ({etag}) could not be verified: the store does not report the part sizes \
                     it was uploaded with, and {} give {}; the size matches",
                    got.cut, got.computed.etag
                ));
            } else if config.md5_check == Md5Check::LogOnly {
                outcome.warning = Some(format!(
                    "ETag mismatch downloading {full_key}: S3 says {etag}, the bytes received give {}; \
                     kept (--check-md5 LogOnly)",
                    got.computed.etag
                ));
            } else {
                return Err(TransferError::Corrupt(
                    Corruption::Etag,
                    format!(
                        "ETag mismatch downloading {full_key}: S3 says {etag}, the bytes received give {}",
                        got.computed.etag
                    ),
                ));
            }
        }
    }
    if let Some((algorithm, stored)) = head.checksum()
        && config.enable_additional_checksum
        && !checksum::is_well_formed(algorithm, stored)
    {
        outcome = outcome.and(Outcome::warn(format!(
            "the store reports a malformed {algorithm} checksum for {full_key} ({stored}); not compared"
        )));
    }
    let checked = head
        .checksum()
        .filter(|(_, v)| config.verify_multipart || checksum::composite_parts(v).is_none());
    if let (Some((algorithm, stored)), Some(computed)) = (checked, &got.computed.checksum) {
        if stored == computed {
            outcome.checksum_verified = Some((algorithm, computed.clone(), stored.to_string()));
        } else if checksum::composite_parts(stored).is_some() && !got.parts_known {
            outcome = outcome.and(Outcome::warn(format!(
                "{algorithm} checksum of {full_key} ({stored}) could not be verified: the store does not \
                 report the part sizes it was uploaded with"
            )));
        } else {
            return Err(TransferError::Corrupt(
                Corruption::Checksum,
                format!(
                    "{algorithm} checksum mismatch downloading {full_key}: S3 says {stored}, the bytes received give {computed}"
                ),
            ));
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_keys_that_escape() {
        for bad in [
            "../x",
            "a/../../x",
            "a/./b",
            "..",
            ".",
            "a\\..\\b",
            "a/ .. /b",
            "x\0y",
            "a/.../b",
            "/data2",
            "a//b",
            "/",
        ] {
            assert!(unsafe_key(bad).is_some(), "{bad:?} should be refused");
        }
        for good in [
            "..jpg",
            ".jpg",
            "a/.hidden",
            "a..b/c",
            "dir/",
            "a b",
            "d/e/",
        ] {
            assert!(unsafe_key(good).is_none(), "{good:?} should be allowed");
        }
    }
}
