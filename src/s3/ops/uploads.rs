//! ListMultipartUploads and ListParts: finding uploads left open (by a run that was killed)
//! and what they already hold.

use super::super::client::{Client, Request};
use super::super::error::S3Error;
use super::super::xml::uploads::{self, OpenUpload, UploadedPart};

impl Client {
    /// Every multipart upload in progress whose key starts with `prefix`, all pages.
    pub fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<OpenUpload>, S3Error> {
        let mut all = Vec::new();
        let mut marker: Option<(String, String)> = None;
        loop {
            let mut req = Request::new("ListMultipartUploads", "GET", bucket, None)
                .query("uploads", "")
                .query("encoding-type", "url")
                .query("prefix", prefix);
            if let Some((key, id)) = &marker {
                req = req
                    .query("key-marker", key.as_str())
                    .query("upload-id-marker", id.as_str());
            }
            let (_, body) = self.send_text(&req)?;
            let page = uploads::parse_list_multipart_uploads(&body)
                .map_err(|e| S3Error::bad_response("ListMultipartUploads", e.to_string()))?;
            all.extend(page.uploads);
            match page.next {
                Some(next) if marker.as_ref() != Some(&next) => marker = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// Every part the upload `upload_id` of `key` holds, all pages, in part number order.
    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<UploadedPart>, S3Error> {
        let mut all: Vec<UploadedPart> = Vec::new();
        let mut marker: Option<u32> = None;
        loop {
            let mut req = Request::new("ListParts", "GET", bucket, Some(key))
                .query("uploadId", upload_id)
                .query("max-parts", "1000");
            if let Some(m) = marker {
                req = req.query("part-number-marker", m.to_string());
            }
            let req = super::with_headers(req, &self.sse_c_headers());
            let (_, body) = self.send_text(&req)?;
            let page = uploads::parse_list_parts(&body)
                .map_err(|e| S3Error::bad_response("ListParts", e.to_string()))?;
            all.extend(page.parts);
            match page.next {
                // A marker that does not move on would loop for ever.
                Some(next) if marker.is_none_or(|m| next > m) => marker = Some(next),
                _ => {
                    all.sort_by_key(|p| p.number);
                    all.dedup_by_key(|p| p.number);
                    return Ok(all);
                }
            }
        }
    }
}
