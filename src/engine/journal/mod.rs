//! The journal of multipart uploads in flight, so that a run killed mid-upload (SIGKILL,
//! power loss, a crash) can be resumed by the next one instead of starting over, and so that
//! its upload is found and aborted where it cannot be resumed, even on stores that cannot
//! list uploads in progress.
//!
//! # Layout
//!
//! One small file per target object under `STATE_DIR/uploads/`, named by a hash of the
//! target's identity (endpoint, region, bucket) and the full key: `<32 hex digits>.upload`.
//! One file per key rather than one journal for the run because
//! - workers record and remove uploads concurrently, and concurrent runs share the state
//!   directory: separate files need no lock and no read-modify-write of shared state;
//! - a record is replaced atomically (written to a temporary file, synced, renamed over the
//!   old one, the directory synced), so a crash leaves either the old or the new record,
//!   never half of one; a damaged file costs only its own upload;
//! - the lookup the next run makes before each upload is one `open` of a known name, not a
//!   scan, however many records there are.
//!
//! The hash only picks the file: the entry holds the target and key in full and is matched
//! on them, so a collision costs a fresh upload, never a wrong one. Each entry also names
//! the process and host that wrote it; an entry whose writer is still alive belongs to a
//! concurrent run and is left alone.
//!
//! # Failures
//!
//! The journal only saves work: a directory that cannot be created or written disables it
//! for the run with one warning, and an entry that cannot be read (damaged, or written by
//! another version) is ignored with a warning naming its file. Neither fails a sync nor
//! counts as a warning of the run (the exit code stays 0): every object is still uploaded
//! and verified; only a later resume is lost.

mod entry;

pub use entry::{Entry, SourceId, SourceKind, Unreadable};

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::util::encoding::hex;

const SUFFIX: &str = ".upload";
const TEMP_SUFFIX: &str = ".tmp";

/// Temporary files older than this were left by a writer killed between writing and
/// renaming; they are removed when the journal is swept.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// The uploads in flight recorded under one state directory.
pub struct Journal {
    dir: PathBuf,
    /// Whether the directory could be created and written, decided on the first write.
    usable: OnceLock<bool>,
    /// Makes the names of this process's temporary files unique.
    sequence: AtomicU64,
    host: String,
}

impl Journal {
    /// The journal under `state_dir` (nothing is created until the first upload is recorded).
    pub fn new(state_dir: &Path) -> Journal {
        Journal {
            dir: state_dir.join("uploads"),
            usable: OnceLock::new(),
            sequence: AtomicU64::new(0),
            host: host_name(),
        }
    }

    /// Where the entries live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new entry for an upload this process is starting.
    pub fn entry(
        &self,
        target: &str,
        key: &str,
        upload_id: &str,
        source: SourceId,
        part_size: u64,
        checksum: String,
    ) -> Entry {
        Entry {
            target: target.to_string(),
            key: key.to_string(),
            upload_id: upload_id.to_string(),
            source,
            part_size,
            checksum,
            pid: std::process::id(),
            host: self.host.clone(),
            created: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// The entry recorded for `key` of `target`, if a readable one is.
    pub fn find(&self, target: &str, key: &str) -> Option<Entry> {
        let path = self.path_of(target, key);
        let entry = self.read(&path)?;
        (entry.target == target && entry.key == key).then_some(entry)
    }

    /// Records `entry`, replacing any entry of its key; whether it was. Why not is logged:
    /// once for a state directory that cannot be used, else for the key.
    pub fn record(&self, entry: &Entry) -> bool {
        if !self.usable() {
            return false;
        }
        let path = self.path_of(&entry.target, &entry.key);
        match self.write_atomically(&path, entry.encode().as_bytes()) {
            Ok(()) => true,
            Err(e) => {
                log::warn!(
                    key = entry.key.as_str();
                    "cannot record the multipart upload in {}: {e}; it cannot be resumed after a crash",
                    path.display()
                );
                false
            }
        }
    }

    /// Removes the entry of `key` of `target` if it still records `upload_id` (a concurrent
    /// run may have replaced it with its own upload meanwhile).
    pub fn forget(&self, target: &str, key: &str, upload_id: &str) {
        let path = self.path_of(target, key);
        let Ok(text) = fs::read_to_string(&path) else {
            return;
        };
        if Entry::decode(&text).is_ok_and(|e| e.upload_id == upload_id) {
            if let Err(e) = fs::remove_file(&path)
                && e.kind() != io::ErrorKind::NotFound
            {
                log::warn!("cannot remove the journal entry {}: {e}", path.display());
            }
            sync_dir(&self.dir);
        }
    }

    /// The entries of `target` whose keys start with `prefix`, except those whose writer may
    /// still be running (a concurrent run's uploads in progress). Removes temporary files left
    /// by writers killed mid-write.
    pub fn left_open(&self, target: &str, prefix: &str) -> Vec<Entry> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for item in dir.flatten() {
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(TEMP_SUFFIX) {
                let stale = item
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_TEMP);
                if stale {
                    let _ = fs::remove_file(item.path());
                }
                continue;
            }
            if !name.ends_with(SUFFIX) {
                continue;
            }
            if let Some(entry) = self.read(&item.path())
                && entry.target == target
                && entry.key.starts_with(prefix)
                && !self.may_be_running(&entry)
            {
                found.push(entry);
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found
    }

    /// Whether the process that wrote `entry` may still be running: it runs on this host, or
    /// it was written on another host (whose processes cannot be asked about).
    pub fn may_be_running(&self, entry: &Entry) -> bool {
        if entry.host != self.host {
            return true;
        }
        entry.pid != std::process::id() && process_alive(entry.pid)
    }

    fn path_of(&self, target: &str, key: &str) -> PathBuf {
        let mut hash = Sha256::new();
        hash.update(target.as_bytes());
        hash.update([0u8]);
        hash.update(key.as_bytes());
        let name = hex(&hash.finalize()[..16]);
        self.dir.join(format!("{name}{SUFFIX}"))
    }

    /// Reads one entry; a damaged one is removed and a foreign one left, each with a warning.
    fn read(&self, path: &Path) -> Option<Entry> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                log::warn!(
                    "cannot read the journal entry {}: {e}; ignoring it",
                    path.display()
                );
                return None;
            }
        };
        let decoded = String::from_utf8(bytes)
            .map_err(|_| Unreadable::Corrupt("not UTF-8".into()))
            .and_then(|text| Entry::decode(&text));
        match decoded {
            Ok(entry) => Some(entry),
            Err(why) => {
                log::warn!(
                    "ignoring the journal entry {}: {why}; its upload, if any, cannot be resumed",
                    path.display()
                );
                if matches!(why, Unreadable::Corrupt(_)) {
                    let _ = fs::remove_file(path);
                }
                None
            }
        }
    }

    /// Creates the directory and proves it writable, once; says once why not.
    fn usable(&self) -> bool {
        *self.usable.get_or_init(|| {
            let probe = self.dir.join(format!(".probe-{}{TEMP_SUFFIX}", std::process::id()));
            let result = create_private_dir(&self.dir)
                .and_then(|()| self.write_atomically(&probe, b"probe\n"))
                .and_then(|()| fs::remove_file(&probe));
            match result {
                Ok(()) => true,
                Err(e) => {
                    log::warn!(
                        "cannot use the state directory {}: {e}; multipart uploads of this run cannot be resumed \
                         after a crash (set --state-dir to a writable directory)",
                        self.dir.display()
                    );
                    false
                }
            }
        })
    }

    /// Writes `bytes` to a temporary file beside `path`, syncs it, renames it to `path` and
    /// syncs the directory.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = self.dir.join(format!(
            ".{}.{}.{n}{TEMP_SUFFIX}",
            name.unwrap_or_default(),
            std::process::id()
        ));
        let written = (|| {
            let mut file = private_file(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        sync_dir(&self.dir);
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes a rename or removal in `dir` durable (best effort: not every system can sync a
/// directory, and the entry is only an optimisation).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Whether process `pid` exists. Where that cannot be asked, it is assumed to.
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "s3sync-journal-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn source() -> SourceId {
        SourceId {
            kind: SourceKind::File,
            size: 10,
            version: "1".into(),
        }
    }

    #[test]
    fn records_are_found_replaced_and_forgotten() {
        let state = temp_dir("cycle");
        let journal = Journal::new(&state);
        assert!(journal.find("t", "a").is_none());
        let first = journal.entry("t", "a", "u1", source(), 5, String::new());
        assert!(journal.record(&first));
        assert_eq!(journal.find("t", "a"), Some(first.clone()));
        assert!(journal.find("other", "a").is_none());
        let second = journal.entry("t", "a", "u2", source(), 5, String::new());
        assert!(journal.record(&second));
        // A stale upload id does not remove the newer record.
        journal.forget("t", "a", "u1");
        assert_eq!(journal.find("t", "a"), Some(second));
        journal.forget("t", "a", "u2");
        assert!(journal.find("t", "a").is_none());
        let names: Vec<_> = fs::read_dir(journal.dir())
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(names.is_empty(), "left behind: {names:?}");
        let _ = fs::remove_dir_all(&state);
    }

    #[test]
    fn left_open_lists_the_target_prefix_but_not_live_writers() {
        let state = temp_dir("sweep");
        let journal = Journal::new(&state);
        for key in ["p/a", "p/b", "q/c"] {
            let e = journal.entry("t", key, "u", source(), 5, String::new());
            assert!(journal.record(&e));
        }
        let mine = journal.left_open("t", "p/");
        assert_eq!(
            mine.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["p/a", "p/b"]
        );
        // A record of a running process (the parent of this test) is left alone.
        let mut live = journal.entry("t", "p/live", "u", source(), 5, String::new());
        live.pid = std::os::unix::process::parent_id();
        assert!(journal.record(&live));
        assert_eq!(journal.left_open("t", "p/").len(), 2);
        assert!(journal.left_open("other", "").is_empty());
        let _ = fs::remove_dir_all(&state);
    }

    #[test]
    fn damaged_entries_are_ignored_and_removed() {
        let state = temp_dir("damaged");
        let journal = Journal::new(&state);
        let e = journal.entry("t", "k", "u", source(), 5, String::new());
        assert!(journal.record(&e));
        let path = journal.path_of("t", "k");
        assert!(fs::write(&path, b"\xff\xfe not an entry").is_ok());
        assert!(journal.find("t", "k").is_none());
        assert!(!path.exists(), "a corrupt entry stays");
        // A foreign one is left for the release that wrote it.
        assert!(fs::write(&path, "s3sync upload journal 99\nwhatever\n").is_ok());
        assert!(journal.find("t", "k").is_none());
        assert!(path.exists());
        let _ = fs::remove_dir_all(&state);
    }

    #[test]
    fn an_unwritable_state_dir_disables_the_journal() {
        let state = temp_dir("unwritable");
        assert!(fs::create_dir_all(&state).is_ok());
        // A file where the directory should be.
        assert!(fs::write(state.join("uploads"), b"").is_ok());
        let journal = Journal::new(&state);
        let e = journal.entry("t", "k", "u", source(), 5, String::new());
        assert!(!journal.record(&e));
        assert!(!journal.record(&e));
        let _ = fs::remove_dir_all(&state);
    }
}
