//! Writes in parts as Blob blocks: part `n` is block [`BlockId::new`]`(n)`, committed by
//! Put Block List in part order with what the blob is given (see the parent module).

use super::{AzureBackend, reopen, written};
use crate::azure::blocks::BlockId;
use crate::azure::ops::{self, BlockListType};
use crate::azure::{AzureError, Payload};
use crate::storage::backend::{Body, CopySource, PartReceipt, PartWriter, Written};
use crate::storage::error::{ErrorKind, StorageError};

/// A blob being written in blocks.
pub(super) struct BlobBlocks<'b> {
    pub(super) backend: &'b AzureBackend,
    /// Stands for the upload id.
    pub(super) key: String,
    pub(super) full_key: String,
    /// What Put Block List gives the blob.
    pub(super) commit: ops::WriteOptions,
}

impl BlobBlocks<'_> {
    fn err(&self, e: AzureError) -> StorageError {
        self.backend.err(&self.full_key, e)
    }
}

impl PartWriter for BlobBlocks<'_> {
    fn id(&self) -> &str {
        &self.key
    }

    fn put(&self, number: u32, body: &Body<'_>) -> Result<PartReceipt, StorageError> {
        let id = BlockId::new(number);
        let open = || reopen(body);
        let payload = Payload::Stream {
            len: body.len,
            open: &open,
        };
        let b = self.backend;
        b.client
            .put_block(
                &b.container,
                &self.full_key,
                &id,
                payload,
                body.md5.as_ref(),
            )
            .map_err(|e| self.err(e))?;
        Ok(PartReceipt {
            number,
            tag: id.as_str().to_string(),
            size: body.len,
            checksum: None,
        })
    }

    fn put_copy(
        &self,
        number: u32,
        source: &CopySource,
        range: (u64, u64),
    ) -> Result<PartReceipt, StorageError> {
        let CopySource::Url(url) = source else {
            return Err(StorageError::unsupported(
                "PutBlockFromURL",
                "Blob storage copies blocks on the server only from a URL",
            ));
        };
        let id = BlockId::new(number);
        let b = self.backend;
        b.client
            .put_block_from_url(&b.container, &self.full_key, &id, url, Some(range))
            .map_err(|e| self.err(e))?;
        Ok(PartReceipt {
            number,
            tag: id.as_str().to_string(),
            size: range.1 - range.0 + 1,
            checksum: None,
        })
    }

    fn list(&self) -> Result<Vec<PartReceipt>, StorageError> {
        let b = self.backend;
        let blocks =
            match b
                .client
                .get_block_list(&b.container, &self.full_key, BlockListType::Uncommitted)
            {
                Ok(list) => list.uncommitted,
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(self.err(e)),
            };
        // Blocks another tool staged have ids we cannot number: they are not ours to resume.
        let mut parts: Vec<PartReceipt> = blocks
            .into_iter()
            .filter_map(|block| {
                let number = block.id.index().filter(|&n| n > 0)?;
                Some(PartReceipt {
                    number,
                    tag: block.id.as_str().to_string(),
                    size: block.size,
                    checksum: None,
                })
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        parts.dedup_by_key(|p| p.number);
        Ok(parts)
    }

    fn complete(&self, parts: &[PartReceipt]) -> Result<Written, StorageError> {
        if parts.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(StorageError::new(
                ErrorKind::InvalidRequest,
                "PutBlockList",
                "the parts are not in increasing number order",
            )
            .about(self.backend.name(&self.full_key)));
        }
        let ids: Vec<BlockId> = parts.iter().map(|p| BlockId::new(p.number)).collect();
        let b = self.backend;
        let w = b
            .client
            .put_block_list(&b.container, &self.full_key, &ids, &self.commit)
            .map_err(|e| self.err(e))?;
        // Put Block List's Content-MD5 is the block list's, not the blob's: the blob keeps
        // the whole MD5 we sent, if any.
        Ok(written(w, self.commit.content_md5))
    }

    fn abort(&self) -> Result<(), StorageError> {
        // Uncommitted blocks cannot be deleted one by one; the service drops them when they
        // expire, or when the blob is next committed.
        Ok(())
    }
}
