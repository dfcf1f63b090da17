//! Files written under a temporary name beside their final one, renamed into place only
//! when complete (and removed otherwise); the temporary files of killed runs are found by
//! their writer's pid.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::util::time::Timestamp;

/// Prefix of the temporary files written next to their final name.
pub const TEMP_PREFIX: &str = ".s3sync-tmp-";

/// A file being written under a temporary name in its final directory. Dropping it without
/// [`TempFile::commit`] removes it, so no partial file ever carries the final name.
pub struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

/// Whether a temporary file name of ours (`TEMP_PREFIX` + writer pid + ...) belongs to a
/// process that no longer exists. Unknown shapes, our own process and live processes are
/// never orphans; a reused pid only delays the cleanup.
pub(super) fn is_orphan(name: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    pid != std::process::id() && !process_exists(pid)
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Signal 0 checks existence and permission without sending anything.
    // SAFETY: kill with signal 0 has no effect on the target process.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

impl TempFile {
    /// Creates the parent directories of `final_path` and a fresh temporary file beside it.
    pub fn create(final_path: &Path) -> io::Result<TempFile> {
        let dir = final_path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let name = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for attempt in 0..100u32 {
            let unique = format!(
                "{TEMP_PREFIX}{}-{}-{attempt}-{}",
                std::process::id(),
                Timestamp::now().nanos,
                name.chars().take(40).collect::<String>()
            );
            let path = dir.join(unique);
            // Readable too: a download reads its parts back to hash them (see md5x).
            match fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "could not find a free temporary file name",
        ))
    }

    pub fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file already closed"))
    }

    /// Flushes to disk, sets the modification time, and renames onto `final_path`.
    pub fn commit(mut self, final_path: &Path, mtime: Timestamp) -> io::Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("temporary file already closed"))?;
        file.sync_all()?;
        file.set_modified(mtime.to_system())?;
        drop(file);
        fs::rename(&self.path, final_path)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file.take();
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Copies `reader` into `writer` through `buf`, feeding every chunk to `observe`.
pub fn copy_observed(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    buf: &mut [u8],
    observe: &mut dyn FnMut(&[u8]),
) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        observe(&buf[..n]);
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
}
