//! azcopy's path filters ([`PathFilters`]): `--recursive=false`, `--include-pattern`,
//! `--exclude-pattern`, `--exclude-path`, `--include-regex` and `--exclude-regex`, decided
//! on the relative key alone so that they mean the same on every backend. They apply to
//! both sides, as in azcopy: a key they leave out is neither transferred nor deleted.
//!
//! An object must pass every kind given: it must match one include pattern (on its name,
//! the last path segment) and one include regex (on its whole relative path), and no
//! exclude pattern, path or regex.

use crate::config::PathFilters;

/// Why an object was filtered out: the option that did it.
pub type FilteredBy = &'static str;

/// The option that leaves `key` out, if any. `Err` when a backtracking regex gave up.
pub fn by_path(filters: &PathFilters, key: &str) -> Result<Option<FilteredBy>, String> {
    if filters.is_empty() {
        return Ok(None);
    }
    if filters.top_level_only && key.contains('/') {
        return Ok(Some("--recursive=false"));
    }
    let name = key.rsplit('/').next().unwrap_or(key);
    if !filters.include_names.is_empty() && !filters.include_names.iter().any(|g| g.is_match(name))
    {
        return Ok(Some("--include-pattern"));
    }
    if filters.exclude_names.iter().any(|g| g.is_match(name)) {
        return Ok(Some("--exclude-pattern"));
    }
    if filters.exclude_paths.iter().any(|p| under(key, p)) {
        return Ok(Some("--exclude-path"));
    }
    if !filters.include_regexes.is_empty() && !any_match(&filters.include_regexes, key)? {
        return Ok(Some("--include-regex"));
    }
    if any_match(&filters.exclude_regexes, key)? {
        return Ok(Some("--exclude-regex"));
    }
    Ok(None)
}

fn any_match(patterns: &[crate::util::pattern::Pattern], key: &str) -> Result<bool, String> {
    for p in patterns {
        if p.is_match(key)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `key` is `path` or lies under it, by whole segments: `dir` covers `dir` and
/// `dir/a`, not `dirX/a`. (azcopy compares plain string prefixes; we decided otherwise.)
fn under(key: &str, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    key.strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::glob::Glob;
    use crate::util::pattern::Pattern;

    fn globs(list: &[&str]) -> Vec<Glob> {
        list.iter().filter_map(|g| Glob::new(g).ok()).collect()
    }

    #[test]
    fn names_paths_regexes_and_the_top_level() {
        let f = PathFilters {
            include_names: globs(&["*.jpg", "*.pdf", "exactName"]),
            exclude_names: globs(&["foo*"]),
            exclude_paths: vec!["skip".into(), "deep/one.pdf".into()],
            ..PathFilters::default()
        };
        assert_eq!(by_path(&f, "a.jpg"), Ok(None));
        assert_eq!(by_path(&f, "d/exactName"), Ok(None));
        assert_eq!(by_path(&f, "a.txt"), Ok(Some("--include-pattern")));
        assert_eq!(by_path(&f, "d/foo.jpg"), Ok(Some("--exclude-pattern")));
        assert_eq!(by_path(&f, "skip/a.jpg"), Ok(Some("--exclude-path")));
        assert_eq!(by_path(&f, "skipX/a.jpg"), Ok(None));
        assert_eq!(by_path(&f, "deep/one.pdf"), Ok(Some("--exclude-path")));
        assert_eq!(
            by_path(&f, "deep/one.pdf/x.pdf"),
            Ok(Some("--exclude-path"))
        );
        assert_eq!(by_path(&f, "deep/one.pdfx.pdf"), Ok(None));
        let top = PathFilters {
            top_level_only: true,
            include_regexes: Pattern::new("^a").into_iter().collect(),
            exclude_regexes: Pattern::new("z$").into_iter().collect(),
            ..PathFilters::default()
        };
        assert_eq!(by_path(&top, "a/b"), Ok(Some("--recursive=false")));
        assert_eq!(by_path(&top, "ab"), Ok(None));
        assert_eq!(by_path(&top, "b"), Ok(Some("--include-regex")));
        assert_eq!(by_path(&top, "abz"), Ok(Some("--exclude-regex")));
    }
}
