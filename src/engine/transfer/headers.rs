//! What a new target object is given: its metadata (the source's, minus what the user said
//! not to carry, plus the user's overrides and s3sync's origin keys), tags, storage class
//! and ACL, and the preprocess callback's last word on all of it; then the request headers
//! that say so.

use crate::callback::{SourceObject, UploadMetadata};
use crate::config::{Config, MetadataOptions};
use crate::storage::props::ObjectMeta;
use crate::storage::s3::headers::NewObject;
use crate::storage::s3_backend::S3Backend;
use crate::util::time::Timestamp;

use super::TransferError;

/// User metadata key recording the source's LastModified (`--put-last-modified-metadata`).
pub const ORIGIN_LAST_MODIFIED: &str = "s3sync_origin_last_modified";

/// User metadata key recording the source version a target version was copied from
/// (`--enable-versioning`); later runs recognise copied versions by it.
pub const ORIGIN_VERSION_ID: &str = "s3sync_origin_version_id";

/// Marks `meta` as the copy of source version `version_id`, last modified at
/// `last_modified`: both origin keys are set, replacing any the source carried (a source
/// that is itself a copy names its own origin, not ours).
pub fn mark_origin(meta: &mut ObjectMeta, version_id: &str, last_modified: Timestamp) {
    meta.user
        .retain(|(k, _)| k != ORIGIN_VERSION_ID && k != ORIGIN_LAST_MODIFIED);
    meta.user
        .push((ORIGIN_VERSION_ID.into(), version_id.to_string()));
    meta.user
        .push((ORIGIN_LAST_MODIFIED.into(), last_modified.rfc3339_seconds()));
    meta.user.sort();
}

/// The metadata to give the target object: the source's, minus what the user said not to
/// sync, plus the user's overrides. `last_modified` is the source object's.
pub fn target_meta(
    options: &MetadataOptions,
    source: &ObjectMeta,
    last_modified: Timestamp,
) -> ObjectMeta {
    let mut meta = source.clone();
    if options.no_sync_system {
        meta = ObjectMeta {
            user: std::mem::take(&mut meta.user),
            ..ObjectMeta::default()
        };
    }
    if options.no_sync_user {
        meta.user.clear();
    }
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    set(&mut meta.content_type, &options.content_type);
    set(&mut meta.content_encoding, &options.content_encoding);
    set(&mut meta.cache_control, &options.cache_control);
    set(&mut meta.content_disposition, &options.content_disposition);
    set(&mut meta.content_language, &options.content_language);
    set(&mut meta.expires, &options.expires);
    set(&mut meta.website_redirect, &options.website_redirect);
    if let Some(user) = &options.metadata {
        meta.user = user.clone();
    }
    if options.put_last_modified {
        meta.user.retain(|(k, _)| k != ORIGIN_LAST_MODIFIED);
        meta.user
            .push((ORIGIN_LAST_MODIFIED.into(), last_modified.rfc3339_seconds()));
        meta.user.sort();
    }
    meta
}

/// What a new target object is given, before the preprocess callback: `meta` (from
/// [`target_meta`]), the tags (the user's, or the source's unless tagging is disabled), the
/// storage class (the user's, or the source's when it has one) and the ACL.
pub fn upload_metadata(
    options: &MetadataOptions,
    meta: ObjectMeta,
    source_tags: Option<&[(String, String)]>,
    source_storage_class: Option<&str>,
) -> UploadMetadata {
    let tags = match (&options.tagging, options.disable_tagging) {
        (Some(t), _) => Some(t.as_slice()),
        (None, false) => source_tags,
        (None, true) => None,
    };
    UploadMetadata {
        meta,
        tags: tags.map(<[_]>::to_vec).unwrap_or_default(),
        storage_class: options
            .storage_class
            .as_deref()
            .or(source_storage_class.filter(|_| !options.no_sync_tier))
            .map(str::to_string),
        acl: options.acl.clone(),
        request_payer: None,
    }
}

/// The S3 headers that give a new object of `target` `upload` (the S3 side adds its
/// server-side encryption).
pub fn s3_object_headers(target: &S3Backend, upload: &UploadMetadata) -> Vec<(String, String)> {
    target.object_headers(&NewObject {
        meta: Some(&upload.meta),
        tags: &upload.tags,
        storage_class: upload.storage_class.as_deref(),
        acl: upload.acl.as_deref(),
        request_payer: upload.request_payer.as_deref(),
    })
}

/// Lets the preprocess callback (when there is one) see and change `upload`, what the new
/// object will be given, with the source `source()` describes. `Declined` when the callback
/// skips the object, `Callback` when it fails or returns something that cannot be sent.
pub fn preprocess(
    config: &Config,
    source: impl FnOnce() -> SourceObject,
    upload: &mut UploadMetadata,
) -> Result<(), TransferError> {
    let Some(callback) = &config.callbacks.preprocess else {
        return Ok(());
    };
    if let crate::config::Location::S3 { client, .. } = &config.target
        && client.request_payer
    {
        upload.request_payer = Some("requester".into());
    }
    match callback.preprocess(&source(), upload) {
        Ok(true) => upload
            .check()
            .map_err(|e| TransferError::Callback(format!("it returned {e}"))),
        Ok(false) => Err(TransferError::Declined),
        Err(e) => Err(TransferError::Callback(e.to_string())),
    }
}

/// What an upload of a local file to `target_key` gives the new object, after the
/// preprocess callback; with `posix_source` (`--preserve-posix-properties`), that file's
/// mode, owner and times among the user metadata.
pub fn local_upload_metadata(
    config: &Config,
    posix_source: Option<&std::path::Path>,
    entry: &crate::storage::Entry,
    target_key: &str,
) -> Result<UploadMetadata, TransferError> {
    let options = &config.metadata;
    let guessed = options
        .guess_mime_type
        .then(|| crate::storage::mime::content_type_for(&entry.key));
    let source = ObjectMeta {
        content_type: guessed,
        ..ObjectMeta::default()
    };
    let mut meta = target_meta(options, &source, entry.last_modified);
    if let Some(path) = posix_source {
        let props = super::posix::of_file(path)
            .map_err(|e| TransferError::Io(format!("cannot stat {}: {e}", path.display())))?;
        super::posix::add_to(&mut meta.user, props);
    }
    let mut upload = upload_metadata(options, meta, None, None);
    let source_object = || SourceObject {
        key: target_key.to_string(),
        source_key: entry.key.clone(),
        size: entry.size,
        last_modified: Some(entry.last_modified),
        meta: source,
        ..SourceObject::default()
    };
    preprocess(config, source_object, &mut upload)?;
    Ok(upload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The S3 headers of `upload` with the encryption of `options`, as the engine's S3
    /// paths send them.
    fn upload_headers(options: &MetadataOptions, upload: &UploadMetadata) -> Vec<(String, String)> {
        let settings = crate::storage::s3::headers::S3WriteSettings {
            sse: options.sse.clone(),
            sse_kms_key_id: options.sse_kms_key_id.clone(),
            ..Default::default()
        };
        crate::storage::s3::headers::object_headers(
            &NewObject {
                meta: Some(&upload.meta),
                tags: &upload.tags,
                storage_class: upload.storage_class.as_deref(),
                acl: upload.acl.as_deref(),
                request_payer: upload.request_payer.as_deref(),
            },
            &settings,
        )
    }

    #[test]
    fn new_object_headers_prefer_the_users_values() {
        let tags = vec![("src".to_string(), "1".to_string())];
        let opts = MetadataOptions {
            acl: Some("private".into()),
            ..Default::default()
        };
        let h = upload_headers(
            &opts,
            &upload_metadata(&opts, ObjectMeta::default(), Some(&tags), Some("GLACIER")),
        );
        assert!(h.contains(&("x-amz-storage-class".into(), "GLACIER".into())));
        assert!(h.contains(&("x-amz-acl".into(), "private".into())));
        assert!(h.contains(&("x-amz-tagging".into(), "src=1".into())));
        let opts = MetadataOptions {
            storage_class: Some("STANDARD_IA".into()),
            tagging: Some(vec![("a b".into(), "c&d".into())]),
            ..Default::default()
        };
        let h = upload_headers(
            &opts,
            &upload_metadata(&opts, ObjectMeta::default(), Some(&tags), Some("GLACIER")),
        );
        assert!(h.contains(&("x-amz-storage-class".into(), "STANDARD_IA".into())));
        assert!(h.contains(&("x-amz-tagging".into(), "a%20b=c%26d".into())));
        let opts = MetadataOptions {
            disable_tagging: true,
            ..Default::default()
        };
        let h = upload_headers(
            &opts,
            &upload_metadata(&opts, ObjectMeta::default(), Some(&tags), None),
        );
        assert!(!h.iter().any(|(k, _)| k == "x-amz-tagging"));
    }

    #[test]
    fn overrides_and_exclusions_apply_in_order() {
        let source = ObjectMeta {
            content_type: Some("text/plain".into()),
            cache_control: Some("max-age=1".into()),
            user: vec![("a".into(), "1".into())],
            ..ObjectMeta::default()
        };
        let opts = MetadataOptions {
            no_sync_system: true,
            content_language: Some("en".into()),
            ..Default::default()
        };
        let m = target_meta(&opts, &source, Timestamp::default());
        assert_eq!(m.content_type, None);
        assert_eq!(m.cache_control, None);
        assert_eq!(m.content_language.as_deref(), Some("en"));
        assert_eq!(m.user, vec![("a".to_string(), "1".to_string())]);
        let opts = MetadataOptions {
            no_sync_user: true,
            content_type: Some("image/png".into()),
            ..Default::default()
        };
        let m = target_meta(&opts, &source, Timestamp::default());
        assert!(m.user.is_empty());
        assert_eq!(m.content_type.as_deref(), Some("image/png"));
        assert_eq!(m.cache_control.as_deref(), Some("max-age=1"));
        let opts = MetadataOptions {
            metadata: Some(vec![("k".into(), "v".into())]),
            ..Default::default()
        };
        assert_eq!(
            target_meta(&opts, &source, Timestamp::default()).user,
            vec![("k".to_string(), "v".to_string())]
        );
        let opts = MetadataOptions {
            put_last_modified: true,
            ..Default::default()
        };
        let m = target_meta(
            &opts,
            &source,
            Timestamp {
                secs: 1_735_689_600,
                nanos: 7,
            },
        );
        assert!(m.user.contains(&(
            ORIGIN_LAST_MODIFIED.to_string(),
            "2025-01-01T00:00:00+00:00".to_string()
        )));
    }
}
