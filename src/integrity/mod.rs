//! Integrity arithmetic: S3 ETags, additional checksums, and the one-pass digests of an
//! object cut at its part boundaries.

pub mod checksum;
pub mod digest;
pub mod etag;
pub mod md5x;
