//! The local file system as a store.
//!
//! The walker emits relative keys in UTF-8 byte order, the order S3 lists keys in, so the
//! engine can merge-join a local tree with a bucket listing without holding either: each
//! directory's entries are sorted by name, a directory compared as `name/`. Memory is
//! proportional to the depth of the tree times the width of its directories, not to the
//! number of files.

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io::{self};
use std::path::{Path, PathBuf};

use super::temp_file::is_orphan;
pub use super::temp_file::{TEMP_PREFIX, TempFile, copy_observed};
use super::{Entry, ListError, ListItem, ListWarning};
use crate::util::time::Timestamp;

/// A directory tree, or a single file, on the local disk.
pub struct LocalStore {
    root: PathBuf,
    /// When the user named a single file: its name (the only key listed).
    single_file: Option<String>,
    /// The key the single file is listed (and read) under, when the target names the
    /// object it becomes ([`LocalStore::listed_as`]); its own name otherwise.
    alias: Option<String>,
    /// Digests of unchanged files, kept between runs (`--local-hash-storage-mode`).
    hash_cache: Option<std::sync::Arc<super::hash_cache::HashCache>>,
    follow_symlinks: bool,
    /// Remove temporary files of ours whose process is gone, met while listing.
    clean_orphans: bool,
}

struct Child {
    sort_key: Vec<u8>,
    name: String,
    path: PathBuf,
    dir: bool,
    meta: Option<Metadata>,
}

impl LocalStore {
    /// A store rooted at `path`. A path naming an existing regular file becomes a one-file store.
    pub fn new(path: &Path, follow_symlinks: bool) -> LocalStore {
        match fs::metadata(path) {
            Ok(m) if m.is_file() => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let parent = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                LocalStore {
                    root: parent.to_path_buf(),
                    single_file: Some(name),
                    alias: None,
                    hash_cache: None,
                    follow_symlinks,
                    clean_orphans: false,
                }
            }
            _ => LocalStore {
                root: path.to_path_buf(),
                single_file: None,
                alias: None,
                hash_cache: None,
                follow_symlinks,
                clean_orphans: false,
            },
        }
    }

    /// While listing, removes the temporary files that a killed run of s3sync left behind
    /// (their writer process no longer exists). For the target of a run that writes.
    pub fn cleaning_orphans(mut self) -> LocalStore {
        self.clean_orphans = true;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The entry of `key` as a listing would show it now; `None` when there is no regular
    /// file under that name.
    pub fn stat(&self, key: &str) -> io::Result<Option<Entry>> {
        match fs::metadata(self.path_of(key)) {
            Ok(meta) if meta.is_file() => Ok(Some(entry(key.to_string(), &meta))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Keeps the digests of this side's files in a hash cache stored as `storage` says.
    pub fn with_hash_cache(mut self, storage: super::hash_cache::Storage) -> LocalStore {
        let cache = super::hash_cache::HashCache::new(storage, &self.root);
        self.hash_cache = Some(std::sync::Arc::new(cache));
        self
    }

    pub fn hash_cache(&self) -> Option<&super::hash_cache::HashCache> {
        self.hash_cache.as_deref()
    }

    pub fn is_single_file(&self) -> bool {
        self.single_file.is_some()
    }

    /// A single-file source listed under `key` instead of its own name: the name the target
    /// gives the one object (`file.txt → .../container/other-name`). No effect on a
    /// directory.
    pub fn listed_as(mut self, key: &str) -> LocalStore {
        if self.single_file.is_some() {
            self.alias = Some(key.to_string());
        }
        self
    }

    /// The file a key maps to.
    pub fn path_of(&self, key: &str) -> PathBuf {
        if let (Some(name), Some(alias)) = (&self.single_file, &self.alias)
            && alias == key
        {
            return self.root.join(name);
        }
        let mut p = self.root.clone();
        for segment in key.split('/').filter(|s| !s.is_empty()) {
            p.push(segment);
        }
        p
    }

    /// Lists the tree in key order; see the module docs.
    pub fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), ListError> {
        if let Some(name) = &self.single_file {
            let path = self.root.join(name);
            let meta = fs::metadata(&path)
                .map_err(|e| ListError(format!("cannot read {}: {e}", path.display())))?;
            let key = self.alias.as_ref().unwrap_or(name);
            emit(ListItem::Entry(entry(key.clone(), &meta)));
            return Ok(());
        }
        match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => {}
            // A target directory that does not exist yet is simply empty.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Ok(_) => {
                return Err(ListError(format!(
                    "{} is not a directory",
                    self.root.display()
                )));
            }
            Err(e) => {
                return Err(ListError(format!(
                    "cannot read {}: {e}",
                    self.root.display()
                )));
            }
        }
        let root_children = self
            .read_children(&self.root, emit)
            .ok_or_else(|| ListError(format!("cannot read directory {}", self.root.display())))?;
        // Each frame: the key prefix of a directory and its remaining children (reversed, so
        // `pop` yields them in order), plus the (device, inode) chain for loop detection.
        let mut stack: Vec<(String, Vec<Child>)> = vec![(String::new(), root_children)];
        let mut ancestors: Vec<(u64, u64)> = vec![dir_id(&self.root)];
        while let Some((prefix, children)) = stack.last_mut() {
            let Some(child) = children.pop() else {
                stack.pop();
                ancestors.pop();
                continue;
            };
            let key = format!("{prefix}{}", child.name);
            if child.dir {
                let id = dir_id(&child.path);
                if id != (0, 0) && ancestors.contains(&id) {
                    let warning = ListWarning {
                        path: child.path.display().to_string(),
                        message: "symbolic link loop; skipped".into(),
                        incomplete: false,
                    };
                    if !emit(ListItem::Warning(warning)) {
                        return Ok(());
                    }
                    continue;
                }
                let sub_prefix = format!("{key}/");
                if let Some(grandchildren) = self.read_children(&child.path, emit) {
                    stack.push((sub_prefix, grandchildren));
                    ancestors.push(id);
                }
                continue;
            }
            if let Some(meta) = child.meta
                && !emit(ListItem::Entry(entry(key, &meta)))
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Reads and sorts one directory. Problems become warnings; `None` if it cannot be read.
    fn read_children(
        &self,
        dir: &Path,
        emit: &mut dyn FnMut(ListItem) -> bool,
    ) -> Option<Vec<Child>> {
        // `incomplete`: whether objects may be missing from the listing because of it.
        let warn = |emit: &mut dyn FnMut(ListItem) -> bool,
                    path: &Path,
                    message: String,
                    incomplete: bool| {
            emit(ListItem::Warning(ListWarning {
                path: path.display().to_string(),
                message,
                incomplete,
            }));
        };
        let reader = match fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                warn(emit, dir, format!("cannot read directory: {e}"), true);
                return None;
            }
        };
        let mut children = Vec::new();
        for item in reader {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    warn(emit, dir, format!("cannot read directory entry: {e}"), true);
                    continue;
                }
            };
            let path = item.path();
            let name = match item.file_name().into_string() {
                Ok(n) => n,
                Err(raw) => {
                    warn(
                        emit,
                        &path,
                        format!("file name is not UTF-8 ({}); skipped", lossy(&raw)),
                        false,
                    );
                    continue;
                }
            };
            // Our own in-flight (or crash-orphaned) temporary files are never objects.
            if name.starts_with(TEMP_PREFIX) {
                if self.clean_orphans && is_orphan(&name) {
                    match fs::remove_file(&path) {
                        Ok(()) => log::info!(
                            "removed {}, left behind by an interrupted run",
                            path.display()
                        ),
                        Err(e) => log::warn!("cannot remove {}: {e}", path.display()),
                    }
                } else {
                    log::debug!("skipping temporary file {}", path.display());
                }
                continue;
            }
            // The local hash cache's sidecar records are not objects either.
            if super::hash_cache::is_sidecar(&name) {
                continue;
            }
            let file_type = match item.file_type() {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    warn(emit, &path, format!("cannot stat: {e}"), true);
                    continue;
                }
            };
            let meta = if file_type.is_symlink() {
                if !self.follow_symlinks {
                    log::debug!("skipping symbolic link {}", path.display());
                    continue;
                }
                match fs::metadata(&path) {
                    Ok(m) => m,
                    Err(e) => {
                        warn(emit, &path, format!("broken symbolic link: {e}"), false);
                        continue;
                    }
                }
            } else {
                match item.metadata() {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        warn(emit, &path, format!("cannot stat: {e}"), true);
                        continue;
                    }
                }
            };
            if meta.is_dir() {
                let mut sort_key = name.as_bytes().to_vec();
                sort_key.push(b'/');
                children.push(Child {
                    sort_key,
                    name,
                    path,
                    dir: true,
                    meta: None,
                });
            } else if meta.is_file() {
                children.push(Child {
                    sort_key: name.as_bytes().to_vec(),
                    name,
                    path,
                    dir: false,
                    meta: Some(meta),
                });
            } else {
                warn(
                    emit,
                    &path,
                    "not a regular file (FIFO, socket or device); skipped".into(),
                    false,
                );
            }
        }
        // Reverse order, so the stack pops the smallest first.
        children.sort_unstable_by(|a, b| b.sort_key.cmp(&a.sort_key));
        Some(children)
    }
}

fn lossy(raw: &OsString) -> String {
    raw.to_string_lossy().into_owned()
}

fn entry(key: String, meta: &Metadata) -> Entry {
    let last_modified = meta
        .modified()
        .map(Timestamp::from_system)
        .unwrap_or_default();
    Entry::new(key, meta.len(), last_modified)
}

#[cfg(unix)]
fn dir_id(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path)
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or((0, 0))
}

#[cfg(not(unix))]
fn dir_id(_path: &Path) -> (u64, u64) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tree(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("s3sync-walk-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for p in [
            "dir/x",
            "dir-2/x",
            "dir/sub/y",
            "a",
            "b.txt",
            "dir.txt",
            "☃/z",
            "Z",
        ] {
            let path = root.join(p);
            let _ = fs::create_dir_all(path.parent().unwrap_or(&root));
            let _ = fs::write(&path, p.as_bytes());
        }
        root
    }

    fn keys(store: &LocalStore) -> Vec<String> {
        let mut out = Vec::new();
        let _ = store.list(&mut |item| {
            if let ListItem::Entry(e) = item {
                out.push(e.key);
            }
            true
        });
        out
    }

    #[test]
    fn walks_in_s3_byte_order() {
        let root = tree("order");
        let got = keys(&LocalStore::new(&root, true));
        let mut expected = got.clone();
        expected.sort();
        assert_eq!(got, expected);
        assert_eq!(
            got,
            vec![
                "Z",
                "a",
                "b.txt",
                "dir-2/x",
                "dir.txt",
                "dir/sub/y",
                "dir/x",
                "☃/z"
            ]
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn single_file_lists_only_its_name() {
        let root = tree("single");
        let store = LocalStore::new(&root.join("b.txt"), true);
        assert_eq!(keys(&store), vec!["b.txt"]);
        assert_eq!(store.path_of("b.txt"), root.join("b.txt"));
        let _ = fs::remove_dir_all(&root);
    }

    #[cfg(unix)]
    #[test]
    fn follows_or_ignores_symlinks_and_survives_loops() {
        let root = tree("links");
        let _ = std::os::unix::fs::symlink(root.join("a"), root.join("link-a"));
        let _ = std::os::unix::fs::symlink(&root, root.join("dir").join("loop"));
        let followed = keys(&LocalStore::new(&root, true));
        assert!(followed.contains(&"link-a".to_string()));
        assert!(
            !followed.iter().any(|k| k.starts_with("dir/loop/dir/loop")),
            "{followed:?}"
        );
        let ignored = keys(&LocalStore::new(&root, false));
        assert!(
            !ignored
                .iter()
                .any(|k| k.contains("link-a") || k.contains("loop")),
            "{ignored:?}"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn missing_root_is_empty() {
        let store = LocalStore::new(Path::new("/nonexistent/s3sync/dir"), true);
        assert!(keys(&store).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn only_temp_files_of_gone_processes_are_orphans() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .unwrap_or_else(|e| panic!("spawn true: {e}"));
        let dead = child.id();
        let _ = child.wait();
        assert!(is_orphan(&format!("{TEMP_PREFIX}{dead}-1-0-name")));
        let me = std::process::id();
        assert!(!is_orphan(&format!("{TEMP_PREFIX}{me}-1-0-name")));
        assert!(!is_orphan(&format!("{TEMP_PREFIX}1-1-0-name")));
        assert!(!is_orphan(&format!("{TEMP_PREFIX}notapid-name")));
    }

    #[test]
    fn temp_file_is_removed_unless_committed() {
        let root = tree("temp");
        let target = root.join("new/dir/file");
        {
            let mut t = TempFile::create(&target).ok();
            if let Some(t) = t.as_mut() {
                let _ = t.file().map(|f| f.write_all(b"partial"));
            }
        }
        let leftovers: Vec<_> = fs::read_dir(root.join("new/dir"))
            .map(|r| r.count())
            .into_iter()
            .collect();
        assert_eq!(leftovers, vec![0]);
        let mut t = TempFile::create(&target).ok();
        if let Some(t) = t.as_mut() {
            let _ = t.file().map(|f| f.write_all(b"done"));
        }
        let mtime = Timestamp {
            secs: 1_600_000_000,
            nanos: 0,
        };
        assert!(t.map(|t| t.commit(&target, mtime).is_ok()).unwrap_or(false));
        assert_eq!(fs::read(&target).ok(), Some(b"done".to_vec()));
        let got = fs::metadata(&target)
            .and_then(|m| m.modified())
            .map(Timestamp::from_system)
            .ok();
        assert_eq!(got, Some(mtime));
        let _ = fs::remove_dir_all(&root);
    }
}
