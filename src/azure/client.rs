//! The blocking Blob client: one `ureq::Agent` built as the S3 client builds its own (our TCP
//! layer, CONNECT proxies, rustls with the run's CA bundle, idle pool sized for the workers,
//! per-read and per-write timeouts as stalled-stream protection), the credentials applied at
//! send time on every attempt (a fresh `x-ms-date` and SharedKey signature, a token from the
//! cache, or the SAS appended), bounded retries with the S3 client's jittered backoff, and
//! error answers read and classified.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use ureq::http;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector as _, RustlsConnector};

use super::API_VERSION;
use super::auth::{self, Signable};
use super::credentials::Credentials;
use super::error::{AzureError, ErrorKind};
use super::location::ServiceEndpoint;
use super::request::Outgoing;
pub use super::request::{BodyReader, Payload, Request, Response};
use super::xml::{self, XmlError};
use crate::http::body::{MAX_TEXT_BODY, PARSE_BUFFER, WatchedReader};
use crate::http::network::Network;
pub use crate::http::retry::Limits;
use crate::http::retry::{RetryPolicy, per_io_timeout, with_retries};
use crate::http::transport::QuickAckConnector;
use crate::util::encoding::uri_encode;
use crate::util::rate::Throttled;
use crate::util::time::Timestamp;

/// Largest error body read.
const MAX_ERROR_BODY: u64 = 1 << 20;
/// Without a read timeout: how long a response may take to start.
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(300);
/// Bytes of each connection's buffers (the S3 client's measured choice).
const IO_BUFFER: usize = 64 << 10;

/// How to reach and authenticate against one storage account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: ServiceEndpoint,
    pub credentials: Credentials,
    /// Proxies and trusted certificate authorities.
    pub network: Network,
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Threads that may hold a connection at once; the idle pool keeps them all.
    pub max_connections: usize,
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub limits: Limits,
    /// Customer-provided encryption of the blobs read and written (`--cpk-by-value`,
    /// `--cpk-by-name`).
    pub encryption: Option<super::cpk::Encryption>,
}

impl ClientConfig {
    /// Defaults: 4 attempts from 200 ms, 16 connections, stalled-stream protection on.
    pub fn new(endpoint: ServiceEndpoint, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            endpoint,
            credentials,
            network: Network::default(),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_connections: 16,
            connect_timeout: None,
            read_timeout: None,
            limits: Limits {
                stalled_stream_protection: true,
                ..Limits::default()
            },
            encryption: None,
        }
    }
}

/// A blocking, thread-safe Blob client for one account. Share it by reference or `Arc`.
pub struct Client {
    agent: ureq::Agent,
    proxied: Option<ureq::Agent>,
    cfg: ClientConfig,
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Client {
        let agent = Client::agent(&cfg, None);
        let proxy = cfg.network.scheme_proxy(cfg.endpoint.https).cloned();
        let proxied = proxy.map(|p| Client::agent(&cfg, Some(p)));
        Client {
            agent,
            proxied,
            cfg,
        }
    }

    fn agent(cfg: &ClientConfig, proxy: Option<ureq::Proxy>) -> ureq::Agent {
        let pool = cfg.max_connections.max(10);
        let per_io = per_io_timeout(cfg.read_timeout, cfg.limits.stalled_stream_protection);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(pool)
            .max_idle_connections_per_host(pool)
            .timeout_connect(cfg.connect_timeout.or(Some(Duration::from_millis(3100))))
            .timeout_recv_response(cfg.read_timeout.or(Some(DEFAULT_RESPONSE_TIMEOUT)))
            .timeout_recv_body(None)
            .timeout_per_read(per_io)
            .timeout_per_write(per_io)
            .user_agent(concat!("s3sync/", env!("CARGO_PKG_VERSION")))
            .input_buffer_size(IO_BUFFER)
            .output_buffer_size(IO_BUFFER)
            .max_response_header_size(IO_BUFFER - 1)
            .proxy(proxy)
            .tls_config(cfg.network.tls_config())
            .build();
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(QuickAckConnector)
                .chain(RustlsConnector::default());
        ureq::Agent::with_parts(config, connector, DefaultResolver::default())
    }

    fn agent_for(&self) -> &ureq::Agent {
        let ep = &self.cfg.endpoint;
        match &self.proxied {
            Some(p)
                if self
                    .cfg
                    .network
                    .proxy_for_authority(ep.https, &ep.authority)
                    .is_some() =>
            {
                p
            }
            _ => &self.agent,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn endpoint(&self) -> &ServiceEndpoint {
        &self.cfg.endpoint
    }

    /// The URL of a blob without credentials, e.g. to sign a SAS for it.
    pub fn blob_url(&self, container: &str, blob: &str) -> String {
        let ep = &self.cfg.endpoint;
        ep.url(&ep.path(Some(container), Some(blob)))
    }

    /// Sends `req`, retrying retryable failures, and returns the successful response.
    pub fn send(&self, req: &Request<'_>) -> Result<Response, AzureError> {
        self.retry(req.op, |budget| self.send_once(req, budget))
    }

    /// Sends `req` and reads the whole (small) body as text, retrying both together.
    pub fn send_text(&self, req: &Request<'_>) -> Result<(http::HeaderMap, String), AzureError> {
        self.retry(req.op, |budget| {
            let resp = self.send_once(req, budget)?;
            let headers = resp.headers.clone();
            let mut body = resp.body;
            let text = body
                .with_config()
                .limit(MAX_TEXT_BODY)
                .read_to_string()
                .map_err(|e| {
                    AzureError::transport(
                        req.op,
                        &format!("reading the response failed: {e}"),
                        true,
                    )
                })?;
            Ok((headers, text))
        })
    }

    /// Sends `req` and parses the body as it streams in, retrying both steps together: a
    /// body cut short is retried, a body that is not what `parse` expects is not.
    pub fn send_parsed<T>(
        &self,
        req: &Request<'_>,
        mut parse: impl FnMut(&mut dyn BufRead) -> Result<T, XmlError>,
    ) -> Result<T, AzureError> {
        self.retry(req.op, |budget| {
            let resp = self.send_once(req, budget)?;
            let mut body = WatchedReader {
                inner: resp.into_reader().take(MAX_TEXT_BODY),
                failure: None,
            };
            let parsed = parse(&mut BufReader::with_capacity(PARSE_BUFFER, &mut body));
            match (parsed, body.failure) {
                (Ok(value), _) => Ok(value),
                (Err(_), Some(e)) => Err(AzureError::transport(
                    req.op,
                    &format!("reading the response failed: {e}"),
                    true,
                )),
                (Err(e), None) => Err(AzureError::bad_response(req.op, &e.to_string())),
            }
        })
    }

    /// Runs `attempt_fn` under this client's retry policy (the S3 client's loop).
    fn retry<T>(
        &self,
        op: &'static str,
        attempt_fn: impl FnMut(Option<Duration>) -> Result<T, AzureError>,
    ) -> Result<T, AzureError> {
        let policy = RetryPolicy {
            max_attempts: self.cfg.max_attempts,
            initial_backoff: self.cfg.initial_backoff,
            limits: &self.cfg.limits,
        };
        with_retries(op, &policy, AzureError::is_retryable, attempt_fn, || {
            AzureError::transport(
                op,
                "the operation timeout ran out before the request succeeded",
                false,
            )
        })
    }

    fn dispatch<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        budget: Option<Duration>,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let agent = self.agent_for();
        match budget {
            Some(limit) => {
                let request = agent
                    .configure_request(request)
                    .timeout_global(Some(limit))
                    .build();
                agent.run(request)
            }
            None => agent.run(request),
        }
    }

    fn send_once(
        &self,
        req: &Request<'_>,
        budget: Option<Duration>,
    ) -> Result<Response, AzureError> {
        let ep = &self.cfg.endpoint;
        let path = ep.path(req.container, req.blob);
        let mut url = ep.url(&path);
        let query = req
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut headers: Vec<(String, String)> = Vec::with_capacity(req.headers.len() + 4);
        headers.push(("x-ms-version".into(), API_VERSION.into()));
        headers.push(("x-ms-date".into(), Timestamp::now().http_date()));
        headers.extend(req.headers.iter().cloned());
        if let Some(encryption) = &self.cfg.encryption {
            headers.extend(encryption.headers(req.op));
        }
        let has_body =
            !matches!(req.payload, Payload::Empty) || matches!(req.method, "PUT" | "POST");
        if has_body {
            headers.push(("content-length".into(), req.payload.len().to_string()));
        }
        match &self.cfg.credentials {
            Credentials::Sas(token) => url = token.append_to(&url),
            Credentials::SharedKey(key) => {
                let signable = Signable {
                    method: req.method,
                    path: &path,
                    query: &req.query,
                    headers: &headers,
                };
                headers.push(("authorization".into(), auth::authorization(key, &signable)));
            }
            Credentials::Bearer(cache) => {
                let token = cache.get().map_err(|e| {
                    AzureError::local(
                        req.op,
                        ErrorKind::AccessDenied,
                        "CredentialsError",
                        &format!("cannot get an Entra ID token from {e}"),
                    )
                })?;
                headers.push(("authorization".into(), format!("Bearer {}", token.secret())));
            }
            Credentials::Anonymous => {}
        }
        let mut builder = http::Request::builder().method(req.method).uri(&url);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let bad_request = |e: http::Error| {
            AzureError::local(
                req.op,
                ErrorKind::Fatal,
                "InvalidRequest",
                &format!("cannot build the request: {e}"),
            )
        };
        let bandwidth = self.cfg.limits.bandwidth.as_deref();
        let result = match &req.payload {
            Payload::Empty if has_body => {
                self.dispatch(builder.body(&[][..]).map_err(bad_request)?, budget)
            }
            Payload::Empty => self.dispatch(builder.body(()).map_err(bad_request)?, budget),
            Payload::Bytes(bytes) => {
                if let Some(limiter) = bandwidth {
                    limiter.take(bytes.len() as u64);
                }
                self.dispatch(builder.body(*bytes).map_err(bad_request)?, budget)
            }
            Payload::Stream { len, open } => {
                let source = open().map_err(|e| {
                    AzureError::local(
                        req.op,
                        ErrorKind::Fatal,
                        "SourceReadError",
                        &format!("cannot open the upload source: {e}"),
                    )
                })?;
                let outgoing = Outgoing {
                    inner: source,
                    left: *len,
                    cancel: self.cfg.limits.cancel.clone(),
                };
                let mut reader: Box<dyn Read + '_> = match bandwidth {
                    Some(limiter) => Box::new(Throttled::new(outgoing, limiter)),
                    None => Box::new(outgoing),
                };
                let body = ureq::SendBody::from_reader(&mut reader);
                self.dispatch(builder.body(body).map_err(bad_request)?, budget)
            }
        };
        let resp = result.map_err(|e| transport_error(req.op, &ep.authority, e))?;
        let (parts, body) = resp.into_parts();
        let status = parts.status.as_u16();
        // The operation and the answer only: never the URL or headers, which carry secrets.
        log::debug!(
            target: crate::logging::REQUEST_TARGET,
            op = req.op, method = req.method, container = req.container.unwrap_or(""),
            blob = req.blob.unwrap_or(""), status = status;
            "azure request."
        );
        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                headers: parts.headers,
                body,
                bandwidth: self.cfg.limits.bandwidth.clone(),
                cancel: self.cfg.limits.cancel.clone(),
            });
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let text = if req.method == "HEAD" {
            String::new()
        } else {
            let mut body = body;
            body.with_config()
                .limit(MAX_ERROR_BODY)
                .read_to_string()
                .unwrap_or_default()
        };
        let (body_code, message) =
            xml::parse_error(text.trim_start_matches('\u{feff}')).unwrap_or_default();
        let code = Some(header("x-ms-error-code"))
            .filter(|c| !c.is_empty())
            .unwrap_or(body_code);
        let code = if code.is_empty() {
            status_code_name(status).to_string()
        } else {
            code
        };
        // Sent without credentials, a refusal is most often that: say so, and what to set.
        let message = if matches!(self.cfg.credentials, Credentials::Anonymous)
            && matches!(status, 401 | 403 | 404)
            && !matches!(code.as_str(), "BlobNotFound" | "ContainerNotFound")
        {
            format!(
                "{} (sent without credentials: set AZURE_STORAGE_ACCOUNT and \
                 AZURE_STORAGE_KEY, a SAS token or an Entra ID identity)",
                message.lines().next().unwrap_or_default().trim_end()
            )
        } else {
            message
        };
        Err(AzureError::from_response(
            req.op,
            status,
            code,
            &message,
            header("x-ms-request-id"),
        ))
    }
}

/// A code for answers that carry none (HEAD requests have no body).
fn status_code_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        412 => "ConditionNotMet",
        500 => "InternalError",
        503 => "ServerBusy",
        _ => "",
    }
}

fn transport_error(op: &'static str, authority: &str, e: ureq::Error) -> AzureError {
    let text = e.to_string();
    if text.contains("invalid peer certificate") {
        return AzureError::transport(
            op,
            &format!(
                "{text} ({authority}): the server's TLS certificate is not trusted; if it comes \
                 from a private certificate authority, point the CA bundle option at its PEM file"
            ),
            false,
        );
    }
    let retryable = matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    );
    AzureError::transport(op, &format!("{text} ({authority})"), retryable)
}
