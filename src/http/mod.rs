//! The HTTP layer both store clients stand on: network settings (proxies, the CA bundle of
//! `AWS_CA_BUNDLE`), the TCP layer, the retry loop with its time limits and backoff, the
//! readers wrapped around bodies, the XML element tree and the HMAC both signers use. It
//! knows no store: [`crate::s3`] and [`crate::azure`] each import it, and neither imports
//! the other.

pub mod body;
pub mod hmac;
pub mod meta;
pub mod network;
pub mod retry;
pub mod transport;
pub mod xml;
