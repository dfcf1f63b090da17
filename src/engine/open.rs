//! Opening the two sides of a run: each configured location becomes a [`Store`], with the
//! run's cancellation flag, connection pool size and listing settings.

use super::*;
use crate::config::Location;
use crate::storage::azure_backend::AzureBackend;
use crate::storage::local::LocalStore;
use crate::storage::local_backend::LocalBackend;
use crate::storage::s3::S3Store;
use crate::storage::s3_backend::{S3Backend, S3WriteSettings};

/// The two sides of the run. A source that is one file or one blob, synced to a TARGET that
/// names one object ([`named_object`]), is listed under that name, and the target opened at
/// the object's directory: `file.txt → .../container/dir/other.txt` writes `dir/other.txt`.
///
/// The last value is `false` when the TARGET is an existing file but the source turned out
/// not to be one object (a Blob prefix): the run must not start.
pub(super) fn open_stores(config: &Config, cancel: &Arc<AtomicBool>) -> (Store, Store, bool) {
    let wanted = named_object(&config.target, config.delete);
    let alias = wanted.as_ref().map(|(_, name)| name.as_str());
    let (source, renamed) = open_store(
        &config.source,
        config,
        config.point_in_time,
        cancel,
        Role::Source(alias),
    );
    let target = match (&wanted, renamed, &config.target) {
        (
            Some((dir, _)),
            true,
            Location::Azure {
                container, client, ..
            },
        ) => {
            let at_dir = Location::Azure {
                container: container.clone(),
                prefix: dir.clone(),
                client: client.clone(),
            };
            open_store(&at_dir, config, None, cancel, Role::Target).0
        }
        _ => open_store(&config.target, config, None, cancel, Role::Target).0,
    };
    let file_target = matches!(&target, Store::Local(l) if l.store().is_single_file());
    (source, target, renamed || !file_target)
}

/// The directory and name of the one object a TARGET names, when a single source is to
/// become that object: a Blob location whose path does not end in `/` (azcopy's reading of
/// `azcopy sync file.txt .../container/path/to/blob`), or an existing local file. S3
/// locations stay key prefixes, as the reference reads them; with `--delete` a TARGET is
/// always a directory (the CLI refuses a single file with `--delete` and such a TARGET).
fn named_object(target: &Location, delete: bool) -> Option<(String, String)> {
    match target {
        Location::Azure { prefix, .. }
            if !delete && !prefix.is_empty() && !prefix.ends_with('/') =>
        {
            let (dir, name) = match prefix.rfind('/') {
                Some(i) => (&prefix[..=i], &prefix[i + 1..]),
                None => ("", prefix.as_str()),
            };
            Some((dir.to_string(), name.to_string()))
        }
        Location::Local(path) if path.is_file() => {
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((String::new(), name))
        }
        _ => None,
    }
}

/// Which side a store is opened for. A source may be listed under another name (`Some`)
/// when it turns out to be one file or one blob.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role<'a> {
    Source(Option<&'a str>),
    Target,
}

/// The store of one side, and whether it is a single source now listed under the name
/// its role gives; `at` lists it as it was then (`--point-in-time`, source only).
fn open_store(
    location: &Location,
    config: &Config,
    at: Option<Timestamp>,
    cancel: &Arc<AtomicBool>,
    role: Role<'_>,
) -> (Store, bool) {
    let alias = match role {
        Role::Source(alias) => alias,
        Role::Target => None,
    };
    let store = match location {
        Location::Local(path) => {
            let mut store = LocalStore::new(path, config.follow_symlinks);
            if let Some(storage) = &config.hash_cache {
                store = store.with_hash_cache(storage.clone());
            }
            if let Some(name) = alias.filter(|_| store.is_single_file()) {
                return (Store::Local(LocalBackend::new(store.listed_as(name))), true);
            }
            let writes = role == Role::Target && !config.dry_run && config.report.is_none();
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
            let may_be_one_blob = matches!(role, Role::Source(_)) && !config.delete;
            let backend =
                AzureBackend::connect(client, container.clone(), prefix.clone(), may_be_one_blob);
            if let Some(name) = alias.filter(|_| backend.is_single()) {
                return (Store::Generic(Box::new(backend.listed_as(name))), true);
            }
            Store::Generic(Box::new(backend))
        }
    };
    (store, false)
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
