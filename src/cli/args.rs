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

/// What a flag does with the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Turned on by its presence (`--dry-run`).
    Switch,
    /// Counted, may repeat (`-vvv`).
    Count,
    /// Takes the next argument, or what follows `=`, as its value (`--worker-size 8`).
    Value,
    /// `-h`/`--help`.
    Help,
}

/// One flag of the command line.
pub struct Flag {
    /// The field of [`Args`] it sets: `worker_size` for `--worker-size`.
    pub field: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    /// The name `--help` gives its value, where not the upper snake field name.
    value_name: Option<&'static str>,
    /// The `--help` heading it is listed under.
    pub section: &'static str,
    /// Its description, as written in the table (lines joined by '\n').
    pub description: &'static str,
    /// Stores a value (for [`Kind::Value`]; the others ignore it) into [`Args`].
    set: fn(&mut Args, &str) -> Result<(), String>,
}

impl Flag {
    /// With its dashes: `--worker-size`.
    pub fn long(&self) -> String {
        format!("--{}", self.field.replace('_', "-"))
    }

    /// Whether `name` (without the dashes) is this flag's long name. Underscores are not
    /// accepted for dashes: `--worker_size` is not an option.
    pub fn is_named(&self, name: &str) -> bool {
        name.len() == self.field.len()
            && name
                .bytes()
                .zip(self.field.bytes())
                .all(|(n, f)| n == f && n != b'_' || n == b'-' && f == b'_')
    }

    /// The environment variable it falls back to: `WORKER_SIZE`.
    pub fn env_name(&self) -> String {
        self.field.to_ascii_uppercase()
    }

    pub fn takes_value(&self) -> bool {
        self.kind == Kind::Value
    }

    /// The name of its value in `--help` and the completion scripts (`N`, `FILE`,
    /// `WORKER_SIZE`); `None` for a flag that takes none.
    pub fn value_name(&self) -> Option<String> {
        self.takes_value().then(|| {
            self.value_name
                .map_or_else(|| self.env_name(), str::to_string)
        })
    }

    /// The description on one line.
    pub fn one_line(&self) -> String {
        self.description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Applies this flag to `args`, once per occurrence. A value is parsed by the flag's
    /// own rule; an error is the reason, without the flag's name.
    pub fn apply(&self, args: &mut Args, value: &str) -> Result<(), String> {
        (self.set)(args, value)
    }
}

/// How an option's text becomes its field.
trait SetFromArg {
    fn set_from_arg(&mut self, text: &str) -> Result<(), String>;
}

impl SetFromArg for Option<String> {
    fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
        *self = Some(text.to_string());
        Ok(())
    }
}

/// What a number option accepts, for its error message.
fn whole_number(max: u64) -> String {
    format!("expected a whole number from 0 to {max}")
}

macro_rules! numeric_args {
    ($($t:ty),*) => {$(
        impl SetFromArg for $t {
            fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
                *self = text.trim().parse().map_err(|_| whole_number(<$t>::MAX.into()))?;
                Ok(())
            }
        }
        impl SetFromArg for Option<$t> {
            fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
                *self = Some(text.trim().parse().map_err(|_| whole_number(<$t>::MAX.into()))?);
                Ok(())
            }
        }
    )*};
}
numeric_args!(u16, u32, u64);

/// The type of a field.
macro_rules! field_type {
    (switch) => {
        bool
    };
    (help) => {
        bool
    };
    (count) => {
        u8
    };
    (option : $t:ty) => {
        $t
    };
}

/// The value of a field before the command line is read.
macro_rules! field_default {
    (switch) => {
        false
    };
    (help) => {
        false
    };
    (count) => {
        0
    };
    (option) => {
        None
    };
    (option = $default:expr) => {
        $default
    };
}

/// `Some` of what is given, or `None`.
macro_rules! some {
    () => {
        None
    };
    ($given:literal) => {
        Some($given)
    };
}

macro_rules! flag_kind {
    (switch) => {
        Kind::Switch
    };
    (help) => {
        Kind::Help
    };
    (count) => {
        Kind::Count
    };
    (option) => {
        Kind::Value
    };
}

/// Stores one occurrence of a flag in its field.
macro_rules! store {
    (switch, $field:expr, $text:ident) => {{
        let _ = $text;
        *$field = true;
        Ok(())
    }};
    (help, $field:expr, $text:ident) => {
        store!(switch, $field, $text)
    };
    (count, $field:expr, $text:ident) => {{
        let _ = $text;
        *$field = $field.saturating_add(1);
        Ok(())
    }};
    (option, $field:expr, $text:ident) => {
        SetFromArg::set_from_arg($field, $text)
    };
    (option, $field:expr, $text:ident, $parse:path) => {{
        *$field = $parse($text)?;
        Ok(())
    }};
}

/// Defines [`Args`], its [`Default`] (what an absent flag means) and [`FLAGS`] from one
/// list of sections. Each entry is its description (doc comment) and one of
///
/// - `switch NAME` (a `bool`), `count NAME` (a `u8`), `help NAME`;
/// - `option NAME: TYPE [= DEFAULT]`: `Option<String>`, or a number (`u16`, `u32`, `u64`,
///   optional or with a default) parsed with `FromStr`;
///
/// followed by any of `, short 'c'`, `, value "NAME"` (the value's name in `--help`) and
/// `, parse FUNCTION` (`fn(&str) -> Result<TYPE, String>` instead of `FromStr`).
macro_rules! command_line {
    ($(
        $section:literal {$(
            $(#[doc = $doc:literal])*
            $kind:ident $field:ident $(: $ty:ty)? $(= $default:expr)?
                $(, short $short:literal)? $(, value $value:literal)? $(, parse $parse:path)?;
        )*}
    )*) => {
        /// The parsed command line. Built by [`super::argv::parse`]; read by validation.
        // No Debug: the arguments hold secrets.
        pub struct Args {
            /// SOURCE then TARGET (more or fewer are refused by validation).
            pub paths: Vec<String>,
            $($(
                $(#[doc = $doc])*
                pub $field: field_type!($kind $(: $ty)?),
            )*)*
        }

        impl Default for Args {
            fn default() -> Args {
                Args {
                    paths: Vec::new(),
                    $($( $field: field_default!($kind $(= $default)?), )*)*
                }
            }
        }

        /// Every flag, in the order `--help` lists them.
        pub static FLAGS: &[Flag] = &[$($(
            Flag {
                field: stringify!($field),
                short: some!($($short)?),
                kind: flag_kind!($kind),
                value_name: some!($($value)?),
                section: $section,
                description: concat!($($doc, "\n"),*),
                set: |args, text| store!($kind, &mut args.$field, text $(, $parse)?),
            },
        )*)*];
    };
}

/// What `--help` says before the flags.
pub const ABOUT: &str = "Reliable, verifiable, fast sync between local directories and \
S3-compatible buckets.

SOURCE and TARGET are s3://BUCKET[/prefix] or local paths (also read from the SOURCE and \
TARGET environment variables). No '/' is inserted between a prefix and a key: \
s3://b/pre + foo -> prefoo, s3://b/pre/ + foo -> pre/foo.";

/// What `--help` says after the flags.
pub const NOTES: &str = "Every option also reads the environment variable named like it in \
upper snake case (--worker-size: WORKER_SIZE); the command line wins.

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
}

fn size_arg(value: &str) -> Result<u64, String> {
    parse_size(value)
}
