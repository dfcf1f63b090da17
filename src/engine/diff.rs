//! The diff: a merge-join of two key-ordered listings, and the update check of a pair.
//!
//! Both listings arrive sorted by relative key in byte order, so walking them side by side
//! pairs every key in one pass with constant memory, however many objects there are. The
//! join pairs anything [`Keyed`]: plain entries, or all versions of a key
//! (`--enable-versioning`).

use std::cmp::Ordering;
use std::iter::Peekable;

use crate::config::UpdateCheck;
use crate::storage::Entry;
use crate::storage::versions::KeyVersions;

/// What the merge-join pairs items by: their relative key.
pub trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for Entry {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Keyed for KeyVersions {
    fn key(&self) -> &str {
        &self.key
    }
}

/// One step of the merge-join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pair<E = Entry> {
    /// Only in the source: transfer.
    SourceOnly(E),
    /// On both sides: the update check decides.
    Both(E, E),
    /// Only in the target: a deletion candidate.
    TargetOnly(E),
}

/// Merge-joins two key-ordered streams.
pub struct MergeJoin<S: Iterator, T: Iterator> {
    source: Peekable<S>,
    target: Peekable<T>,
}

impl<E: Keyed, S: Iterator<Item = E>, T: Iterator<Item = E>> MergeJoin<S, T> {
    pub fn new(source: S, target: T) -> Self {
        MergeJoin {
            source: source.peekable(),
            target: target.peekable(),
        }
    }
}

impl<E: Keyed, S: Iterator<Item = E>, T: Iterator<Item = E>> Iterator for MergeJoin<S, T> {
    type Item = Pair<E>;

    fn next(&mut self) -> Option<Pair<E>> {
        let order = match (self.source.peek(), self.target.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(s), Some(t)) => s.key().as_bytes().cmp(t.key().as_bytes()),
        };
        match order {
            Ordering::Less => self.source.next().map(Pair::SourceOnly),
            Ordering::Greater => self.target.next().map(Pair::TargetOnly),
            Ordering::Equal => match (self.source.next(), self.target.next()) {
                (Some(s), Some(t)) => Some(Pair::Both(s, t)),
                _ => None,
            },
        }
    }
}

/// The verdict of the update check on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Transfer,
    /// Up to date; the text says why (for the debug log).
    Skip(&'static str),
    /// Needs the ETags or checksums, which the worker computes or fetches.
    CompareContent,
}

/// Decides from the two listings alone where that is possible.
pub fn check(mode: UpdateCheck, source: &Entry, target: &Entry) -> Verdict {
    match mode {
        UpdateCheck::Mtime => {
            // Two empty objects are the same object, whatever their times say.
            if source.size == 0 && target.size == 0 {
                Verdict::Skip("both sizes are zero")
            } else if target.last_modified.secs < source.last_modified.secs {
                Verdict::Transfer
            } else {
                Verdict::Skip("the target is not older than the source")
            }
        }
        UpdateCheck::Size => {
            if source.size == target.size {
                Verdict::Skip("sizes are the same")
            } else {
                Verdict::Transfer
            }
        }
        UpdateCheck::Etag | UpdateCheck::Checksum(_) => Verdict::CompareContent,
        UpdateCheck::MtimeAndEtag | UpdateCheck::MtimeAndChecksum(_) => {
            if target.last_modified.secs < source.last_modified.secs {
                Verdict::CompareContent
            } else {
                Verdict::Skip("the target is not older than the source")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::time::Timestamp;

    fn e(key: &str, secs: i64, size: u64) -> Entry {
        Entry::new(key, size, Timestamp { secs, nanos: 0 })
    }

    #[test]
    fn joins_in_byte_order() {
        let source = vec![
            e("a", 0, 1),
            e("b", 0, 1),
            e("dir-2/x", 0, 1),
            e("dir/x", 0, 1),
        ];
        let target = vec![e("a", 0, 1), e("c", 0, 1), e("dir/x", 0, 1), e("z", 0, 1)];
        let steps: Vec<String> = MergeJoin::new(source.into_iter(), target.into_iter())
            .map(|p| match p {
                Pair::SourceOnly(s) => format!("+{}", s.key),
                Pair::Both(s, _) => format!("={}", s.key),
                Pair::TargetOnly(t) => format!("-{}", t.key),
            })
            .collect();
        assert_eq!(steps, vec!["=a", "+b", "-c", "+dir-2/x", "=dir/x", "-z"]);
    }

    #[test]
    fn mtime_rule_uses_whole_seconds_and_never_syncs_back() {
        let src = Entry {
            last_modified: Timestamp {
                secs: 100,
                nanos: 900,
            },
            ..e("k", 100, 5)
        };
        let same_second = Entry {
            last_modified: Timestamp {
                secs: 100,
                nanos: 1,
            },
            ..e("k", 100, 5)
        };
        assert!(matches!(
            check(UpdateCheck::Mtime, &src, &same_second),
            Verdict::Skip(_)
        ));
        assert_eq!(
            check(UpdateCheck::Mtime, &src, &e("k", 99, 5)),
            Verdict::Transfer
        );
        assert!(matches!(
            check(UpdateCheck::Mtime, &src, &e("k", 101, 5)),
            Verdict::Skip(_)
        ));
        assert!(matches!(
            check(UpdateCheck::Mtime, &e("k", 200, 0), &e("k", 1, 0)),
            Verdict::Skip(_)
        ));
    }

    #[test]
    fn size_and_etag_rules() {
        assert_eq!(
            check(UpdateCheck::Size, &e("k", 1, 5), &e("k", 9, 6)),
            Verdict::Transfer
        );
        assert!(matches!(
            check(UpdateCheck::Size, &e("k", 9, 5), &e("k", 1, 5)),
            Verdict::Skip(_)
        ));
        assert_eq!(
            check(UpdateCheck::Etag, &e("k", 9, 5), &e("k", 1, 5)),
            Verdict::CompareContent
        );
    }

    #[test]
    fn mtime_and_content_rules_look_at_contents_only_when_the_source_is_newer() {
        use crate::integrity::checksum::Algorithm;
        for mode in [
            UpdateCheck::MtimeAndEtag,
            UpdateCheck::MtimeAndChecksum(Algorithm::Sha256),
        ] {
            assert_eq!(
                check(mode, &e("k", 9, 5), &e("k", 1, 5)),
                Verdict::CompareContent
            );
            assert!(matches!(
                check(mode, &e("k", 1, 5), &e("k", 1, 6)),
                Verdict::Skip(_)
            ));
        }
        assert_eq!(
            check(
                UpdateCheck::Checksum(Algorithm::Crc32),
                &e("k", 1, 5),
                &e("k", 9, 5)
            ),
            Verdict::CompareContent
        );
    }
}
