//! The blocking S3 client: one `ureq::Agent`, SigV4 on every attempt, bounded retries with
//! jittered exponential backoff, and S3 error bodies read and classified.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use super::response::{BodyReader, Response, ResponseHead};
use super::response::{status_code_name, transport_error};
use crate::http::body::{
    Announced, Cancellable, MAX_TEXT_BODY, PARSE_BUFFER, WatchedReader, cancelled,
};
use crate::http::retry::per_io_timeout;
pub use crate::http::retry::{Limits, RetryPolicy, STALL_WINDOW, backoff, with_retries};

pub use super::request::{Payload, Request, SseCustomerKey};

use sha2::{Digest, Sha256};
use ureq::http;

use super::credentials::CredentialsCache;
use super::endpoint::{Endpoint, address};
use super::error::{ErrorKind, S3Error};
use super::sign::{self, EMPTY_SHA256, SigningInput, UNSIGNED_PAYLOAD};
use super::xml;
use crate::http::network::Network;
use crate::http::transport::QuickAckConnector;
use crate::util::encoding::hex;
use crate::util::rate::Throttled;
use crate::util::time::Timestamp;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector as _, RustlsConnector};

/// Without `--read-timeout-milliseconds`: how long a response may take to start, and how
/// long a body may stall, before the attempt fails (and is retried) instead of hanging.
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(300);

/// Bytes of each connection's send and receive buffers (ureq's default is 128 KiB each).
/// Every pooled connection keeps both, filled with zeros when it is made, so at the default
/// 16 listings and 16 part threads ureq's buffers alone came to several MiB of resident
/// memory. Four 256 MiB downloads, medians of 7 in alternation: 64 KiB as fast as 128 KiB
/// (3.56 vs 3.62 s wall, 1.35 vs 1.31 s system CPU); 32 KiB cost 10% more system CPU.
const IO_BUFFER: usize = 64 << 10;

/// How to reach and authenticate against one S3 endpoint.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub region: String,
    /// Where credentials come from, asked on every attempt; `None` sends unsigned
    /// (anonymous) requests. Clones of this config share the cache.
    pub credentials: Option<Arc<CredentialsCache>>,
    /// Proxies and trusted certificate authorities.
    pub network: Network,
    pub force_path_style: bool,
    pub request_payer: bool,
    /// Send `UNSIGNED-PAYLOAD` instead of hashing bodies.
    pub unsigned_payload: bool,
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Threads that may hold a connection at once; the idle pool is sized to keep them all.
    pub max_connections: usize,
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    /// Customer-provided key (SSE-C) sent with every request that reads or writes object data.
    pub sse_c: Option<SseCustomerKey>,
    /// Ask for additional checksums on GetObject and HeadObject (`x-amz-checksum-mode`).
    pub checksum_mode: bool,
    /// Limits on time and bandwidth.
    pub limits: Limits,
}

/// A blocking, thread-safe S3 client. Clone-free: share it by reference or `Arc`.
pub struct Client {
    /// Direct connections.
    agent: ureq::Agent,
    /// Connections through the proxy for this endpoint's scheme, when there is one.
    proxied: Option<ureq::Agent>,
    cfg: ClientConfig,
    keys: sign::KeyCache,
    /// Seconds to add to the local clock when signing, learnt from a server that answered
    /// `RequestTimeTooSkewed`.
    clock_offset: AtomicI64,
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
            keys: sign::KeyCache::default(),
            clock_offset: AtomicI64::new(0),
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
            // A response head must fit the receive buffer; one that fills it is refused
            // with a clear error instead of stalling. S3's heads are a few KiB.
            .max_response_header_size(IO_BUFFER - 1)
            .proxy(proxy)
            .tls_config(cfg.network.tls_config())
            .build();
        // ureq's default chain with our TCP layer (see `transport`): CONNECT proxies, TCP,
        // then TLS.
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(QuickAckConnector)
                .chain(RustlsConnector::default());
        ureq::Agent::with_parts(config, connector, DefaultResolver::default())
    }

    /// The agent for a request to `authority`: through the proxy unless NO_PROXY says not.
    fn agent_for(&self, authority: &str) -> &ureq::Agent {
        match &self.proxied {
            Some(proxied)
                if self
                    .cfg
                    .network
                    .proxy_for_authority(self.cfg.endpoint.https, authority)
                    .is_some() =>
            {
                proxied
            }
            _ => &self.agent,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Whether the run this client serves was told to stop (`Limits::cancel`).
    pub fn stopped(&self) -> bool {
        cancelled(&self.cfg.limits.cancel)
    }

    /// Sends `req`, retrying retryable failures, and returns the successful response.
    pub fn send(&self, req: &Request<'_>) -> Result<Response, S3Error> {
        let payload_hash = self.payload_hash(&req.payload);
        self.retry(req.op, |budget| self.send_once(req, &payload_hash, budget))
    }

    /// Sends `req` and reads the whole body as text, retrying both steps together.
    pub fn send_text(&self, req: &Request<'_>) -> Result<(ResponseHead, String), S3Error> {
        let payload_hash = self.payload_hash(&req.payload);
        self.retry(req.op, |budget| {
            let resp = self.send_once(req, &payload_hash, budget)?;
            let head = ResponseHead {
                status: resp.status,
                headers: resp.headers.clone(),
            };
            let text = resp.text(req.op)?;
            // Some operations (CompleteMultipartUpload, CopyObject, UploadPartCopy) report
            // failures as a 200 with an <Error> body; retry those like any other error.
            if let Some(e) = xml::parse_error(&text) {
                let request_id = if e.request_id.is_empty() {
                    head.header("x-amz-request-id")
                        .unwrap_or_default()
                        .to_string()
                } else {
                    e.request_id
                };
                return Err(S3Error::from_response(
                    req.op,
                    head.status,
                    e.code,
                    e.message,
                    request_id,
                ));
            }
            Ok((head, text))
        })
    }

    /// Sends `req` and parses the body with `parse` as it streams in, retrying both steps
    /// together: a body cut short is retried like a failed request, a body that is not what
    /// `parse` expects is not. Nothing holds the whole body (see `xml::read_document_from`).
    pub fn send_parsed<T>(
        &self,
        req: &Request<'_>,
        mut parse: impl FnMut(&mut dyn BufRead) -> Result<T, xml::XmlError>,
    ) -> Result<T, S3Error> {
        let payload_hash = self.payload_hash(&req.payload);
        self.retry(req.op, |budget| {
            let resp = self.send_once(req, &payload_hash, budget)?;
            let mut body = WatchedReader {
                inner: resp.into_reader().take(MAX_TEXT_BODY),
                failure: None,
            };
            let parsed = parse(&mut BufReader::with_capacity(PARSE_BUFFER, &mut body));
            match (parsed, body.failure) {
                (Ok(value), _) => Ok(value),
                (Err(_), Some(e)) => Err(S3Error::transport(
                    req.op,
                    format!("reading the response failed: {e}"),
                    true,
                )),
                (Err(e), None) => Err(S3Error::bad_response(req.op, e.to_string())),
            }
        })
    }

    fn payload_hash(&self, payload: &Payload<'_>) -> String {
        match payload {
            Payload::Empty => EMPTY_SHA256.to_string(),
            Payload::Bytes(_) | Payload::Stream { .. } if self.cfg.unsigned_payload => {
                UNSIGNED_PAYLOAD.to_string()
            }
            Payload::Bytes(b) => hex(&Sha256::digest(b)),
            Payload::Stream { sha256, .. } => sha256
                .clone()
                .unwrap_or_else(|| UNSIGNED_PAYLOAD.to_string()),
        }
    }

    /// Runs `attempt_fn` under this client's retry policy (see [`with_retries`]).
    fn retry<T>(
        &self,
        op: &'static str,
        attempt_fn: impl FnMut(Option<Duration>) -> Result<T, S3Error>,
    ) -> Result<T, S3Error> {
        let policy = RetryPolicy {
            max_attempts: self.cfg.max_attempts,
            initial_backoff: self.cfg.initial_backoff,
            limits: &self.cfg.limits,
        };
        with_retries(op, &policy, S3Error::is_retryable, attempt_fn, || {
            S3Error::transport(
                op,
                "--operation-timeout-milliseconds ran out before the request succeeded",
                false,
            )
        })
    }

    /// Runs one HTTP exchange, within `budget` when there is one.
    fn dispatch<S: ureq::AsSendBody>(
        &self,
        agent: &ureq::Agent,
        request: http::Request<S>,
        budget: Option<Duration>,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
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

    /// The local time corrected by what servers said about the clock.
    fn now(&self) -> Timestamp {
        let mut now = Timestamp::now();
        now.secs += self.clock_offset.load(Ordering::Relaxed);
        now
    }

    fn send_once(
        &self,
        req: &Request<'_>,
        payload_hash: &str,
        budget: Option<Duration>,
    ) -> Result<Response, S3Error> {
        let addr = address(
            &self.cfg.endpoint,
            req.bucket,
            req.key,
            self.cfg.force_path_style,
        );
        let query = sign::canonical_query(&req.query);
        let url = if query.is_empty() {
            addr.url()
        } else {
            format!("{}?{query}", addr.url())
        };
        let now = self.now();
        let mut headers: Vec<(String, String)> = Vec::with_capacity(req.headers.len() + 6);
        headers.push(("host".into(), addr.authority.clone()));
        headers.push(("x-amz-date".into(), now.amz_date()));
        headers.push(("x-amz-content-sha256".into(), payload_hash.to_string()));
        // A write may carry its own (a preprocess callback's); the header goes once.
        if self.cfg.request_payer
            && !req
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-amz-request-payer"))
        {
            headers.push(("x-amz-request-payer".into(), "requester".into()));
        }
        // Current credentials for this attempt (refreshed before they expire).
        let credentials = match &self.cfg.credentials {
            Some(cache) => Some(cache.get().map_err(|e| S3Error::credentials(req.op, &e))?),
            None => None,
        };
        if let Some(token) = credentials.as_ref().and_then(|c| c.session_token.clone()) {
            headers.push(("x-amz-security-token".into(), token));
        }
        headers.extend(req.headers.iter().cloned());
        let mut builder = http::Request::builder().method(req.method).uri(&url);
        if let Some(creds) = &credentials {
            let input = SigningInput {
                method: req.method,
                canonical_uri: &addr.path,
                query: &req.query,
                headers: &headers,
                payload_hash,
                region: &self.cfg.region,
                service: "s3",
                time: now,
            };
            builder = builder.header(
                "authorization",
                sign::authorization_cached(&input, creds, &self.keys),
            );
        }
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let bad_header = |e: http::Error| S3Error {
            kind: ErrorKind::Fatal,
            op: req.op,
            status: None,
            code: "InvalidRequest".into(),
            message: format!("cannot build the request: {e}"),
            request_id: String::new(),
        };
        let bandwidth = self.cfg.limits.bandwidth.as_deref();
        let agent = self.agent_for(&addr.authority);
        let result = match &req.payload {
            Payload::Empty if matches!(req.method, "PUT" | "POST") => {
                let request = builder
                    .header("content-length", "0")
                    .body(&[][..])
                    .map_err(bad_header)?;
                self.dispatch(agent, request, budget)
            }
            Payload::Empty => {
                let request = builder.body(()).map_err(bad_header)?;
                self.dispatch(agent, request, budget)
            }
            Payload::Bytes(bytes) => {
                if let Some(limiter) = bandwidth {
                    limiter.take(bytes.len() as u64);
                }
                let request = builder
                    .header("content-length", bytes.len().to_string())
                    .body(*bytes)
                    .map_err(bad_header)?;
                self.dispatch(agent, request, budget)
            }
            Payload::Stream { len, open, .. } => {
                let reader = open().map_err(|e| S3Error {
                    kind: ErrorKind::Fatal,
                    op: req.op,
                    status: None,
                    code: "SourceReadError".into(),
                    message: format!("cannot open the upload source: {e}"),
                    request_id: String::new(),
                })?;
                let reader = Cancellable {
                    inner: Announced {
                        inner: reader,
                        left: *len,
                    },
                    cancel: self.cfg.limits.cancel.clone(),
                };
                let mut reader: Box<dyn Read + '_> = match bandwidth {
                    Some(limiter) => Box::new(Throttled::new(reader, limiter)),
                    None => Box::new(reader),
                };
                let body = ureq::SendBody::from_reader(&mut reader);
                let request = builder
                    .header("content-length", len.to_string())
                    .body(body)
                    .map_err(bad_header)?;
                self.dispatch(agent, request, budget)
            }
        };
        let resp = result.map_err(|e| transport_error(req.op, &addr.authority, e))?;
        let (parts, body) = resp.into_parts();
        let status = parts.status.as_u16();
        let server_date = parts
            .headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(Timestamp::parse_http_date);
        // The operation and the answer only: never headers, which carry the signature.
        log::debug!(
            target: crate::logging::REQUEST_TARGET,
            op = req.op, method = req.method, bucket = req.bucket, key = req.key.unwrap_or(""),
            status = status;
            "s3 request."
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
        let request_id = parts
            .headers
            .get("x-amz-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = if req.method == "HEAD" {
            String::new()
        } else {
            let mut body = body;
            body.with_config()
                .limit(1 << 20)
                .read_to_string()
                .unwrap_or_default()
        };
        let mut err = match xml::parse_error(&text) {
            Some(e) => S3Error::from_response(
                req.op,
                status,
                e.code,
                e.message,
                if e.request_id.is_empty() {
                    request_id
                } else {
                    e.request_id
                },
            ),
            None => S3Error::from_response(
                req.op,
                status,
                status_code_name(status).into(),
                String::new(),
                request_id,
            ),
        };
        if err.code == "RequestTimeTooSkewed"
            && let Some(server) = server_date
        {
            // Sign the next attempts with the server's idea of the time.
            let offset = server.secs - Timestamp::now().secs;
            self.clock_offset.store(offset, Ordering::Relaxed);
            log::warn!(
                "the local clock differs from the server's by {offset} s; signing with the server's time"
            );
        }
        if err.kind == ErrorKind::WrongRegion
            && let Some(region) = parts
                .headers
                .get("x-amz-bucket-region")
                .and_then(|v| v.to_str().ok())
        {
            err.message = format!(
                "{} (the bucket is in region {region}: pass it with --*-region)",
                err.message
            );
        }
        Err(err)
    }
}
