//! azcopy's `sync` flags, so that an azcopy command line runs unchanged. Most of them are
//! another spelling of one of our options and are folded into it before validation
//! ([`fold`]), which then checks them by our rules (`--max-delete`, the part size limits);
//! the rest become settings of their own ([`path_filters`], [`apply`]). Flags whose meaning
//! we do not have are refused with the reason, never ignored. `--force-if-read-only` is
//! accepted and needs nothing: files are replaced by renaming a finished temporary file over
//! them, and deleted by unlinking, and on Unix neither looks at the file's own mode (only
//! the directory's), so a read-only file never stops a download or `--delete`.

use super::CliError;
use super::args::Args;
use super::directions::Kind;
use super::place::Place;
use crate::azure::cpk::{Encryption, KeyError};
use crate::config::{Config, DeleteMode, Location, Md5Check, PathFilters};
use crate::util::glob::Glob;
use crate::util::pattern::Pattern;

const MIB: u128 = 1 << 20;

/// The azcopy flags we refuse, with why; a boolean given `=false` asks for what we do
/// anyway and is accepted where `false_ok`.
fn refused(args: &Args) -> Option<(&'static str, &'static str)> {
    let on = |b: Option<bool>| b == Some(true);
    let set = |v: &Option<String>| v.is_some();
    let list: [(bool, &str, &str); 5] = [
        (
            on(args.preserve_smb_info),
            "--preserve-smb-info",
            "SMB properties belong to Azure Files, which s3sync does not reach",
        ),
        (
            on(args.preserve_permissions),
            "--preserve-permissions",
            "ACLs belong to Windows and Azure Files, which s3sync does not reach",
        ),
        (
            set(&args.include_attributes),
            "--include-attributes",
            "Windows file attributes are not supported",
        ),
        (
            set(&args.exclude_attributes),
            "--exclude-attributes",
            "Windows file attributes are not supported",
        ),
        (
            on(args.backup),
            "--backup",
            "Windows backup semantics are not supported",
        ),
    ];
    list.iter()
        .find(|(given, _, _)| *given)
        .map(|(_, name, why)| (*name, *why))
}

/// Which of `allowed` (case-insensitively) `value` is, or the error naming the option.
fn choice(option: &str, value: &str, allowed: &[&'static str]) -> Result<&'static str, CliError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| {
            CliError::usage(format!(
                "{option} '{value}' is not one of: {}",
                allowed.join(", ")
            ))
        })
}

/// A decimal number (`12`, `0.25`, `.5`) as a fraction `numerator / 10^digits`.
fn decimal(text: &str) -> Option<(u128, u32)> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || fraction.len() > 18
        || whole.len() > 18
    {
        return None;
    }
    let digits = fraction.len() as u32;
    let n: u128 = format!("{whole}{fraction}").parse().ok()?;
    Some((n, digits))
}

/// A MiB amount as a whole number of bytes.
fn mib_bytes(option: &str, text: &str) -> Result<u64, CliError> {
    let (n, digits) = decimal(text).ok_or_else(|| {
        CliError::usage(format!(
            "{option} '{text}': expected a number of MiB (e.g. 8 or 0.25)"
        ))
    })?;
    let scale = 10u128.pow(digits);
    let bytes = n * MIB;
    if !bytes.is_multiple_of(scale) {
        return Err(CliError::usage(format!(
            "{option} '{text}': must come to a whole number of bytes ({text} MiB does not)"
        )));
    }
    u64::try_from(bytes / scale)
        .map_err(|_| CliError::usage(format!("{option} '{text}': too large")))
}

/// Sets a size option from its azcopy spelling; both given must agree.
fn fold_size(
    args: &Args,
    azcopy: &str,
    text: &Option<String>,
    ours: &str,
    field: &str,
    current: u64,
) -> Result<Option<u64>, CliError> {
    let Some(text) = text else { return Ok(None) };
    let bytes = mib_bytes(azcopy, text)?;
    if args.given.contains(field) && current != bytes {
        return Err(CliError::usage(format!(
            "{azcopy} {text} and {ours} {current} contradict each other: give one"
        )));
    }
    Ok(Some(bytes))
}

/// Folds the azcopy spellings into our options and refuses what we cannot do.
pub fn fold(args: &mut Args) -> Result<(), CliError> {
    if let Some((name, why)) = refused(args) {
        return Err(CliError::usage(format!("{name} is not supported: {why}")));
    }
    if let Some(value) = &args.delete_destination {
        let mode = choice("--delete-destination", value, &["true", "false", "prompt"])?;
        if mode == "false" {
            if args.delete {
                return Err(CliError::usage(
                    "--delete and --delete-destination=false contradict each other: give one",
                ));
            }
        } else {
            args.delete = true;
        }
    }
    if let Some(bytes) = fold_size(
        args,
        "--block-size-mb",
        &args.block_size_mb,
        "--multipart-chunksize",
        "multipart_chunksize",
        args.multipart_chunksize,
    )? {
        args.multipart_chunksize = bytes;
    }
    if let Some(bytes) = fold_size(
        args,
        "--put-blob-size-mb",
        &args.put_blob_size_mb,
        "--multipart-threshold",
        "multipart_threshold",
        args.multipart_threshold,
    )? {
        args.multipart_threshold = bytes;
    }
    if let Some(text) = &args.cap_mbps {
        let (n, digits) = decimal(text).ok_or_else(|| {
            CliError::usage(format!(
                "--cap-mbps '{text}': expected a number of megabits per second (e.g. 100 or 0.5)"
            ))
        })?;
        // Megabits per second to bytes per second, rounded down.
        let bytes = n * 125_000 / 10u128.pow(digits);
        if n > 0 && bytes == 0 {
            return Err(CliError::usage(format!(
                "--cap-mbps '{text}': below one byte per second"
            )));
        }
        if bytes > 0 {
            if args.rate_limit_bandwidth.is_some() {
                return Err(CliError::usage(
                    "--cap-mbps and --rate-limit-bandwidth both cap the bandwidth: give one",
                ));
            }
            args.rate_limit_bandwidth = Some(bytes.to_string());
        }
    }
    if let Some(text) = &args.log_level {
        let level = choice("--log-level", text, &["INFO", "WARNING", "ERROR", "NONE"])?;
        if args.verbose > 0 || args.quiet > 0 {
            return Err(CliError::usage(
                "--log-level and -v/-q both set the verbosity: give one",
            ));
        }
        (args.verbose, args.quiet) = match level {
            "INFO" => (1, 0),
            "ERROR" => (0, 1),
            "NONE" => (0, 2),
            _ => (0, 0),
        };
    }
    if let Some(text) = &args.output_type
        && choice("--output-type", text, &["text", "json"])? == "json"
        && args.report_sync_status
    {
        return Err(CliError::usage(
            "--output-type json and --report-sync-status both write records to stdout: give one",
        ));
    }
    if let Some(text) = &args.check_md5 {
        choice("--check-md5", text, MD5_CHECKS)?;
    }
    // Hashes instead of times: our --check-etag, whose content check compares MD5s (a
    // local file's computed in the form of the other side's ETag).
    if let Some(text) = &args.compare_hash
        && choice("--compare-hash", text, &["None", "MD5"])? == "MD5"
    {
        let ours = [
            (args.check_size, "--check-size"),
            (args.check_mtime_and_etag, "--check-mtime-and-etag"),
            (
                args.check_additional_checksum.is_some(),
                "--check-additional-checksum",
            ),
            (
                args.check_mtime_and_additional_checksum.is_some(),
                "--check-mtime-and-additional-checksum",
            ),
        ];
        if let Some((_, name)) = ours.iter().find(|(given, _)| *given) {
            return Err(CliError::usage(format!(
                "--compare-hash=MD5 and {name} both say how objects are compared: give one"
            )));
        }
        args.check_etag = true;
    }
    // Overwrite whatever differs in time: everything on both sides is transferred again.
    // With a content check our --remove-modified-filter keeps comparing, which is not a
    // mirror: refused.
    if args.mirror_mode == Some(true) {
        let compares = [
            (
                args.compare_hash
                    .as_deref()
                    .is_some_and(|v| v.eq_ignore_ascii_case("md5")),
                "--compare-hash=MD5",
            ),
            (args.check_etag, "--check-etag"),
            (args.check_size, "--check-size"),
            (args.check_mtime_and_etag, "--check-mtime-and-etag"),
            (
                args.check_additional_checksum.is_some(),
                "--check-additional-checksum",
            ),
            (
                args.check_mtime_and_additional_checksum.is_some(),
                "--check-mtime-and-additional-checksum",
            ),
            (args.head_each_target, "--head-each-target"),
        ];
        if let Some((_, name)) = compares.iter().find(|(given, _)| *given) {
            return Err(CliError::usage(format!(
                "--mirror-mode and {name} contradict each other: mirror mode overwrites \
                 without comparing; give one"
            )));
        }
        args.remove_modified_filter = true;
    }
    fold_blob_tags(args)?;
    if let Some(text) = &args.trailing_dot {
        // Both values mean the same here: names are never trimmed, and Blob targets skip
        // names with a segment ending in '.' (the engine does, with a warning).
        choice("--trailing-dot", text, &["Enable", "Disable"])?;
    }
    Ok(())
}

/// `--local-hash-storage-mode` and `--hash-meta-dir`: where the local side keeps its files'
/// digests between runs. Nothing unless one of them is given (no new files appear in a
/// tree unasked); `--hash-meta-dir` alone means HiddenFiles there.
fn hash_cache(
    args: &Args,
    config: &Config,
) -> Result<Option<crate::storage::hash_cache::Storage>, CliError> {
    use crate::storage::hash_cache::{Storage, xattr_supported};
    let mode = match &args.local_hash_storage_mode {
        None => None,
        Some(text) => {
            let names = ["HiddenFiles", "XAttr", "AlternateDataStreams"];
            match choice("--local-hash-storage-mode", text, &names)? {
                "AlternateDataStreams" => {
                    return Err(CliError::usage(
                        "--local-hash-storage-mode AlternateDataStreams is Windows only: use \
                         HiddenFiles or XAttr",
                    ));
                }
                m => Some(m),
            }
        }
    };
    let dir = args.hash_meta_dir.as_ref().map(std::path::PathBuf::from);
    let storage = match (mode, dir) {
        (None, None) => return Ok(None),
        (Some("XAttr"), Some(_)) => {
            return Err(CliError::usage(
                "--hash-meta-dir goes with --local-hash-storage-mode HiddenFiles, not XAttr",
            ));
        }
        (Some("XAttr"), None) => Storage::XAttr,
        (_, dir) => Storage::HiddenFiles(dir),
    };
    let local = [&config.source, &config.target]
        .into_iter()
        .find_map(|l| match l {
            Location::Local(p) => Some(p.clone()),
            _ => None,
        });
    let Some(root) = local else {
        return Err(CliError::usage(
            "--local-hash-storage-mode and --hash-meta-dir cache the hashes of local files: \
             they need a local SOURCE or TARGET",
        ));
    };
    if storage == Storage::XAttr {
        let dir = if root.is_dir() {
            root.clone()
        } else {
            root.parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or(root.clone())
        };
        if dir.exists()
            && let Err(e) = xattr_supported(&dir)
        {
            return Err(CliError::usage(format!(
                "--local-hash-storage-mode XAttr: {} takes no user extended attributes ({e}): \
                 use HiddenFiles",
                dir.display()
            )));
        }
    }
    Ok(Some(storage))
}

/// `--s2s-preserve-blob-tags`: tags are carried by default (s3sync's default; azcopy's is
/// not to), so `=false` drops them as `--disable-tagging` does (set in [`apply`], as it
/// means nothing, and is no error, where the target keeps no tags) and `=true` is what
/// happens anyway.
fn fold_blob_tags(args: &Args) -> Result<(), CliError> {
    match args.s2s_preserve_blob_tags {
        Some(false) if args.tagging.is_some() => Err(CliError::usage(
            "--s2s-preserve-blob-tags=false and --tagging contradict each other: give one",
        )),
        Some(true) if args.disable_tagging => Err(CliError::usage(
            "--s2s-preserve-blob-tags and --disable-tagging contradict each other: give one",
        )),
        _ => Ok(()),
    }
}

/// `--cpk-by-value` (the key from `CPK_ENCRYPTION_KEY`, checked against
/// `CPK_ENCRYPTION_KEY_SHA256` when that is set) or `--cpk-by-name SCOPE`. Messages name the
/// variables, never their values.
fn encryption(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Encryption>, CliError> {
    let by_value = args.cpk_by_value == Some(true);
    match (by_value, &args.cpk_by_name) {
        (true, Some(_)) => Err(CliError::usage(
            "--cpk-by-value and --cpk-by-name both choose the encryption key: give one",
        )),
        (true, None) => {
            let key = env("CPK_ENCRYPTION_KEY")
                .filter(|k| !k.trim().is_empty())
                .ok_or_else(|| {
                    CliError::usage(
                        "--cpk-by-value needs the key in CPK_ENCRYPTION_KEY (base64 of a 32-byte AES-256 key) and its SHA-256 in CPK_ENCRYPTION_KEY_SHA256",
                    )
                })?;
            let sha = env("CPK_ENCRYPTION_KEY_SHA256").filter(|h| !h.trim().is_empty());
            Encryption::customer_key(&key, sha.as_deref())
                .map(Some)
                .map_err(|e| {
                    let which = if e == KeyError::HashMismatch {
                        "CPK_ENCRYPTION_KEY_SHA256"
                    } else {
                        "CPK_ENCRYPTION_KEY"
                    };
                    CliError::usage(format!("--cpk-by-value: {which} {e}"))
                })
        }
        (false, Some(scope)) if scope.trim().is_empty() => Err(CliError::usage(
            "--cpk-by-name needs the name of an encryption scope of the account",
        )),
        (false, Some(scope)) => Ok(Some(Encryption::Scope(scope.trim().to_string()))),
        (false, None) => Ok(None),
    }
}

const MD5_CHECKS: &[&str] = &[
    "NoCheck",
    "LogOnly",
    "FailIfDifferent",
    "FailIfDifferentOrMissing",
];

/// The pairs `--from-to` names.
const PAIRS: &[(&str, Kind, Kind)] = &[
    ("LocalBlob", Kind::Local, Kind::Blob),
    ("BlobLocal", Kind::Blob, Kind::Local),
    ("BlobBlob", Kind::Blob, Kind::Blob),
    ("LocalS3", Kind::Local, Kind::S3),
    ("S3Local", Kind::S3, Kind::Local),
    ("S3S3", Kind::S3, Kind::S3),
    ("S3Blob", Kind::S3, Kind::Blob),
    ("BlobS3", Kind::Blob, Kind::S3),
    ("LocalLocal", Kind::Local, Kind::Local),
];

/// `--from-to` against what SOURCE and TARGET are.
pub fn check_from_to(args: &Args, source: &Place, target: &Place) -> Result<(), CliError> {
    let Some(text) = &args.from_to else {
        return Ok(());
    };
    let names: Vec<&str> = PAIRS.iter().map(|p| p.0).collect();
    let name = choice("--from-to", text, &names)?;
    let (source, target) = (Kind::of(source), Kind::of(target));
    match PAIRS.iter().find(|p| p.0 == name) {
        Some((_, s, t)) if (*s, *t) == (source, target) => Ok(()),
        _ => Err(CliError::usage(format!(
            "--from-to {name} does not match SOURCE ({}) and TARGET ({})",
            source.name(),
            target.name()
        ))),
    }
}

/// `;`-separated items, empty ones dropped.
fn items(text: &Option<String>) -> impl Iterator<Item = &str> {
    text.as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|s| !s.is_empty())
}

/// The path filters.
pub fn path_filters(args: &Args) -> Result<PathFilters, CliError> {
    let globs = |name: &str, text: &Option<String>| -> Result<Vec<Glob>, CliError> {
        items(text)
            .map(|g| Glob::new(g).map_err(|e| CliError::usage(format!("{name} {e}"))))
            .collect()
    };
    let regexes = |name: &str, text: &Option<String>| -> Result<Vec<Pattern>, CliError> {
        items(text)
            .map(|r| {
                Pattern::new(r).map_err(|e| {
                    CliError::usage(format!(
                        "{name} '{r}' is not a valid regular expression: {e}"
                    ))
                })
            })
            .collect()
    };
    let exclude_paths = items(&args.exclude_path)
        .map(|p| {
            if p.contains('*') {
                Err(CliError::usage(format!(
                    "--exclude-path '{p}': takes relative paths, not wildcards (see --exclude-pattern)"
                )))
            } else {
                Ok(p.trim_start_matches("./").trim_matches('/').to_string())
            }
        })
        .filter(|p| p.as_ref().map_or(true, |p| !p.is_empty()))
        .collect::<Result<_, _>>()?;
    Ok(PathFilters {
        top_level_only: args.recursive == Some(false),
        include_names: globs("--include-pattern", &args.include_pattern)?,
        exclude_names: globs("--exclude-pattern", &args.exclude_pattern)?,
        exclude_paths,
        include_regexes: regexes("--include-regex", &args.include_regex)?,
        exclude_regexes: regexes("--exclude-regex", &args.exclude_regex)?,
    })
}

/// The settings of their own: the delete prompt, `--output-type`,
/// `--s2s-preserve-access-tier`, the customer-provided keys and `--check-md5`.
pub fn apply(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
    config: &mut Config,
) -> Result<(), CliError> {
    if let Some(encryption) = encryption(args, env)? {
        let mut blob_sides = 0;
        for side in [&mut config.source, &mut config.target] {
            if let Location::Azure { client, .. } = side {
                client.encryption = Some(encryption.clone());
                blob_sides += 1;
            }
        }
        if blob_sides == 0 {
            let name = if args.cpk_by_value == Some(true) {
                "--cpk-by-value"
            } else {
                "--cpk-by-name"
            };
            return Err(CliError::usage(format!(
                "{name} applies to Azure Blob sides, and neither SOURCE nor TARGET is one (for S3 see --source-sse-c/--target-sse-c)"
            )));
        }
    }
    if args.s2s_preserve_access_tier == Some(false) {
        config.metadata.no_sync_tier = true;
    }
    if args.s2s_preserve_blob_tags == Some(false) {
        config.metadata.disable_tagging = true;
    }
    config.metadata.posix = args.preserve_posix_properties == Some(true);
    config.output.json_lines = args
        .output_type
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("json"));
    if args
        .delete_destination
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("prompt"))
    {
        config.delete_mode = DeleteMode::Prompt;
    }
    config.hash_cache = hash_cache(args, config)?;
    config.require_source_hash = args
        .compare_hash
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("md5"));
    let Some(text) = &args.check_md5 else {
        return Ok(());
    };
    let check = match choice("--check-md5", text, MD5_CHECKS)? {
        "NoCheck" => Md5Check::NoCheck,
        "LogOnly" => Md5Check::LogOnly,
        "FailIfDifferentOrMissing" => Md5Check::FailIfDifferentOrMissing,
        _ => Md5Check::FailIfDifferent,
    };
    if check == Md5Check::FailIfDifferent {
        return Ok(());
    }
    if !matches!(config.target, Location::Local(_)) {
        return Err(CliError::usage(format!(
            "--check-md5 {text} applies to downloads: it needs a local TARGET"
        )));
    }
    match (&config.source, check) {
        (Location::Local(_), _) => {
            return Err(CliError::usage(format!(
                "--check-md5 {text} applies to downloads: it needs an S3 or Azure Blob SOURCE"
            )));
        }
        // The S3 download path's ETag check is what NoCheck turns off.
        (Location::S3 { .. }, Md5Check::NoCheck) => config.verify_etag = false,
        _ => {}
    }
    config.md5_check = check;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mib_amounts_must_be_whole_bytes() {
        assert_eq!(mib_bytes("--block-size-mb", "8").ok(), Some(8 << 20));
        assert_eq!(mib_bytes("--block-size-mb", "0.25").ok(), Some(1 << 18));
        assert_eq!(mib_bytes("--block-size-mb", "5.5").ok(), Some(5_767_168));
        assert!(mib_bytes("--block-size-mb", "0.1").is_err());
        assert!(mib_bytes("--block-size-mb", "x").is_err());
        assert!(mib_bytes("--block-size-mb", ".").is_err());
        assert!(mib_bytes("--block-size-mb", "-1").is_err());
    }
}
