//! Checks of `--enable-versioning` and `--point-in-time`: which sides they apply to and
//! which options they cannot be combined with. Whether the buckets really have versioning
//! enabled can only be asked of S3: the engine does that when the run starts.

use super::CliError;
use super::args::Args;
use super::place::Place;
use crate::util::time::Timestamp;

/// Directory buckets (S3 Express One Zone) have no versioning.
fn is_directory_bucket(place: &Place) -> bool {
    matches!(place, Place::S3 { bucket, .. } if bucket.ends_with("--x-s3"))
}

/// The options `--enable-versioning` cannot be combined with, and whether each was given.
fn versioning_conflicts(args: &Args) -> [(bool, &'static str); 21] {
    [
        (args.head_each_target, "--head-each-target"),
        (args.report_sync_status, "--report-sync-status"),
        (args.if_match, "--if-match"),
        (args.if_none_match, "--if-none-match"),
        (args.copy_source_if_match, "--copy-source-if-match"),
        // Key patterns apply to whole histories; these would pick single versions.
        (args.filter_mtime_before.is_some(), "--filter-mtime-before"),
        (args.filter_mtime_after.is_some(), "--filter-mtime-after"),
        (args.filter_smaller_size.is_some(), "--filter-smaller-size"),
        (args.filter_larger_size.is_some(), "--filter-larger-size"),
        (
            args.filter_include_content_type_regex.is_some()
                || args.filter_exclude_content_type_regex.is_some(),
            "--filter-include/exclude-content-type-regex",
        ),
        (
            args.filter_include_metadata_regex.is_some()
                || args.filter_exclude_metadata_regex.is_some(),
            "--filter-include/exclude-metadata-regex",
        ),
        (
            args.filter_include_tag_regex.is_some() || args.filter_exclude_tag_regex.is_some(),
            "--filter-include/exclude-tag-regex",
        ),
        (args.point_in_time.is_some(), "--point-in-time"),
        (args.delete, "--delete"),
        (args.remove_modified_filter, "--remove-modified-filter"),
        (args.check_size, "--check-size"),
        (args.check_etag, "--check-etag"),
        (args.check_mtime_and_etag, "--check-mtime-and-etag"),
        (
            args.check_additional_checksum.is_some(),
            "--check-additional-checksum",
        ),
        (
            args.check_mtime_and_additional_checksum.is_some(),
            "--check-mtime-and-additional-checksum",
        ),
        (args.sync_latest_tagging, "--sync-latest-tagging"),
    ]
}

/// Checks both options against the sides and the other options; returns the point in time,
/// which must not be later than `now`.
pub fn check(
    args: &Args,
    source: &Place,
    target: &Place,
    now: Timestamp,
) -> Result<Option<Timestamp>, CliError> {
    if args.enable_versioning {
        if let Some((_, name)) = versioning_conflicts(args).iter().find(|(set, _)| *set) {
            return Err(CliError::usage(format!(
                "--enable-versioning cannot be used with {name}"
            )));
        }
        if !matches!((source, target), (Place::S3 { .. }, Place::S3 { .. })) {
            return Err(CliError::usage(
                "--enable-versioning needs s3:// for both SOURCE and TARGET",
            ));
        }
        if is_directory_bucket(source) || is_directory_bucket(target) {
            return Err(CliError::usage(
                "--enable-versioning: directory buckets (S3 Express One Zone) have no versioning",
            ));
        }
    }
    let Some(text) = &args.point_in_time else {
        return Ok(None);
    };
    if !matches!(source, Place::S3 { .. }) {
        return Err(CliError::usage("--point-in-time needs an s3:// SOURCE"));
    }
    if is_directory_bucket(source) {
        return Err(CliError::usage(
            "--point-in-time: directory buckets (S3 Express One Zone) have no versioning",
        ));
    }
    let at = Timestamp::parse_rfc3339(text.trim()).ok_or_else(|| {
        CliError::usage(format!(
            "--point-in-time '{text}' is not an RFC 3339 time (e.g. 2025-07-16T06:37:59Z)"
        ))
    })?;
    if at > now {
        return Err(CliError::usage(format!(
            "--point-in-time {text} is later than the current time"
        )));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str) -> Place {
        Place::S3 {
            bucket: bucket.into(),
            prefix: String::new(),
        }
    }

    fn local() -> Place {
        Place::Local(".".into())
    }

    const NOW: Timestamp = Timestamp {
        secs: 1_752_648_000,
        nanos: 0,
    };

    fn message(r: Result<Option<Timestamp>, CliError>) -> String {
        match r {
            Err(e) => {
                assert_eq!(e.code, super::super::EXIT_USAGE, "{}", e.message);
                e.message
            }
            Ok(v) => panic!("accepted: {v:?}"),
        }
    }

    #[test]
    fn versioning_needs_two_buckets_and_no_conflicting_option() {
        let on = Args {
            enable_versioning: true,
            ..Args::default()
        };
        assert_eq!(check(&on, &s3("a"), &s3("b"), NOW), Ok(None));
        assert!(message(check(&on, &local(), &s3("b"), NOW)).contains("both SOURCE and TARGET"));
        assert!(message(check(&on, &s3("a"), &local(), NOW)).contains("both SOURCE and TARGET"));
        assert!(message(check(&on, &s3("a"), &s3("b--x-s3"), NOW)).contains("directory buckets"));
        let with = |f: &dyn Fn(&mut Args)| {
            let mut args = Args {
                enable_versioning: true,
                ..Args::default()
            };
            f(&mut args);
            message(check(&args, &s3("a"), &s3("b"), NOW))
        };
        assert_eq!(
            with(&|a| a.delete = true),
            "--enable-versioning cannot be used with --delete"
        );
        assert!(with(&|a| a.remove_modified_filter = true).ends_with("--remove-modified-filter"));
        assert!(with(&|a| a.check_size = true).ends_with("--check-size"));
        assert!(with(&|a| a.check_etag = true).ends_with("--check-etag"));
        assert!(with(&|a| a.check_mtime_and_etag = true).ends_with("--check-mtime-and-etag"));
        assert!(
            with(&|a| a.check_additional_checksum = Some("SHA256".into()))
                .ends_with("--check-additional-checksum")
        );
        assert!(
            with(&|a| a.check_mtime_and_additional_checksum = Some("CRC32".into()))
                .ends_with("--check-mtime-and-additional-checksum")
        );
        assert!(with(&|a| a.sync_latest_tagging = true).ends_with("--sync-latest-tagging"));
        assert!(
            with(&|a| a.point_in_time = Some("2025-01-01T00:00:00Z".into()))
                .ends_with("--point-in-time")
        );
    }

    #[test]
    fn point_in_time_needs_an_s3_source_and_a_past_rfc3339_time() {
        let at = |text: &str| Args {
            point_in_time: Some(text.into()),
            ..Args::default()
        };
        assert_eq!(
            check(&at("2025-07-16T06:37:59Z"), &s3("a"), &local(), NOW),
            Ok(Some(Timestamp {
                secs: 1_752_647_879,
                nanos: 0
            }))
        );
        assert_eq!(
            check(&at("2025-07-16T08:40:00+02:00"), &s3("a"), &s3("b"), NOW),
            Ok(Some(Timestamp {
                secs: 1_752_648_000,
                nanos: 0
            })),
            "the current time itself is allowed"
        );
        assert!(
            message(check(&at("2025-07-16T06:40:01Z"), &s3("a"), &s3("b"), NOW))
                .ends_with("is later than the current time")
        );
        assert!(message(check(&at("yesterday"), &s3("a"), &s3("b"), NOW)).contains("RFC 3339"));
        assert!(
            message(check(&at("2025-07-16T06:37:59Z"), &local(), &s3("b"), NOW))
                .contains("s3:// SOURCE")
        );
        assert!(
            message(check(
                &at("2025-07-16T06:37:59Z"),
                &s3("x--x-s3"),
                &local(),
                NOW
            ))
            .contains("directory buckets")
        );
    }
}
