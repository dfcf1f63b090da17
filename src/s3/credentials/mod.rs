//! Where credentials come from and how they stay fresh.
//!
//! Each source is a [`Provider`] in its own file: fixed keys ([`static_keys`]), the shared
//! config and credentials files ([`files`], read by [`profile`]), `credential_process` ([`process`]), STS
//! AssumeRole and AssumeRoleWithWebIdentity ([`sts`], [`web_identity`]), the ECS/EKS
//! container endpoint ([`container`]) and EC2 instance metadata ([`imds`]). [`chain`] picks
//! the source in the order the AWS CLI uses; [`refresh::CredentialsCache`] keeps what it
//! returned and fetches again before it expires. The client asks the cache on every attempt
//! of every request.
//!
//! Nothing here reads environment variables: the CLI captures them into [`AwsEnv`]. Secret
//! values (secret keys, session tokens, web identity and authorization tokens, process
//! output) never appear in a message or a log record.

pub mod chain;
pub mod container;
mod context;
pub mod files;
mod http;
pub mod imds;
pub use crate::util::json;
pub mod process;
pub mod profile;
pub mod refresh;
mod setup;
pub mod static_keys;
pub mod sts;
pub mod web_identity;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

pub use super::sign::Credentials;
pub use chain::build;
pub use refresh::CredentialsCache;
pub use setup::SetupError;

/// Credentials and when they stop working (`None`: never).
#[derive(Debug, Clone)]
pub struct Expiring {
    pub credentials: Arc<Credentials>,
    pub expiry: Option<SystemTime>,
}

impl Expiring {
    pub fn new(credentials: Credentials, expiry: Option<SystemTime>) -> Expiring {
        Expiring {
            credentials: Arc::new(credentials),
            expiry,
        }
    }
}

/// A source could not give credentials. The message is one line, says what to do, and never
/// holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialError {
    /// The source, e.g. `credential_process of profile 'ci'`.
    pub source: String,
    pub message: String,
}

impl CredentialError {
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> CredentialError {
        CredentialError {
            source: source.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for CredentialError {}

/// One source of credentials.
pub trait Provider: Send + Sync {
    /// What the source is, for messages: `environment`, `profile 'dev' (role_arn)`, ...
    fn name(&self) -> String;
    /// Fetches credentials now (the cache decides when).
    fn fetch(&self) -> Result<Expiring, CredentialError>;
}

/// The AWS-related environment, captured once by the CLI layer so nothing below it reads
/// environment variables. Empty values are `None`. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct AwsEnv {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub default_region: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`.
    pub sts_endpoint_url: Option<String>,
    pub home: Option<PathBuf>,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`.
    pub web_identity_token_file: Option<PathBuf>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`.
    pub container_relative_uri: Option<String>,
    pub container_full_uri: Option<String>,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` / `_TOKEN_FILE`.
    pub container_token: Option<String>,
    pub container_token_file: Option<PathBuf>,
    /// `AWS_EC2_METADATA_DISABLED=true`.
    pub ec2_metadata_disabled: bool,
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` and `_ENDPOINT_MODE` (`IPv4` or `IPv6`).
    pub ec2_metadata_endpoint: Option<String>,
    pub ec2_metadata_endpoint_mode: Option<String>,
}

/// What the user told us about one side's credentials. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct CredentialOptions {
    pub access_key: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub region: Option<String>,
    /// Send anonymous (unsigned) requests.
    pub no_sign_request: bool,
}

pub(crate) use crate::util::redact::redact;

/// Parses an `Expiration` timestamp (RFC 3339).
pub(crate) fn parse_expiry(text: &str) -> Option<SystemTime> {
    crate::util::time::Timestamp::parse_rfc3339(text.trim()).map(|t| t.to_system())
}
