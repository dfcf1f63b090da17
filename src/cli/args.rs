//! The command line, defined once: parsing, `--help`, the completion scripts, environment
//! fallbacks and validation all read the table [`FLAGS`] that `command_line!` builds
//! together with [`Args`]. Every long option also reads the environment variable of the
//! same name in upper snake case (`--worker-size` ← `WORKER_SIZE`), the command line winning
//! (see `argv.rs`).
//!
//! Why a table of our own instead of a derive crate (argh until 2026-11): the derive and
//! the proc-macro crates it compiles were 9 of the 69 lines of the dependency graph, and
//! what we need beyond plain parsing (environment fallbacks, `--help` sections, completion
//! scripts) had to be built around it anyway. A `macro_rules!` table gives all of that from
//! one definition per flag.

use crate::util::size::parse_size;

pub use super::flag_table::Kind;
use super::flag_table::SetFromArg;

/// One flag of this command line.
pub type Flag = super::flag_table::Flag<Args>;

/// The section of the azcopy flags (not read from the environment, see `argv.rs`).
pub const AZCOPY_SECTION: &str = "azcopy compatibility";

/// What `--help` says before the flags.
pub const ABOUT: &str = "Reliable, verifiable, fast sync between local directories and \
S3-compatible buckets.

SOURCE and TARGET are s3://BUCKET[/prefix] or local paths (also read from the SOURCE and \
TARGET environment variables). No '/' is inserted between a prefix and a key: \
s3://b/pre + foo -> prefoo, s3://b/pre/ + foo -> pre/foo.";

/// What `--help` says after the flags.
pub const NOTES: &str = "Every option also reads the environment variable named like it in \
upper snake case (--worker-size: WORKER_SIZE); the command line wins. The azcopy \
compatibility flags do not.

Exit codes: 0 success, 1 error, 2 invalid arguments, 3 finished with warnings, 101 bug \
(panic), 130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM.";

command_line! {
    "General" {
        /// more logging: -v info, -vv debug, -vvv trace
        count verbose, short 'v';
        /// less logging: -q errors only, -qq nothing
        count quiet, short 'q';
        /// print the version and exit
        switch version, short 'V';
        /// print this help and exit
        help help, short 'h';
        /// show what would be done without changing anything
        switch dry_run;
        /// do not show the progress line or the summary line
        switch show_no_progress;
        /// S3 to S3 by server-side copy (CopyObject/UploadPartCopy); both sides on one endpoint
        switch server_side_copy;
        /// S3 to S3 through s3sync even where both sides are one endpoint and identity (there
        /// the server copies by default)
        switch client_side_copy;
        /// print a completion script for SHELL on stdout and exit: bash, zsh, fish, powershell or
        /// elvish
        option auto_complete_shell: Option<String>, value "SHELL";
    }
    "AWS configuration" {
        /// the AWS CLI config file (default ~/.aws/config)
        option aws_config_file: Option<String>;
        /// the AWS CLI credentials file (default ~/.aws/credentials)
        option aws_shared_credentials_file: Option<String>;
        /// source profile from the AWS CLI files
        option source_profile: Option<String>;
        /// source access key id
        option source_access_key: Option<String>;
        /// source secret access key
        option source_secret_access_key: Option<String>;
        /// source session token
        option source_session_token: Option<String>;
        /// target profile from the AWS CLI files
        option target_profile: Option<String>;
        /// target access key id
        option target_access_key: Option<String>;
        /// target secret access key
        option target_secret_access_key: Option<String>;
        /// target session token
        option target_session_token: Option<String>;
        /// send anonymous (unsigned) requests to the source: no credentials are looked for
        switch source_no_sign_request;
        /// send anonymous (unsigned) requests to the target: no credentials are looked for
        switch target_no_sign_request;
    }
    "Source / target endpoints" {
        /// source region
        option source_region: Option<String>;
        /// source endpoint URL (http:// or https://)
        option source_endpoint_url: Option<String>;
        /// use S3 Transfer Acceleration for the source
        switch source_accelerate;
        /// send requester-pays headers to the source
        switch source_request_payer;
        /// path-style addressing for the source (bucket in the path, not the host name)
        switch source_force_path_style;
        /// target region
        option target_region: Option<String>;
        /// target endpoint URL (http:// or https://)
        option target_endpoint_url: Option<String>;
        /// use S3 Transfer Acceleration for the target
        switch target_accelerate;
        /// send requester-pays headers to the target
        switch target_request_payer;
        /// path-style addressing for the target (bucket in the path, not the host name)
        switch target_force_path_style;
    }
    "Filtering" {
        /// only objects last modified before this time (RFC 3339, e.g. 2024-01-31T00:00:00Z)
        option filter_mtime_before: Option<String>;
        /// only objects last modified at or after this time (RFC 3339)
        option filter_mtime_after: Option<String>;
        /// only objects smaller than this size (e.g. 10MiB; B, KB, KiB … TB, TiB)
        option filter_smaller_size: Option<String>;
        /// only objects of at least this size (e.g. 1KB)
        option filter_larger_size: Option<String>;
        /// only keys (relative to SOURCE) matching this regular expression (lookaround allowed)
        option filter_include_regex: Option<String>;
        /// no keys (relative to SOURCE) matching this regular expression
        option filter_exclude_regex: Option<String>;
        /// only objects whose Content-Type matches this regular expression
        option filter_include_content_type_regex: Option<String>;
        /// no objects whose Content-Type matches this regular expression
        option filter_exclude_content_type_regex: Option<String>;
        /// only S3 objects whose user metadata, as sorted key=value pairs joined by ',', matches
        option filter_include_metadata_regex: Option<String>;
        /// no S3 objects whose user metadata (sorted key=value,key=value) matches
        option filter_exclude_metadata_regex: Option<String>;
        /// only S3 objects whose tags, as sorted key=value pairs joined by '&', match
        option filter_include_tag_regex: Option<String>;
        /// no S3 objects whose tags (sorted key=value&key=value) match
        option filter_exclude_tag_regex: Option<String>;
    }
    "Update checking" {
        /// transfer everything, without comparing with the target
        switch remove_modified_filter;
        /// transfer when the sizes differ (instead of the modification time)
        switch check_size;
        /// transfer when the ETags differ (local ETags computed with the multipart settings)
        switch check_etag;
        /// transfer when the source is newer and the ETags differ
        switch check_mtime_and_etag;
        /// transfer when the additional checksums (SHA256, SHA1, CRC32, CRC32C, CRC64NVME) differ
        option check_additional_checksum: Option<String>;
        /// transfer when the source is newer and the additional checksums differ
        option check_mtime_and_additional_checksum: Option<String>;
    }
    "Verification" {
        /// do not compare the ETag S3 returns with the one computed locally
        switch disable_etag_verify;
        /// do not verify ETags of multipart uploads
        switch disable_multipart_verify;
        /// give uploaded objects this additional checksum and verify it: SHA256, SHA1, CRC32,
        /// CRC32C or CRC64NVME
        option additional_checksum_algorithm: Option<String>;
        /// multipart CRC32/CRC32C checksums of the whole object instead of composite ones
        /// (CRC64NVME always is)
        switch full_object_checksum;
        /// ask S3 sources for their additional checksums and verify downloads and copies with them
        switch enable_additional_checksum;
        /// store the additional checksum but do not compare it after the upload
        switch disable_additional_checksum_verify;
        /// learn the part sizes of multipart S3 objects (one HeadObject per part) so their ETags
        /// and checksums verify exactly
        switch auto_chunksize;
        /// do not give objects written to S3 Express One Zone buckets (names ending --x-s3) a
        /// full-object CRC64NVME checksum by default
        switch disable_express_one_zone_additional_checksum;
    }
    "Performance" {
        /// objects transferred at once (default 16)
        option worker_size: u16 = 16;
        /// parts of large objects in flight at once, shared by all workers (default 16)
        option max_parallel_uploads: u16 = 16;
        /// listing requests in flight at once; 1 lists sequentially (default 16)
        option max_parallel_listings: u16 = 16;
        /// levels of prefixes listed in parallel (default 2)
        option max_parallel_listing_max_depth: u16 = 2;
        /// listed objects held ahead of the comparison, all parallel listings together
        /// (default 4000; memory stays flat)
        option object_listing_queue_size: u32 = 4000;
        /// list S3 Express One Zone directory buckets in parallel too
        switch allow_parallel_listings_in_express_one_zone;
        /// keys per listing request, 1..=32767 (default 1000)
        option max_keys: u16 = 1000;
    }
    "Multipart" {
        /// objects of at least this size are uploaded in parts, 5MiB..=5GiB (default 8MiB)
        option multipart_threshold: u64 = 8 << 20, parse size_arg;
        /// part size, 5MiB..=5GiB (default 8MiB)
        option multipart_chunksize: u64 = 8 << 20, parse size_arg;
    }
    "Metadata" {
        /// the Cache-Control to set on target objects
        option cache_control: Option<String>;
        /// the Content-Disposition to set on target objects
        option content_disposition: Option<String>;
        /// the Content-Encoding to set on target objects
        option content_encoding: Option<String>;
        /// the Content-Language to set on target objects
        option content_language: Option<String>;
        /// the Content-Type to set on target objects
        option content_type: Option<String>;
        /// the Expires header to set on target objects (RFC 3339, e.g. 2030-01-01T00:00:00Z)
        option expires: Option<String>;
        /// user metadata replacing the source's: key1=value1,key2=value2
        option metadata: Option<String>;
        /// x-amz-website-redirect-location to set on target objects
        option website_redirect: Option<String>;
        /// do not copy Content-Type/-Encoding/-Disposition/-Language, Cache-Control, Expires, redirect
        switch no_sync_system_metadata;
        /// do not copy user metadata
        switch no_sync_user_defined_metadata;
        /// do not guess the Content-Type of local files from their extension
        switch no_guess_mime_type;
        /// add the source's last-modified time as user metadata s3sync_origin_last_modified
        switch put_last_modified_metadata;
    }
    "Tags, storage class, ACL" {
        /// tags replacing the source's, URL-encoded: key1=value1&key2=value2
        option tagging: Option<String>;
        /// do not copy tags from the source
        switch disable_tagging;
        /// S3 to S3: bring the tags of up-to-date objects in line with the source's
        switch sync_latest_tagging;
        /// storage class of target objects: STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_IR, EXPRESS_ONEZONE
        option storage_class: Option<String>;
        /// canned ACL of target objects: private, public-read, public-read-write, authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control
        option acl: Option<String>;
    }
    "Versioning" {
        /// S3 to S3, both buckets versioned: copy every source version not yet on the target,
        /// oldest first, and the latest delete marker
        switch enable_versioning;
        /// copy objects as they were at this time (RFC 3339, e.g. 2025-07-16T06:37:59Z) from a
        /// versioned S3 source; always transferred unless a --check-* option is given
        option point_in_time: Option<String>;
    }
    "Encryption" {
        /// server-side encryption of target objects: AES256, aws:kms or aws:kms:dsse
        option sse: Option<String>;
        /// KMS key id for --sse aws:kms or aws:kms:dsse
        option sse_kms_key_id: Option<String>;
        /// SSE-C algorithm of the source: AES256
        option source_sse_c: Option<String>;
        /// SSE-C key of the source (base64 of 32 bytes)
        option source_sse_c_key: Option<String>;
        /// base64 MD5 of the source SSE-C key (computed when omitted)
        option source_sse_c_key_md5: Option<String>;
        /// SSE-C algorithm of the target: AES256
        option target_sse_c: Option<String>;
        /// SSE-C key of the target (base64 of 32 bytes)
        option target_sse_c_key: Option<String>;
        /// base64 MD5 of the target SSE-C key (computed when omitted)
        option target_sse_c_key_md5: Option<String>;
    }
    "Logging" {
        /// logs as JSON lines, ending with a summary record
        switch json_tracing;
        /// write logs to stderr instead of stdout
        switch tracing_stderr;
        /// accepted for compatibility: logs never carry colours
        switch disable_color_tracing;
        /// accepted for compatibility: -vvv already logs every S3 request (operation, key and
        /// status; never headers or secrets)
        switch aws_sdk_tracing;
        /// accepted for compatibility: there are no tracing spans to show
        switch span_events_tracing;
    }
    "Retries and timeouts" {
        /// attempts per request, the first included (default 10)
        option aws_max_attempts: u32 = 10;
        /// first retry pause in milliseconds, doubled on each attempt (default 100)
        option initial_backoff_milliseconds: u64 = 100;
        /// connection timeout in milliseconds (default 3100)
        option connect_timeout_milliseconds: Option<u64>;
        /// read timeout in milliseconds (default none)
        option read_timeout_milliseconds: Option<u64>;
        /// whole-object retries after a request's own attempts are used up (default 5)
        option force_retry_count: u32 = 5;
        /// pause between whole-object retries in milliseconds (default 1000)
        option force_retry_interval_milliseconds: u64 = 1000;
        /// limit for one request, all its attempts and pauses included, in milliseconds
        /// (default none)
        option operation_timeout_milliseconds: Option<u64>;
        /// limit for one attempt of a request, body included, in milliseconds (default none)
        option operation_attempt_timeout_milliseconds: Option<u64>;
        /// do not fail an attempt whose transfer makes no progress for 60 s
        switch disable_stalled_stream_protection;
        /// objects started per second, shared by all workers
        option rate_limit_objects: Option<u32>;
        /// bytes per second over the network, both ways, shared by all workers (e.g. 50MiB)
        option rate_limit_bandwidth: Option<String>;
    }
    "Advanced" {
        /// skip symbolic links in a local source (default: follow them)
        switch ignore_symlinks;
        /// send UNSIGNED-PAYLOAD instead of signing request bodies
        switch disable_payload_signing;
        /// do not send Content-MD5 with uploads
        switch disable_content_md5_header;
        /// delete target objects that are not in the source (after all transfers succeeded)
        switch delete;
        /// delete at most this many objects (needs --delete)
        option max_delete: Option<u64>;
        /// with --delete, also delete target objects that --filter-include-regex or
        /// --filter-exclude-regex leave out
        switch delete_excluded;
        /// ask the target about each object (HeadObject or stat) instead of trusting its listing
        switch head_each_target;
        /// report as errors (exit 1) the objects skipped for being missing, forbidden, archived,
        /// unsafe to write or failing a condition
        switch warn_as_error;
        /// skip archived (Glacier) objects that cannot be read without a warning
        switch ignore_glacier_warnings;
        /// where multipart uploads in flight are recorded, so a run killed mid-upload is resumed
        /// by the next (default $XDG_STATE_HOME/s3sync, else ~/.local/state/s3sync)
        option state_dir: Option<String>, value "DIR";
    }
    "Conditional writes" {
        /// writes and deletes only succeed if the target object still has the ETag seen
        /// (If-Match); new objects only if none appeared meanwhile
        switch if_match;
        /// never replace an existing target object (If-None-Match: *)
        switch if_none_match;
        /// server-side copies only if the source still has the listed ETag (needs --server-side-copy)
        switch copy_source_if_match;
    }
    "Lua scripting" {
        /// a Lua script defining filter(object): objects for which it returns false or nil are
        /// skipped
        option filter_callback_lua_script: Option<String>, value "FILE";
        /// a Lua script defining on_event(event), told about every event of the run
        option event_callback_lua_script: Option<String>, value "FILE";
        /// a Lua script defining preprocess_callback, given each object and its upload metadata
        /// just before it is written to S3, to change the metadata or skip the object
        option preprocess_callback_lua_script: Option<String>, value "FILE";
        /// let Lua scripts use the io and os libraries
        switch allow_lua_os_library;
        /// let Lua scripts load every library, debug and C modules included: no sandbox, and the
        /// limits can be escaped
        switch allow_lua_unsafe_vm;
        /// memory each Lua script may use (default 64MiB; 0 for no limit)
        option lua_vm_memory_limit: Option<String>, value "SIZE";
        /// milliseconds one call into a Lua script may run (default 10000; 0 for no limit)
        option lua_callback_timeout_milliseconds: Option<u64>, value "N";
    }
    "Reporting" {
        /// write nothing; report per object whether the target matches the source (ETag, or the
        /// checksum of --check-additional-checksum); exit 0 when all match, 3 otherwise
        switch report_sync_status;
        /// with --report-sync-status (S3 to S3): also compare Content-* headers, Cache-Control,
        /// Expires, the redirect and user metadata
        switch report_metadata_sync_status;
        /// with --report-sync-status (S3 to S3): also compare tags
        switch report_tagging_sync_status;
    }
    "azcopy compatibility" {
        /// azcopy's --delete: true (our --delete), false, or prompt (ask once before deleting)
        option delete_destination: Option<String>, value "true|false|prompt";
        /// --recursive=false syncs only the top level of SOURCE (and deletes only there);
        /// default true
        boolean recursive;
        /// only files whose name matches one of these ';'-separated globs (*, ?, [...])
        option include_pattern: Option<String>, value "GLOBS";
        /// no files whose name matches one of these ';'-separated globs
        option exclude_pattern: Option<String>, value "GLOBS";
        /// no files under these ';'-separated relative paths (whole path segments, no wildcards)
        option exclude_path: Option<String>, value "PATHS";
        /// only relative paths matching one of these ';'-separated regular expressions
        option include_regex: Option<String>, value "REGEXES";
        /// no relative paths matching one of these ';'-separated regular expressions
        option exclude_regex: Option<String>, value "REGEXES";
        /// checks the kinds of SOURCE and TARGET: LocalBlob, BlobLocal, BlobBlob, LocalS3,
        /// S3Local, S3S3, S3Blob, BlobS3 or LocalLocal
        option from_to: Option<String>, value "PAIR";
        /// accepted: the whole file's MD5 is always stored (Blob) or is the ETag (S3, one part)
        boolean put_md5;
        /// downloads: NoCheck, LogOnly, FailIfDifferent (default) or FailIfDifferentOrMissing
        option check_md5: Option<String>, value "MODE";
        /// part (block) size in MiB, fractions allowed (sets --multipart-chunksize)
        option block_size_mb: Option<String>, value "MIB";
        /// objects of at least this many MiB go in parts (sets --multipart-threshold)
        option put_blob_size_mb: Option<String>, value "MIB";
        /// bandwidth cap in megabits per second, 0 for none (sets --rate-limit-bandwidth)
        option cap_mbps: Option<String>, value "MBPS";
        /// INFO (-v), WARNING (the default), ERROR (-q) or NONE (-qq)
        option log_level: Option<String>, value "LEVEL";
        /// text (the default) or json: start, progress and summary records on stdout
        option output_type: Option<String>, value "text";
        /// refused: SMB properties belong to Azure Files
        boolean preserve_smb_info;
        /// refused: ACLs belong to Windows and Azure Files
        boolean preserve_permissions;
        /// refused: Windows file attributes
        option include_attributes: Option<String>;
        /// refused: Windows file attributes
        option exclude_attributes: Option<String>;
        /// refused: Windows backup semantics
        boolean backup;
        /// Blob: encrypt with the key in CPK_ENCRYPTION_KEY (and _SHA256)
        boolean cpk_by_value;
        /// Blob: encrypt new blobs with this encryption scope
        option cpk_by_name: Option<String>, value "SCOPE";
        /// mode, owner, group and times as metadata, restored on download
        boolean preserve_posix_properties;
        /// refused: use --remove-modified-filter (transfer everything)
        boolean mirror_mode;
        /// None is accepted; MD5 is refused: use --check-etag
        option compare_hash: Option<String>;
        /// refused: s3sync keeps no hash cache
        option local_hash_storage_mode: Option<String>;
        /// refused: s3sync keeps no hash cache
        option hash_meta_dir: Option<String>;
        /// Enable or Disable; names are never trimmed, Blob targets skip `a.`
        option trailing_dot: Option<String>, value "MODE";
        /// keep the source's tier or storage class (default true)
        boolean s2s_preserve_access_tier;
        /// =false drops tags (carried by default)
        boolean s2s_preserve_blob_tags;
        /// accepted: read-only files are replaced and deleted anyway
        boolean force_if_read_only;
        /// refused: s3sync does not use Microsoft Entra login tokens this way yet
        option trusted_microsoft_suffixes: Option<String>;
    }
}

fn size_arg(value: &str) -> Result<u64, String> {
    parse_size(value)
}
