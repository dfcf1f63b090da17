//! A small blocking S3 client: SigV4 signing, addressing, credentials, XML and errors.
//! It knows nothing about syncing.

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod ops;
pub mod request;
pub mod response;
pub mod sign;
pub mod xml;

/// Kept at its old path for library users; the settings live in [`crate::http::network`].
pub use crate::http::network;

pub use client::{Client, ClientConfig, Payload, Request, Response, SseCustomerKey};
pub use error::{ErrorKind, S3Error};
