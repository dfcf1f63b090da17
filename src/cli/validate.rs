//! From parsed arguments to a validated [`Config`]. Each check fails with one line naming
//! the option and what is allowed.

use std::path::{Path, PathBuf};

use super::CliError;
use super::args::Args;
use super::place::{Place, parse_place};
use super::sides::{self, SideOptions};
use crate::config::{
    CANNED_ACLS, Config, Location, MetadataOptions, OutputConfig, STORAGE_CLASSES, UpdateCheck,
};
use crate::integrity::checksum::{Algorithm, ChecksumSpec};
use crate::integrity::etag::PartLayout;
use crate::util::encoding::parse_tag_query;
use crate::util::time::Timestamp;

const MIN_PART: u64 = 5 << 20;
const MAX_PART: u64 = 5 << 30;

/// Parses `--tagging key1=value1&key2=value2` (URL-encoded, as S3's header takes it).
fn parse_tagging(text: Option<&str>) -> Result<Option<Vec<(String, String)>>, CliError> {
    let Some(text) = text else { return Ok(None) };
    parse_tag_query(text)
        .map(Some)
        .map_err(|e| CliError::usage(format!("--tagging '{text}': {e}")))
}

/// Checks a value against a fixed list, case-insensitively, returning the canonical spelling.
fn one_of(
    option: &str,
    value: &Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, CliError> {
    let Some(v) = value else { return Ok(None) };
    let v = if option == "--storage-class" && v.eq_ignore_ascii_case("ONE-ZONE_IA") {
        "ONEZONE_IA"
    } else {
        v
    };
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
        Some(a) => Ok(Some((*a).to_string())),
        None => Err(CliError::usage(format!(
            "{option} '{v}' is not one of: {}",
            allowed.join(", ")
        ))),
    }
}

/// Parses `--metadata key1=value1,key2=value2` (names and values of letters, digits, `_-.`).
fn parse_metadata(text: Option<&str>) -> Result<Option<Vec<(String, String)>>, CliError> {
    let Some(text) = text else { return Ok(None) };
    let ok = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    let mut pairs = Vec::new();
    for item in text.split(',') {
        match item.split_once('=') {
            Some((k, v)) if !k.is_empty() && ok(k) && ok(v) => {
                pairs.push((k.to_ascii_lowercase(), v.to_string()))
            }
            _ => {
                return Err(CliError::usage(format!(
                    "--metadata '{text}': expected key=value pairs separated by commas (letters, digits, _ - .)"
                )));
            }
        }
    }
    pairs.sort();
    Ok(Some(pairs))
}

/// The update check: at most one `--check-*` option.
fn update_check(args: &Args) -> Result<UpdateCheck, CliError> {
    let mut chosen: Vec<(&str, UpdateCheck)> = Vec::new();
    if args.check_size {
        chosen.push(("--check-size", UpdateCheck::Size));
    }
    if args.check_etag {
        chosen.push(("--check-etag", UpdateCheck::Etag));
    }
    if args.check_mtime_and_etag {
        chosen.push(("--check-mtime-and-etag", UpdateCheck::MtimeAndEtag));
    }
    if let Some(text) = &args.check_additional_checksum {
        let name = "--check-additional-checksum";
        chosen.push((name, UpdateCheck::Checksum(algorithm(name, text)?)));
    }
    if let Some(text) = &args.check_mtime_and_additional_checksum {
        let name = "--check-mtime-and-additional-checksum";
        chosen.push((name, UpdateCheck::MtimeAndChecksum(algorithm(name, text)?)));
    }
    match chosen.as_slice() {
        [] => Ok(UpdateCheck::Mtime),
        [(_, check)] => Ok(*check),
        [(a, _), (b, _), ..] => Err(CliError::usage(format!(
            "{a} and {b} cannot be used together: choose one update check"
        ))),
    }
}

/// The value of option `name`, a checksum algorithm.
fn algorithm(name: &str, text: &str) -> Result<Algorithm, CliError> {
    Algorithm::parse(text).ok_or_else(|| {
        CliError::usage(format!(
            "{name}: {text:?} is not one of SHA256, SHA1, CRC32, CRC32C, CRC64NVME"
        ))
    })
}

/// `--additional-checksum-algorithm` and the switches that depend on it.
fn checksum_spec(args: &Args) -> Result<Option<ChecksumSpec>, CliError> {
    let algorithm = match &args.additional_checksum_algorithm {
        Some(text) => Some(algorithm("--additional-checksum-algorithm", text)?),
        None => None,
    };
    match algorithm {
        None if args.full_object_checksum => Err(CliError::usage(
            "--full-object-checksum needs --additional-checksum-algorithm CRC32, CRC32C or CRC64NVME",
        )),
        None if args.disable_additional_checksum_verify => Err(CliError::usage(
            "--disable-additional-checksum-verify needs --additional-checksum-algorithm",
        )),
        Some(a) if args.full_object_checksum && !a.is_crc() => Err(CliError::usage(format!(
            "--full-object-checksum works with CRC32, CRC32C and CRC64NVME only, not {a}"
        ))),
        other => Ok(other.map(|a| ChecksumSpec::new(a, args.full_object_checksum))),
    }
}

fn check_part_size(name: &str, value: u64) -> Result<(), CliError> {
    if !(MIN_PART..=MAX_PART).contains(&value) {
        return Err(CliError::usage(format!(
            "{name} must be between 5MiB and 5GiB (got {value} bytes)"
        )));
    }
    Ok(())
}

/// Canonical form of a path that may not exist yet: its deepest existing ancestor,
/// canonicalised, with the rest appended.
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return Some(rest.iter().rev().fold(real, |p, c| p.join(c)));
        }
        rest.push(existing.file_name()?);
        existing = existing
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
    }
}

fn same_or_inside(inner: &Path, outer: &Path) -> bool {
    match (resolve(inner), resolve(outer)) {
        (Some(i), Some(o)) => i.starts_with(o),
        _ => false,
    }
}

/// Checks the arguments and builds the run's configuration.
pub fn build(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, CliError> {
    let [source, target] = args.paths.as_slice() else {
        return Err(CliError::usage(format!(
            "expected SOURCE and TARGET, got {} path(s): s3sync [OPTIONS] SOURCE TARGET (see --help)",
            args.paths.len()
        )));
    };
    let source_place = parse_place(source, "SOURCE")?;
    let target_place = parse_place(target, "TARGET")?;
    super::directions::check(args, &source_place, &target_place)?;
    super::azcopy::check_from_to(args, &source_place, &target_place)?;
    if args.tagging.is_some() && args.disable_tagging {
        return Err(CliError::usage(
            "--tagging sets tags and --disable-tagging drops them: give one",
        ));
    }

    if args.worker_size == 0 {
        return Err(CliError::usage("--worker-size must be at least 1"));
    }
    if args.max_parallel_uploads == 0 {
        return Err(CliError::usage("--max-parallel-uploads must be at least 1"));
    }
    if args.max_keys == 0 || args.max_keys > 32_767 {
        return Err(CliError::usage(format!(
            "--max-keys must be between 1 and 32767 (got {})",
            args.max_keys
        )));
    }
    if args.max_parallel_listings == 0 {
        return Err(CliError::usage(
            "--max-parallel-listings must be at least 1",
        ));
    }
    if args.object_listing_queue_size == 0 {
        return Err(CliError::usage(
            "--object-listing-queue-size must be at least 1",
        ));
    }
    if args.aws_max_attempts == 0 {
        return Err(CliError::usage("--aws-max-attempts must be at least 1"));
    }
    check_part_size("--multipart-threshold", args.multipart_threshold)?;
    check_part_size("--multipart-chunksize", args.multipart_chunksize)?;
    let checksum = checksum_spec(args)?;
    let update_check = update_check(args)?;
    match args.max_delete {
        Some(_) if !args.delete => return Err(CliError::usage("--max-delete requires --delete")),
        Some(0) => return Err(CliError::usage("--max-delete must be at least 1")),
        _ => {}
    }
    let point_in_time =
        super::versioning::check(args, &source_place, &target_place, Timestamp::now())?;

    if let Place::Local(path) = &source_place {
        let meta = std::fs::metadata(path)
            .map_err(|e| CliError::usage(format!("SOURCE {}: {e}", path.display())))?;
        if args.delete && !meta.is_dir() {
            return Err(CliError::usage("with --delete, SOURCE must be a directory"));
        }
    }
    if let Place::Local(path) = &target_place {
        // An existing file may be the TARGET of one file or one blob (which it then
        // becomes); a Blob path without the trailing `/` may be one blob, which only the
        // service can tell: the engine stops the run if it is not.
        let one_object_source = match &source_place {
            Place::Local(src) => src.is_file(),
            Place::Blob(blob) => !args.delete && !blob.path.is_empty() && !blob.path.ends_with('/'),
            Place::S3 { .. } => false,
        };
        if path.is_file() && !one_object_source {
            return Err(CliError::usage(format!(
                "TARGET {} is a file; it must be a directory (a file TARGET takes only one file \
                 or one blob)",
                path.display()
            )));
        }
        if let Place::Local(src) = &source_place
            && (same_or_inside(path, src) || same_or_inside(src, path))
        {
            return Err(CliError::usage(
                "TARGET and SOURCE overlap: one is the other or inside it",
            ));
        }
    }
    let target_is_s3 = matches!(target_place, Place::S3 { .. });
    let limits = super::reliability::check(args)?;
    let selection =
        super::selection::check(args, matches!(source_place, Place::S3 { .. }), target_is_s3)?;
    let scripts = super::scripts::check(args, !matches!(target_place, Place::Local(_)))?;
    let metadata = parse_metadata(args.metadata.as_deref())?;
    if let (Some(pairs), Place::Blob(_)) = (&metadata, &target_place)
        && let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !crate::azure::is_metadata_name(name))
    {
        return Err(CliError::usage(format!(
            "--metadata: '{name}' cannot name Azure Blob metadata (use letters, digits and \
             '_', not starting with a digit)"
        )));
    }
    let tagging = parse_tagging(args.tagging.as_deref())?;
    // On a Blob target the storage class is the access tier.
    let storage_class = if matches!(target_place, Place::Blob(_)) {
        one_of(
            "--storage-class",
            &args.storage_class,
            &crate::storage::azure_backend::TIERS,
        )?
    } else {
        one_of("--storage-class", &args.storage_class, STORAGE_CLASSES)?
    };
    let acl = one_of("--acl", &args.acl, CANNED_ACLS)?;
    let sse = one_of("--sse", &args.sse, &["AES256", "aws:kms", "aws:kms:dsse"])?;
    if args.sse_kms_key_id.is_some() && !sse.as_deref().is_some_and(|s| s.starts_with("aws:kms")) {
        return Err(CliError::usage(
            "--sse-kms-key-id needs --sse aws:kms or aws:kms:dsse",
        ));
    }
    let kms = sse.as_deref().is_some_and(|s| s.starts_with("aws:kms"));
    let encrypted_target = kms || args.target_sse_c.is_some();
    if matches!(update_check, UpdateCheck::Etag | UpdateCheck::MtimeAndEtag)
        && (encrypted_target || args.source_sse_c.is_some())
    {
        return Err(CliError::usage(
            "--check-etag/--check-mtime-and-etag cannot be used with SSE-KMS or SSE-C: those ETags are not \
             content digests",
        ));
    }
    if args.sync_latest_tagging && !(matches!(source_place, Place::S3 { .. }) && target_is_s3) {
        return Err(CliError::usage(
            "--sync-latest-tagging needs s3:// for both SOURCE and TARGET",
        ));
    }
    let expires = match &args.expires {
        Some(text) => Some(
            Timestamp::parse_rfc3339(text)
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--expires '{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)"
                    ))
                })?
                .http_date(),
        ),
        None => None,
    };

    let aws = sides::aws_env(env);
    let source_side = SideOptions::source(args);
    let target_side = SideOptions::target(args);
    // Proxies and the CA bundle matter (and are checked) only when a side is remote.
    let net = if !source_place.is_local() || !target_place.is_local() {
        sides::network(env)?
    } else {
        Default::default()
    };
    let azure = crate::azure::credentials::AzureEnv::from_lookup(env);
    let source_location = sides::location(source_place, &source_side, args, &aws, &azure, &net)?;
    let mut target_location =
        sides::location(target_place, &target_side, args, &aws, &azure, &net)?;
    if let (Location::S3 { client: s, .. }, Location::S3 { client: t, .. }) =
        (&source_location, &mut target_location)
        && s.region == t.region
        && source_side.same_credentials(&target_side)
    {
        t.credentials = s.credentials.clone();
    }
    if args.server_side_copy && args.client_side_copy {
        return Err(CliError::usage(
            "--client-side-copy and --server-side-copy contradict each other: give one",
        ));
    }
    let auto_server_copy = !args.client_side_copy
        && !args.server_side_copy
        && server_can_copy(args, &source_location, &target_location)
        && source_side.same_credentials(&target_side);
    if args.server_side_copy {
        match (&source_location, &target_location) {
            (Location::S3 { client: s, .. }, Location::S3 { client: t, .. }) => {
                if s.endpoint != t.endpoint || s.region != t.region {
                    return Err(CliError::usage(
                        "--server-side-copy needs SOURCE and TARGET on the same endpoint and region",
                    ));
                }
            }
            _ => {
                return Err(CliError::usage(
                    "--server-side-copy needs s3:// for both SOURCE and TARGET",
                ));
            }
        }
    }

    let mut level = (2 + i16::from(args.verbose) - i16::from(args.quiet)).clamp(0, 5) as u8;
    if args.dry_run {
        // What a dry run would do is its whole output.
        level = level.max(3);
    }
    let mut config = Config::new(source_location, target_location);
    config.dry_run = args.dry_run;
    config.delete = args.delete;
    config.max_delete = args.max_delete;
    config.update_check = update_check;
    config.remove_modified_filter = args.remove_modified_filter;
    config.worker_size = usize::from(args.worker_size);
    config.max_parallel_uploads = usize::from(args.max_parallel_uploads);
    config.layout = PartLayout {
        threshold: args.multipart_threshold,
        chunk_size: args.multipart_chunksize,
    };
    config.content_md5 = !args.disable_content_md5_header;
    config.verify_etag = !args.disable_etag_verify;
    config.verify_multipart = !args.disable_multipart_verify;
    config.follow_symlinks = !args.ignore_symlinks;
    config.max_keys = u32::from(args.max_keys);
    config.max_parallel_listings = usize::from(args.max_parallel_listings);
    config.max_parallel_listing_max_depth = usize::from(args.max_parallel_listing_max_depth);
    config.object_listing_queue_size = args.object_listing_queue_size as usize;
    config.allow_parallel_listings_in_express_one_zone =
        args.allow_parallel_listings_in_express_one_zone;
    config.server_side_copy = args.server_side_copy || auto_server_copy;
    config.server_side_copy_auto = auto_server_copy;
    config.metadata = MetadataOptions {
        no_sync_system: args.no_sync_system_metadata,
        no_sync_user: args.no_sync_user_defined_metadata,
        content_type: args.content_type.clone(),
        content_encoding: args.content_encoding.clone(),
        cache_control: args.cache_control.clone(),
        content_disposition: args.content_disposition.clone(),
        content_language: args.content_language.clone(),
        expires,
        website_redirect: args.website_redirect.clone(),
        metadata,
        guess_mime_type: !args.no_guess_mime_type,
        put_last_modified: args.put_last_modified_metadata,
        tagging,
        disable_tagging: args.disable_tagging,
        storage_class,
        no_sync_tier: false,
        posix: false,
        acl,
        sse,
        sse_kms_key_id: args.sse_kms_key_id.clone(),
    };
    config.sync_latest_tagging = args.sync_latest_tagging;
    config.enable_versioning = args.enable_versioning;
    config.point_in_time = point_in_time;
    config.checksum = checksum;
    config.verify_checksum = !args.disable_additional_checksum_verify;
    config.enable_additional_checksum = args.enable_additional_checksum;
    config.auto_chunksize = args.auto_chunksize;
    let checksum_check = matches!(
        update_check,
        UpdateCheck::Checksum(_) | UpdateCheck::MtimeAndChecksum(_)
    );
    if let Location::S3 { client, .. } = &mut config.source {
        client.checksum_mode = args.enable_additional_checksum || checksum_check;
    }
    if let Location::S3 { client, .. } = &mut config.target {
        client.checksum_mode = checksum_check;
    }
    if encrypted_target {
        // SSE-KMS and SSE-C ETags are not MD5s of the content: nothing to compare them with.
        config.verify_etag = false;
    }
    config.output = OutputConfig {
        level,
        json: args.json_tracing,
        show_progress: !args.show_no_progress,
        log_to_stderr: args.tracing_stderr,
        json_lines: false,
    };
    config.state_dir = super::state::dir(args, env);
    super::selection::apply(selection, args, &mut config);
    if args.remove_modified_filter && (args.head_each_target || update_check != UpdateCheck::Mtime)
    {
        // What the reference recommends to save memory: the target is not listed, yet the
        // update check asked for (the time by default, or a --check-* option) is kept,
        // made with one HEAD (or stat) per source object.
        config.remove_modified_filter = false;
        config.head_each_target = true;
    }
    super::reliability::apply(limits, &mut config);
    super::scripts::load(scripts, &mut config)?;
    super::azcopy::apply(args, env, &mut config)?;
    Ok(config)
}

/// Whether an S3 → S3 sync can leave the copying to the server without changing its result,
/// as aws-cli, rclone and s5cmd do within one endpoint: both sides on one endpoint, region
/// and requester-pays setting (the caller also checks the credentials), no checksum asked
/// for (those need the bytes to pass through s3sync), no SSE-C key on either side, no
/// conditional write (not every store honours the conditions on CopyObject), no transfer
/// acceleration (asked for to speed up the client's own transfers) and no directory bucket
/// as the target (it gets a CRC64NVME computed here by default).
fn server_can_copy(args: &Args, source: &Location, target: &Location) -> bool {
    let (
        Location::S3 { client: s, .. },
        Location::S3 {
            client: t,
            bucket: target_bucket,
            ..
        },
    ) = (source, target)
    else {
        return false;
    };
    s.endpoint == t.endpoint
        && s.region == t.region
        && s.request_payer == t.request_payer
        && !target_bucket.ends_with("--x-s3")
        && args.additional_checksum_algorithm.is_none()
        && !args.enable_additional_checksum
        && args.source_sse_c.is_none()
        && args.target_sse_c.is_none()
        && !args.if_match
        && !args.if_none_match
        && !args.source_accelerate
        && !args.target_accelerate
}

#[cfg(test)]
mod tests {
    /// Which S3 → S3 runs the server copies without being asked: one endpoint, region and
    /// identity, and nothing that needs the bytes to pass through s3sync.
    #[test]
    fn server_copies_only_within_one_endpoint_and_identity() {
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("a".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("b".to_string()),
            "AWS_REGION" => Some("us-east-1".to_string()),
            _ => None,
        };
        let auto = |extra: &[&str]| -> Option<(bool, bool)> {
            let mut raw: Vec<std::ffi::OsString> = extra.iter().map(|a| a.into()).collect();
            raw.extend(["s3://src/p/".into(), "s3://dst/q/".into()]);
            match super::super::parse(raw, &env) {
                Ok(super::super::Command::Run(c, _)) => {
                    Some((c.server_side_copy, c.server_side_copy_auto))
                }
                _ => None,
            }
        };
        let url = "http://127.0.0.1:9000";
        let same = ["--source-endpoint-url", url, "--target-endpoint-url", url];
        let with = |more: &[&'static str]| -> Vec<&str> {
            same.iter().chain(more.iter()).copied().collect()
        };
        assert_eq!(
            auto(&[]),
            Some((true, true)),
            "default AWS endpoint, both sides"
        );
        assert_eq!(auto(&same), Some((true, true)));
        assert_eq!(auto(&with(&["--server-side-copy"])), Some((true, false)));
        for off in [
            &["--client-side-copy"][..],
            &["--enable-additional-checksum"],
            &["--additional-checksum-algorithm", "CRC32"],
            &["--if-none-match"],
            &[
                "--target-access-key",
                "other",
                "--target-secret-access-key",
                "x",
            ],
            &["--target-region", "eu-west-1"],
        ] {
            assert_eq!(auto(&with(off)), Some((false, false)), "{off:?}");
        }
        assert_eq!(auto(&["--target-accelerate"]), Some((false, false)));
        assert_eq!(
            auto(&[
                "--source-endpoint-url",
                url,
                "--target-endpoint-url",
                "http://127.0.0.1:9001"
            ]),
            Some((false, false))
        );
        assert_eq!(
            auto(&with(&["--client-side-copy", "--server-side-copy"])),
            None
        );
    }
}
