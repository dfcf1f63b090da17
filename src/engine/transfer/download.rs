//! S3 → local file: the object is written to a temporary file in the target directory,
//! hashed while written, flushed, given the object's LastModified and renamed into place,
//! so no partial file ever carries the final name.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::unbounded;
use md5::{Digest, Md5};

use super::{Ctx, Outcome, STREAM_BUFFER, TransferError, io_err, retry_body};
use crate::integrity::etag::{EtagBuilder, is_multipart_etag, multipart_etag, strip_quotes};
use crate::s3::ops::ObjectHead;
use crate::storage::Entry;
use crate::storage::local::{LocalStore, TempFile};
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
    let mut buf = vec![0u8; STREAM_BUFFER];
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
    let listed_etag = entry.etag.as_deref().map(strip_quotes).map(str::to_string);
    let parallel = entry.size >= config.layout.threshold
        && listed_etag.as_deref().is_some_and(is_multipart_etag);
    let mut temp = TempFile::create(&dest)
        .map_err(|e| io_err("cannot create a temporary file for", &dest, e))?;
    let (head, computed) = if parallel {
        download_parts(
            ctx,
            source,
            &full_key,
            entry,
            listed_etag.as_deref().unwrap_or_default(),
            &mut temp,
            &dest,
        )?
    } else {
        download_stream(ctx, source, &full_key, &mut temp, &dest)?
    };
    let outcome = verify(
        config.verify_etag,
        config.verify_multipart,
        &head,
        &computed,
        &full_key,
    )?;
    temp.commit(&dest, entry.last_modified)
        .map_err(|e| io_err("cannot finish writing", &dest, e))?;
    Ok(outcome)
}

/// One GET, streamed to disk. Returns the object's headers and the ETag computed from the
/// bytes (plain MD5, or multipart with the configured part size for a multipart source).
fn download_stream(
    ctx: &Ctx<'_, '_>,
    source: &S3Store,
    full_key: &str,
    temp: &mut TempFile,
    dest: &Path,
) -> Result<(ObjectHead, String), TransferError> {
    let file = temp.file().map_err(|e| io_err("cannot write", dest, e))?;
    retry_body(source.client(), || {
        // Every attempt starts from an empty file and a fresh digest.
        file.set_len(0)
            .map_err(|e| io_err("cannot truncate", dest, e))?;
        let resp = source
            .client()
            .get_object(source.bucket(), full_key, None)?;
        let head = ObjectHead::from_headers(&resp.headers);
        let multipart = head.etag.as_deref().is_some_and(is_multipart_etag);
        let mut builder = EtagBuilder::with_parts(ctx.config.layout, multipart);
        stream_into(
            &mut resp.into_reader(),
            file,
            0,
            head.size,
            full_key,
            &mut |chunk| builder.update(chunk),
        )?;
        Ok((head, builder.finish()))
    })
}

/// Ranged GETs of the configured part size, `--max-parallel-uploads` at a time, each written
/// at its offset. Every range must come from the same object version (same ETag).
fn download_parts<'a>(
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    full_key: &str,
    entry: &Entry,
    expected_etag: &str,
    temp: &mut TempFile,
    dest: &Path,
) -> Result<(ObjectHead, String), TransferError> {
    let layout = ctx.config.layout;
    let size = entry.size;
    let file = temp.file().map_err(|e| io_err("cannot write", dest, e))?;
    file.set_len(size)
        .map_err(|e| io_err("cannot size", dest, e))?;
    let file = Arc::new(
        file.try_clone()
            .map_err(|e| io_err("cannot share", dest, e))?,
    );
    let count = layout.part_count(size);
    let key: Arc<str> = Arc::from(full_key);
    let expected: Arc<str> = Arc::from(expected_etag);
    let (done_tx, done_rx) = unbounded::<(u64, Result<([u8; 16], ObjectHead), TransferError>)>();
    for index in 0..count {
        let (offset, len) = layout.part_range(size, index);
        let (file, key, expected, done) = (
            Arc::clone(&file),
            Arc::clone(&key),
            Arc::clone(&expected),
            done_tx.clone(),
        );
        let cancel = ctx.cancel;
        ctx.parts.submit(Box::new(move || {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = done.send((index, Err(TransferError::Cancelled)));
                return;
            }
            let result = retry_body(source.client(), || {
                let resp = source.client().get_object(source.bucket(), &key, Some((offset, offset + len - 1)))?;
                let head = ObjectHead::from_headers(&resp.headers);
                if head.etag.as_deref().map(strip_quotes) != Some(&*expected) {
                    return Err(TransferError::Mismatch(format!(
                        "{key} changed while it was being downloaded (ETag {} instead of {expected}); run again",
                        head.etag.as_deref().unwrap_or("none")
                    )));
                }
                let mut md5 = Md5::new();
                let what = format!("bytes {offset}-{} of {key}", offset + len - 1);
                stream_into(&mut resp.into_reader(), &file, offset, len, &what, &mut |c| md5.update(c))?;
                Ok((md5.finalize().into(), head))
            });
            let _ = done.send((index, result));
        }));
    }
    drop(done_tx);
    let mut md5s = vec![[0u8; 16]; count as usize];
    let mut head: Option<ObjectHead> = None;
    let mut failure: Option<TransferError> = None;
    for (index, result) in done_rx.iter() {
        match result {
            Ok((md5, h)) => {
                md5s[index as usize] = md5;
                if index == 0 {
                    head = Some(h);
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
    let head =
        head.ok_or_else(|| TransferError::Io(format!("downloading {full_key}: no part answered")))?;
    let head = ObjectHead { size, ..head };
    Ok((head, multipart_etag(&md5s)))
}

/// Compares the ETag computed from the bytes with the object's, as far as it can be.
fn verify(
    enabled: bool,
    multipart_enabled: bool,
    head: &ObjectHead,
    computed: &str,
    full_key: &str,
) -> Result<Outcome, TransferError> {
    let Some(etag) = head.etag.as_deref().map(strip_quotes) else {
        return Ok(Outcome::unverified());
    };
    let encrypted = head.sse_customer_algorithm.is_some()
        || head
            .sse
            .as_deref()
            .is_some_and(|s| s.starts_with("aws:kms"));
    let multipart = is_multipart_etag(etag);
    if !enabled || encrypted || (multipart && !multipart_enabled) {
        return Ok(Outcome::unverified());
    }
    if etag == computed {
        return Ok(Outcome::verified(computed, etag));
    }
    if multipart {
        // The part size the object was uploaded with is unknown; a different one gives a
        // different ETag without any corruption.
        return Ok(Outcome::warn(format!(
            "ETag of {full_key} ({etag}) could not be verified: computed {computed} with the configured part \
             size; the object was probably uploaded with another --multipart-chunksize"
        )));
    }
    Err(TransferError::Mismatch(format!(
        "ETag mismatch downloading {full_key}: S3 says {etag}, the bytes received give {computed}; \
         the file was not written"
    )))
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
