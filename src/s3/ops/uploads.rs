//! ListMultipartUploads: finding uploads left open (by a run that was killed).

use super::super::client::{Client, Request};
use super::super::error::S3Error;
use super::super::xml::uploads::{self, OpenUpload};

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
}
