//! Local file → local file, and the ETag of a local file.

use std::io::{self, Read};
use std::path::Path;

use md5::{Digest, Md5};

use super::{STREAM_BUFFER, TransferError, io_err, open_source, stream_buffer};
use crate::integrity::checksum::ChecksumSpec;
use crate::integrity::digest::{Digester, Digests, Parts};
use crate::storage::local::{LocalStore, TempFile, copy_observed};
use crate::util::encoding::hex;
use crate::util::time::Timestamp;

/// Copies through a temporary file in the target directory, renamed into place with the
/// source's modification time. Returns the MD5 of the bytes copied.
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

/// The ETag (and with `spec` the additional checksum) a local file has when cut into `parts`
/// (for the content update checks).
pub fn local_digests(
    path: &Path,
    parts: Parts,
    spec: Option<ChecksumSpec>,
) -> Result<Digests, TransferError> {
    let file = open_source(path)?;
    let size = file
        .metadata()
        .map_err(|e| io_err("cannot stat", path, e))?
        .len();
    let mut builder = Digester::new(parts, spec);
    let mut buf = stream_buffer(size);
    copy_observed(&mut file.take(size), &mut io::sink(), &mut buf, &mut |c| {
        builder.update(c)
    })
    .map_err(|e| io_err("cannot read", path, e))?;
    Ok(builder.finish())
}

/// How a digest was computed, as the hash cache records it: the part layout and the
/// additional checksum, if any.
fn digest_form(parts: &Parts, spec: Option<ChecksumSpec>) -> String {
    let layout = match parts {
        Parts::Single => "single".to_string(),
        Parts::Uniform(size) => format!("uniform:{size}"),
        Parts::Sizes(sizes) => {
            let list: Vec<String> = sizes.iter().map(u64::to_string).collect();
            format!("sizes:{}", hex(&Md5::digest(list.join(",").as_bytes())))
        }
    };
    match spec {
        None => layout,
        Some(s) => format!(
            "{layout}+{}{}",
            s.algorithm.name().to_ascii_lowercase(),
            if s.full_object { ":full" } else { "" }
        ),
    }
}

/// [`local_digests`] of the file of `key`, served from the side's hash cache when it holds
/// them for the file as it is now, and recorded there when they had to be computed.
pub fn cached_digests(
    store: &LocalStore,
    key: &str,
    parts: Parts,
    spec: Option<ChecksumSpec>,
) -> Result<Digests, TransferError> {
    let path = store.path_of(key);
    let Some(cache) = store.hash_cache() else {
        return local_digests(&path, parts, spec);
    };
    let form = digest_form(&parts, spec);
    if let Some(value) = cache.get(&path, &form) {
        let (etag, checksum) = match value.split_once(' ') {
            Some((e, c)) => (e.to_string(), Some(c.to_string())),
            None => (value, None),
        };
        if spec.is_none() || checksum.is_some() {
            log::debug!(key = key; "digests from the local hash cache");
            return Ok(Digests { etag, checksum });
        }
    }
    let before = std::fs::metadata(&path).map_err(|e| io_err("cannot stat", &path, e))?;
    let digests = local_digests(&path, parts, spec)?;
    let value = match &digests.checksum {
        Some(c) => format!("{} {c}", digests.etag),
        None => digests.etag.clone(),
    };
    cache.put(&path, &before, &form, &value);
    Ok(digests)
}
