//! A small blocking S3 client: SigV4 signing, addressing, credentials, XML and errors.
//! It knows nothing about syncing.

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod names;
pub mod network;
pub mod ops;
pub mod request;
pub mod response;
pub mod sign;
pub mod transport;
pub mod xml;

pub use client::{Client, ClientConfig, Payload, Request, Response, SseCustomerKey};
pub use error::{ErrorKind, S3Error};
