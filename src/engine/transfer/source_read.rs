//! Reading a source through the storage interface, for the generic transfer path
//! ([`super::generic`]): the first read of a write, pinned to the tag the HEAD gave; a
//! reader that hashes what passes; the MD5s of a whole object and of its parts, read ahead
//! of the write.

use std::io::{self, Read};
use std::sync::Mutex;

use md5::{Digest, Md5};

use super::TransferError;
use crate::storage::backend::{Backend, ReadOptions};
use crate::storage::error::{ErrorKind, StorageError};

/// A reader that feeds every byte it passes to a shared MD5 (reset by whoever opens it).
pub(super) struct Hashing<'h, R> {
    pub(super) inner: R,
    pub(super) md5: &'h Mutex<Md5>,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.md5.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

pub(super) fn io_of(e: StorageError) -> io::Error {
    io::Error::other(e.to_string())
}

/// The reads of `key` that one write's attempts make. The first is made when this is
/// built, pinned to the tag the source's HEAD gave, so a source that refuses it (an
/// archived object, a denied one) fails as the source's error rather than as the target's
/// write, and a failed condition means the object changed since (worth another attempt),
/// not a condition of the user's. The first attempt takes that reader; a retry reads again.
pub(super) struct Reads<'s, 'o> {
    source: &'s dyn Backend,
    key: &'o str,
    opts: &'o ReadOptions<'o>,
    first: Mutex<Option<Box<dyn Read + Send + 's>>>,
}

impl<'s, 'o> Reads<'s, 'o> {
    pub(super) fn start(
        source: &'s dyn Backend,
        key: &'o str,
        opts: &'o ReadOptions<'o>,
    ) -> Result<Self, TransferError> {
        let first = match source.read(key, opts) {
            Ok((_, reader)) => reader,
            Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                return Err(TransferError::Mismatch(format!(
                    "{} changed while it was being read",
                    source.name_of(key)
                )));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Reads {
            source,
            key,
            opts,
            first: Mutex::new(Some(first)),
        })
    }

    /// A reader for one attempt.
    pub(super) fn open(&self) -> io::Result<Box<dyn Read + Send + 's>> {
        match self.first.lock().ok().and_then(|mut f| f.take()) {
            Some(reader) => Ok(reader),
            None => Ok(self.source.read(self.key, self.opts).map_err(io_of)?.1),
        }
    }
}

/// The MD5 of everything `reader` yields.
pub(super) fn md5_of(mut reader: impl Read) -> io::Result<[u8; 16]> {
    let mut h = Md5::new();
    let mut buf = vec![0u8; super::STREAM_BUFFER];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}

/// The MD5 of the whole object and of each part, in one read of a local source.
pub(super) fn hash_ahead(
    source: &dyn Backend,
    key: &str,
    pinned: &ReadOptions<'_>,
    part: u64,
) -> Result<([u8; 16], Vec<[u8; 16]>), TransferError> {
    let (_, mut reader) = source.read(key, pinned)?;
    let (mut whole, mut each, mut parts) = (Md5::new(), Md5::new(), Vec::new());
    let mut in_part = 0u64;
    let mut buf = vec![0u8; super::STREAM_BUFFER];
    loop {
        let want = buf.len().min((part - in_part) as usize);
        let n = reader
            .read(&mut buf[..want])
            .map_err(|e| TransferError::Io(format!("{}: {e}", source.name_of(key))))?;
        if n == 0 {
            break;
        }
        whole.update(&buf[..n]);
        each.update(&buf[..n]);
        in_part += n as u64;
        if in_part == part {
            parts.push(std::mem::replace(&mut each, Md5::new()).finalize().into());
            in_part = 0;
        }
    }
    if in_part > 0 {
        parts.push(each.finalize().into());
    }
    Ok((whole.finalize().into(), parts))
}
