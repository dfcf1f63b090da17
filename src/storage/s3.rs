//! An S3 bucket and prefix as a store.

use std::sync::Arc;

use super::{Entry, ListError, ListItem};
use crate::s3::Client;
use crate::s3::ops::ListRequest;

/// A bucket and key prefix reached through one client.
pub struct S3Store {
    client: Arc<Client>,
    bucket: String,
    prefix: String,
    max_keys: u32,
}

impl S3Store {
    pub fn new(client: Arc<Client>, bucket: String, prefix: String, max_keys: u32) -> S3Store {
        S3Store {
            client,
            bucket,
            prefix,
            max_keys,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The full object key of a relative key: the prefix and the key, concatenated as they
    /// are (no `/` is inserted, as in the reference tool).
    pub fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Lists every object under the prefix, in the order S3 returns (UTF-8 byte order).
    /// An object whose key equals the prefix has no relative key and is skipped.
    pub fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), ListError> {
        let mut token: Option<String> = None;
        let mut last_key: Option<String> = None;
        loop {
            let args = ListRequest {
                prefix: &self.prefix,
                continuation_token: token.as_deref(),
                max_keys: Some(self.max_keys),
                ..ListRequest::default()
            };
            let page = self
                .client
                .list_objects_v2(&self.bucket, &args)
                .map_err(|e| {
                    ListError(format!(
                        "listing s3://{}/{} failed: {e}",
                        self.bucket, self.prefix
                    ))
                })?;
            for obj in page.objects {
                // The merge-join relies on byte order; a store that breaks it must not
                // silently produce wrong transfers or deletions.
                if last_key.as_ref().is_some_and(|last| *last >= obj.key) {
                    return Err(ListError(format!(
                        "s3://{}: the listing is not in key order ('{}' after '{}'); this store is not supported",
                        self.bucket,
                        obj.key,
                        last_key.unwrap_or_default()
                    )));
                }
                let Some(relative) = obj.key.strip_prefix(self.prefix.as_str()) else {
                    continue;
                };
                if relative.is_empty() {
                    log::debug!(
                        "skipping s3://{}/{}: its key equals the prefix",
                        self.bucket,
                        obj.key
                    );
                    last_key = Some(obj.key);
                    continue;
                }
                let entry = Entry {
                    key: relative.to_string(),
                    size: obj.size,
                    last_modified: obj.last_modified,
                    etag: obj.etag,
                };
                last_key = Some(obj.key);
                if !emit(ListItem::Entry(entry)) {
                    return Ok(());
                }
            }
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return Ok(()),
            }
        }
    }
}
