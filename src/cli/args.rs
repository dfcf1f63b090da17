//! The command line, defined once: `--help`, environment fallbacks and validation all read
//! these definitions. Every long option also reads the environment variable of the same
//! name in upper snake case (`--worker-size` ← `WORKER_SIZE`), the command line winning.

use argh::{ArgsInfo, FromArgs};

use crate::util::size::parse_size;

/// Reliable, verifiable, fast sync between local directories and S3-compatible buckets.
///
/// SOURCE and TARGET are s3://BUCKET[/prefix] or local paths (also read from the SOURCE and
/// TARGET environment variables). No '/' is inserted between a prefix and a key:
/// s3://b/pre + foo -> prefoo, s3://b/pre/ + foo -> pre/foo.
// No Debug: the arguments hold secrets.
#[derive(FromArgs, ArgsInfo, Default)]
#[argh(help_triggers("-h", "--help"))]
#[argh(
    note = "Exit codes: 0 success, 1 error, 2 invalid arguments, 3 finished with warnings, 101 bug (panic), 130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM."
)]
pub struct Args {
    /// SOURCE then TARGET: each s3://BUCKET[/prefix] or a local path
    #[argh(positional, arg_name = "SOURCE TARGET")]
    pub paths: Vec<String>,

    /// more logging: -v info, -vv debug, -vvv trace
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// less logging: -q errors only, -qq nothing
    #[argh(switch, short = 'q')]
    pub quiet: u8,
    /// print the version and exit
    #[argh(switch, short = 'V')]
    pub version: bool,

    // General
    /// show what would be done without changing anything
    #[argh(switch)]
    pub dry_run: bool,
    /// do not show the progress line or the summary line
    #[argh(switch)]
    pub show_no_progress: bool,
    /// S3 to S3 by server-side copy (CopyObject/UploadPartCopy); both sides on one endpoint
    #[argh(switch)]
    pub server_side_copy: bool,
    /// S3 to S3 through s3sync even where both sides are one endpoint and identity (there
    /// the server copies by default)
    #[argh(switch)]
    pub client_side_copy: bool,
    /// print a completion script for SHELL on stdout and exit: bash, zsh, fish, powershell or
    /// elvish
    #[argh(option, arg_name = "SHELL")]
    pub auto_complete_shell: Option<String>,

    // AWS configuration
    /// the AWS CLI config file (default ~/.aws/config)
    #[argh(option)]
    pub aws_config_file: Option<String>,
    /// the AWS CLI credentials file (default ~/.aws/credentials)
    #[argh(option)]
    pub aws_shared_credentials_file: Option<String>,
    /// source profile from the AWS CLI files
    #[argh(option)]
    pub source_profile: Option<String>,
    /// source access key id
    #[argh(option)]
    pub source_access_key: Option<String>,
    /// source secret access key
    #[argh(option)]
    pub source_secret_access_key: Option<String>,
    /// source session token
    #[argh(option)]
    pub source_session_token: Option<String>,
    /// target profile from the AWS CLI files
    #[argh(option)]
    pub target_profile: Option<String>,
    /// target access key id
    #[argh(option)]
    pub target_access_key: Option<String>,
    /// target secret access key
    #[argh(option)]
    pub target_secret_access_key: Option<String>,
    /// target session token
    #[argh(option)]
    pub target_session_token: Option<String>,
    /// send anonymous (unsigned) requests to the source: no credentials are looked for
    #[argh(switch)]
    pub source_no_sign_request: bool,
    /// send anonymous (unsigned) requests to the target: no credentials are looked for
    #[argh(switch)]
    pub target_no_sign_request: bool,

    // Source / target endpoints
    /// source region
    #[argh(option)]
    pub source_region: Option<String>,
    /// source endpoint URL (http:// or https://)
    #[argh(option)]
    pub source_endpoint_url: Option<String>,
    /// use S3 Transfer Acceleration for the source
    #[argh(switch)]
    pub source_accelerate: bool,
    /// send requester-pays headers to the source
    #[argh(switch)]
    pub source_request_payer: bool,
    /// path-style addressing for the source (bucket in the path, not the host name)
    #[argh(switch)]
    pub source_force_path_style: bool,
    /// target region
    #[argh(option)]
    pub target_region: Option<String>,
    /// target endpoint URL (http:// or https://)
    #[argh(option)]
    pub target_endpoint_url: Option<String>,
    /// use S3 Transfer Acceleration for the target
    #[argh(switch)]
    pub target_accelerate: bool,
    /// send requester-pays headers to the target
    #[argh(switch)]
    pub target_request_payer: bool,
    /// path-style addressing for the target (bucket in the path, not the host name)
    #[argh(switch)]
    pub target_force_path_style: bool,

    // Filtering (applied in this order; see README "Filters")
    /// only objects last modified before this time (RFC 3339, e.g. 2024-01-31T00:00:00Z)
    #[argh(option)]
    pub filter_mtime_before: Option<String>,
    /// only objects last modified at or after this time (RFC 3339)
    #[argh(option)]
    pub filter_mtime_after: Option<String>,
    /// only objects smaller than this size (e.g. 10MiB; B, KB, KiB … TB, TiB)
    #[argh(option)]
    pub filter_smaller_size: Option<String>,
    /// only objects of at least this size (e.g. 1KB)
    #[argh(option)]
    pub filter_larger_size: Option<String>,
    /// only keys (relative to SOURCE) matching this regular expression (lookaround allowed)
    #[argh(option)]
    pub filter_include_regex: Option<String>,
    /// no keys (relative to SOURCE) matching this regular expression
    #[argh(option)]
    pub filter_exclude_regex: Option<String>,
    /// only objects whose Content-Type matches this regular expression
    #[argh(option)]
    pub filter_include_content_type_regex: Option<String>,
    /// no objects whose Content-Type matches this regular expression
    #[argh(option)]
    pub filter_exclude_content_type_regex: Option<String>,
    /// only S3 objects whose user metadata, as sorted key=value pairs joined by ',', matches
    #[argh(option)]
    pub filter_include_metadata_regex: Option<String>,
    /// no S3 objects whose user metadata (sorted key=value,key=value) matches
    #[argh(option)]
    pub filter_exclude_metadata_regex: Option<String>,
    /// only S3 objects whose tags, as sorted key=value pairs joined by '&', match
    #[argh(option)]
    pub filter_include_tag_regex: Option<String>,
    /// no S3 objects whose tags (sorted key=value&key=value) match
    #[argh(option)]
    pub filter_exclude_tag_regex: Option<String>,

    // Update checking
    /// transfer everything, without comparing with the target
    #[argh(switch)]
    pub remove_modified_filter: bool,
    /// transfer when the sizes differ (instead of the modification time)
    #[argh(switch)]
    pub check_size: bool,
    /// transfer when the ETags differ (local ETags computed with the multipart settings)
    #[argh(switch)]
    pub check_etag: bool,
    /// transfer when the source is newer and the ETags differ
    #[argh(switch)]
    pub check_mtime_and_etag: bool,
    /// transfer when the additional checksums (SHA256, SHA1, CRC32, CRC32C, CRC64NVME) differ
    #[argh(option)]
    pub check_additional_checksum: Option<String>,
    /// transfer when the source is newer and the additional checksums differ
    #[argh(option)]
    pub check_mtime_and_additional_checksum: Option<String>,

    // Verification
    /// do not compare the ETag S3 returns with the one computed locally
    #[argh(switch)]
    pub disable_etag_verify: bool,
    /// do not verify ETags of multipart uploads
    #[argh(switch)]
    pub disable_multipart_verify: bool,
    /// give uploaded objects this additional checksum and verify it: SHA256, SHA1, CRC32,
    /// CRC32C or CRC64NVME
    #[argh(option)]
    pub additional_checksum_algorithm: Option<String>,
    /// multipart CRC32/CRC32C checksums of the whole object instead of composite ones
    /// (CRC64NVME always is)
    #[argh(switch)]
    pub full_object_checksum: bool,
    /// ask S3 sources for their additional checksums and verify downloads and copies with them
    #[argh(switch)]
    pub enable_additional_checksum: bool,
    /// store the additional checksum but do not compare it after the upload
    #[argh(switch)]
    pub disable_additional_checksum_verify: bool,
    /// learn the part sizes of multipart S3 objects (one HeadObject per part) so their ETags
    /// and checksums verify exactly
    #[argh(switch)]
    pub auto_chunksize: bool,
    /// do not give objects written to S3 Express One Zone buckets (names ending --x-s3) a
    /// full-object CRC64NVME checksum by default
    #[argh(switch)]
    pub disable_express_one_zone_additional_checksum: bool,

    // Performance
    /// objects transferred at once (default 16)
    #[argh(option, default = "16")]
    pub worker_size: u16,
    /// parts of large objects in flight at once, shared by all workers (default 16)
    #[argh(option, default = "16")]
    pub max_parallel_uploads: u16,
    /// listing requests in flight at once; 1 lists sequentially (default 16)
    #[argh(option, default = "16")]
    pub max_parallel_listings: u16,
    /// levels of prefixes listed in parallel (default 2)
    #[argh(option, default = "2")]
    pub max_parallel_listing_max_depth: u16,
    /// listed objects held ahead of the comparison, all parallel listings together
    /// (default 4000; memory stays flat)
    #[argh(option, default = "4000")]
    pub object_listing_queue_size: u32,
    /// list S3 Express One Zone directory buckets in parallel too
    #[argh(switch)]
    pub allow_parallel_listings_in_express_one_zone: bool,
    /// keys per listing request, 1..=32767 (default 1000)
    #[argh(option, default = "1000")]
    pub max_keys: u16,

    // Multipart
    /// objects of at least this size are uploaded in parts, 5MiB..=5GiB (default 8MiB)
    #[argh(option, from_str_fn(size_arg), default = "8 << 20")]
    pub multipart_threshold: u64,
    /// part size, 5MiB..=5GiB (default 8MiB)
    #[argh(option, from_str_fn(size_arg), default = "8 << 20")]
    pub multipart_chunksize: u64,

    // Metadata
    /// the Cache-Control to set on target objects
    #[argh(option)]
    pub cache_control: Option<String>,
    /// the Content-Disposition to set on target objects
    #[argh(option)]
    pub content_disposition: Option<String>,
    /// the Content-Encoding to set on target objects
    #[argh(option)]
    pub content_encoding: Option<String>,
    /// the Content-Language to set on target objects
    #[argh(option)]
    pub content_language: Option<String>,
    /// the Content-Type to set on target objects
    #[argh(option)]
    pub content_type: Option<String>,
    /// the Expires header to set on target objects (RFC 3339, e.g. 2030-01-01T00:00:00Z)
    #[argh(option)]
    pub expires: Option<String>,
    /// user metadata replacing the source's: key1=value1,key2=value2
    #[argh(option)]
    pub metadata: Option<String>,
    /// x-amz-website-redirect-location to set on target objects
    #[argh(option)]
    pub website_redirect: Option<String>,
    /// do not copy Content-Type/-Encoding/-Disposition/-Language, Cache-Control, Expires, redirect
    #[argh(switch)]
    pub no_sync_system_metadata: bool,
    /// do not copy user metadata
    #[argh(switch)]
    pub no_sync_user_defined_metadata: bool,
    /// do not guess the Content-Type of local files from their extension
    #[argh(switch)]
    pub no_guess_mime_type: bool,
    /// add the source's last-modified time as user metadata s3sync_origin_last_modified
    #[argh(switch)]
    pub put_last_modified_metadata: bool,

    // Tags, storage class, ACL
    /// tags replacing the source's, URL-encoded: key1=value1&key2=value2
    #[argh(option)]
    pub tagging: Option<String>,
    /// do not copy tags from the source
    #[argh(switch)]
    pub disable_tagging: bool,
    /// S3 to S3: bring the tags of up-to-date objects in line with the source's
    #[argh(switch)]
    pub sync_latest_tagging: bool,
    /// storage class of target objects: STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_IR, EXPRESS_ONEZONE
    #[argh(option)]
    pub storage_class: Option<String>,
    /// canned ACL of target objects: private, public-read, public-read-write, authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control
    #[argh(option)]
    pub acl: Option<String>,

    // Versioning
    /// S3 to S3, both buckets versioned: copy every source version not yet on the target,
    /// oldest first, and the latest delete marker
    #[argh(switch)]
    pub enable_versioning: bool,
    /// copy objects as they were at this time (RFC 3339, e.g. 2025-07-16T06:37:59Z) from a
    /// versioned S3 source; always transferred unless a --check-* option is given
    #[argh(option)]
    pub point_in_time: Option<String>,

    // Encryption
    /// server-side encryption of target objects: AES256, aws:kms or aws:kms:dsse
    #[argh(option)]
    pub sse: Option<String>,
    /// KMS key id for --sse aws:kms or aws:kms:dsse
    #[argh(option)]
    pub sse_kms_key_id: Option<String>,
    /// SSE-C algorithm of the source: AES256
    #[argh(option)]
    pub source_sse_c: Option<String>,
    /// SSE-C key of the source (base64 of 32 bytes)
    #[argh(option)]
    pub source_sse_c_key: Option<String>,
    /// base64 MD5 of the source SSE-C key (computed when omitted)
    #[argh(option)]
    pub source_sse_c_key_md5: Option<String>,
    /// SSE-C algorithm of the target: AES256
    #[argh(option)]
    pub target_sse_c: Option<String>,
    /// SSE-C key of the target (base64 of 32 bytes)
    #[argh(option)]
    pub target_sse_c_key: Option<String>,
    /// base64 MD5 of the target SSE-C key (computed when omitted)
    #[argh(option)]
    pub target_sse_c_key_md5: Option<String>,

    // Logging
    /// logs as JSON lines, ending with a summary record
    #[argh(switch)]
    pub json_tracing: bool,
    /// write logs to stderr instead of stdout
    #[argh(switch)]
    pub tracing_stderr: bool,
    /// accepted for compatibility: logs never carry colours
    #[argh(switch)]
    pub disable_color_tracing: bool,
    /// accepted for compatibility: -vvv already logs every S3 request (operation, key and
    /// status; never headers or secrets)
    #[argh(switch)]
    pub aws_sdk_tracing: bool,
    /// accepted for compatibility: there are no tracing spans to show
    #[argh(switch)]
    pub span_events_tracing: bool,

    // Retries and timeouts
    /// attempts per request, the first included (default 10)
    #[argh(option, default = "10")]
    pub aws_max_attempts: u32,
    /// first retry pause in milliseconds, doubled on each attempt (default 100)
    #[argh(option, default = "100")]
    pub initial_backoff_milliseconds: u64,
    /// connection timeout in milliseconds (default 3100)
    #[argh(option)]
    pub connect_timeout_milliseconds: Option<u64>,
    /// read timeout in milliseconds (default none)
    #[argh(option)]
    pub read_timeout_milliseconds: Option<u64>,
    /// whole-object retries after a request's own attempts are used up (default 5)
    #[argh(option, default = "5")]
    pub force_retry_count: u32,
    /// pause between whole-object retries in milliseconds (default 1000)
    #[argh(option, default = "1000")]
    pub force_retry_interval_milliseconds: u64,
    /// limit for one request, all its attempts and pauses included, in milliseconds
    /// (default none)
    #[argh(option)]
    pub operation_timeout_milliseconds: Option<u64>,
    /// limit for one attempt of a request, body included, in milliseconds (default none)
    #[argh(option)]
    pub operation_attempt_timeout_milliseconds: Option<u64>,
    /// do not fail an attempt whose transfer makes no progress for 60 s
    #[argh(switch)]
    pub disable_stalled_stream_protection: bool,
    /// objects started per second, shared by all workers
    #[argh(option)]
    pub rate_limit_objects: Option<u32>,
    /// bytes per second over the network, both ways, shared by all workers (e.g. 50MiB)
    #[argh(option)]
    pub rate_limit_bandwidth: Option<String>,

    // Advanced
    /// skip symbolic links in a local source (default: follow them)
    #[argh(switch)]
    pub ignore_symlinks: bool,
    /// send UNSIGNED-PAYLOAD instead of signing request bodies
    #[argh(switch)]
    pub disable_payload_signing: bool,
    /// do not send Content-MD5 with uploads
    #[argh(switch)]
    pub disable_content_md5_header: bool,
    /// delete target objects that are not in the source (after all transfers succeeded)
    #[argh(switch)]
    pub delete: bool,
    /// delete at most this many objects (needs --delete)
    #[argh(option)]
    pub max_delete: Option<u64>,
    /// with --delete, also delete target objects that --filter-include-regex or
    /// --filter-exclude-regex leave out
    #[argh(switch)]
    pub delete_excluded: bool,
    /// ask the target about each object (HeadObject or stat) instead of trusting its listing
    #[argh(switch)]
    pub head_each_target: bool,
    /// report as errors (exit 1) the objects skipped for being missing, forbidden, archived,
    /// unsafe to write or failing a condition
    #[argh(switch)]
    pub warn_as_error: bool,
    /// skip archived (Glacier) objects that cannot be read without a warning
    #[argh(switch)]
    pub ignore_glacier_warnings: bool,

    // Conditional writes
    /// writes and deletes only succeed if the target object still has the ETag seen
    /// (If-Match); new objects only if none appeared meanwhile
    #[argh(switch)]
    pub if_match: bool,
    /// never replace an existing target object (If-None-Match: *)
    #[argh(switch)]
    pub if_none_match: bool,
    /// server-side copies only if the source still has the listed ETag (needs --server-side-copy)
    #[argh(switch)]
    pub copy_source_if_match: bool,

    // Lua scripting (see README "Lua scripting")
    /// a Lua script defining filter(object): objects for which it returns false or nil are
    /// skipped
    #[argh(option, arg_name = "FILE")]
    pub filter_callback_lua_script: Option<String>,
    /// a Lua script defining on_event(event), told about every event of the run
    #[argh(option, arg_name = "FILE")]
    pub event_callback_lua_script: Option<String>,
    /// a Lua script defining preprocess_callback, given each object and its upload metadata
    /// just before it is written to S3, to change the metadata or skip the object
    #[argh(option, arg_name = "FILE")]
    pub preprocess_callback_lua_script: Option<String>,
    /// let Lua scripts use the io and os libraries
    #[argh(switch)]
    pub allow_lua_os_library: bool,
    /// let Lua scripts load every library, debug and C modules included: no sandbox, and the
    /// limits can be escaped
    #[argh(switch)]
    pub allow_lua_unsafe_vm: bool,
    /// memory each Lua script may use (default 64MiB; 0 for no limit)
    #[argh(option, arg_name = "SIZE")]
    pub lua_vm_memory_limit: Option<String>,
    /// milliseconds one call into a Lua script may run (default 10000; 0 for no limit)
    #[argh(option, arg_name = "N")]
    pub lua_callback_timeout_milliseconds: Option<u64>,

    // Reporting
    /// write nothing; report per object whether the target matches the source (ETag, or the
    /// checksum of --check-additional-checksum); exit 0 when all match, 3 otherwise
    #[argh(switch)]
    pub report_sync_status: bool,
    /// with --report-sync-status (S3 to S3): also compare Content-* headers, Cache-Control,
    /// Expires, the redirect and user metadata
    #[argh(switch)]
    pub report_metadata_sync_status: bool,
    /// with --report-sync-status (S3 to S3): also compare tags
    #[argh(switch)]
    pub report_tagging_sync_status: bool,
}

fn size_arg(value: &str) -> Result<u64, String> {
    parse_size(value)
}
