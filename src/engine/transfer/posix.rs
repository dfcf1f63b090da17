//! `--preserve-posix-properties`: a local file's mode, owner, group and times travel as user
//! metadata of the object (S3 or Blob) and are put back onto the file it is downloaded to.
//!
//! The metadata names and forms are azcopy's, so that objects either tool uploads restore
//! with the other: `permissions` (the whole `st_mode`, decimal; an octal form with a
//! leading `0` such as `0755` is read too), `posix_owner` and `posix_group` (numeric uid and
//! gid), `modtime` and `posix_atime` (nanoseconds since the epoch, decimal).
//!
//! Restoring never fails a file: the bytes are in place by then. A value that is missing or
//! cannot be read is skipped and named in one warning. The owner is changed only when the
//! process may (as root, or when the kernel allows the change, e.g. to a group the user is
//! in); otherwise the file keeps the running user's ownership, said at info level (a normal
//! user cannot give files away, and that is no reason for exit 3).

use std::fs::{self, File, FileTimes};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const MODE: &str = "permissions";
pub const OWNER: &str = "posix_owner";
pub const GROUP: &str = "posix_group";
pub const MTIME: &str = "modtime";
pub const ATIME: &str = "posix_atime";

const KEYS: [&str; 5] = [MODE, OWNER, GROUP, MTIME, ATIME];

fn epoch_nanos(secs: i64, nanos: i64) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nanos)
}

/// The properties of the file at `path` (the link's target, as the transfer reads it), as
/// metadata.
pub fn of_file(path: &Path) -> io::Result<Vec<(String, String)>> {
    let m = fs::metadata(path)?;
    Ok(vec![
        (MODE.into(), m.mode().to_string()),
        (OWNER.into(), m.uid().to_string()),
        (GROUP.into(), m.gid().to_string()),
        (
            MTIME.into(),
            epoch_nanos(m.mtime(), m.mtime_nsec()).to_string(),
        ),
        (
            ATIME.into(),
            epoch_nanos(m.atime(), m.atime_nsec()).to_string(),
        ),
    ])
}

/// Puts `props` into the user metadata `user`, replacing values of the same names (whatever
/// their case: S3 lower-cases names, Blob keeps them).
pub fn add_to(user: &mut Vec<(String, String)>, props: Vec<(String, String)>) {
    user.retain(|(k, _)| !KEYS.iter().any(|n| n.eq_ignore_ascii_case(k)));
    user.extend(props);
    user.sort();
}

/// What the metadata says, each value `None` where it is missing or unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Posix {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mtime: Option<SystemTime>,
    pub atime: Option<SystemTime>,
}

fn time_of(text: &str) -> Option<SystemTime> {
    let n: i128 = text.parse().ok()?;
    let magnitude = u64::try_from(n.unsigned_abs() / 1_000_000_000).ok()?;
    let d = Duration::new(magnitude, (n.unsigned_abs() % 1_000_000_000) as u32);
    if n >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    }
}

fn mode_of(text: &str) -> Option<u32> {
    let mode = if text.len() > 1 && text.starts_with('0') {
        u32::from_str_radix(text, 8).ok()?
    } else {
        text.parse().ok()?
    };
    // The file type bits (regular file, directory...) are not ours to set; nothing beyond
    // them is a mode.
    (mode <= 0o177_777).then_some(mode & 0o7777)
}

/// The value of `name` in `user` as `read` makes it; a missing or unreadable one is `None`
/// and named in `problems`.
fn field<T>(
    user: &[(String, String)],
    name: &str,
    read: impl Fn(&str) -> Option<T>,
    problems: &mut Vec<String>,
) -> Option<T> {
    let Some((_, v)) = user.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else {
        problems.push(format!("{name} missing"));
        return None;
    };
    let value = read(v.trim());
    if value.is_none() {
        problems.push(format!("{name} '{v}' unreadable"));
    }
    value
}

/// Reads the properties from user metadata; the second value names each one missing or
/// unreadable (empty when all are there).
pub fn parse(user: &[(String, String)]) -> (Posix, Vec<String>) {
    let mut problems = Vec::new();
    let p = Posix {
        mode: field(user, MODE, mode_of, &mut problems),
        uid: field(user, OWNER, |v| v.parse().ok(), &mut problems),
        gid: field(user, GROUP, |v| v.parse().ok(), &mut problems),
        mtime: field(user, MTIME, time_of, &mut problems),
        atime: field(user, ATIME, time_of, &mut problems),
    };
    (p, problems)
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Puts `p` onto the file at `path`: times, then owner (which may clear set-id bits), then
/// mode. Returns what could not be done, for one warning; an owner change refused to a
/// normal user is logged at info level instead.
pub fn restore(path: &Path, p: &Posix) -> Vec<String> {
    let mut problems = Vec::new();
    let mut times = FileTimes::new();
    if let Some(m) = p.mtime {
        times = times.set_modified(m);
    }
    if let Some(a) = p.atime {
        times = times.set_accessed(a);
    }
    if p.mtime.is_some() || p.atime.is_some() {
        let set = File::open(path).and_then(|f| f.set_times(times));
        if let Err(e) = set {
            problems.push(format!("cannot set the times: {e}"));
        }
    }
    if p.uid.is_some() || p.gid.is_some() {
        let current = fs::metadata(path).ok();
        let differs = current.is_none_or(|m| {
            p.uid.is_some_and(|u| u != m.uid()) || p.gid.is_some_and(|g| g != m.gid())
        });
        if differs && let Err(e) = std::os::unix::fs::chown(path, p.uid, p.gid) {
            let what = format!(
                "owner {}:{} not given ({e})",
                p.uid.map_or("-".into(), |u| u.to_string()),
                p.gid.map_or("-".into(), |g| g.to_string())
            );
            if running_as_root() || e.kind() != io::ErrorKind::PermissionDenied {
                problems.push(what);
            } else {
                log::info!(path = path.display().to_string().as_str(); "{what}: only root can give files away; the file keeps the running user's ownership");
            }
        }
    }
    if let Some(mode) = p.mode
        && let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode))
    {
        problems.push(format!("cannot set mode {mode:04o}: {e}"));
    }
    problems
}

/// Restores what `user` (the object's metadata) says onto `path`; `None`, or the warning
/// naming what was missing, unreadable or refused.
pub fn restore_from_metadata(path: &Path, user: &[(String, String)]) -> Option<String> {
    let (p, mut problems) = parse(user);
    if p == Posix::default() {
        return Some(
            "--preserve-posix-properties: the object carries no POSIX properties (uploaded without the option?); the file keeps its defaults"
                .into(),
        );
    }
    problems.extend(restore(path, &p));
    warning(problems)
}

/// Local → local: the source file's properties (read with [`of_file`] before the copy)
/// straight onto the copy at `target`.
pub fn restore_from_local(
    target: &Path,
    source: Result<Vec<(String, String)>, String>,
) -> Option<String> {
    match source {
        Ok(props) => warning(restore(target, &parse(&props).0)),
        Err(e) => warning(vec![e]),
    }
}

fn warning(problems: Vec<String>) -> Option<String> {
    (!problems.is_empty()).then(|| {
        format!(
            "--preserve-posix-properties: {}; the rest was restored",
            problems.join(", ")
        )
    })
}

/// The one place every download (and local copy) puts the source's mode, owner and times
/// onto the file just written to `target`. A remote source is asked for its metadata once
/// more (a HEAD), whichever path moved the bytes; a local source's (`local`) were read
/// before the copy. Returns what could not be restored, as a warning (never a failure).
pub(crate) fn restore_onto(
    source: &dyn crate::storage::backend::Backend,
    target: &dyn crate::storage::backend::Backend,
    entry: &crate::storage::Entry,
    local: Option<Result<Vec<(String, String)>, String>>,
) -> Option<String> {
    let path = target.local_path(&entry.key)?;
    match local {
        Some(props) => restore_from_local(&path, props),
        None => {
            let read = crate::storage::backend::ReadOptions {
                version: entry.version_id.as_deref(),
                ..Default::default()
            };
            match source.head(&entry.key, &read) {
                Ok(Some(props)) => restore_from_metadata(&path, &props.content.user),
                Ok(None) => Some(format!(
                    "--preserve-posix-properties: {} is gone; the file keeps its defaults",
                    source.name_of(&entry.key)
                )),
                Err(e) => Some(format!(
                    "--preserve-posix-properties: cannot read the properties: {e}; the file keeps its defaults"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_azcopy_forms_and_names_what_is_wrong() {
        let (p, problems) = parse(&meta(&[
            ("Permissions", "33188"),
            ("posix_owner", "1000"),
            ("posix_group", "x"),
            ("modtime", "1700000000123456789"),
        ]));
        assert_eq!(p.mode, Some(0o644));
        assert_eq!(p.uid, Some(1000));
        assert_eq!(p.gid, None);
        assert_eq!(
            p.mtime,
            UNIX_EPOCH.checked_add(Duration::new(1_700_000_000, 123_456_789))
        );
        assert_eq!(
            problems,
            ["posix_group 'x' unreadable", "posix_atime missing"]
        );
        assert_eq!(mode_of("0755"), Some(0o755));
        assert_eq!(mode_of("0"), Some(0));
        assert_eq!(mode_of("99999999"), None);
        assert_eq!(mode_of("-1"), None);
        assert_eq!(
            time_of("-1500000000"),
            UNIX_EPOCH.checked_sub(Duration::new(1, 500_000_000))
        );
        assert_eq!(time_of("1e9"), None);
        assert_eq!(time_of("999999999999999999999999999999999999"), None);
    }

    #[test]
    fn adding_replaces_values_of_any_case() {
        let mut user = meta(&[("MODTIME", "1"), ("a", "b")]);
        add_to(&mut user, meta(&[("modtime", "2")]));
        assert_eq!(user, meta(&[("a", "b"), ("modtime", "2")]));
    }
}
