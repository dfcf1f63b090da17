//! The S3 operations the rest of the program uses, as typed methods on [`Client`].

use super::client::{Client, Payload, Request, ResponseHead};
use super::error::{ErrorKind, S3Error};
use super::xml::{self, DeleteResult, ListPage};
use md5::{Digest, Md5};

use crate::util::encoding::base64;
use crate::util::time::Timestamp;

/// Most keys one DeleteObjects call accepts.
pub const DELETE_BATCH: usize = 1000;

/// What HeadObject tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<Timestamp>,
    pub content_type: Option<String>,
}

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

fn etag_of(head: &ResponseHead) -> Option<String> {
    head.header("etag").map(str::to_string)
}

impl Client {
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
        let (_, body) = self.send_text(&req)?;
        xml::parse_list_objects_v2(&body)
            .map_err(|e| S3Error::bad_response("ListObjectsV2", e.to_string()))
    }

    /// HeadObject; `Ok(None)` when the object does not exist.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>, S3Error> {
        let req = Request::new("HeadObject", "HEAD", bucket, Some(key));
        match self.send_text(&req) {
            Ok((head, _)) => Ok(Some(ObjectHead {
                size: head
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                etag: etag_of(&head),
                last_modified: head
                    .header("last-modified")
                    .and_then(Timestamp::parse_http_date),
                content_type: head.header("content-type").map(str::to_string),
            })),
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
    ) -> Result<Option<String>, S3Error> {
        let req = with_headers(
            Request::new("PutObject", "PUT", bucket, Some(key)).payload(payload),
            headers,
        );
        let (head, _) = self.send_text(&req)?;
        Ok(etag_of(&head))
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
        let (_, body) = self.send_text(&req)?;
        xml::parse_initiate_multipart(&body)
            .map_err(|e| S3Error::bad_response("CreateMultipartUpload", e.to_string()))
    }

    /// UploadPart from memory; returns the part's ETag.
    pub fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: &[u8],
        headers: &[(String, String)],
    ) -> Result<String, S3Error> {
        let req = with_headers(
            Request::new("UploadPart", "PUT", bucket, Some(key))
                .query("partNumber", part_number.to_string())
                .query("uploadId", upload_id)
                .payload(Payload::Bytes(data)),
            headers,
        );
        let (head, _) = self.send_text(&req)?;
        etag_of(&head)
            .ok_or_else(|| S3Error::bad_response("UploadPart", "the answer carries no ETag"))
    }

    /// CompleteMultipartUpload; returns the object's ETag.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
        headers: &[(String, String)],
    ) -> Result<String, S3Error> {
        let body = xml::complete_multipart_body(parts);
        let req = with_headers(
            Request::new("CompleteMultipartUpload", "POST", bucket, Some(key))
                .query("uploadId", upload_id)
                .payload(Payload::Bytes(body.as_bytes())),
            headers,
        );
        let (head, text) = self.send_text(&req)?;
        match xml::parse_complete_multipart(&text) {
            Ok(etag) => Ok(etag),
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
        self.send_text(&Request::new("DeleteObject", "DELETE", bucket, Some(key)))
            .map(|_| ())
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
    /// GetObject, optionally of a byte range (`bytes=first-last`); the body is streamed.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<super::Response, S3Error> {
        let mut req = Request::new("GetObject", "GET", bucket, Some(key));
        if let Some((first, last)) = range {
            req = req.header("range", format!("bytes={first}-{last}"));
        }
        self.send(&req)
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
