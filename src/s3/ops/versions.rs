//! Bucket versioning calls: ListObjectVersions, GetBucketVersioning, PutBucketVersioning.
//! Reads of one version (GET, HEAD, tagging, copy source) take a version id in [`super`].

use md5::{Digest, Md5};

use super::super::client::{Client, Payload, Request};
use super::super::error::S3Error;
use super::super::xml::versions::{self, VersionPage};
use crate::util::encoding::base64;

/// Arguments of one ListObjectVersions call.
#[derive(Debug, Clone, Default)]
pub struct VersionListRequest<'a> {
    pub prefix: &'a str,
    /// Continue after this key (decoded) ...
    pub key_marker: Option<&'a str>,
    /// ... and after this version of it.
    pub version_id_marker: Option<&'a str>,
    pub max_keys: Option<u32>,
}

impl Client {
    /// One ListObjectVersions page (keys requested URL-encoded so any key survives the XML).
    pub fn list_object_versions(
        &self,
        bucket: &str,
        args: &VersionListRequest<'_>,
    ) -> Result<VersionPage, S3Error> {
        let mut req = Request::new("ListObjectVersions", "GET", bucket, None)
            .query("versions", "")
            .query("encoding-type", "url")
            .query("prefix", args.prefix);
        if let Some(k) = args.key_marker {
            req = req.query("key-marker", k);
        }
        if let Some(v) = args.version_id_marker {
            req = req.query("version-id-marker", v);
        }
        if let Some(m) = args.max_keys {
            req = req.query("max-keys", m.to_string());
        }
        let (_, body) = self.send_text(&req)?;
        versions::parse_list_object_versions(&body)
            .map_err(|e| S3Error::bad_response("ListObjectVersions", e.to_string()))
    }

    /// GetBucketVersioning: `Enabled`, `Suspended`, or `None` when never enabled.
    pub fn get_bucket_versioning(&self, bucket: &str) -> Result<Option<String>, S3Error> {
        let req = Request::new("GetBucketVersioning", "GET", bucket, None).query("versioning", "");
        let (_, body) = self.send_text(&req)?;
        versions::parse_bucket_versioning(&body)
            .map_err(|e| S3Error::bad_response("GetBucketVersioning", e.to_string()))
    }

    /// PutBucketVersioning: turns versioning on (or suspends it).
    pub fn put_bucket_versioning(&self, bucket: &str, enabled: bool) -> Result<(), S3Error> {
        let body = versions::versioning_body(enabled);
        let md5 = base64(&Md5::digest(body.as_bytes()));
        let req = Request::new("PutBucketVersioning", "PUT", bucket, None)
            .query("versioning", "")
            .header("content-md5", md5)
            .header("content-type", "application/xml")
            .payload(Payload::Bytes(body.as_bytes()));
        self.send_text(&req).map(|_| ())
    }

    /// DeleteObject of one version (permanently removes it), or of the current object when
    /// `version_id` is `None` (on a versioned bucket: adds a delete marker).
    pub fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(), S3Error> {
        let mut req = Request::new("DeleteObject", "DELETE", bucket, Some(key));
        if let Some(v) = version_id {
            req = req.query("versionId", v);
        }
        self.send_text(&req).map(|_| ())
    }
}
