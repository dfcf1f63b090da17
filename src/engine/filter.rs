//! Filters: which source objects a run looks at.
//!
//! The order is the reference tool's. Times, sizes and key patterns are decided from the
//! listing, before the update check ([`by_listing`]). Content-Type, user metadata and tags
//! need the object's headers or tags and are decided after it ([`by_content`]), so only
//! objects that would be transferred cost the extra request.
//!
//! A filtered source object is skipped, and its target counterpart is never a deletion
//! candidate. The key patterns also decide which target-only objects `--delete` may touch
//! ([`in_key_scope`]): a key the patterns leave out is kept unless `--delete-excluded`.

use crate::config::Filters;
use crate::storage::Entry;
use crate::util::encoding::uri_encode;
use crate::util::pattern::Pattern;

/// Why an object was filtered out: the option that did it.
pub type FilteredBy = &'static str;

/// Filters 1–6: modification time, size and key, in that order. `Err` when a backtracking
/// pattern gave up on this key.
pub fn by_listing(filters: &Filters, entry: &Entry) -> Result<Option<FilteredBy>, String> {
    if filters
        .mtime_before
        .is_some_and(|t| entry.last_modified >= t)
    {
        return Ok(Some("--filter-mtime-before"));
    }
    if filters.mtime_after.is_some_and(|t| entry.last_modified < t) {
        return Ok(Some("--filter-mtime-after"));
    }
    if filters.smaller_size.is_some_and(|n| entry.size >= n) {
        return Ok(Some("--filter-smaller-size"));
    }
    if filters.larger_size.is_some_and(|n| entry.size < n) {
        return Ok(Some("--filter-larger-size"));
    }
    by_key(filters, &entry.key)
}

/// Filters 5–6 alone: the key patterns (azcopy's path filters first).
pub fn by_key(filters: &Filters, key: &str) -> Result<Option<FilteredBy>, String> {
    if let Some(by) = super::path_filter::by_path(&filters.paths, key)? {
        return Ok(Some(by));
    }
    if let Some(p) = &filters.include_key
        && !p.is_match(key)?
    {
        return Ok(Some("--filter-include-regex"));
    }
    if let Some(p) = &filters.exclude_key
        && p.is_match(key)?
    {
        return Ok(Some("--filter-exclude-regex"));
    }
    Ok(None)
}

/// Whether `--delete` may remove the target-only object `key`: the key patterns select it,
/// or `--delete-excluded` lifts them. azcopy's path filters are never lifted.
pub fn in_key_scope(filters: &Filters, key: &str) -> Result<bool, String> {
    if super::path_filter::by_path(&filters.paths, key)?.is_some() {
        return Ok(false);
    }
    Ok(filters.delete_excluded || by_key(filters, key)?.is_none())
}

/// What the content filters look at. `None` is a value the object does not have: an include
/// filter then drops the object and an exclude filter keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub content_type: Option<String>,
    /// [`metadata_text`] of the user metadata.
    pub metadata: Option<String>,
    /// [`tags_text`] of the tags.
    pub tags: Option<String>,
}

/// Filters 9–14: Content-Type, user metadata, tags; include before exclude.
pub fn by_content(filters: &Filters, content: &Content) -> Result<Option<FilteredBy>, String> {
    let checks: [(&Option<Pattern>, &Option<String>, bool, FilteredBy); 6] = [
        (
            &filters.include_content_type,
            &content.content_type,
            true,
            "--filter-include-content-type-regex",
        ),
        (
            &filters.exclude_content_type,
            &content.content_type,
            false,
            "--filter-exclude-content-type-regex",
        ),
        (
            &filters.include_metadata,
            &content.metadata,
            true,
            "--filter-include-metadata-regex",
        ),
        (
            &filters.exclude_metadata,
            &content.metadata,
            false,
            "--filter-exclude-metadata-regex",
        ),
        (
            &filters.include_tag,
            &content.tags,
            true,
            "--filter-include-tag-regex",
        ),
        (
            &filters.exclude_tag,
            &content.tags,
            false,
            "--filter-exclude-tag-regex",
        ),
    ];
    for (pattern, value, include, name) in checks {
        let Some(pattern) = pattern else { continue };
        let matched = match value {
            Some(v) => pattern.is_match(v)?,
            None => false,
        };
        if matched != include {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// User metadata as the metadata filters see it: `key=value` pairs sorted by key (lower
/// case, as S3 reports them), values URL-encoded, joined by `,`. `None` when there is none.
pub fn metadata_text(user: &[(String, String)]) -> Option<String> {
    joined(user, ',', false)
}

/// Tags as the tag filters see it: `key=value` pairs sorted by key, both URL-encoded,
/// joined by `&`. `None` when there are none.
pub fn tags_text(tags: &[(String, String)]) -> Option<String> {
    joined(tags, '&', true)
}

fn joined(pairs: &[(String, String)], separator: char, encode_keys: bool) -> Option<String> {
    if pairs.is_empty() {
        return None;
    }
    // Sorted by the key as stored; encoding comes after, so it cannot change the order.
    let mut sorted: Vec<(String, &str)> = pairs
        .iter()
        .map(|(k, v)| {
            // Metadata names are case-insensitive (S3 reports them in lower case); tag keys are not.
            let k = if encode_keys {
                k.clone()
            } else {
                k.to_ascii_lowercase()
            };
            (k, v.as_str())
        })
        .collect();
    sorted.sort();
    let mut out = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(separator);
        }
        if encode_keys {
            out.push_str(&uri_encode(k, false));
        } else {
            out.push_str(k);
        }
        out.push('=');
        out.push_str(&uri_encode(v, false));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::time::Timestamp;

    fn entry(key: &str, secs: i64, size: u64) -> Entry {
        Entry::new(key, size, Timestamp { secs, nanos: 0 })
    }

    fn p(text: &str) -> Option<Pattern> {
        Some(Pattern::new(text).unwrap())
    }

    #[test]
    fn time_and_size_bounds() {
        let f = Filters {
            mtime_before: Some(Timestamp {
                secs: 100,
                nanos: 0,
            }),
            mtime_after: Some(Timestamp { secs: 50, nanos: 0 }),
            smaller_size: Some(10),
            larger_size: Some(2),
            ..Filters::default()
        };
        assert_eq!(by_listing(&f, &entry("k", 99, 5)), Ok(None));
        assert_eq!(by_listing(&f, &entry("k", 50, 2)), Ok(None));
        assert_eq!(
            by_listing(&f, &entry("k", 100, 5)),
            Ok(Some("--filter-mtime-before"))
        );
        assert_eq!(
            by_listing(&f, &entry("k", 49, 5)),
            Ok(Some("--filter-mtime-after"))
        );
        assert_eq!(
            by_listing(&f, &entry("k", 60, 10)),
            Ok(Some("--filter-smaller-size"))
        );
        assert_eq!(
            by_listing(&f, &entry("k", 60, 1)),
            Ok(Some("--filter-larger-size"))
        );
    }

    #[test]
    fn include_then_exclude_and_the_deletion_scope() {
        let f = Filters {
            include_key: p(r"\.txt$"),
            exclude_key: p("^tmp/"),
            ..Filters::default()
        };
        assert_eq!(by_listing(&f, &entry("a.txt", 1, 1)), Ok(None));
        assert_eq!(
            by_listing(&f, &entry("a.bin", 1, 1)),
            Ok(Some("--filter-include-regex"))
        );
        assert_eq!(
            by_listing(&f, &entry("tmp/a.txt", 1, 1)),
            Ok(Some("--filter-exclude-regex"))
        );
        assert_eq!(in_key_scope(&f, "a.txt"), Ok(true));
        assert_eq!(in_key_scope(&f, "tmp/a.txt"), Ok(false));
        assert_eq!(in_key_scope(&f, "a.bin"), Ok(false));
        let lifted = Filters {
            delete_excluded: true,
            ..f
        };
        assert_eq!(in_key_scope(&lifted, "tmp/a.txt"), Ok(true));
    }

    #[test]
    fn missing_values_fail_includes_and_pass_excludes() {
        let include = Filters {
            include_content_type: p("^image/"),
            ..Filters::default()
        };
        let exclude = Filters {
            exclude_tag: p("secret=yes"),
            ..Filters::default()
        };
        let nothing = Content::default();
        assert_eq!(
            by_content(&include, &nothing),
            Ok(Some("--filter-include-content-type-regex"))
        );
        assert_eq!(by_content(&exclude, &nothing), Ok(None));
        let png = Content {
            content_type: Some("image/png".into()),
            tags: Some("secret=yes".into()),
            ..Content::default()
        };
        assert_eq!(by_content(&include, &png), Ok(None));
        assert_eq!(
            by_content(&exclude, &png),
            Ok(Some("--filter-exclude-tag-regex"))
        );
    }

    #[test]
    fn metadata_and_tag_texts_are_sorted_and_encoded() {
        let meta = vec![
            ("zeta".to_string(), "a b".to_string()),
            ("Alpha".to_string(), "x,y".to_string()),
        ];
        assert_eq!(
            metadata_text(&meta).as_deref(),
            Some("alpha=x%2Cy,zeta=a%20b")
        );
        let tags = vec![
            ("k 2".to_string(), "v&2".to_string()),
            ("k1".to_string(), "v1".to_string()),
        ];
        assert_eq!(tags_text(&tags).as_deref(), Some("k%202=v%262&k1=v1"));
        assert_eq!(metadata_text(&[]), None);
    }
}
