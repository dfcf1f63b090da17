//! The S3 backend's vocabulary: the names S3 accepts for an object's storage class and
//! canned ACL, checked by `cli` for the options and by `callback` for what a preprocess
//! script sets. The S3 client sends them as given.

/// The storage classes an S3 object may be given.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
];

/// The canned ACLs an S3 object may be given.
pub const CANNED_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];
