//! What a Blob write is given: the storage interface's write options as the client's.

use super::{AzureBackend, TIERS};
use crate::azure::ops;
use crate::azure::properties::ContentHeaders;
use crate::storage::backend::{Backend, WriteOptions};
use crate::storage::error::StorageError;

impl AzureBackend {
    /// The client's write options for `opts`; `Unsupported` for what Blob cannot keep.
    pub(super) fn write_options(
        &self,
        op: &'static str,
        key: &str,
        opts: &WriteOptions<'_>,
        md5: Option<[u8; 16]>,
    ) -> Result<ops::WriteOptions, StorageError> {
        if let Some(a) = opts.checksum {
            return Err(StorageError::unsupported(
                op,
                format!("Blob storage keeps no {a} checksum (only a Content-MD5)"),
            ));
        }
        let meta = opts.content.cloned().unwrap_or_default();
        let tier = opts.tier.and_then(|t| {
            let known = TIERS.iter().find(|k| k.eq_ignore_ascii_case(t));
            if known.is_none() {
                log::debug!("{op}: '{t}' is not a Blob access tier; writing with the default");
            }
            known.map(|k| k.to_string())
        });
        Ok(ops::WriteOptions {
            content_md5: md5,
            content: ContentHeaders {
                content_type: meta.content_type,
                content_encoding: meta.content_encoding,
                content_language: meta.content_language,
                content_disposition: meta.content_disposition,
                cache_control: meta.cache_control,
            },
            metadata: meta
                .user
                .into_iter()
                .filter(|(name, _)| {
                    let valid = crate::azure::is_metadata_name(name);
                    if !valid {
                        log::warn!(
                            key = key;
                            "{}: metadata '{name}' is not written: Azure Blob metadata names \
                             are letters, digits and '_', not starting with a digit",
                            self.name_of(key)
                        );
                    }
                    valid
                })
                .collect(),
            tier,
            tags: opts.tags.to_vec(),
            if_match: opts.if_match.map(str::to_string),
            if_none_match: opts.if_none_match,
        })
    }
}
