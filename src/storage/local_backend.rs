//! The local side of the storage interface: a directory of a [`LocalStore`]. Writes go to a
//! temporary file beside the final one (see [`TempFile`]) and are renamed into place when
//! complete, so no partial file ever carries its final name; parts are written at their
//! offsets, in any order.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use md5::{Digest, Md5};

use super::ListItem;
use super::backend::{
    Backend, Body, CopySource, PartReceipt, PartWriter, ReadOptions, WriteOptions, Written,
};
use super::caps::{Capabilities, PartLimits};
use super::error::{ErrorKind, StorageError};
use super::local::{LocalStore, TempFile};
use super::props::{ChecksumScope, ContentTag, Properties, StoredAlgorithm, StoredChecksum};
use crate::util::time::Timestamp;

const CAPABILITIES: Capabilities = Capabilities {
    list_sorted: true,
    versions: false,
    tags: false,
    metadata: false,
    set_mtime: true,
    conditional_writes: false,
    whole_second_mtime: false,
    list_parts: false,
    local_reads: true,
    parts: PartLimits {
        min_part: 1,
        max_part: u64::MAX,
        max_parts: u32::MAX,
        max_single: u64::MAX,
    },
    delete_batch: 1,
    checksums: &[],
    copy_from: &[],
    tiers: &[],
    trailing_dots: true,
};

/// A local directory as a [`Backend`].
pub struct LocalBackend {
    store: LocalStore,
}

/// The engine's local fast paths use the store itself.
impl std::ops::Deref for LocalBackend {
    type Target = LocalStore;
    fn deref(&self) -> &LocalStore {
        &self.store
    }
}

impl LocalBackend {
    pub fn new(store: LocalStore) -> LocalBackend {
        LocalBackend { store }
    }

    pub fn store(&self) -> &LocalStore {
        &self.store
    }
}

/// The storage error of a failed file operation on `path`.
fn io_error(op: &'static str, path: &std::path::Path, e: io::Error) -> StorageError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::InvalidData => ErrorKind::Integrity,
        io::ErrorKind::PermissionDenied => ErrorKind::AccessDenied,
        io::ErrorKind::Interrupted | io::ErrorKind::TimedOut => ErrorKind::Transient,
        _ => ErrorKind::Fatal,
    };
    StorageError {
        code: Some(format!("{:?}", e.kind())),
        ..StorageError::new(kind, op, e.to_string())
    }
    .about(path.display().to_string())
}

/// Copies `body` into `file` at `offset`, refusing it (as S3 and Blob refuse a body that
/// does not match its `Content-MD5`) when its MD5 is given and the bytes do not have it.
fn write_body(file: &mut File, offset: u64, body: &Body<'_>) -> io::Result<()> {
    let mut reader = (body.open)()?.take(body.len);
    file.seek(SeekFrom::Start(offset))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut copied = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if body.md5.is_some() {
            md5.update(&buf[..n]);
        }
        file.write_all(&buf[..n])?;
        copied += n as u64;
    }
    if copied != body.len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the body ended after {copied} of {} bytes", body.len),
        ));
    }
    // Read on to the end: a body longer than announced is an error, and an HTTP body read
    // to its end gives its connection back to the pool for the next request.
    if reader.into_inner().read(&mut buf[..1])? > 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the body is longer than the {} bytes announced", body.len),
        ));
    }
    check_md5(body.md5, md5)
}

/// What a write reports: the MD5 the file was checked to have, if one was given.
fn checked(md5: Option<[u8; 16]>) -> Written {
    Written {
        tag: ContentTag::Absent,
        stored: md5
            .map(|m| StoredChecksum {
                algorithm: StoredAlgorithm::Md5,
                scope: ChecksumScope::FullObject,
                value: crate::util::encoding::base64(&m),
            })
            .into_iter()
            .collect(),
        ..Written::default()
    }
}

/// `Err(InvalidData)` when an expected MD5 is not what was written.
fn check_md5(expected: Option<[u8; 16]>, got: Md5) -> io::Result<()> {
    let got: [u8; 16] = got.finalize().into();
    match expected {
        Some(e) if e != got => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the bytes written do not have the MD5 given with them",
        )),
        _ => Ok(()),
    }
}

impl Backend for LocalBackend {
    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        Some(self.path_of(key))
    }

    fn name_of(&self, key: &str) -> String {
        self.store.path_of(key).display().to_string()
    }

    fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), StorageError> {
        self.store
            .list(emit)
            .map_err(|e| StorageError::new(ErrorKind::Fatal, "list", e.0))
    }

    fn head(&self, key: &str, _opts: &ReadOptions<'_>) -> Result<Option<Properties>, StorageError> {
        let path = self.store.path_of(key);
        let entry = self
            .store
            .stat(key)
            .map_err(|e| io_error("stat", &path, e))?;
        Ok(entry.map(|e| Properties {
            size: e.size,
            modified: Some(e.last_modified),
            ..Properties::default()
        }))
    }

    fn read<'s>(
        &'s self,
        key: &str,
        opts: &ReadOptions<'_>,
    ) -> Result<(Properties, Box<dyn Read + Send + 's>), StorageError> {
        let path = self.store.path_of(key);
        let props = self
            .head(key, opts)?
            .ok_or_else(|| io_error("open", &path, io::ErrorKind::NotFound.into()))?;
        let mut file = File::open(&path).map_err(|e| io_error("open", &path, e))?;
        let reader: Box<dyn Read + Send> = match opts.range {
            Some((first, last)) => {
                if last < first || last >= props.size {
                    return Err(StorageError::new(
                        ErrorKind::InvalidRequest,
                        "read",
                        format!("bytes {first}-{last} are not within {} bytes", props.size),
                    )
                    .about(path.display().to_string()));
                }
                file.seek(SeekFrom::Start(first))
                    .map_err(|e| io_error("seek", &path, e))?;
                Box::new(file.take(last - first + 1))
            }
            None => Box::new(file),
        };
        Ok((props, reader))
    }

    fn write(
        &self,
        key: &str,
        body: &Body<'_>,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        let path = self.store.path_of(key);
        let mut temp = TempFile::create(&path).map_err(|e| io_error("create", &path, e))?;
        temp.file()
            .and_then(|f| write_body(f, 0, body))
            .map_err(|e| io_error("write", &path, e))?;
        temp.commit(&path, opts.mtime.unwrap_or_else(Timestamp::now))
            .map_err(|e| io_error("rename", &path, e))?;
        Ok(checked(body.md5))
    }

    fn begin_parts<'s>(
        &'s self,
        key: &str,
        part_size: u64,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        let path = self.store.path_of(key);
        let temp = TempFile::create(&path).map_err(|e| io_error("create", &path, e))?;
        Ok(Box::new(LocalParts {
            path,
            part_size: part_size.max(1),
            whole_md5: opts.whole_md5,
            mtime: opts.mtime,
            state: Mutex::new(Some((temp, Vec::new()))),
        }))
    }

    fn resume_parts<'s>(
        &'s self,
        key: &str,
        _id: &str,
        _opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        Err(
            StorageError::unsupported("resume", "a local write in parts does not outlive its run")
                .about(self.name_of(key)),
        )
    }

    fn copy_source(&self, _key: &str, _version: Option<&str>) -> Option<CopySource> {
        None
    }

    fn copy(
        &self,
        key: &str,
        _source: &CopySource,
        _opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        Err(
            StorageError::unsupported("copy", "a local directory has no server-side copy")
                .about(self.name_of(key)),
        )
    }

    fn delete(
        &self,
        key: &str,
        _version: Option<&str>,
        _if_match: Option<&str>,
    ) -> Result<(), StorageError> {
        let path = self.store.path_of(key);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("delete", &path, e)),
            _ => Ok(()),
        }
    }

    fn delete_batch(&self, keys: &[String]) -> Result<Vec<(String, StorageError)>, StorageError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.delete(k, None, None).err().map(|e| (k.clone(), e)))
            .collect())
    }

    fn tags(
        &self,
        key: &str,
        _version: Option<&str>,
    ) -> Result<Vec<(String, String)>, StorageError> {
        Err(StorageError::unsupported("tags", "local files have no tags").about(self.name_of(key)))
    }

    fn set_tags(&self, key: &str, _tags: &[(String, String)]) -> Result<(), StorageError> {
        Err(StorageError::unsupported("tags", "local files have no tags").about(self.name_of(key)))
    }
}

/// A local write in parts: one temporary file, part `n` at `(n - 1) × part_size`.
struct LocalParts {
    path: std::path::PathBuf,
    part_size: u64,
    /// Checked against the whole file before it is renamed into place.
    whole_md5: Option<[u8; 16]>,
    mtime: Option<Timestamp>,
    /// The file and the parts written, until completed or aborted.
    state: Mutex<Option<(TempFile, Vec<WrittenPart>)>>,
}

/// A part written: number, size, offset.
type WrittenPart = (u32, u64, u64);

impl LocalParts {
    fn with_state<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut TempFile, &mut Vec<WrittenPart>) -> io::Result<T>,
    ) -> Result<T, StorageError> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| StorageError::new(ErrorKind::Fatal, op, "a writer thread panicked"))?;
        let (temp, parts) = guard
            .as_mut()
            .ok_or_else(|| StorageError::new(ErrorKind::Fatal, op, "the write is finished"))?;
        f(temp, parts).map_err(|e| io_error(op, &self.path, e))
    }
}

impl PartWriter for LocalParts {
    fn id(&self) -> &str {
        "local"
    }

    fn put(&self, number: u32, body: &Body<'_>) -> Result<PartReceipt, StorageError> {
        if number == 0 {
            return Err(StorageError::new(
                ErrorKind::InvalidRequest,
                "write part",
                "parts are numbered from 1",
            ));
        }
        if body.len > self.part_size {
            return Err(StorageError::new(
                ErrorKind::InvalidRequest,
                "write part",
                format!(
                    "part {number} has {} bytes, more than the part size {}",
                    body.len, self.part_size
                ),
            ));
        }
        let offset = u64::from(number - 1) * self.part_size;
        self.with_state("write part", |temp, parts| {
            write_body(temp.file()?, offset, body)?;
            parts.retain(|(n, _, _)| *n != number);
            parts.push((number, body.len, offset));
            Ok(())
        })?;
        Ok(PartReceipt {
            number,
            tag: number.to_string(),
            size: body.len,
            checksum: None,
        })
    }

    fn put_copy(
        &self,
        _number: u32,
        _source: &CopySource,
        _range: (u64, u64),
    ) -> Result<PartReceipt, StorageError> {
        Err(StorageError::unsupported(
            "copy part",
            "a local directory has no server-side copy",
        ))
    }

    fn list(&self) -> Result<Vec<PartReceipt>, StorageError> {
        self.with_state("list parts", |_, parts| {
            let mut out: Vec<PartReceipt> = parts
                .iter()
                .map(|(n, s, _)| PartReceipt {
                    number: *n,
                    tag: n.to_string(),
                    size: *s,
                    checksum: None,
                })
                .collect();
            out.sort_by_key(|p| p.number);
            Ok(out)
        })
    }

    fn complete(&self, parts: &[PartReceipt]) -> Result<Written, StorageError> {
        let mut guard = self.state.lock().map_err(|_| {
            StorageError::new(ErrorKind::Fatal, "complete", "a writer thread panicked")
        })?;
        let Some((mut temp, written)) = guard.take() else {
            return Err(StorageError::new(
                ErrorKind::Fatal,
                "complete",
                "the write is finished",
            ));
        };
        let total: u64 = parts.iter().map(|p| p.size).sum();
        let all_there = parts.iter().all(|p| {
            written
                .iter()
                .any(|(n, s, _)| *n == p.number && *s == p.size)
        });
        if !all_there {
            return Err(StorageError::new(
                ErrorKind::InvalidRequest,
                "complete",
                "a part to complete with was not written",
            )
            .about(self.path.display().to_string()));
        }
        let whole = self.whole_md5;
        temp.file()
            .and_then(|f| {
                f.flush()?;
                f.set_len(total)?;
                if whole.is_some() {
                    f.seek(SeekFrom::Start(0))?;
                    let mut md5 = Md5::new();
                    let mut buf = vec![0u8; 256 << 10];
                    loop {
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        md5.update(&buf[..n]);
                    }
                    check_md5(whole, md5)?;
                }
                Ok(())
            })
            .map_err(|e| io_error("complete", &self.path, e))?;
        temp.commit(&self.path, self.mtime.unwrap_or_else(Timestamp::now))
            .map_err(|e| io_error("rename", &self.path, e))?;
        Ok(checked(whole))
    }

    fn abort(&self) -> Result<(), StorageError> {
        // Dropping the temporary file removes it.
        if let Ok(mut guard) = self.state.lock() {
            guard.take();
        }
        Ok(())
    }
}
