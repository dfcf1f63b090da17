//! Versioned listings of an S3 store: every version of every key (`--enable-versioning`), or
//! the version each key had at one moment (`--point-in-time`).
//!
//! ListObjectVersions returns keys in UTF-8 byte order, like ListObjectsV2, and the versions
//! of one key newest first; so a listing still streams key by key into the engine's
//! merge-join, holding the versions of one key at a time. Not every store interleaves
//! object versions and delete markers in one order as S3 does (moto lists all versions of a
//! page, then all delete markers), so each page is put in key order here (a stable sort,
//! which keeps each kind newest first) and the two kinds are merged per key by
//! `IsLatest`, then LastModified, then position in the listing. Versioned listings are
//! made one request at a time: ListObjectVersions has no continuation that a parallel
//! walk by prefix could split.

use super::s3::S3Store;
use super::{Entry, ListError, ListItem};
use crate::s3::ops::versions::VersionListRequest;
use crate::s3::xml::versions::ListedVersion;
use crate::util::time::Timestamp;

/// One version of a key, or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version_id: String,
    pub last_modified: Timestamp,
    pub delete_marker: bool,
    pub is_latest: bool,
    pub size: u64,
    /// ETag with its quotes; `None` for delete markers.
    pub etag: Option<String>,
}

/// Every version of one key, oldest first: the current version (or the delete marker that
/// hides the key) is the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersions {
    /// Key relative to the store's prefix.
    pub key: String,
    pub versions: Vec<Version>,
}

impl KeyVersions {
    /// The newest version or delete marker.
    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The version the key had at `at`: the newest one written at or before that time.
    /// `None` when the key did not exist then or was deleted (a delete marker was newest).
    pub fn at(&self, at: Timestamp) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.last_modified <= at)
            .filter(|v| !v.delete_marker)
    }

    /// A listing entry for one of this key's versions, pinned to that version.
    pub fn entry(&self, version: &Version) -> Entry {
        Entry {
            key: self.key.clone(),
            size: version.size,
            last_modified: version.last_modified,
            etag: version.etag.clone(),
            version_id: Some(version.version_id.clone()),
            checksum_algorithm: None,
            checksum_type: None,
        }
    }
}

/// Orders the listed versions of one key (in listing order) newest first. Object versions
/// keep their listing order among themselves, and so do delete markers; between the two,
/// the one S3 marks latest goes first, then the later LastModified, then the one listed
/// first (S3 lists both kinds in one order, so on S3 that is exact).
fn newest_first(items: Vec<(usize, ListedVersion)>) -> Vec<ListedVersion> {
    let (objects, markers): (Vec<_>, Vec<_>) =
        items.into_iter().partition(|(_, v)| !v.delete_marker);
    let mut objects = objects.into_iter().peekable();
    let mut markers = markers.into_iter().peekable();
    let mut out = Vec::new();
    loop {
        let take_object = match (objects.peek(), markers.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((oi, o)), Some((mi, m))) => {
                if o.is_latest != m.is_latest {
                    o.is_latest
                } else if o.last_modified != m.last_modified {
                    o.last_modified > m.last_modified
                } else {
                    oi < mi
                }
            }
        };
        let next = if take_object {
            objects.next()
        } else {
            markers.next()
        };
        if let Some((_, v)) = next {
            out.push(v);
        }
    }
}

/// Builds the group of one full key from its listed versions; `None` when the key is not
/// under the prefix. The key that equals the prefix gets an empty relative key: its versions
/// are counted as skipped, never synced.
fn group(prefix: &str, key: &str, items: Vec<(usize, ListedVersion)>) -> Option<KeyVersions> {
    let relative = key.strip_prefix(prefix)?;
    let mut versions: Vec<Version> = newest_first(items)
        .into_iter()
        .map(|v| Version {
            version_id: v.version_id,
            last_modified: v.last_modified,
            delete_marker: v.delete_marker,
            is_latest: v.is_latest,
            size: v.size,
            etag: v.etag,
        })
        .collect();
    versions.reverse();
    Some(KeyVersions {
        key: relative.to_string(),
        versions,
    })
}

/// Turns ListObjectVersions pages into per-key groups in key order.
struct Grouper<'p> {
    prefix: &'p str,
    bucket: &'p str,
    /// The key being collected (full key) and its versions with their listing positions.
    open: Option<(String, Vec<(usize, ListedVersion)>)>,
    last_closed: Option<String>,
    position: usize,
}

impl Grouper<'_> {
    /// Adds one page; returns the groups it completed.
    fn page(&mut self, versions: Vec<ListedVersion>) -> Result<Vec<KeyVersions>, ListError> {
        let mut items: Vec<(usize, ListedVersion)> = versions
            .into_iter()
            .map(|v| {
                self.position += 1;
                (self.position, v)
            })
            .collect();
        items.sort_by(|a, b| a.1.key.as_bytes().cmp(b.1.key.as_bytes()));
        let mut done = Vec::new();
        for (position, v) in items {
            if let Some((key, list)) = &mut self.open
                && *key == v.key
            {
                list.push((position, v));
                continue;
            }
            done.extend(self.close()?);
            if let Some(last) = &self.last_closed
                && last.as_bytes() >= v.key.as_bytes()
            {
                return Err(ListError(format!(
                    "s3://{}: the version listing is not in key order ('{}' after '{last}'); this store is not supported",
                    self.bucket, v.key
                )));
            }
            self.open = Some((v.key.clone(), vec![(position, v)]));
        }
        Ok(done)
    }

    /// Completes the open key, if any.
    fn close(&mut self) -> Result<Option<KeyVersions>, ListError> {
        let Some((key, items)) = self.open.take() else {
            return Ok(None);
        };
        let grouped = group(self.prefix, &key, items);
        self.last_closed = Some(key);
        Ok(grouped)
    }
}

impl S3Store {
    /// The newest version of `full_key` itself (not a delete marker, not a longer key that
    /// shares the prefix), as a versioned listing of that key shows it.
    pub fn newest_version(&self, full_key: &str) -> Result<Option<Version>, String> {
        let args = VersionListRequest {
            prefix: full_key,
            max_keys: Some(10),
            ..VersionListRequest::default()
        };
        let page = self
            .client()
            .list_object_versions(self.bucket(), &args)
            .map_err(|e| e.to_string())?;
        Ok(page
            .versions
            .into_iter()
            .find(|v| v.key == full_key && v.is_latest && !v.delete_marker)
            .map(|v| Version {
                version_id: v.version_id,
                last_modified: v.last_modified,
                delete_marker: v.delete_marker,
                is_latest: v.is_latest,
                size: v.size,
                etag: v.etag,
            }))
    }

    /// Streams every key under the prefix with all its versions and delete markers, in byte
    /// order of the key. `emit` returns `false` to stop early.
    pub fn list_versions(
        &self,
        emit: &mut dyn FnMut(KeyVersions) -> bool,
    ) -> Result<(), ListError> {
        let mut grouper = Grouper {
            prefix: self.prefix(),
            bucket: self.bucket(),
            open: None,
            last_closed: None,
            position: 0,
        };
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let args = VersionListRequest {
                prefix: self.prefix(),
                key_marker: markers.0.as_deref(),
                version_id_marker: markers.1.as_deref(),
                max_keys: Some(self.list_options().max_keys),
            };
            let page = self
                .client()
                .list_object_versions(self.bucket(), &args)
                .map_err(|e| {
                    ListError(format!(
                        "listing the versions of s3://{}/{} failed: {e}",
                        self.bucket(),
                        self.prefix()
                    ))
                })?;
            for group in grouper.page(page.versions)? {
                if !emit(group) {
                    return Ok(());
                }
            }
            if !page.is_truncated {
                break;
            }
            let next = (page.next_key_marker, page.next_version_id_marker);
            if next == markers {
                return Err(ListError(format!(
                    "s3://{}: the version listing does not advance past '{}'; this store is not supported",
                    self.bucket(),
                    next.0.unwrap_or_default()
                )));
            }
            markers = next;
        }
        if let Some(group) = grouper.close()? {
            emit(group);
        }
        Ok(())
    }

    /// Streams the objects under the prefix as they were at `at`, each pinned to its version
    /// of then. Keys that did not exist at `at`, or were deleted, are left out.
    pub(super) fn list_at(
        &self,
        at: Timestamp,
        emit: &mut dyn FnMut(ListItem) -> bool,
    ) -> Result<(), ListError> {
        self.list_versions(&mut |group| match group.at(at) {
            Some(_) if group.key.is_empty() => emit(ListItem::Skipped {
                name: format!("s3://{}/{}", self.bucket(), self.prefix()),
                reason: super::KEY_IS_PREFIX,
            }),
            Some(version) => emit(ListItem::Entry(group.entry(version))),
            None => {
                if group.versions.iter().any(|v| v.last_modified <= at) {
                    log::debug!(key = group.key.as_str(); "deleted at the point in time; skipped");
                }
                true
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(
        key: &str,
        id: &str,
        secs: i64,
        delete_marker: bool,
        is_latest: bool,
    ) -> ListedVersion {
        ListedVersion {
            key: key.into(),
            version_id: id.into(),
            is_latest,
            last_modified: Timestamp { secs, nanos: 0 },
            delete_marker,
            size: u64::from(!delete_marker),
            etag: (!delete_marker).then(|| format!("\"{id}\"")),
            storage_class: None,
        }
    }

    fn ids(g: &KeyVersions) -> Vec<&str> {
        g.versions.iter().map(|v| v.version_id.as_str()).collect()
    }

    fn grouper() -> Grouper<'static> {
        Grouper {
            prefix: "p/",
            bucket: "b",
            open: None,
            last_closed: None,
            position: 0,
        }
    }

    #[test]
    fn groups_pages_by_key_and_merges_markers_by_time() {
        let mut g = grouper();
        // A store that lists a page's versions first and its delete markers after them; the
        // key `p/b` is cut by the page boundary.
        let first = g
            .page(vec![
                listed("p/a", "a1", 10, false, true),
                listed("p/b", "b3", 30, false, false),
                listed("p/b", "dm-b", 40, true, true),
            ])
            .unwrap_or_default();
        assert_eq!(first.len(), 1, "{first:?}");
        assert_eq!((first[0].key.as_str(), ids(&first[0])), ("a", vec!["a1"]));
        let second = g
            .page(vec![
                listed("p/b", "b2", 20, false, false),
                listed("p/b", "b1", 10, false, false),
                listed("p/c", "c1", 10, false, true),
                listed("p/b", "dm-old", 20, true, false),
            ])
            .unwrap_or_default();
        assert_eq!(second.len(), 1, "p/c may go on: {second:?}");
        assert_eq!(second[0].key, "b");
        // Same second: the version listed first is taken as the newer one.
        assert_eq!(ids(&second[0]), vec!["b1", "dm-old", "b2", "b3", "dm-b"]);
        let last = g.close().unwrap_or_default();
        assert_eq!(last.map(|k| k.key), Some("c".to_string()));
    }

    #[test]
    fn refuses_keys_out_of_order_and_skips_the_prefix_itself() {
        let mut g = grouper();
        let done = g
            .page(vec![
                listed("p/", "x", 1, false, true),
                listed("p/b", "b1", 1, false, true),
            ])
            .unwrap_or_default();
        assert_eq!(
            done.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(),
            vec![""],
            "the key equal to the prefix has an empty relative key"
        );
        assert!(g.page(vec![listed("p/c", "c1", 1, false, true)]).is_ok());
        assert!(g.page(vec![listed("p/a", "a1", 1, false, true)]).is_err());
    }

    #[test]
    fn picks_the_version_of_a_point_in_time() {
        let mut g = grouper();
        let mut groups = g
            .page(vec![
                listed("p/k", "dm2", 50, true, true),
                listed("p/k", "v3", 40, false, false),
                listed("p/k", "dm1", 30, true, false),
                listed("p/k", "v2", 20, false, false),
                listed("p/k", "v1", 10, false, false),
            ])
            .unwrap_or_default();
        groups.extend(g.close().unwrap_or_default());
        let k = &groups[0];
        let at = |secs| {
            k.at(Timestamp { secs, nanos: 0 })
                .map(|v| v.version_id.as_str())
        };
        assert_eq!(at(5), None, "not written yet");
        assert_eq!(at(10), Some("v1"));
        assert_eq!(at(29), Some("v2"));
        assert_eq!(at(35), None, "deleted then");
        assert_eq!(at(45), Some("v3"));
        assert_eq!(at(99), None);
        assert_eq!(k.latest().map(|v| v.delete_marker), Some(true));
        let entry = k.entry(&k.versions[1]);
        assert_eq!(entry.version_id.as_deref(), Some("v2"));
        assert_eq!(entry.etag.as_deref(), Some("\"v2\""));
        assert_eq!((entry.key.as_str(), entry.size), ("k", 1));
    }
}
