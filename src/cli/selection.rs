//! The options that choose which objects a run touches and under what conditions: filters,
//! `--delete-excluded`, `--head-each-target`, `--warn-as-error`, `--ignore-glacier-warnings`
//! and the conditional writes.

use super::CliError;
use super::args::Args;
use crate::config::{Conditions, Config, Filters, Location, ReportOptions, UpdateCheck};
use crate::integrity::checksum::{Algorithm, ChecksumSpec};
use crate::util::pattern::Pattern;
use crate::util::size::parse_size;
use crate::util::time::Timestamp;

fn time(name: &str, value: &Option<String>) -> Result<Option<Timestamp>, CliError> {
    value
        .as_deref()
        .map(|text| {
            Timestamp::parse_rfc3339(text).ok_or_else(|| {
                CliError::usage(format!(
                    "{name} '{text}' is not an RFC 3339 time (e.g. 2024-01-31T12:00:00Z)"
                ))
            })
        })
        .transpose()
}

fn size(name: &str, value: &Option<String>) -> Result<Option<u64>, CliError> {
    value
        .as_deref()
        .map(|text| parse_size(text).map_err(|e| CliError::usage(format!("{name}: {e}"))))
        .transpose()
}

fn pattern(name: &str, value: &Option<String>) -> Result<Option<Pattern>, CliError> {
    value
        .as_deref()
        .map(|text| {
            Pattern::new(text).map_err(|e| {
                CliError::usage(format!(
                    "{name} '{text}' is not a valid regular expression: {e}"
                ))
            })
        })
        .transpose()
}

/// Parses the filter options.
fn filters(args: &Args, source_is_s3: bool) -> Result<Filters, CliError> {
    let filters = Filters {
        mtime_before: time("--filter-mtime-before", &args.filter_mtime_before)?,
        mtime_after: time("--filter-mtime-after", &args.filter_mtime_after)?,
        smaller_size: size("--filter-smaller-size", &args.filter_smaller_size)?,
        larger_size: size("--filter-larger-size", &args.filter_larger_size)?,
        include_key: pattern("--filter-include-regex", &args.filter_include_regex)?,
        exclude_key: pattern("--filter-exclude-regex", &args.filter_exclude_regex)?,
        include_content_type: pattern(
            "--filter-include-content-type-regex",
            &args.filter_include_content_type_regex,
        )?,
        exclude_content_type: pattern(
            "--filter-exclude-content-type-regex",
            &args.filter_exclude_content_type_regex,
        )?,
        include_metadata: pattern(
            "--filter-include-metadata-regex",
            &args.filter_include_metadata_regex,
        )?,
        exclude_metadata: pattern(
            "--filter-exclude-metadata-regex",
            &args.filter_exclude_metadata_regex,
        )?,
        include_tag: pattern("--filter-include-tag-regex", &args.filter_include_tag_regex)?,
        exclude_tag: pattern("--filter-exclude-tag-regex", &args.filter_exclude_tag_regex)?,
        delete_excluded: args.delete_excluded,
        paths: super::azcopy::path_filters(args)?,
    };
    if !source_is_s3 {
        let s3_only = [
            (
                &args.filter_include_metadata_regex,
                "--filter-include-metadata-regex",
            ),
            (
                &args.filter_exclude_metadata_regex,
                "--filter-exclude-metadata-regex",
            ),
            (&args.filter_include_tag_regex, "--filter-include-tag-regex"),
            (&args.filter_exclude_tag_regex, "--filter-exclude-tag-regex"),
        ];
        if let Some((_, name)) = s3_only.iter().find(|(v, _)| v.is_some()) {
            return Err(CliError::usage(format!(
                "{name} needs an s3:// SOURCE (local files have no metadata or tags)"
            )));
        }
    }
    if let (Some(before), Some(after)) = (filters.mtime_before, filters.mtime_after)
        && before <= after
    {
        return Err(CliError::usage(
            "--filter-mtime-before must be later than --filter-mtime-after, or nothing is selected",
        ));
    }
    if let (Some(smaller), Some(larger)) = (filters.smaller_size, filters.larger_size)
        && smaller <= larger
    {
        return Err(CliError::usage(
            "--filter-smaller-size must be above --filter-larger-size, or nothing is selected",
        ));
    }
    if args.delete_excluded && !args.delete {
        return Err(CliError::usage("--delete-excluded requires --delete"));
    }
    Ok(filters)
}

fn conditions(args: &Args, target_is_s3: bool) -> Result<Conditions, CliError> {
    if !target_is_s3 {
        if args.if_match {
            return Err(CliError::usage("--if-match needs an s3:// TARGET"));
        }
        if args.if_none_match {
            return Err(CliError::usage("--if-none-match needs an s3:// TARGET"));
        }
    }
    if args.if_match && args.if_none_match {
        return Err(CliError::usage(
            "--if-match and --if-none-match cannot be used together: choose one condition",
        ));
    }
    if args.copy_source_if_match && !args.server_side_copy {
        return Err(CliError::usage(
            "--copy-source-if-match requires --server-side-copy",
        ));
    }
    Ok(Conditions {
        if_match: args.if_match,
        if_none_match: args.if_none_match,
        copy_source_if_match: args.copy_source_if_match,
    })
}

/// `--report-*-sync-status`.
fn report(args: &Args, both_s3: bool) -> Result<Option<ReportOptions>, CliError> {
    if !args.report_sync_status {
        for (set, name) in [
            (
                args.report_metadata_sync_status,
                "--report-metadata-sync-status",
            ),
            (
                args.report_tagging_sync_status,
                "--report-tagging-sync-status",
            ),
        ] {
            if set {
                return Err(CliError::usage(format!(
                    "{name} requires --report-sync-status"
                )));
            }
        }
        return Ok(None);
    }
    let conflicts = [
        (args.delete, "--delete"),
        (args.head_each_target, "--head-each-target"),
        (args.remove_modified_filter, "--remove-modified-filter"),
        (args.sync_latest_tagging, "--sync-latest-tagging"),
        (args.check_size, "--check-size"),
        (args.check_mtime_and_etag, "--check-mtime-and-etag"),
        (
            args.check_mtime_and_additional_checksum.is_some(),
            "--check-mtime-and-additional-checksum",
        ),
    ];
    if let Some((_, name)) = conflicts.iter().find(|(set, _)| *set) {
        return Err(CliError::usage(format!(
            "--report-sync-status cannot be used with {name}: a report compares every object by \
             ETag (or by --check-additional-checksum) and changes nothing"
        )));
    }
    if (args.report_metadata_sync_status || args.report_tagging_sync_status) && !both_s3 {
        return Err(CliError::usage(
            "--report-metadata-sync-status and --report-tagging-sync-status need s3:// for both SOURCE \
             and TARGET",
        ));
    }
    Ok(Some(ReportOptions {
        metadata: args.report_metadata_sync_status,
        tagging: args.report_tagging_sync_status,
    }))
}

/// The selection options, checked.
pub struct Selection {
    filters: Filters,
    conditions: Conditions,
    report: Option<ReportOptions>,
}

/// Checks the selection options (before anything slow, such as finding credentials).
pub fn check(args: &Args, source_is_s3: bool, target_is_s3: bool) -> Result<Selection, CliError> {
    Ok(Selection {
        filters: filters(args, source_is_s3)?,
        conditions: conditions(args, target_is_s3)?,
        report: report(args, source_is_s3 && target_is_s3)?,
    })
}

/// Writes the selection options into `config`.
pub fn apply(selection: Selection, args: &Args, config: &mut Config) {
    config.filters = selection.filters;
    config.conditions = selection.conditions;
    if let Some(report) = selection.report {
        config.report = Some(report);
        // The records are the output: at info level, without the progress and summary lines.
        config.output.level = config.output.level.max(3);
        config.output.show_progress = false;
        if !matches!(config.update_check, UpdateCheck::Checksum(_)) {
            config.update_check = UpdateCheck::Etag;
        }
    }
    config.head_each_target = args.head_each_target;
    config.warn_as_error = args.warn_as_error;
    config.ignore_glacier_warnings = args.ignore_glacier_warnings;
    // Directory buckets keep no MD5 ETags; a full-object CRC64NVME is what verifies writes
    // there, as the AWS SDKs do by default.
    let express_target =
        matches!(&config.target, Location::S3 { bucket, .. } if bucket.ends_with("--x-s3"));
    if express_target
        && config.checksum.is_none()
        && !config.server_side_copy
        && !args.disable_express_one_zone_additional_checksum
    {
        config.checksum = Some(ChecksumSpec::new(Algorithm::Crc64Nvme, true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

    fn config(extra: &[&str], target: &str) -> Result<Config, CliError> {
        let mut raw: Vec<std::ffi::OsString> = extra.iter().map(|a| (*a).into()).collect();
        raw.push(std::env::temp_dir().into_os_string());
        raw.push(target.into());
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("a".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("b".to_string()),
            "AWS_REGION" => Some("us-west-2".to_string()),
            _ => None,
        };
        match parse(raw, &env)? {
            Command::Run(config, _) => Ok(*config),
            _ => Err(CliError::usage("not a run")),
        }
    }

    #[test]
    fn express_targets_get_a_full_object_crc64nvme_by_default() {
        let spec = config(&[], "s3://bucket--usw2-az1--x-s3/p").map(|c| c.checksum);
        assert_eq!(
            spec,
            Ok(Some(ChecksumSpec::new(Algorithm::Crc64Nvme, true)))
        );
        let off = config(
            &["--disable-express-one-zone-additional-checksum"],
            "s3://bucket--usw2-az1--x-s3/p",
        )
        .map(|c| c.checksum);
        assert_eq!(off, Ok(None));
        let explicit = config(
            &["--additional-checksum-algorithm", "SHA256"],
            "s3://bucket--usw2-az1--x-s3/p",
        )
        .map(|c| c.checksum);
        assert_eq!(
            explicit,
            Ok(Some(ChecksumSpec::new(Algorithm::Sha256, false)))
        );
        assert_eq!(
            config(&[], "s3://plain-bucket/p").map(|c| c.checksum),
            Ok(None)
        );
    }

    #[test]
    fn filter_values_are_parsed() {
        let c = config(
            &[
                "--filter-larger-size",
                "1KiB",
                "--filter-smaller-size",
                "2MB",
                "--filter-mtime-after",
                "2024-01-31T12:00:00Z",
                "--filter-include-regex",
                "(?<!tmp)/x",
            ],
            "s3://bucket/p",
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(c.filters.larger_size, Some(1024));
        assert_eq!(c.filters.smaller_size, Some(2_000_000));
        assert_eq!(
            c.filters
                .mtime_after
                .map(|t| t.rfc3339_seconds())
                .as_deref(),
            Some("2024-01-31T12:00:00+00:00")
        );
        assert!(
            c.filters
                .include_key
                .as_ref()
                .is_some_and(|p| !p.is_linear())
        );
        let nothing = config(
            &[
                "--filter-larger-size",
                "2MB",
                "--filter-smaller-size",
                "1MB",
            ],
            "s3://bucket/p",
        );
        assert!(nothing.is_err_and(|e| e.code == 2 && e.message.contains("--filter-smaller-size")));
    }
}
