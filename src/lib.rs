//! s3sync: reliable, verifiable, fast synchronisation between local directories and
//! S3-compatible buckets, on a small blocking S3 client.
//!
//! Layers, each depending only on the ones below it:
//! [`cli`] → [`config`] → [`engine`] → [`storage`] → [`s3`], with [`integrity`] and
//! [`util`] as leaves. A library user builds a [`config::Config`] and calls [`engine::run`].
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
