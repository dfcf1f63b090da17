//! Opening the two sides of a run: each configured location becomes a [`Store`], with the
//! run's cancellation flag, connection pool size and listing settings.

use super::*;
use crate::config::Location;
use crate::storage::azure_backend::AzureBackend;
use crate::storage::local::LocalStore;
use crate::storage::local_backend::LocalBackend;
use crate::storage::s3::S3Store;
use crate::storage::s3_backend::{S3Backend, S3WriteSettings};

/// The store of one side; `at` lists it as it was then (`--point-in-time`, source only).
pub(super) fn open_store(
    location: &Location,
    config: &Config,
    at: Option<Timestamp>,
    cancel: &Arc<AtomicBool>,
) -> Store {
    match location {
        Location::Local(path) => {
            let store = LocalStore::new(path, config.follow_symlinks);
            let writes = std::ptr::eq(location, &config.target)
                && !config.dry_run
                && config.report.is_none();
            Store::Local(LocalBackend::new(if writes {
                store.cleaning_orphans()
            } else {
                store
            }))
        }
        Location::S3 {
            bucket,
            prefix,
            client,
        } => {
            let mut client = (**client).clone();
            client.limits.cancel = Some(Arc::clone(cancel));
            // Every worker, part thread and lister may hold a connection at once.
            client.max_connections = config.worker_size + config.max_parallel_uploads + 4;
            let store = S3Store::connect(
                client,
                bucket.clone(),
                prefix.clone(),
                crate::storage::s3::ListOptions {
                    max_keys: config.max_keys,
                    parallel: listing_parallelism(config, bucket),
                    max_depth: config.max_parallel_listing_max_depth,
                    ahead: config.object_listing_queue_size,
                    at,
                },
            );
            let m = &config.metadata;
            Store::S3(S3Backend::new(
                store,
                S3WriteSettings {
                    sse: m.sse.clone(),
                    sse_kms_key_id: m.sse_kms_key_id.clone(),
                    acl: m.acl.clone(),
                    storage_class: m.storage_class.clone(),
                },
            ))
        }
        Location::Azure {
            container,
            prefix,
            client,
        } => {
            let mut client = (**client).clone();
            client.limits.cancel = Some(Arc::clone(cancel));
            client.max_connections = config.worker_size + config.max_parallel_uploads + 4;
            // `.../container/dir/file` names one blob when it exists (as azcopy reads it);
            // as a target, with a trailing `/` or with --delete, it is a prefix.
            let may_be_one_blob = std::ptr::eq(location, &config.source) && !config.delete;
            Store::Generic(Box::new(AzureBackend::connect(
                client,
                container.clone(),
                prefix.clone(),
                may_be_one_blob,
            )))
        }
    }
}

/// Listing requests in flight for a bucket. Directory buckets (S3 Express One Zone) may list
/// uploads in progress when listed in parallel, so they are listed sequentially unless the
/// user allows it.
fn listing_parallelism(config: &Config, bucket: &str) -> usize {
    if bucket.ends_with("--x-s3") && !config.allow_parallel_listings_in_express_one_zone {
        1
    } else {
        config.max_parallel_listings
    }
}
