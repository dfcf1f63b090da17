//! Integrity arithmetic: S3 ETags of single-part and multipart uploads.

pub mod etag;
