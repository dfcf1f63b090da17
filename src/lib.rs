//! s3sync: reliable, verifiable, fast synchronisation between local directories and
//! S3-compatible buckets, on a small blocking S3 client.
//!
//! Layers, each depending only on the ones below it:
//! [`cli`] → [`config`] → [`engine`] → [`storage`] → [`s3`], with [`integrity`] and
//! [`util`] as leaves. A library user builds a [`config::Config`] and calls [`engine::run`].

pub mod cli;
pub mod config;
pub mod engine;
pub mod integrity;
pub mod interrupt;
pub mod logging;
pub mod s3;
pub mod storage;
pub mod util;

pub use config::Config;
pub use engine::{Report, run, run_cancellable};
