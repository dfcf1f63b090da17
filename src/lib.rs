//! s3sync: reliable, verifiable, fast synchronisation between local directories,
//! S3-compatible buckets and Azure Blob containers, on small blocking clients.
//!
//! Layers, each depending only on the ones below it:
//!
//! ```text
//!  cli ──► config ──► engine ─────────────────────────────► Report
//!                       │ list · filter · diff · transfer · verify · delete
//!                       ▼
//!                     storage: the Backend interface (list, head, ranged read, single and
//!                       │      numbered-part writes, server-side copy offered by a source,
//!                       │      delete, tags; capabilities as data; one StorageError)
//!          ┌────────────┼──────────────────┐
//!          ▼            ▼                  ▼
//!     local files   s3 backend         azure backend
//!                       │                  │
//!                       ▼                  ▼
//!                 s3 client (SigV4)   azure client (SharedKey / SAS / Entra ID)
//!     leaves: integrity (MD5/ETag, checksums) · util (encodings, time, sizes)
//! ```
//!
//! The engine reaches a backend through [`storage::Store`]: local and S3 sides keep fast
//! paths of their own (parallel ranged downloads, server-side part copies, trailing
//! checksums); any other backend, Azure Blob today, is used only through
//! [`storage::backend::Backend`] and the engine's one generic transfer path, so a new
//! backend is one `impl` that passes `tests/conformance.rs`. A library user builds a
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
