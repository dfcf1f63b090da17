//! Server-side copies: CopyObject and UploadPartCopy, and what their results report.

use super::super::client::{Client, Request, ResponseHead};
use super::super::error::S3Error;
use super::super::xml::{self, Node};
use super::{Written, with_headers};
use crate::integrity::checksum::Algorithm;

/// Where a server-side copy reads from.
#[derive(Debug, Clone, Copy)]
pub struct CopySource<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The version to copy; the current one when `None`.
    pub version_id: Option<&'a str>,
    /// The source's SSE-C key, sent as `x-amz-copy-source-server-side-encryption-customer-*`.
    pub sse_c: Option<&'a super::super::SseCustomerKey>,
    /// Copy only if the source still has this ETag (`x-amz-copy-source-if-match`).
    pub if_match: Option<&'a str>,
}

impl CopySource<'_> {
    /// The `x-amz-copy-source` value: `bucket/key`, the key percent-encoded, and
    /// `?versionId=` when a version is named.
    pub fn header(&self) -> String {
        use crate::util::encoding::uri_encode;
        let version = self
            .version_id
            .map(|v| format!("?versionId={}", uri_encode(v, false)))
            .unwrap_or_default();
        format!("{}/{}{version}", self.bucket, uri_encode(self.key, true))
    }

    /// All headers naming this source: the copy source and, for SSE-C, its key.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = vec![("x-amz-copy-source".to_string(), self.header())];
        if let Some(k) = self.sse_c {
            out.extend(k.headers("x-amz-copy-source-"));
        }
        if let Some(etag) = self.if_match {
            out.push(("x-amz-copy-source-if-match".to_string(), etag.to_string()));
        }
        out
    }
}

/// What UploadPartCopy reports about the part it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedPart {
    pub etag: String,
    /// The part's additional checksum, when the upload has an algorithm and the store
    /// reports it (`<ChecksumCRC32>` and friends in `CopyPartResult`).
    pub checksum: Option<(Algorithm, String)>,
}

impl Client {
    /// CopyObject (up to 5 GiB); `headers` carry the metadata directive, the new metadata
    /// and, to have the store compute one, `x-amz-checksum-algorithm`. Returns what the
    /// store reports of the new object (its checksum from `CopyObjectResult` when given).
    pub fn copy_object(
        &self,
        bucket: &str,
        key: &str,
        source: CopySource<'_>,
        headers: &[(String, String)],
    ) -> Result<Written, S3Error> {
        let req = with_headers(
            Request::new("CopyObject", "PUT", bucket, Some(key)),
            &[source.headers(), self.sse_c_headers(), headers.to_vec()].concat(),
        );
        let (head, text) = self.send_text(&req)?;
        let (etag, checksum) = copy_result("CopyObject", &head, &text)?;
        let mut written = Written::new(&head, Some(etag));
        written.checksum = checksum.or(written.checksum);
        Ok(written)
    }

    /// UploadPartCopy of `range` (first and last byte) of `source`.
    pub fn upload_part_copy(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        source: CopySource<'_>,
        range: (u64, u64),
    ) -> Result<CopiedPart, S3Error> {
        let req = Request::new("UploadPartCopy", "PUT", bucket, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .header(
                "x-amz-copy-source-range",
                format!("bytes={}-{}", range.0, range.1),
            );
        let req = with_headers(req, &[source.headers(), self.sse_c_headers()].concat());
        let (head, text) = self.send_text(&req)?;
        let (etag, checksum) = copy_result("UploadPartCopy", &head, &text)?;
        Ok(CopiedPart { etag, checksum })
    }
}

/// The ETag and checksum of a CopyObjectResult / CopyPartResult; a 200 with an `<Error>`
/// body is an error.
fn copy_result(
    op: &'static str,
    head: &ResponseHead,
    text: &str,
) -> Result<(String, Option<(Algorithm, String)>), S3Error> {
    if let Some(err) = xml::parse_error(text) {
        return Err(S3Error::from_response(
            op,
            head.status,
            err.code,
            err.message,
            err.request_id,
        ));
    }
    let root = xml::parse_tree(text).map_err(|e| S3Error::bad_response(op, e.to_string()))?;
    let etag = root
        .text_of("ETag")
        .map(str::to_string)
        .ok_or_else(|| S3Error::bad_response(op, "the answer carries no ETag"))?;
    Ok((etag, checksum_element(&root)))
}

/// The first `<Checksum<ALGORITHM>>` element of a result.
fn checksum_element(root: &Node) -> Option<(Algorithm, String)> {
    Algorithm::ALL.into_iter().find_map(|a| {
        root.text_of(a.xml_element())
            .map(|v| (a, v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_results_carry_their_checksum() {
        let body = "<CopyObjectResult><ETag>\"abc\"</ETag><ChecksumSHA256>q83vEjRWeJA=</ChecksumSHA256>\
                    </CopyObjectResult>";
        let root = xml::parse_tree(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.text_of("ETag"), Some("\"abc\""));
        assert_eq!(
            checksum_element(&root),
            Some((Algorithm::Sha256, "q83vEjRWeJA=".to_string()))
        );
        let plain = xml::parse_tree("<CopyPartResult><ETag>e</ETag></CopyPartResult>")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checksum_element(&plain), None);
    }
}
