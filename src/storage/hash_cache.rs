//! A cache of the digests of local files (azcopy's `--local-hash-storage-mode`), so that
//! a re-run over unchanged files does not read them again to compare them by content.
//!
//! Each file's record holds its size and modification time (to the nanosecond) when it was
//! digested, and the digests computed then, each under the form it was computed in (a
//! plain MD5, a multipart ETag of given part sizes, with an additional checksum). A record
//! whose size or modification time differs from the file's, or that cannot be read or
//! parsed, is never trusted: the file is read again and the record rewritten. (Like every
//! cache keyed by size and time, it cannot see a change that keeps both; a tool that
//! rewrites a file and restores its mtime defeats it, as it defeats `--check-mtime`.)
//!
//! Where records live:
//! - **HiddenFiles**: a sidecar `.NAME.s3sync-hash` next to the file, or under
//!   `--hash-meta-dir` at the file's relative path. Listings skip sidecars
//!   ([`is_sidecar`]), so they are never uploaded, compared or deleted.
//! - **XAttr**: the extended attribute `user.s3sync.hash` of the file itself.
//!
//! Writes are atomic (a temporary file renamed over the sidecar; one `setxattr`). A cache
//! that cannot be written (read-only tree, no user xattrs) is reported once as a warning and
//! the run goes on without it.

use std::fs::{self, Metadata};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const MAGIC: &str = "s3sync-hash 1";
const SIDECAR_SUFFIX: &str = ".s3sync-hash";
const XATTR_NAME: &str = "user.s3sync.hash";
/// Digest forms kept per file (a file compared against stores of different part sizes).
const MAX_FORMS: usize = 4;

/// Where the records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Sidecar files, next to each file or under this directory.
    HiddenFiles(Option<PathBuf>),
    /// Extended attributes of the files.
    XAttr,
}

/// azcopy's own sidecars (`.NAME.azcopysyncmeta`), met in trees azcopy synced.
const AZCOPY_SIDECAR_SUFFIX: &str = ".azcopysyncmeta";

/// Whether a file name is one of the cache's sidecars (or their temporary files), or one of
/// azcopy's: never an object.
pub fn is_sidecar(name: &str) -> bool {
    name.starts_with('.')
        && (name.ends_with(SIDECAR_SUFFIX)
            || name.contains(".s3sync-hash.tmp")
            || name.ends_with(AZCOPY_SIDECAR_SUFFIX))
}

/// The cache of one run's local side.
#[derive(Debug)]
pub struct HashCache {
    storage: Storage,
    /// The local side's root (a hash-meta-dir mirrors paths relative to it).
    root: PathBuf,
    warned: AtomicBool,
}

/// The size and time a record is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    secs: i64,
    nanos: u32,
}

impl Stamp {
    fn of(meta: &Metadata) -> Option<Stamp> {
        let t = meta.modified().ok()?;
        let (secs, nanos) = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                (-i64::try_from(d.as_secs()).ok()?, d.subsec_nanos())
            }
        };
        Some(Stamp {
            size: meta.len(),
            secs,
            nanos,
        })
    }
}

/// One record: the stamp and the digests by form, most recent first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    stamp: Stamp,
    forms: Vec<(String, String)>,
}

impl Record {
    fn render(&self) -> String {
        let mut out = format!(
            "{MAGIC}\nsize {}\nmtime {}.{:09}\n",
            self.stamp.size, self.stamp.secs, self.stamp.nanos
        );
        for (form, value) in &self.forms {
            out.push_str(&format!("{form} {value}\n"));
        }
        out
    }

    fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next()? != MAGIC {
            return None;
        }
        let size = lines.next()?.strip_prefix("size ")?.parse().ok()?;
        let (secs, nanos) = lines.next()?.strip_prefix("mtime ")?.split_once('.')?;
        let stamp = Stamp {
            size,
            secs: secs.parse().ok()?,
            nanos: nanos.parse().ok()?,
        };
        let mut forms = Vec::new();
        for line in lines {
            let (form, value) = line.split_once(' ')?;
            if form.is_empty() || value.is_empty() {
                return None;
            }
            forms.push((form.to_string(), value.to_string()));
        }
        Some(Record { stamp, forms })
    }
}

impl HashCache {
    pub fn new(storage: Storage, root: &Path) -> HashCache {
        HashCache {
            storage,
            root: root.to_path_buf(),
            warned: AtomicBool::new(false),
        }
    }

    /// The digest of `path` in `form`, when a record valid for the file's current size and
    /// time holds one.
    pub fn get(&self, path: &Path, form: &str) -> Option<String> {
        let meta = fs::metadata(path).ok()?;
        let stamp = Stamp::of(&meta)?;
        let record = self.read(path)?;
        if record.stamp != stamp {
            log::debug!("hash cache: the record of {} is stale", path.display());
            return None;
        }
        record
            .forms
            .into_iter()
            .find(|(f, _)| f == form)
            .map(|(_, v)| v)
    }

    /// Records `value` as the digest of `path` in `form`, for the file's size and time as
    /// `before` (its metadata from before it was read) gives them, if the file still has
    /// them: a file changed while it was read is not recorded.
    pub fn put(&self, path: &Path, before: &Metadata, form: &str, value: &str) {
        let (Some(stamp), Some(now)) = (
            Stamp::of(before),
            fs::metadata(path).ok().and_then(|m| Stamp::of(&m)),
        ) else {
            return;
        };
        if stamp != now {
            return;
        }
        let mut forms = match self.read(path) {
            Some(r) if r.stamp == stamp => r.forms,
            _ => Vec::new(),
        };
        forms.retain(|(f, _)| f != form);
        forms.insert(0, (form.to_string(), value.to_string()));
        forms.truncate(MAX_FORMS);
        let text = Record { stamp, forms }.render();
        if let Err(e) = self.write(path, &text)
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            log::warn!(
                "the local hash cache cannot be written ({}: {e}); files are read again on \
                 the next run",
                path.display()
            );
        }
    }

    fn sidecar(&self, path: &Path, dir: Option<&Path>) -> Option<PathBuf> {
        let name = path.file_name()?.to_string_lossy();
        let side = format!(".{name}{SIDECAR_SUFFIX}");
        match dir {
            None => Some(path.with_file_name(side)),
            Some(dir) => {
                let rel = path.strip_prefix(&self.root).ok()?;
                let parent = rel.parent().unwrap_or(Path::new(""));
                Some(dir.join(parent).join(side))
            }
        }
    }

    fn read(&self, path: &Path) -> Option<Record> {
        let text = match &self.storage {
            Storage::HiddenFiles(dir) => {
                fs::read_to_string(self.sidecar(path, dir.as_deref())?).ok()?
            }
            Storage::XAttr => xattr::get(path, XATTR_NAME)?,
        };
        Record::parse(&text)
    }

    fn write(&self, path: &Path, text: &str) -> std::io::Result<()> {
        match &self.storage {
            Storage::HiddenFiles(dir) => {
                let side = self
                    .sidecar(path, dir.as_deref())
                    .ok_or_else(|| std::io::Error::other("no sidecar name for this path"))?;
                if let Some(parent) = side.parent() {
                    fs::create_dir_all(parent)?;
                }
                let tmp = side.with_file_name(format!(
                    "{}.tmp{}",
                    side.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                    std::process::id()
                ));
                let mut file = fs::File::create(&tmp)?;
                let written = file
                    .write_all(text.as_bytes())
                    .and_then(|()| file.sync_data());
                drop(file);
                match written.and_then(|()| fs::rename(&tmp, &side)) {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let _ = fs::remove_file(&tmp);
                        Err(e)
                    }
                }
            }
            Storage::XAttr => xattr::set(path, XATTR_NAME, text),
        }
    }
}

/// `user.` extended attributes through the C library (Linux and macOS).
mod xattr {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn c_path(path: &Path) -> Option<CString> {
        CString::new(path.as_os_str().as_bytes()).ok()
    }

    pub fn get(path: &Path, name: &str) -> Option<String> {
        let (p, n) = (c_path(path)?, CString::new(name).ok()?);
        let mut buf = vec![0u8; 4096];
        // SAFETY: both strings are NUL-terminated and live across the call; the buffer's
        // pointer and length describe memory we own.
        let len =
            unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        let len = usize::try_from(len).ok()?;
        buf.truncate(len);
        String::from_utf8(buf).ok()
    }

    pub fn set(path: &Path, name: &str, value: &str) -> std::io::Result<()> {
        let bad = || std::io::Error::other("a path or name with a NUL byte");
        let (p, n) = (
            c_path(path).ok_or_else(bad)?,
            CString::new(name).map_err(|_| bad())?,
        );
        // SAFETY: as in `get`; the value's pointer and length describe a live slice.
        let rc = unsafe {
            libc::setxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Whether the file system of `path` takes user extended attributes.
    pub fn supported(path: &Path) -> std::io::Result<()> {
        set(path, "user.s3sync.probe", "1")?;
        let (Some(p), Ok(n)) = (c_path(path), CString::new("user.s3sync.probe")) else {
            return Ok(());
        };
        // SAFETY: NUL-terminated strings alive across the call.
        unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) };
        Ok(())
    }
}

/// Checks that `dir` (a directory of the tree) can hold user extended attributes.
pub fn xattr_supported(dir: &Path) -> std::io::Result<()> {
    xattr::supported(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("s3sync-hc-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        d
    }

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let r = Record {
            stamp: Stamp {
                size: 5,
                secs: 1_700_000_000,
                nanos: 12,
            },
            forms: vec![
                ("md5".into(), "abc".into()),
                ("etag:8388608".into(), "d-2".into()),
            ],
        };
        assert_eq!(Record::parse(&r.render()), Some(r));
        assert_eq!(Record::parse("s3sync-hash 2\nsize 1\nmtime 1.0\n"), None);
        assert_eq!(Record::parse("s3sync-hash 1\nsize x\nmtime 1.0\n"), None);
        assert_eq!(Record::parse(""), None);
    }

    #[test]
    fn a_record_serves_until_size_or_time_change() {
        let root = dir("hidden");
        let file = root.join("a.txt");
        fs::write(&file, b"hello").unwrap_or_else(|e| panic!("{e}"));
        let cache = HashCache::new(Storage::HiddenFiles(None), &root);
        let meta = fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
        cache.put(&file, &meta, "md5", "cached");
        assert!(root.join(".a.txt.s3sync-hash").exists());
        assert!(is_sidecar(".a.txt.s3sync-hash"));
        assert!(is_sidecar(".a.txt.azcopysyncmeta"));
        assert!(!is_sidecar("a.txt.s3sync-hash"));
        assert_eq!(cache.get(&file, "md5").as_deref(), Some("cached"));
        assert_eq!(cache.get(&file, "etag:5"), None);
        fs::write(&file, b"hello world").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cache.get(&file, "md5"), None, "a changed size is stale");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_meta_dir_mirrors_relative_paths() {
        let root = dir("tree");
        let meta_dir = dir("meta");
        let file = root.join("sub/b.bin");
        fs::create_dir_all(root.join("sub")).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));
        let cache = HashCache::new(Storage::HiddenFiles(Some(meta_dir.clone())), &root);
        let meta = fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
        cache.put(&file, &meta, "md5", "v");
        assert!(meta_dir.join("sub/.b.bin.s3sync-hash").exists());
        assert!(!root.join("sub/.b.bin.s3sync-hash").exists());
        assert_eq!(cache.get(&file, "md5").as_deref(), Some("v"));
        let _ = fs::remove_dir_all(&root);
        let _ = fs::remove_dir_all(&meta_dir);
    }
}

#[cfg(test)]
mod xattr_tests {
    use super::*;

    #[test]
    fn xattr_records_live_on_the_file() {
        let root = std::env::temp_dir().join(format!("s3sync-hc-x-{}", std::process::id()));
        fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{e}"));
        xattr_supported(&root).unwrap_or_else(|e| {
            panic!(
                "{} takes no user extended attributes ({e}): run the tests on a file system \
                 that does (ext4, xfs, btrfs, tmpfs on Linux 6.6+)",
                root.display()
            )
        });
        let file = root.join("x.bin");
        fs::write(&file, b"xattr").unwrap_or_else(|e| panic!("{e}"));
        let cache = HashCache::new(Storage::XAttr, &root);
        let meta = fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
        cache.put(&file, &meta, "md5", "on-the-file");
        assert_eq!(cache.get(&file, "md5").as_deref(), Some("on-the-file"));
        assert_eq!(
            fs::read_dir(&root).map(|d| d.count()).unwrap_or(0),
            1,
            "no sidecar"
        );
        let _ = fs::remove_dir_all(&root);
    }
}
