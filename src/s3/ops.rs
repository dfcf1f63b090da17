//! The S3 operations the rest of the program uses, as typed methods on [`Client`].

use head::checksum_header;
pub use head::{ObjectHead, ObjectMeta};

use super::client::{Client, Payload, Request, ResponseHead};
use super::error::{ErrorKind, S3Error};
pub use super::xml::CompletedPart;
use super::xml::{self, DeleteResult, ListPage};
use md5::{Digest, Md5};
use ureq::http::HeaderMap;

use crate::integrity::checksum::Algorithm;
use crate::util::encoding::base64;
use crate::util::time::Timestamp;

mod copy;
mod head;
pub mod uploads;
pub mod versions;

pub use copy::{CopiedPart, CopySource};

/// Most keys one DeleteObjects call accepts.
pub const DELETE_BATCH: usize = 1000;

/// Arguments of one ListObjectsV2 call.
#[derive(Debug, Clone, Default)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    pub continuation_token: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub max_keys: Option<u32>,
}

fn with_headers<'a>(mut req: Request<'a>, headers: &[(String, String)]) -> Request<'a> {
    req.headers.extend(headers.iter().cloned());
    req
}

/// Pins a request on an object to one version, when one is given.
fn at_version<'a>(req: Request<'a>, version_id: Option<&str>) -> Request<'a> {
    match version_id {
        Some(v) => req.query("versionId", v),
        None => req,
    }
}

fn etag_of(head: &ResponseHead) -> Option<String> {
    head.header("etag").map(str::to_string)
}

/// What a write (PutObject, CompleteMultipartUpload, CopyObject) reports about the new object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The ETag, with its quotes, when the store sent one.
    pub etag: Option<String>,
    /// Stored with SSE-KMS or SSE-C (possibly by bucket default): the ETag is then not an MD5
    /// of the content and cannot verify it.
    pub encrypted: bool,
    /// The additional checksum the store reports for the new object, if any.
    pub checksum: Option<(Algorithm, String)>,
    /// `x-amz-version-id`: the version the write made, on a versioned bucket.
    pub version_id: Option<String>,
}

/// The size of one part of a multipart object and how many parts it has, from HeadObject
/// with `partNumber`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartInfo {
    pub len: u64,
    /// `x-amz-mp-parts-count`; `None` when the store ignores `partNumber`.
    pub parts_count: Option<u32>,
}

impl Written {
    fn new(head: &ResponseHead, etag: Option<String>) -> Written {
        let kms = head
            .header("x-amz-server-side-encryption")
            .is_some_and(|s| s.starts_with("aws:kms"));
        let customer = head
            .header("x-amz-server-side-encryption-customer-algorithm")
            .is_some();
        Written {
            etag,
            encrypted: kms || customer,
            checksum: checksum_header(&head.headers),
            version_id: head
                .header("x-amz-version-id")
                .filter(|v| !v.is_empty() && *v != "null")
                .map(str::to_string),
        }
    }
}

impl Client {
    /// The SSE-C headers of this client's side, if it has a customer key.
    pub fn sse_c_headers(&self) -> Vec<(String, String)> {
        self.config()
            .sse_c
            .as_ref()
            .map(|k| k.headers("x-amz-"))
            .unwrap_or_default()
    }

    /// One ListObjectsV2 page (keys requested URL-encoded so any key survives the XML).
    pub fn list_objects_v2(
        &self,
        bucket: &str,
        args: &ListRequest<'_>,
    ) -> Result<ListPage, S3Error> {
        let mut req = Request::new("ListObjectsV2", "GET", bucket, None)
            .query("list-type", "2")
            .query("encoding-type", "url")
            .query("prefix", args.prefix);
        if let Some(t) = args.continuation_token {
            req = req.query("continuation-token", t);
        }
        if let Some(s) = args.start_after {
            req = req.query("start-after", s);
        }
        if let Some(d) = args.delimiter {
            req = req.query("delimiter", d);
        }
        if let Some(m) = args.max_keys {
            req = req.query("max-keys", m.to_string());
        }
        self.send_parsed(&req, |body| xml::read_list_objects_v2(body))
    }

    /// The checksum-mode header when this side asks for additional checksums.
    fn checksum_mode<'r>(&self, req: Request<'r>) -> Request<'r> {
        if self.config().checksum_mode {
            req.header("x-amz-checksum-mode", "ENABLED")
        } else {
            req
        }
    }

    /// HeadObject with `partNumber` (of one version, when given): the size of that part and
    /// the object's part count. `Ok(None)` when the object does not exist.
    pub fn head_object_part(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        part_number: u32,
    ) -> Result<Option<PartInfo>, S3Error> {
        let req = with_headers(
            at_version(
                Request::new("HeadObject", "HEAD", bucket, Some(key)),
                version_id,
            )
            .query("partNumber", part_number.to_string()),
            &self.sse_c_headers(),
        );
        match self.send_text(&req) {
            Ok((head, _)) => {
                let number =
                    |name: &str| head.header(name).and_then(|v| v.trim().parse::<u64>().ok());
                Ok(Some(PartInfo {
                    len: number("content-length").unwrap_or(0),
                    parts_count: number("x-amz-mp-parts-count").map(|n| n as u32),
                }))
            }
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// HeadObject; `Ok(None)` when the object does not exist.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>, S3Error> {
        self.head_object_version(bucket, key, None)
    }

    /// HeadObject of one version (the current one when `version_id` is `None`); `Ok(None)`
    /// when it does not exist.
    pub fn head_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectHead>, S3Error> {
        let req = self.checksum_mode(at_version(
            Request::new("HeadObject", "HEAD", bucket, Some(key)),
            version_id,
        ));
        self.head_request(req)
    }

    /// HeadObject asking for the additional checksum whatever this side's checksum mode:
    /// to learn what a write stored, or what an encrypted object's ETag cannot tell.
    pub fn head_object_checksum(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectHead>, S3Error> {
        let req = at_version(
            Request::new("HeadObject", "HEAD", bucket, Some(key)),
            version_id,
        )
        .header("x-amz-checksum-mode", "ENABLED");
        self.head_request(req)
    }

    fn head_request(&self, req: Request<'_>) -> Result<Option<ObjectHead>, S3Error> {
        let req = with_headers(req, &self.sse_c_headers());
        match self.send_text(&req) {
            Ok((head, _)) => Ok(Some(ObjectHead::from_headers(&head.headers))),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// HeadBucket: cheap check that the bucket exists and the credentials work.
    pub fn head_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        self.send_text(&Request::new("HeadBucket", "HEAD", bucket, None))
            .map(|_| ())
    }

    /// PutObject; returns the ETag S3 reports.
    pub fn put_object<'a>(
        &self,
        bucket: &'a str,
        key: &'a str,
        payload: Payload<'a>,
        headers: &[(String, String)],
    ) -> Result<Written, S3Error> {
        let req = with_headers(
            Request::new("PutObject", "PUT", bucket, Some(key)).payload(payload),
            headers,
        );
        let req = with_headers(req, &self.sse_c_headers());
        let (head, _) = self.send_text(&req)?;
        Ok(Written::new(&head, etag_of(&head)))
    }

    /// CreateMultipartUpload; returns the upload id.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<String, S3Error> {
        let req = with_headers(
            Request::new("CreateMultipartUpload", "POST", bucket, Some(key)).query("uploads", ""),
            headers,
        );
        let req = with_headers(req, &self.sse_c_headers());
        let (_, body) = self.send_text(&req)?;
        xml::parse_initiate_multipart(&body)
            .map_err(|e| S3Error::bad_response("CreateMultipartUpload", e.to_string()))
    }

    /// UploadPart; the part's ETag is required in the answer.
    pub fn upload_part<'a>(
        &self,
        bucket: &'a str,
        key: &'a str,
        upload_id: &str,
        part_number: u32,
        payload: Payload<'a>,
        headers: &[(String, String)],
    ) -> Result<Written, S3Error> {
        let req = Request::new("UploadPart", "PUT", bucket, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .payload(payload);
        let req = with_headers(with_headers(req, headers), &self.sse_c_headers());
        let (head, _) = self.send_text(&req)?;
        let etag = etag_of(&head)
            .ok_or_else(|| S3Error::bad_response("UploadPart", "the answer carries no ETag"))?;
        Ok(Written::new(&head, Some(etag)))
    }

    /// CompleteMultipartUpload; returns the object's ETag.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        headers: &[(String, String)],
    ) -> Result<Written, S3Error> {
        let body = xml::complete_multipart_body(parts);
        let req = with_headers(
            Request::new("CompleteMultipartUpload", "POST", bucket, Some(key))
                .query("uploadId", upload_id)
                .payload(Payload::Bytes(body.as_bytes())),
            headers,
        );
        let (head, text) = self.send_text(&req)?;
        match xml::parse_complete_multipart(&text) {
            Ok((etag, checksum)) => {
                let mut written = Written::new(&head, Some(etag));
                written.checksum = checksum.or(written.checksum);
                Ok(written)
            }
            Err(Ok(err)) => Err(S3Error::from_response(
                "CompleteMultipartUpload",
                head.status,
                err.code,
                err.message,
                err.request_id,
            )),
            Err(Err(e)) => Err(S3Error::bad_response(
                "CompleteMultipartUpload",
                e.to_string(),
            )),
        }
    }

    /// AbortMultipartUpload.
    pub fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), S3Error> {
        let req = Request::new("AbortMultipartUpload", "DELETE", bucket, Some(key))
            .query("uploadId", upload_id);
        self.send_text(&req).map(|_| ())
    }

    /// DeleteObject.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        self.delete_object_with(bucket, key, &[])
    }

    /// DeleteObject with extra headers (e.g. `If-Match`).
    pub fn delete_object_with(
        &self,
        bucket: &str,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<(), S3Error> {
        let req = with_headers(
            Request::new("DeleteObject", "DELETE", bucket, Some(key)),
            headers,
        );
        self.send_text(&req).map(|_| ())
    }

    /// DeleteObjects for up to [`DELETE_BATCH`] keys (quiet mode: the result lists failures only).
    pub fn delete_objects(&self, bucket: &str, keys: &[String]) -> Result<DeleteResult, S3Error> {
        debug_assert!(keys.len() <= DELETE_BATCH);
        let body = xml::delete_objects_body(keys);
        let md5 = base64(&Md5::digest(body.as_bytes()));
        let req = Request::new("DeleteObjects", "POST", bucket, None)
            .query("delete", "")
            .header("content-md5", md5)
            .header("content-type", "application/xml")
            .payload(Payload::Bytes(body.as_bytes()));
        let (_, text) = self.send_text(&req)?;
        xml::parse_delete_result(&text)
            .map_err(|e| S3Error::bad_response("DeleteObjects", e.to_string()))
    }
}

impl Client {
    /// GetObject, optionally of a byte range (first and last byte); the body is streamed.
    /// A ranged answer must cover exactly that range.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<super::Response, S3Error> {
        self.get_object_version(bucket, key, None, range)
    }

    /// GetObject of one version (the current one when `version_id` is `None`), as
    /// [`Client::get_object`].
    pub fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<(u64, u64)>,
    ) -> Result<super::Response, S3Error> {
        let mut req = with_headers(
            self.checksum_mode(at_version(
                Request::new("GetObject", "GET", bucket, Some(key)),
                version_id,
            )),
            &self.sse_c_headers(),
        );
        if let Some((first, last)) = range {
            req = req.header("range", format!("bytes={first}-{last}"));
        }
        let resp = self.send(&req)?;
        if let Some((first, last)) = range {
            let expected = format!("bytes {first}-{last}/");
            let content_range = resp.header("content-range").unwrap_or_default();
            let length: Option<u64> = resp.header("content-length").and_then(|v| v.parse().ok());
            let whole = resp.status == 200 && first == 0 && length == Some(last + 1);
            let exact = resp.status == 206 && content_range.starts_with(&expected);
            if !exact && !whole {
                return Err(S3Error::bad_response(
                    "GetObject",
                    format!(
                        "asked for bytes {first}-{last} of {key}, got {} '{content_range}'",
                        resp.status
                    ),
                ));
            }
        }
        Ok(resp)
    }

    /// CreateBucket in the client's region (no location constraint for us-east-1).
    pub fn create_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        let region = self.config().region.clone();
        let body = if region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml::escape(&region)
            )
        };
        let req = Request::new("CreateBucket", "PUT", bucket, None)
            .payload(Payload::Bytes(body.as_bytes()));
        self.send_text(&req).map(|_| ())
    }
}

/// Tags as `urlenc(key)=urlenc(value)&...`, the form of the `x-amz-tagging` header.
pub fn tagging_header(tags: &[(String, String)]) -> String {
    crate::util::encoding::tag_query(tags)
}

impl Client {
    /// GetObjectTagging: the object's tags in the order S3 returns them.
    pub fn get_object_tagging(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, S3Error> {
        self.get_object_tagging_version(bucket, key, None)
    }

    /// GetObjectTagging of one version (the current one when `version_id` is `None`).
    pub fn get_object_tagging_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, S3Error> {
        let req = at_version(
            Request::new("GetObjectTagging", "GET", bucket, Some(key)),
            version_id,
        )
        .query("tagging", "");
        let (_, text) = self.send_text(&req)?;
        xml::parse_tagging(&text)
            .map_err(|e| S3Error::bad_response("GetObjectTagging", e.to_string()))
    }

    /// PutObjectTagging: replaces the object's tags.
    pub fn put_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), S3Error> {
        let body = xml::tagging_body(tags);
        let md5 = base64(&Md5::digest(body.as_bytes()));
        let req = Request::new("PutObjectTagging", "PUT", bucket, Some(key))
            .query("tagging", "")
            .header("content-md5", md5)
            .payload(Payload::Bytes(body.as_bytes()));
        self.send_text(&req).map(|_| ())
    }

    /// DeleteObjectTagging: removes all the object's tags.
    pub fn delete_object_tagging(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let req =
            Request::new("DeleteObjectTagging", "DELETE", bucket, Some(key)).query("tagging", "");
        self.send_text(&req).map(|_| ())
    }
}
