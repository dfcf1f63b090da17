//! Typed, validated settings of one run. The CLI builds a [`Config`]; library users can too.

use std::path::PathBuf;

use crate::callback::Callbacks;
use crate::integrity::checksum::{Algorithm, ChecksumSpec};
use crate::integrity::etag::PartLayout;
use crate::s3::ClientConfig;
use crate::util::glob::Glob;
use crate::util::pattern::Pattern;
use crate::util::time::Timestamp;

/// One side of the sync.
#[derive(Debug, Clone)]
pub enum Location {
    /// A local directory, or a single file when used as the source.
    Local(PathBuf),
    /// A bucket and key prefix, with the settings to reach it.
    S3 {
        bucket: String,
        prefix: String,
        client: Box<ClientConfig>,
    },
    /// An Azure Blob container and blob-name prefix, with the settings to reach it.
    Azure {
        container: String,
        prefix: String,
        client: Box<crate::azure::ClientConfig>,
    },
}

impl Location {
    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }
}

/// How to decide whether an object that exists on both sides is transferred again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateCheck {
    /// Transfer when the source is newer, in whole seconds (the default).
    Mtime,
    /// Transfer when the sizes differ.
    Size,
    /// Transfer when the ETags differ (a local file's ETag is computed in the form of the
    /// S3 object's).
    Etag,
    /// Transfer when the source is newer and the ETags differ.
    MtimeAndEtag,
    /// Transfer when the additional checksums of this algorithm differ.
    Checksum(Algorithm),
    /// Transfer when the source is newer and the checksums differ.
    MtimeAndChecksum(Algorithm),
}

pub use crate::storage::s3::names::{CANNED_ACLS, STORAGE_CLASSES};

/// What target objects are given: metadata, tags, storage class, ACL, encryption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    /// Do not carry Content-Type, -Encoding, -Disposition, -Language, Cache-Control, Expires
    /// and the website redirect from the source.
    pub no_sync_system: bool,
    /// Do not carry user metadata from the source.
    pub no_sync_user: bool,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    /// RFC 1123 (HTTP date) form.
    pub expires: Option<String>,
    pub website_redirect: Option<String>,
    /// Replaces all user metadata when set.
    pub metadata: Option<Vec<(String, String)>>,
    /// Guess the Content-Type of local files from their extension.
    pub guess_mime_type: bool,
    /// Add `s3sync_origin_last_modified` (the source's LastModified) to user metadata.
    pub put_last_modified: bool,
    /// Carry local files' mode, owner, group and times as user metadata, and put them back
    /// onto downloaded files (`--preserve-posix-properties`; `engine::transfer::posix`).
    pub posix: bool,
    /// Tags replacing the source's (`--tagging`).
    pub tagging: Option<Vec<(String, String)>>,
    /// Do not copy the source's tags.
    pub disable_tagging: bool,
    /// `x-amz-storage-class` (the source's when S3 → S3 and unset).
    pub storage_class: Option<String>,
    /// Do not carry the source's storage class or access tier over
    /// (`--s2s-preserve-access-tier=false`).
    pub no_sync_tier: bool,
    /// Canned ACL (`x-amz-acl`).
    pub acl: Option<String>,
    /// `x-amz-server-side-encryption`: `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
}

/// Which source objects a run looks at. Filters 1–6 (times, sizes, key patterns) are decided
/// from the listing; the content filters need the object's headers or tags and run after the
/// update check, in the order the fields are listed.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only objects last modified before this time.
    pub mtime_before: Option<Timestamp>,
    /// Only objects last modified at or after this time.
    pub mtime_after: Option<Timestamp>,
    /// Only objects smaller than this many bytes.
    pub smaller_size: Option<u64>,
    /// Only objects of at least this many bytes.
    pub larger_size: Option<u64>,
    /// Only relative keys matching this pattern.
    pub include_key: Option<Pattern>,
    /// No relative keys matching this pattern.
    pub exclude_key: Option<Pattern>,
    pub include_content_type: Option<Pattern>,
    pub exclude_content_type: Option<Pattern>,
    /// Matched against `key=value,…` of the user metadata, sorted by key, values URL-encoded.
    pub include_metadata: Option<Pattern>,
    pub exclude_metadata: Option<Pattern>,
    /// Matched against `key=value&…` of the tags, sorted by key, both URL-encoded.
    pub include_tag: Option<Pattern>,
    pub exclude_tag: Option<Pattern>,
    /// With `delete`: target objects left out by the key patterns are deleted too.
    pub delete_excluded: bool,
    /// The azcopy-style path filters (`--include-pattern` and the rest).
    pub paths: PathFilters,
}

/// azcopy's path filters, applied to both sides: what they leave out is neither transferred
/// nor deleted (`--delete-excluded` does not lift them).
#[derive(Debug, Clone, Default)]
pub struct PathFilters {
    /// Only keys without `/`: the top level of the source (`--recursive=false`).
    pub top_level_only: bool,
    /// Only keys whose last segment matches one of these (`--include-pattern`).
    pub include_names: Vec<Glob>,
    /// No keys whose last segment matches one of these (`--exclude-pattern`).
    pub exclude_names: Vec<Glob>,
    /// No keys equal to or under one of these relative paths, by whole segments
    /// (`--exclude-path`).
    pub exclude_paths: Vec<String>,
    /// Only keys matching one of these (`--include-regex`).
    pub include_regexes: Vec<Pattern>,
    /// No keys matching one of these (`--exclude-regex`).
    pub exclude_regexes: Vec<Pattern>,
}

impl PathFilters {
    pub fn is_empty(&self) -> bool {
        !self.top_level_only
            && self.include_names.is_empty()
            && self.exclude_names.is_empty()
            && self.exclude_paths.is_empty()
            && self.include_regexes.is_empty()
            && self.exclude_regexes.is_empty()
    }
}

/// How `--delete` goes ahead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeleteMode {
    /// Delete without asking (`--delete`, `--delete-destination=true`).
    #[default]
    Always,
    /// Ask once on the terminal first (`--delete-destination=prompt`); no answer is "no".
    Prompt,
}

/// How strictly downloads are checked against the source's MD5 (azcopy's `--check-md5`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Md5Check {
    /// Do not compare.
    NoCheck,
    /// A mismatch is a warning; the file is kept.
    LogOnly,
    /// A mismatch is an error and the file is removed (the default).
    #[default]
    FailIfDifferent,
    /// As `FailIfDifferent`, and a remote source without an MD5 is an error too.
    FailIfDifferentOrMissing,
}

impl Filters {
    /// Whether a filter needs the source object's headers (one HeadObject per S3 object).
    pub fn needs_content(&self) -> bool {
        self.include_content_type.is_some()
            || self.exclude_content_type.is_some()
            || self.include_metadata.is_some()
            || self.exclude_metadata.is_some()
            || self.needs_tags()
    }

    /// Whether a filter needs the source object's tags (GetObjectTagging when it has some).
    pub fn needs_tags(&self) -> bool {
        self.include_tag.is_some() || self.exclude_tag.is_some()
    }
}

/// Conditional writes to an S3 target: a write or delete whose condition fails is skipped
/// with a warning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Writes and deletes carry `If-Match` with the target ETag seen (and a write where no
    /// target object was seen carries `If-None-Match: *`).
    pub if_match: bool,
    /// Writes carry `If-None-Match: *`: existing objects are never replaced.
    pub if_none_match: bool,
    /// Server-side copies carry `x-amz-copy-source-if-match` with the listed source ETag.
    pub copy_source_if_match: bool,
}

/// `--report-sync-status`: compare instead of sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Also compare the system and user metadata (S3 → S3).
    pub metadata: bool,
    /// Also compare the tags (S3 → S3).
    pub tagging: bool,
}

pub use crate::logging::OutputConfig;

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: Location,
    pub target: Location,
    pub dry_run: bool,
    pub delete: bool,
    /// Whether deleting needs the user's yes first.
    pub delete_mode: DeleteMode,
    /// How downloads on the generic path are checked against the source's MD5.
    pub md5_check: Md5Check,
    /// Delete at most this many objects.
    pub max_delete: Option<u64>,
    pub update_check: UpdateCheck,
    /// azcopy's `--compare-hash=MD5`: the content check must have the source's hash; a
    /// remote source object without one is an error, not a transfer.
    pub require_source_hash: bool,
    /// Where the local side keeps the digests of its files between runs, if it does.
    pub hash_cache: Option<crate::storage::hash_cache::Storage>,
    /// Transfer everything, without comparing with the target.
    pub remove_modified_filter: bool,
    pub worker_size: usize,
    pub max_parallel_uploads: usize,
    pub layout: PartLayout,
    /// Send `Content-MD5` on every PUT and part.
    pub content_md5: bool,
    /// Compare the ETag S3 returns with the one computed from the bytes sent.
    pub verify_etag: bool,
    /// Also verify multipart ETags.
    pub verify_multipart: bool,
    pub follow_symlinks: bool,
    pub max_keys: u32,
    /// Listing requests in flight at once (1 lists sequentially).
    pub max_parallel_listings: usize,
    /// Levels of prefixes listed in parallel.
    pub max_parallel_listing_max_depth: usize,
    /// Listed entries held ahead of the comparison (S3 listings' budget; lister queues take
    /// at most 1000 of them).
    pub object_listing_queue_size: usize,
    /// List directory buckets (`--x-s3`) in parallel too.
    pub allow_parallel_listings_in_express_one_zone: bool,
    /// S3 → S3 by CopyObject / UploadPartCopy instead of streaming the bytes: asked for
    /// (`--server-side-copy`), or chosen because both sides are one endpoint and one
    /// identity (then `server_side_copy_auto` is set too).
    pub server_side_copy: bool,
    /// The server-side copy was chosen, not asked for: an object the server refuses to copy
    /// (an operation it lacks, a policy that denies it) is streamed through s3sync instead.
    pub server_side_copy_auto: bool,
    /// S3 → S3: for objects whose data is up to date, bring the target's tags up to date.
    pub sync_latest_tagging: bool,
    /// S3 → S3, both buckets versioned: copy every source version not yet on the target,
    /// oldest first, and the latest delete marker (`--enable-versioning`).
    pub enable_versioning: bool,
    /// Read a versioned S3 source as it was at this time (`--point-in-time`). With the
    /// default update check every object is transferred (the time says nothing about a past
    /// version); any other check is honoured.
    pub point_in_time: Option<Timestamp>,
    pub metadata: MetadataOptions,
    pub output: OutputConfig,
    /// The additional checksum given to objects written to S3.
    pub checksum: Option<ChecksumSpec>,
    /// Compare that checksum with the one S3 reports after the write.
    pub verify_checksum: bool,
    /// Read S3 sources' additional checksums and verify what is written against them.
    pub enable_additional_checksum: bool,
    /// Learn the exact part sizes of multipart S3 objects before transferring them.
    pub auto_chunksize: bool,
    pub filters: Filters,
    /// Report as errors the warnings about single objects that could not be synced (not
    /// found, access denied, failed precondition, archived, unsafe key, unreadable file).
    pub warn_as_error: bool,
    /// Skip archived (Glacier) objects that cannot be read without a warning.
    pub ignore_glacier_warnings: bool,
    /// Ask the target about each source object (HeadObject or stat) instead of relying on
    /// the target listing.
    pub head_each_target: bool,
    pub conditions: Conditions,
    /// Report how the target matches the source instead of syncing (nothing is written).
    pub report: Option<ReportOptions>,
    /// Filter, preprocess and event callbacks (Rust, or the Lua scripts of the CLI).
    pub callbacks: Callbacks,
    /// Whole-object retries of a transfer that failed for a transient reason after the
    /// request's own attempts (`--force-retry-count`), and the pause between them.
    pub force_retry_count: u32,
    pub force_retry_interval: std::time::Duration,
    /// Objects started per second, all workers together.
    pub rate_limit_objects: Option<u32>,
    /// Where multipart uploads in flight are journaled so that the next run can resume the
    /// ones a killed run left (see `engine::journal`); `None` keeps no journal.
    pub state_dir: Option<PathBuf>,
}

impl Config {
    /// A configuration with the reference tool's defaults.
    pub fn new(source: Location, target: Location) -> Config {
        Config {
            source,
            target,
            dry_run: false,
            delete: false,
            delete_mode: DeleteMode::Always,
            md5_check: Md5Check::FailIfDifferent,
            max_delete: None,
            update_check: UpdateCheck::Mtime,
            require_source_hash: false,
            hash_cache: None,
            remove_modified_filter: false,
            worker_size: 16,
            max_parallel_uploads: 16,
            layout: PartLayout {
                threshold: 8 << 20,
                chunk_size: 8 << 20,
            },
            content_md5: true,
            verify_etag: true,
            verify_multipart: true,
            follow_symlinks: true,
            max_keys: 1000,
            max_parallel_listings: 16,
            max_parallel_listing_max_depth: 2,
            object_listing_queue_size: 4000,
            allow_parallel_listings_in_express_one_zone: false,
            server_side_copy: false,
            server_side_copy_auto: false,
            sync_latest_tagging: false,
            enable_versioning: false,
            point_in_time: None,
            metadata: MetadataOptions {
                guess_mime_type: true,
                ..MetadataOptions::default()
            },
            output: OutputConfig::default(),
            checksum: None,
            verify_checksum: true,
            enable_additional_checksum: false,
            auto_chunksize: false,
            filters: Filters::default(),
            warn_as_error: false,
            ignore_glacier_warnings: false,
            head_each_target: false,
            conditions: Conditions::default(),
            report: None,
            callbacks: Callbacks::default(),
            force_retry_count: 5,
            force_retry_interval: std::time::Duration::from_secs(1),
            rate_limit_objects: None,
            state_dir: None,
        }
    }
}
