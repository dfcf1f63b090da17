//! s3sync: reliable, verifiable, fast synchronisation between local directories,
//! S3-compatible buckets and Azure Blob containers, on small blocking clients.
//!
//! Layers, each depending only on the ones below it:
//!
//! ```text
//!  cli ──► config ──► engine ─────────────────────────────► Report
//!                       │ list · filter · diff · transfer · verify · delete
//!                       │ (callback / script: filter, preprocess, events)
//!                       ▼
//!                     storage: the Backend interface (list, head, ranged read, single and
//!                       │      numbered-part writes, server-side copy offered by a source,
//!                       │      delete, tags; capabilities as data; Properties, Written,
//!                       │      one StorageError)
//!          ┌────────────┼──────────────────┐
//!          ▼            ▼                  ▼
//!     local files   s3 backend         azure backend
//!                   (storage::s3)      (storage::azure_backend)
//!                       │                  │
//!                       ▼                  ▼
//!                 s3 client (SigV4)   azure client (SharedKey / SAS / Entra ID)
//!                       └───────┬──────────┘
//!                               ▼
//!                     http: network settings and CA bundle, TCP layer, retry loop and
//!                           backoff, body readers, XML tree, HMAC, content headers
//!     leaves: integrity (MD5/ETag, checksums) · util (encodings, JSON, time, sizes)
//! ```
//!
//! Arrows point down only: no module imports one above it, and there are no import cycles
//! (`bench/imports.py` prints the graph and checks). The two store clients share
//! [`http`] and never import each other.
//!
//! The engine reaches a backend through [`storage::Store`], and what it learns comes in
//! storage types ([`storage::props::Properties`], [`storage::backend::Written`],
//! [`storage::backend::PartReceipt`], [`storage::error::StorageError`]); no file under
//! `engine` or `callback` names a type of the S3 or Azure clients. Local and S3 sides still
//! keep fast paths of their own (parallel ranged downloads, server-side part copies in the
//! source's layout, trailing checksums, resumable multipart uploads); they ask
//! [`storage::s3::S3Store`] for S3 requests in those same storage terms
//! (`storage/s3/requests.rs`); a store's S3 client is visible to `storage` alone, so the
//! compiler refuses it in the engine (that no engine file names an S3 type is checked with
//! `grep -rn crate::s3 src/engine src/callback`). Any other backend, Azure Blob today, is used only
//! through [`storage::backend::Backend`] and the engine's one generic transfer path, so a
//! new backend is one `impl` that passes `tests/conformance.rs`. A library user builds a
//! [`config::Config`] and calls [`engine::run`].
//!
//! Callbacks ([`callback`]) hook into a run: a filter, a preprocess step before each write to
//! S3, and an event listener. Set them on [`Config::callbacks`]; [`script`] implements them
//! with Lua scripts, as the CLI's `--*-callback-lua-script` options do.
//!
//! ```no_run
//! use std::sync::Arc;
//! use s3sync::callback::{CallbackError, FilterCallback, ObjectInfo};
//! use s3sync::config::{Config, Location};
//!
//! struct NoTemporaryFiles;
//!
//! impl FilterCallback for NoTemporaryFiles {
//!     fn filter(&self, object: &ObjectInfo) -> Result<bool, CallbackError> {
//!         Ok(!object.key.ends_with(".tmp"))
//!     }
//! }
//!
//! let mut config = Config::new(Location::Local("photos".into()), Location::Local("backup".into()));
//! config.callbacks.filter = Some(Arc::new(NoTemporaryFiles));
//! let report = s3sync::run(&config);
//! assert!(!report.has_errors());
//! ```

pub mod azure;
pub mod callback;
pub mod cli;
pub mod config;
pub mod engine;
pub mod http;
pub mod integrity;
pub mod interrupt;
pub mod logging;
pub mod s3;
pub mod script;
pub mod storage;
pub mod util;

pub use callback::{CallbackError, Callbacks, EventCallback, FilterCallback, PreprocessCallback};
pub use config::Config;
pub use engine::{Report, run, run_cancellable};
