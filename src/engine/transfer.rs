//! Moving one object: local file → S3 (single PUT or multipart) and local file → local file.
//! Both hash the bytes as they pass and never re-read a file to verify it.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::unbounded;
use md5::{Digest, Md5};
use sha2::Sha256;

use super::parts::{BufferPool, PartJob, PartQueue};
use crate::integrity::etag::{EtagBuilder, PartLayout, multipart_etag, strip_quotes};
use crate::s3::{ErrorKind, Payload, S3Error};
use crate::storage::local::{TempFile, copy_observed, read_exact_at};
use crate::storage::s3::S3Store;
use crate::util::encoding::{base64, hex};
use crate::util::time::Timestamp;

/// Objects up to this size are read into memory once; larger single-part objects are hashed
/// in a first pass and streamed in a second, so no worker holds more than this.
const INLINE_LIMIT: u64 = 1 << 20;
const STREAM_BUFFER: usize = 256 << 10;

/// Why a transfer failed.
#[derive(Debug)]
pub enum TransferError {
    /// The source vanished between listing and transfer.
    SourceGone(String),
    /// Reading or writing a local file failed.
    Io(String),
    /// S3 refused or failed.
    S3(S3Error),
    /// What landed does not match what was sent.
    Mismatch(String),
    /// The run was cancelled mid-transfer.
    Cancelled,
}

impl TransferError {
    /// Whether this failure means every other transfer will fail too (bad credentials,
    /// missing bucket), so the run should stop.
    pub fn is_fatal(&self) -> bool {
        match self {
            TransferError::S3(e) => {
                e.kind == ErrorKind::AccessDenied
                    || e.kind == ErrorKind::WrongRegion
                    || e.code == "NoSuchBucket"
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::SourceGone(m) | TransferError::Io(m) | TransferError::Mismatch(m) => {
                f.write_str(m)
            }
            TransferError::S3(e) => write!(f, "{e}"),
            TransferError::Cancelled => f.write_str("cancelled"),
        }
    }
}

fn open_source(path: &Path) -> Result<File, TransferError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            TransferError::SourceGone(format!("{} disappeared before it was read", path.display()))
        }
        _ => TransferError::Io(format!("cannot open {}: {e}", path.display())),
    })
}

fn io_err(what: &str, path: &Path, e: io::Error) -> TransferError {
    TransferError::Io(format!("{what} {}: {e}", path.display()))
}

/// Settings of an upload that come from the run's configuration.
/// `'o` is the borrow of the shared plumbing, `'a` that of the stores parts refer to.
pub struct UploadOptions<'o, 'a> {
    pub layout: PartLayout,
    pub content_md5: bool,
    pub verify_etag: bool,
    pub verify_multipart: bool,
    pub pool: &'o BufferPool,
    pub parts: &'o PartQueue<'a>,
    pub cancelled: &'o (dyn Fn() -> bool + Sync),
}

/// What an upload achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The ETag S3 returned, unquoted.
    pub etag: String,
    /// The ETag computed from the bytes sent.
    pub expected_etag: String,
    /// Whether the two were compared and matched.
    pub verified: bool,
}

/// Uploads a local file of `size` bytes to `key` (a key relative to the store's prefix).
pub fn upload_file<'a>(
    store: &'a S3Store,
    path: &Path,
    key: &str,
    size: u64,
    opts: &UploadOptions<'_, 'a>,
    inline_buf: &mut Vec<u8>,
) -> Result<Uploaded, TransferError> {
    let full_key = store.full_key(key);
    let (etag, expected, multipart) = if opts.layout.is_multipart(size) {
        let (etag, expected) = upload_multipart(store, path, &full_key, size, opts)?;
        (etag, expected, true)
    } else {
        let (etag, expected) = upload_single(store, path, &full_key, size, opts, inline_buf)?;
        (etag, expected, false)
    };
    let check = opts.verify_etag && (!multipart || opts.verify_multipart);
    if check && etag != expected {
        return Err(TransferError::Mismatch(format!(
            "ETag mismatch after upload of {full_key}: sent {expected}, S3 stored {etag}; the object may be corrupt"
        )));
    }
    Ok(Uploaded {
        etag,
        expected_etag: expected,
        verified: check,
    })
}

fn upload_single(
    store: &S3Store,
    path: &Path,
    full_key: &str,
    size: u64,
    opts: &UploadOptions<'_, '_>,
    inline_buf: &mut Vec<u8>,
) -> Result<(String, String), TransferError> {
    let client = store.client();
    let file = open_source(path)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let etag = if size <= INLINE_LIMIT {
        inline_buf.clear();
        let read = file
            .take(size + 1)
            .read_to_end(inline_buf)
            .map_err(|e| io_err("cannot read", path, e))?;
        if read as u64 != size {
            return Err(TransferError::Io(format!(
                "{} changed size while being read",
                path.display()
            )));
        }
        let md5: [u8; 16] = Md5::digest(&inline_buf[..]).into();
        if opts.content_md5 {
            headers.push(("content-md5".into(), base64(&md5)));
        }
        let etag = client.put_object(
            store.bucket(),
            full_key,
            Payload::Bytes(inline_buf),
            &headers,
        );
        (etag, hex(&md5))
    } else {
        // First pass: digests for the headers. Second pass: stream the same bytes. If the
        // file changes in between, S3 rejects the digest (or the ETag check catches it).
        let signed = !client.config().unsigned_payload;
        let mut md5 = Md5::new();
        let mut sha = Sha256::new();
        let mut reader = file.take(size);
        let mut buf = vec![0u8; STREAM_BUFFER];
        let read = copy_observed(&mut reader, &mut io::sink(), &mut buf, &mut |chunk| {
            md5.update(chunk);
            if signed {
                sha.update(chunk);
            }
        })
        .map_err(|e| io_err("cannot read", path, e))?;
        if read != size {
            return Err(TransferError::Io(format!(
                "{} changed size while being read",
                path.display()
            )));
        }
        let md5: [u8; 16] = md5.finalize().into();
        if opts.content_md5 {
            headers.push(("content-md5".into(), base64(&md5)));
        }
        let sha256 = signed.then(|| hex(&sha.finalize()));
        let open = || -> io::Result<Box<dyn Read>> { Ok(Box::new(File::open(path)?.take(size))) };
        let etag = client.put_object(
            store.bucket(),
            full_key,
            Payload::Stream {
                len: size,
                sha256,
                open: &open,
            },
            &headers,
        );
        (etag, hex(&md5))
    };
    let (returned, expected) = etag;
    let returned = returned.map_err(TransferError::S3)?;
    Ok((
        returned
            .as_deref()
            .map(strip_quotes)
            .unwrap_or_default()
            .to_string(),
        expected,
    ))
}

fn upload_multipart<'a>(
    store: &'a S3Store,
    path: &Path,
    full_key: &str,
    size: u64,
    opts: &UploadOptions<'_, 'a>,
) -> Result<(String, String), TransferError> {
    let client = store.client();
    let bucket = store.bucket();
    let file = open_source(path)?;
    let upload_id = client
        .create_multipart_upload(bucket, full_key, &[])
        .map_err(TransferError::S3)?;
    let result = send_parts(store, &file, path, full_key, size, &upload_id, opts);
    match result {
        Ok(parts) => {
            let md5s: Vec<[u8; 16]> = parts.iter().map(|(_, _, md5)| *md5).collect();
            let list: Vec<(u32, String)> =
                parts.into_iter().map(|(n, etag, _)| (n, etag)).collect();
            match client.complete_multipart_upload(bucket, full_key, &upload_id, &list, &[]) {
                Ok(etag) => Ok((strip_quotes(&etag).to_string(), multipart_etag(&md5s))),
                Err(e) => {
                    abort(store, full_key, &upload_id);
                    Err(TransferError::S3(e))
                }
            }
        }
        Err(e) => {
            abort(store, full_key, &upload_id);
            Err(e)
        }
    }
}

fn abort(store: &S3Store, full_key: &str, upload_id: &str) {
    if let Err(e) = store
        .client()
        .abort_multipart_upload(store.bucket(), full_key, upload_id)
    {
        log::warn!(
            "could not abort the multipart upload of {full_key} (upload id {upload_id}): {e}"
        );
    }
}

/// Reads every part into a pooled buffer and queues it; returns (number, ETag, MD5) per part.
fn send_parts<'a>(
    store: &'a S3Store,
    file: &File,
    path: &Path,
    full_key: &str,
    size: u64,
    upload_id: &str,
    opts: &UploadOptions<'_, 'a>,
) -> Result<Vec<(u32, String, [u8; 16])>, TransferError> {
    let count = opts.layout.part_count(size);
    if count > 10_000 {
        return Err(TransferError::Io(format!(
            "{} needs {count} parts, more than S3's 10,000: raise --multipart-chunksize",
            path.display()
        )));
    }
    let (done_tx, done_rx) = unbounded();
    let mut submitted = 0u64;
    let mut failure: Option<TransferError> = None;
    let key: Arc<str> = Arc::from(full_key);
    let upload_id: Arc<str> = Arc::from(upload_id);
    for index in 0..count {
        if (opts.cancelled)() {
            failure = Some(TransferError::Cancelled);
            break;
        }
        let (offset, len) = opts.layout.part_range(size, index);
        let mut buf = opts.pool.take();
        if let Err(e) = read_exact_at(file, &mut buf[..len as usize], offset) {
            opts.pool.give(buf);
            failure = Some(io_err("cannot read (did it shrink?)", path, e));
            break;
        }
        let job = PartJob {
            client: store.client(),
            bucket: store.bucket(),
            key: Arc::clone(&key),
            upload_id: Arc::clone(&upload_id),
            part_number: index as u32 + 1,
            buf,
            len: len as usize,
            content_md5: opts.content_md5,
            done: done_tx.clone(),
        };
        opts.parts.submit(job);
        submitted += 1;
    }
    drop(done_tx);
    let mut parts = Vec::with_capacity(submitted as usize);
    for _ in 0..submitted {
        match done_rx.recv() {
            Ok(r) => match r.etag {
                Ok(etag) => parts.push((r.part_number, etag, r.md5)),
                Err(e) => {
                    failure.get_or_insert(TransferError::S3(e));
                }
            },
            Err(_) => {
                failure.get_or_insert(TransferError::Io(
                    "a part thread stopped unexpectedly".into(),
                ));
                break;
            }
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    parts.sort_by_key(|p| p.0);
    Ok(parts)
}

/// Local file → local file: copied through a temporary file in the target directory, then
/// renamed, with the source's modification time.
pub fn copy_local(
    src: &Path,
    dst: &Path,
    size: u64,
    mtime: Timestamp,
    buf: &mut Vec<u8>,
) -> Result<String, TransferError> {
    let mut input = open_source(src)?;
    let mut temp =
        TempFile::create(dst).map_err(|e| io_err("cannot create a temporary file for", dst, e))?;
    if buf.len() < STREAM_BUFFER {
        buf.resize(STREAM_BUFFER, 0);
    }
    let mut md5 = Md5::new();
    let out = temp.file().map_err(|e| io_err("cannot write", dst, e))?;
    let copied = copy_observed(&mut input, out, buf, &mut |chunk| md5.update(chunk))
        .map_err(|e| io_err("cannot copy to", dst, e))?;
    if copied != size {
        return Err(TransferError::Io(format!(
            "{} changed size while being copied",
            src.display()
        )));
    }
    temp.commit(dst, mtime)
        .map_err(|e| io_err("cannot finish writing", dst, e))?;
    Ok(hex(&md5.finalize()))
}

/// The ETag a local file would have under `layout` (for `--check-etag`).
pub fn local_etag(path: &Path, layout: PartLayout) -> Result<String, TransferError> {
    let file = open_source(path)?;
    let size = file
        .metadata()
        .map_err(|e| io_err("cannot stat", path, e))?
        .len();
    let mut builder = EtagBuilder::new(layout, size);
    let mut buf = vec![0u8; STREAM_BUFFER];
    copy_observed(&mut file.take(size), &mut io::sink(), &mut buf, &mut |c| {
        builder.update(c)
    })
    .map_err(|e| io_err("cannot read", path, e))?;
    Ok(builder.finish())
}
