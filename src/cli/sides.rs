//! One side (source or target) of the command line turned into a [`Location`]: its S3
//! options, its credentials and region (from the AWS environment the CLI captures here), and
//! the network settings both sides share (proxies, CA bundle).

use std::path::PathBuf;
use std::time::Duration;

use md5::{Digest, Md5};

use super::CliError;
use super::args::Args;
use super::place::Place;
use crate::config::Location;
use crate::http::network::{Network, ProxyEnv};
use crate::s3::credentials::{self, AwsEnv, CredentialOptions, SetupError, chain};
use crate::s3::endpoint::Endpoint;
use crate::s3::{ClientConfig, SseCustomerKey};
use crate::util::encoding::{base64, base64_decode};

pub fn aws_env(env: &dyn Fn(&str) -> Option<String>) -> AwsEnv {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    AwsEnv {
        access_key_id: get("AWS_ACCESS_KEY_ID"),
        secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
        session_token: get("AWS_SESSION_TOKEN"),
        profile: get("AWS_PROFILE"),
        region: get("AWS_REGION"),
        default_region: get("AWS_DEFAULT_REGION"),
        endpoint_url: get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")),
        sts_endpoint_url: get("AWS_ENDPOINT_URL_STS").or_else(|| get("AWS_ENDPOINT_URL")),
        home: get("HOME").map(PathBuf::from),
        web_identity_token_file: get("AWS_WEB_IDENTITY_TOKEN_FILE").map(PathBuf::from),
        role_arn: get("AWS_ROLE_ARN"),
        role_session_name: get("AWS_ROLE_SESSION_NAME"),
        container_relative_uri: get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        container_full_uri: get("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        container_token: get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        container_token_file: get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map(PathBuf::from),
        ec2_metadata_disabled: get("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        ec2_metadata_endpoint: get("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
        ec2_metadata_endpoint_mode: get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
    }
}

/// Proxies (the lower-case spelling first, as curl and the AWS CLI read them) and the CA
/// bundle, shared by both sides.
pub fn network(env: &dyn Fn(&str) -> Option<String>) -> Result<Network, CliError> {
    let get = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let proxies = ProxyEnv {
        https: get(["https_proxy", "HTTPS_PROXY"]),
        http: get(["http_proxy", "HTTP_PROXY"]),
        all: get(["all_proxy", "ALL_PROXY"]),
        no_proxy: get(["no_proxy", "NO_PROXY"]),
    };
    let ca_bundle = env("AWS_CA_BUNDLE")
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from);
    Network::new(&proxies, ca_bundle.as_deref()).map_err(CliError::usage)
}

/// One side's S3 options, gathered from the source-* or target-* flags.
pub struct SideOptions<'a> {
    side: &'static str,
    profile: &'a Option<String>,
    access_key: &'a Option<String>,
    secret_access_key: &'a Option<String>,
    session_token: &'a Option<String>,
    no_sign_request: bool,
    region: &'a Option<String>,
    endpoint_url: &'a Option<String>,
    accelerate: bool,
    request_payer: bool,
    force_path_style: bool,
    sse_c: &'a Option<String>,
    sse_c_key: &'a Option<String>,
    sse_c_key_md5: &'a Option<String>,
}

impl<'a> SideOptions<'a> {
    pub fn source(args: &'a Args) -> SideOptions<'a> {
        SideOptions {
            side: "source",
            profile: &args.source_profile,
            access_key: &args.source_access_key,
            secret_access_key: &args.source_secret_access_key,
            session_token: &args.source_session_token,
            no_sign_request: args.source_no_sign_request,
            region: &args.source_region,
            endpoint_url: &args.source_endpoint_url,
            accelerate: args.source_accelerate,
            request_payer: args.source_request_payer,
            force_path_style: args.source_force_path_style,
            sse_c: &args.source_sse_c,
            sse_c_key: &args.source_sse_c_key,
            sse_c_key_md5: &args.source_sse_c_key_md5,
        }
    }

    pub fn target(args: &'a Args) -> SideOptions<'a> {
        SideOptions {
            side: "target",
            profile: &args.target_profile,
            access_key: &args.target_access_key,
            secret_access_key: &args.target_secret_access_key,
            session_token: &args.target_session_token,
            no_sign_request: args.target_no_sign_request,
            region: &args.target_region,
            endpoint_url: &args.target_endpoint_url,
            accelerate: args.target_accelerate,
            request_payer: args.target_request_payer,
            force_path_style: args.target_force_path_style,
            sse_c: &args.target_sse_c,
            sse_c_key: &args.target_sse_c_key,
            sse_c_key_md5: &args.target_sse_c_key_md5,
        }
    }
}

impl SideOptions<'_> {
    /// Whether both sides ask for credentials the same way (same flags; the environment
    /// and the shared files are common to both), so they can share one cache: one STS
    /// call, one `credential_process` run (and prompt) per refresh instead of two.
    pub fn same_credentials(&self, other: &SideOptions<'_>) -> bool {
        self.profile == other.profile
            && self.access_key == other.access_key
            && self.secret_access_key == other.secret_access_key
            && self.session_token == other.session_token
            && self.no_sign_request == other.no_sign_request
    }

    /// Names of the S3-only options given, for the "local side" check.
    fn s3_only_options_given(&self) -> Vec<String> {
        let mut given = Vec::new();
        let mut note = |set: bool, name: &str| {
            if set {
                given.push(format!("--{}-{name}", self.side));
            }
        };
        note(self.profile.is_some(), "profile");
        note(self.access_key.is_some(), "access-key");
        note(self.secret_access_key.is_some(), "secret-access-key");
        note(self.session_token.is_some(), "session-token");
        note(self.no_sign_request, "no-sign-request");
        note(self.region.is_some(), "region");
        note(self.endpoint_url.is_some(), "endpoint-url");
        note(self.accelerate, "accelerate");
        note(self.request_payer, "request-payer");
        note(self.force_path_style, "force-path-style");
        note(self.sse_c.is_some(), "sse-c");
        note(self.sse_c_key.is_some(), "sse-c-key");
        note(self.sse_c_key_md5.is_some(), "sse-c-key-md5");
        given
    }
}

pub fn location(
    place: Place,
    side: &SideOptions<'_>,
    args: &Args,
    env: &AwsEnv,
    azure_env: &crate::azure::credentials::AzureEnv,
    net: &Network,
) -> Result<Location, CliError> {
    let (bucket, prefix) = match place {
        Place::Local(path) => {
            let given = side.s3_only_options_given();
            if !given.is_empty() {
                return Err(CliError::usage(format!(
                    "{} only apply to an s3:// {}",
                    given.join(", "),
                    side.side
                )));
            }
            return Ok(Location::Local(path));
        }
        Place::S3 { bucket, prefix } => (bucket, prefix),
        Place::Blob(blob) => {
            let given = side.s3_only_options_given();
            if !given.is_empty() {
                return Err(CliError::usage(format!(
                    "{} only apply to an s3:// {}; this {} is Azure Blob Storage ({})",
                    given.join(", "),
                    side.side,
                    side.side,
                    blob.describe()
                )));
            }
            return blob_location(*blob, side, args, azure_env, net);
        }
    };
    let sse_c = parse_sse_c(side)?;
    if side.no_sign_request {
        let keys = side.s3_only_options_given();
        let conflicting: Vec<&String> = keys
            .iter()
            .filter(|k| {
                [
                    "-profile",
                    "-access-key",
                    "-secret-access-key",
                    "-session-token",
                ]
                .iter()
                .any(|s| k.ends_with(s))
            })
            .collect();
        if let Some(first) = conflicting.first() {
            return Err(CliError::usage(format!(
                "--{}-no-sign-request sends no credentials: drop {first}",
                side.side
            )));
        }
    }
    let opts = CredentialOptions {
        access_key: side.access_key.clone(),
        secret_access_key: side.secret_access_key.clone(),
        session_token: side.session_token.clone(),
        profile: side.profile.clone(),
        config_file: args.aws_config_file.as_ref().map(PathBuf::from),
        credentials_file: args.aws_shared_credentials_file.as_ref().map(PathBuf::from),
        region: side.region.clone(),
        no_sign_request: side.no_sign_request,
    };
    let setup_error = |e: SetupError| {
        // Nothing configured at all is an environment problem, not an argument error.
        let code = match e {
            SetupError::Missing(_) => 1,
            SetupError::Invalid(_) => super::EXIT_USAGE,
        };
        CliError {
            code,
            message: format!("{}: {e}", side.side),
        }
    };
    let files = chain::load_files(&opts, env).map_err(setup_error)?;
    let resolved_region = chain::region(&opts, env, &files);
    let endpoint_text = side
        .endpoint_url
        .clone()
        .or_else(|| env.endpoint_url.clone());
    let endpoint = match &endpoint_text {
        Some(url) => Some(
            Endpoint::parse(url)
                .map_err(|e| CliError::usage(format!("--{}-endpoint-url: {e}", side.side)))?,
        ),
        None => None,
    };
    let region = match (resolved_region, &endpoint) {
        (Some(r), _) => r,
        // S3-compatible stores mostly ignore the region; us-east-1 is their common default.
        (None, Some(_)) => "us-east-1".to_string(),
        (None, None) => {
            return Err(CliError::usage(format!(
                "{}: no region: pass --{}-region or set AWS_REGION",
                side.side, side.side
            )));
        }
    };
    if side.accelerate && endpoint.is_some() {
        return Err(CliError::usage(format!(
            "--{0}-accelerate cannot be combined with --{0}-endpoint-url",
            side.side
        )));
    }
    let endpoint = endpoint.unwrap_or_else(|| Endpoint::aws(&region, side.accelerate));
    let credentials = credentials::build(&opts, env, net, &region, &files).map_err(setup_error)?;
    let client = ClientConfig {
        endpoint,
        region,
        credentials,
        network: net.clone(),
        force_path_style: side.force_path_style,
        request_payer: side.request_payer,
        unsigned_payload: args.disable_payload_signing,
        max_attempts: args.aws_max_attempts,
        initial_backoff: Duration::from_millis(args.initial_backoff_milliseconds),
        max_connections: 0,
        connect_timeout: args.connect_timeout_milliseconds.map(Duration::from_millis),
        read_timeout: args.read_timeout_milliseconds.map(Duration::from_millis),
        sse_c,
        checksum_mode: false,
        // Set for both sides at once by `reliability::apply`.
        limits: Default::default(),
    };
    Ok(Location::S3 {
        bucket,
        prefix,
        client: Box::new(client),
    })
}

/// An Azure Blob side: credentials in the order azcopy users expect (the URL's SAS,
/// `AZURE_STORAGE_SAS_TOKEN`, the account key, the connection string, Entra ID, anonymous).
fn blob_location(
    blob: crate::azure::location::BlobLocation,
    side: &SideOptions<'_>,
    args: &Args,
    env: &crate::azure::credentials::AzureEnv,
    net: &Network,
) -> Result<Location, CliError> {
    let (credentials, from) = crate::azure::credentials::resolve(&blob, env, net)
        .map_err(|e| CliError::usage(format!("{}: {e}", side.side)))?;
    log::debug!("{} {}: credentials from {from}", side.side, blob.describe());
    if matches!(credentials, crate::azure::Credentials::Bearer(_))
        && !crate::azure::credentials::token_may_go_to(
            &blob.endpoint.authority,
            args.trusted_microsoft_suffixes.as_deref(),
        )
    {
        return Err(CliError::usage(format!(
            "{}: {} is not an Azure Storage domain, and Entra ID tokens are sent only to \
             those: add its host with --trusted-microsoft-suffixes if you trust it",
            side.side,
            blob.describe()
        )));
    }
    let mut client = crate::azure::ClientConfig::new(blob.endpoint.clone(), credentials);
    client.network = net.clone();
    client.max_attempts = args.aws_max_attempts;
    client.initial_backoff = Duration::from_millis(args.initial_backoff_milliseconds);
    client.connect_timeout = args.connect_timeout_milliseconds.map(Duration::from_millis);
    client.read_timeout = args.read_timeout_milliseconds.map(Duration::from_millis);
    Ok(Location::Azure {
        container: blob.container.clone(),
        prefix: blob.path.clone(),
        client: Box::new(client),
    })
}

/// Builds an SSE-C key from one side's options. Messages never include the key.
fn parse_sse_c(side: &SideOptions<'_>) -> Result<Option<SseCustomerKey>, CliError> {
    let name = side.side;
    let (algorithm, key) = match (side.sse_c, side.sse_c_key) {
        (None, None) if side.sse_c_key_md5.is_none() => return Ok(None),
        (Some(a), Some(k)) => (a, k),
        _ => {
            return Err(CliError::usage(format!(
                "--{name}-sse-c and --{name}-sse-c-key go together"
            )));
        }
    };
    if algorithm != "AES256" {
        return Err(CliError::usage(format!(
            "--{name}-sse-c must be AES256 (got '{algorithm}')"
        )));
    }
    let raw = base64_decode(key.trim())
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            CliError::usage(format!(
                "--{name}-sse-c-key must be the base64 of a 256-bit key"
            ))
        })?;
    let md5 = base64(&Md5::digest(&raw));
    if let Some(given) = side.sse_c_key_md5
        && given.trim() != md5
    {
        return Err(CliError::usage(format!(
            "--{name}-sse-c-key-md5 does not match --{name}-sse-c-key"
        )));
    }
    Ok(Some(SseCustomerKey {
        key_base64: key.trim().to_string(),
        key_md5_base64: md5,
    }))
}
