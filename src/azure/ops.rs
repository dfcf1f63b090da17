//! The Blob REST operations a sync needs, each a few lines over [`Client::send`]: List Blobs,
//! Get Blob Properties, ranged Get Blob, Put Blob, Put Block / Put Block List / Get Block
//! List, Put Block From URL and Copy Blob From URL, Delete Blob, blob index tags, access
//! tiers, and container creation for tests and tools.

use std::io::Read;

use super::blocks::BlockId;
use super::client::{BodyReader, Client, Payload, Request};
use super::error::AzureError;
use super::properties::{BlobProperties, ContentHeaders, md5_from_base64};
use super::xml::{self, BlockList, ListPage};
use crate::util::encoding::{base64, uri_encode};
use crate::util::time::Timestamp;

/// The service's page size limit.
pub const MAX_RESULTS: u32 = 5000;

/// One List Blobs call.
#[derive(Debug, Clone, Default)]
pub struct ListBlobs<'a> {
    pub prefix: &'a str,
    /// `/` lists one level, with virtual directories as [`xml::ListEntry::Prefix`].
    pub delimiter: Option<&'a str>,
    /// The previous page's `next_marker`.
    pub marker: Option<&'a str>,
    /// At most [`MAX_RESULTS`] (the service's default too).
    pub max_results: Option<u32>,
    pub include_metadata: bool,
    pub include_tags: bool,
}

/// What a write stores besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// MD5 of the whole blob: on Put Blob it is checked against the body (`Content-MD5`) and
    /// stored; on Put Block List and copies it is stored (`x-ms-blob-content-md5`).
    pub content_md5: Option<[u8; 16]>,
    pub content: ContentHeaders,
    /// `x-ms-meta-*` (names must be C# identifiers; values ASCII).
    pub metadata: Vec<(String, String)>,
    /// `Hot`, `Cool`, `Cold`, `Archive`.
    pub tier: Option<String>,
    /// Blob index tags, sent as `x-ms-tags`.
    pub tags: Vec<(String, String)>,
    /// Write only over a blob with this ETag (`If-Match`).
    pub if_match: Option<String>,
    /// Write only where no blob exists (`If-None-Match: *`).
    pub if_none_match: bool,
}

impl WriteOptions {
    fn apply<'a>(&self, mut req: Request<'a>) -> Request<'a> {
        let c = &self.content;
        req = req
            .header_opt("x-ms-blob-content-type", c.content_type.as_deref())
            .header_opt("x-ms-blob-content-encoding", c.content_encoding.as_deref())
            .header_opt("x-ms-blob-content-language", c.content_language.as_deref())
            .header_opt(
                "x-ms-blob-content-disposition",
                c.content_disposition.as_deref(),
            )
            .header_opt("x-ms-blob-cache-control", c.cache_control.as_deref())
            .header_opt("x-ms-access-tier", self.tier.as_deref());
        for (name, value) in &self.metadata {
            req = req.header(&format!("x-ms-meta-{name}"), value.as_str());
        }
        if !self.tags.is_empty() {
            req = req.header("x-ms-tags", tags_header(&self.tags));
        }
        req = req.header_opt("if-match", self.if_match.as_deref());
        if self.if_none_match {
            req = req.header("if-none-match", "*");
        }
        req
    }
}

/// Tags as `x-ms-tags` carries them: a URL query, keys and values encoded.
pub fn tags_header(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What the service said about a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub etag: Option<String>,
    pub last_modified: Option<Timestamp>,
    /// The MD5 the service computed or stored, when it says (Put Blob, Put Block).
    pub content_md5: Option<[u8; 16]>,
    pub request_id: String,
}

fn written(resp: &super::client::Response) -> Written {
    Written {
        etag: resp.header("etag").map(str::to_string),
        last_modified: resp
            .header("last-modified")
            .and_then(Timestamp::parse_http_date),
        content_md5: resp.header("content-md5").and_then(md5_from_base64),
        request_id: resp
            .header("x-ms-request-id")
            .unwrap_or_default()
            .to_string(),
    }
}

/// A blob being read: its properties and its bytes (the requested range) as a stream.
pub struct BlobDownload {
    /// `size` is the whole blob's, even for a range.
    pub properties: BlobProperties,
    /// Bytes this response carries.
    pub content_length: u64,
    reader: BodyReader,
}

impl Read for BlobDownload {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

/// Which blocks Get Block List reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockListType {
    Committed,
    Uncommitted,
    All,
}

impl Client {
    /// One List Blobs page, parsed as it streams in; names in UTF-8 byte order.
    pub fn list_blobs(
        &self,
        container: &str,
        list: &ListBlobs<'_>,
    ) -> Result<ListPage, AzureError> {
        let mut req = Request::new("ListBlobs", "GET", Some(container), None)
            .query("restype", "container")
            .query("comp", "list");
        if !list.prefix.is_empty() {
            req = req.query("prefix", list.prefix);
        }
        if let Some(d) = list.delimiter {
            req = req.query("delimiter", d);
        }
        if let Some(m) = list.marker {
            req = req.query("marker", m);
        }
        if let Some(n) = list.max_results {
            req = req.query("maxresults", n.clamp(1, MAX_RESULTS).to_string());
        }
        let include: Vec<&str> = [
            list.include_metadata.then_some("metadata"),
            list.include_tags.then_some("tags"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !include.is_empty() {
            req = req.query("include", include.join(","));
        }
        self.send_parsed(&req, |body| xml::read_list_blobs(body))
    }

    /// Get Blob Properties; `None` when the blob does not exist.
    pub fn blob_properties(
        &self,
        container: &str,
        blob: &str,
    ) -> Result<Option<BlobProperties>, AzureError> {
        let req = Request::new("GetBlobProperties", "HEAD", Some(container), Some(blob));
        match self.send(&req) {
            Ok(resp) => Ok(Some(BlobProperties::from_headers(&resp.headers))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Get Blob, the whole blob or the bytes `start..=end` (`end` `None`: to the end).
    pub fn get_blob(
        &self,
        container: &str,
        blob: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<BlobDownload, AzureError> {
        self.get_blob_if(container, blob, range, None)
    }

    /// Get Blob while the blob still has ETag `if_match` (412 ConditionNotMet otherwise).
    pub fn get_blob_if(
        &self,
        container: &str,
        blob: &str,
        range: Option<(u64, Option<u64>)>,
        if_match: Option<&str>,
    ) -> Result<BlobDownload, AzureError> {
        let range = range.map(|(start, end)| match end {
            Some(end) => format!("bytes={start}-{end}"),
            None => format!("bytes={start}-"),
        });
        let req = Request::new("GetBlob", "GET", Some(container), Some(blob))
            .header_opt("x-ms-range", range.as_deref())
            .header_opt("if-match", if_match);
        let resp = self.send(&req)?;
        let properties = BlobProperties::from_headers(&resp.headers);
        let content_length = resp
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(properties.size);
        Ok(BlobDownload {
            properties,
            content_length,
            reader: resp.into_reader(),
        })
    }

    /// Put Blob: a block blob in one request.
    pub fn put_blob<'a>(
        &self,
        container: &'a str,
        blob: &'a str,
        payload: Payload<'a>,
        options: &WriteOptions,
    ) -> Result<Written, AzureError> {
        let md5 = options.content_md5.map(|m| base64(&m));
        let req = Request::new("PutBlob", "PUT", Some(container), Some(blob))
            .header("x-ms-blob-type", "BlockBlob")
            .header_opt("content-md5", md5.as_deref())
            .payload(payload);
        let resp = self.send(&options.apply(req))?;
        Ok(written(&resp))
    }

    /// Put Block: one uncommitted block, checked against `content_md5` when given.
    pub fn put_block<'a>(
        &self,
        container: &'a str,
        blob: &'a str,
        id: &BlockId,
        payload: Payload<'a>,
        content_md5: Option<&[u8; 16]>,
    ) -> Result<Written, AzureError> {
        let md5 = content_md5.map(|m| base64(m));
        let req = Request::new("PutBlock", "PUT", Some(container), Some(blob))
            .query("comp", "block")
            .query("blockid", id.as_str())
            .header_opt("content-md5", md5.as_deref())
            .payload(payload);
        Ok(written(&self.send(&req)?))
    }

    /// Put Block From URL: the block's bytes are read by the service from `source_url` (which
    /// must carry its own authorization, e.g. a SAS), bytes `start..=end` when given.
    pub fn put_block_from_url(
        &self,
        container: &str,
        blob: &str,
        id: &BlockId,
        source_url: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Written, AzureError> {
        let range = range.map(|(s, e)| format!("bytes={s}-{e}"));
        let req = Request::new("PutBlockFromURL", "PUT", Some(container), Some(blob))
            .query("comp", "block")
            .query("blockid", id.as_str())
            .header("x-ms-copy-source", source_url)
            .header_opt("x-ms-source-range", range.as_deref());
        Ok(written(&self.send(&req)?))
    }

    /// Put Block List: commits `ids` in order as the blob's content, with the options'
    /// headers, metadata, tier, tags and whole-blob MD5.
    pub fn put_block_list(
        &self,
        container: &str,
        blob: &str,
        ids: &[BlockId],
        options: &WriteOptions,
    ) -> Result<Written, AzureError> {
        let body = xml::block_list_body(ids);
        let md5 = options.content_md5.map(|m| base64(&m));
        let req = Request::new("PutBlockList", "PUT", Some(container), Some(blob))
            .query("comp", "blocklist")
            .header_opt("x-ms-blob-content-md5", md5.as_deref())
            .payload(Payload::Bytes(body.as_bytes()));
        Ok(written(&self.send(&options.apply(req))?))
    }

    /// Get Block List, e.g. the uncommitted blocks an interrupted upload left.
    pub fn get_block_list(
        &self,
        container: &str,
        blob: &str,
        which: BlockListType,
    ) -> Result<BlockList, AzureError> {
        let kind = match which {
            BlockListType::Committed => "committed",
            BlockListType::Uncommitted => "uncommitted",
            BlockListType::All => "all",
        };
        let req = Request::new("GetBlockList", "GET", Some(container), Some(blob))
            .query("comp", "blocklist")
            .query("blocklisttype", kind);
        let (_, text) = self.send_text(&req)?;
        xml::parse_block_list(text.trim_start_matches('\u{feff}'))
            .map_err(|e| AzureError::bad_response(req.op, &e.to_string()))
    }

    /// Copy Blob From URL: a synchronous server-side copy (sources up to 256 MiB) of
    /// `source_url` (with its own authorization). Metadata given replaces the source's.
    pub fn copy_blob_from_url(
        &self,
        container: &str,
        blob: &str,
        source_url: &str,
        options: &WriteOptions,
    ) -> Result<Written, AzureError> {
        let md5 = options.content_md5.map(|m| base64(&m));
        let req = Request::new("CopyBlobFromURL", "PUT", Some(container), Some(blob))
            .header("x-ms-copy-source", source_url)
            .header("x-ms-requires-sync", "true")
            .header_opt("x-ms-source-content-md5", md5.as_deref());
        let mut options = options.clone();
        options.content_md5 = None;
        Ok(written(&self.send(&options.apply(req))?))
    }

    /// Delete Blob with its snapshots. `false` when it did not exist.
    pub fn delete_blob(&self, container: &str, blob: &str) -> Result<bool, AzureError> {
        self.delete_blob_if(container, blob, None)
    }

    /// Delete Blob with its snapshots while it has ETag `if_match`. `false` when it did not
    /// exist.
    pub fn delete_blob_if(
        &self,
        container: &str,
        blob: &str,
        if_match: Option<&str>,
    ) -> Result<bool, AzureError> {
        let req = Request::new("DeleteBlob", "DELETE", Some(container), Some(blob))
            .header("x-ms-delete-snapshots", "include")
            .header_opt("if-match", if_match);
        match self.send(&req) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Get Blob Tags.
    pub fn get_blob_tags(
        &self,
        container: &str,
        blob: &str,
    ) -> Result<Vec<(String, String)>, AzureError> {
        let req =
            Request::new("GetBlobTags", "GET", Some(container), Some(blob)).query("comp", "tags");
        let (_, text) = self.send_text(&req)?;
        xml::parse_tags(text.trim_start_matches('\u{feff}'))
            .map_err(|e| AzureError::bad_response(req.op, &e.to_string()))
    }

    /// Set Blob Tags: replaces all of the blob's index tags.
    pub fn set_blob_tags(
        &self,
        container: &str,
        blob: &str,
        tags: &[(String, String)],
    ) -> Result<(), AzureError> {
        let body = xml::tags_body(tags);
        let req = Request::new("SetBlobTags", "PUT", Some(container), Some(blob))
            .query("comp", "tags")
            .header("content-type", "application/xml; charset=utf-8")
            .payload(Payload::Bytes(body.as_bytes()));
        self.send(&req).map(|_| ())
    }

    /// Set Blob Tier.
    pub fn set_blob_tier(&self, container: &str, blob: &str, tier: &str) -> Result<(), AzureError> {
        let req = Request::new("SetBlobTier", "PUT", Some(container), Some(blob))
            .query("comp", "tier")
            .header("x-ms-access-tier", tier);
        self.send(&req).map(|_| ())
    }

    /// Create Container (private). `false` when it already existed.
    pub fn create_container(&self, container: &str) -> Result<bool, AzureError> {
        self.create_container_with_access(container, None)
    }

    /// Creates a container whose blobs (`blob`) or blobs and listing (`container`) anyone
    /// may read without credentials; `None` keeps it private.
    pub fn create_container_with_access(
        &self,
        container: &str,
        public_access: Option<&str>,
    ) -> Result<bool, AzureError> {
        let req = Request::new("CreateContainer", "PUT", Some(container), None)
            .query("restype", "container")
            .header_opt("x-ms-blob-public-access", public_access);
        match self.send(&req) {
            Ok(_) => Ok(true),
            Err(e) if e.code == "ContainerAlreadyExists" => Ok(false),
            Err(e) => Err(e),
        }
    }
}
