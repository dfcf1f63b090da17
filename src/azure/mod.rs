//! A small blocking Azure Blob Storage client: locations, SharedKey / SAS / Entra ID
//! authentication, the Blob REST operations a sync needs, XML and errors. Like [`crate::s3`]
//! it knows nothing about syncing; the storage backend built on it will.
//!
//! It follows the S3 client's rules (ARCHITECTURE.md, section 3) and stands on the same
//! neutral plumbing in [`crate::http`], not on the S3 client: [`crate::http::network::Network`]
//! (proxies, CA bundle), the TCP layer ([`crate::http::transport`]), [`crate::http::retry`]
//! (time limits, stalled-stream protection, bandwidth, cancellation, the retry loop and its
//! backoff), the XML element tree ([`crate::http::xml`]) and the JSON reader
//! ([`crate::util::json`]). Nothing here imports [`crate::s3`].
//!
//! - [`location`]: `https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH?SAS` and its
//!   sovereign, Data Lake and emulator forms, parsed; the SAS kept apart and never shown.
//! - [`auth`]: SharedKey signing of [`API_VERSION`]'s string to sign.
//! - [`sas`]: SAS tokens (kept secret) and service SAS generation for copy sources.
//! - [`token`]: Entra ID bearer tokens behind a provider trait, cached and refreshed.
//! - [`credentials`]: which of those a run uses, from the URL and the captured environment.
//! - [`client`]: one `ureq` agent, signing at send time, bounded retries; [`request`]: what
//!   it sends and gives back.
//! - [`ops`]: List Blobs, properties, ranged reads, Put Blob / Block / Block List, copies,
//!   tags, tiers, deletes.
//! - [`properties`]: what a listing entry or a HEAD says about a blob.
//! - [`xml`], [`error`]: response documents and the one error type.
//! - [`blocks`]: block ids and the block-size rule.

pub mod auth;
pub mod blocks;
pub mod client;
pub mod cpk;
pub mod credentials;
pub mod error;
pub mod location;
pub mod ops;
pub mod properties;
pub mod request;
pub mod sas;
pub mod token;
pub mod xml;

/// The `x-ms-version` every request sends. 2025-01-05 is a GA service version that Azure
/// serves in every cloud and that Azurite 3.37 accepts without `--skipApiVersionCheck`
/// (Azurite refuses versions newer than it knows with 400 InvalidHeaderValue). It has all we
/// use: blob index tags (2019-12-12), Put Block From URL and Copy Blob From URL (2020-04-08),
/// `Encoded` blob names in listings and the 2020-12-06 SAS string to sign.
pub const API_VERSION: &str = "2025-01-05";

pub use client::{Client, ClientConfig, Payload, Request, Response};
pub use credentials::{AzureEnv, Credentials};
pub use error::{AzureError, ErrorKind};
pub use location::{BlobLocation, ServiceEndpoint};

/// Whether `name` can be a blob's metadata name: a C# identifier, as the service requires
/// (ASCII letters, digits and `_`, not starting with a digit).
pub fn is_metadata_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
