//! One S3 multipart upload as a [`PartWriter`]: UploadPart, UploadPartCopy, ListParts,
//! CompleteMultipartUpload and AbortMultipartUpload.

use super::*;

/// One multipart upload.
pub(super) struct S3Parts<'b> {
    pub(super) backend: &'b S3Backend,
    pub(super) full_key: String,
    pub(super) id: String,
    pub(super) if_match: Option<String>,
    pub(super) if_none_match: bool,
}

impl PartWriter for S3Parts<'_> {
    fn id(&self) -> &str {
        &self.id
    }

    fn put(&self, number: u32, body: &Body<'_>) -> Result<PartReceipt, StorageError> {
        let store = &self.backend.store;
        let headers = md5_header(body);
        let open = || reopen(body);
        let payload = Payload::Stream {
            len: body.len,
            sha256: body.sha256.clone(),
            open: &open,
        };
        let w = store
            .client()
            .upload_part(
                store.bucket(),
                &self.full_key,
                &self.id,
                number,
                payload,
                &headers,
            )
            .map_err(|e| self.backend.err(&self.full_key, e))?;
        Ok(PartReceipt {
            number,
            tag: w.etag.unwrap_or_default(),
            size: body.len,
            checksum: w.checksum.map(|(_, v)| v),
        })
    }

    fn put_copy(
        &self,
        number: u32,
        source: &CopySource,
        range: (u64, u64),
    ) -> Result<PartReceipt, StorageError> {
        let store = &self.backend.store;
        let (bucket, key, version) = self.backend.same_endpoint(source, "UploadPartCopy")?;
        let src = ops::CopySource {
            bucket,
            key,
            version_id: version,
            sse_c: None,
            if_match: None,
        };
        let copied = store
            .client()
            .upload_part_copy(store.bucket(), &self.full_key, &self.id, number, src, range)
            .map_err(|e| self.backend.err(&self.full_key, e))?;
        Ok(PartReceipt {
            number,
            tag: copied.etag,
            size: range.1 - range.0 + 1,
            checksum: copied.checksum.map(|(_, v)| v),
        })
    }

    fn list(&self) -> Result<Vec<PartReceipt>, StorageError> {
        let store = &self.backend.store;
        let parts = store
            .client()
            .list_parts(store.bucket(), &self.full_key, &self.id)
            .map_err(|e| self.backend.err(&self.full_key, e))?;
        Ok(parts
            .into_iter()
            .map(|p| PartReceipt {
                number: p.number,
                // Listed without quotes; completing takes them either way.
                tag: if p.etag.is_empty() {
                    String::new()
                } else {
                    format!("\"{}\"", p.etag)
                },
                size: p.size,
                checksum: None,
            })
            .collect())
    }

    fn complete(&self, parts: &[PartReceipt]) -> Result<Written, StorageError> {
        let store = &self.backend.store;
        let completed: Vec<CompletedPart> = parts
            .iter()
            .map(|p| CompletedPart {
                number: p.number,
                etag: p.tag.clone(),
                checksum: None,
            })
            .collect();
        let mut headers = Vec::new();
        if let Some(t) = &self.if_match {
            headers.push(("if-match".to_string(), t.clone()));
        }
        if self.if_none_match {
            headers.push(("if-none-match".to_string(), "*".to_string()));
        }
        let w = store
            .client()
            .complete_multipart_upload(
                store.bucket(),
                &self.full_key,
                &self.id,
                &completed,
                &headers,
            )
            .map_err(|e| self.backend.err(&self.full_key, e))?;
        Ok(written(w))
    }

    fn abort(&self) -> Result<(), StorageError> {
        let store = &self.backend.store;
        match store
            .client()
            .abort_multipart_upload(store.bucket(), &self.full_key, &self.id)
            .map_err(|e| self.backend.err(&self.full_key, e))
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }
}
