//! Entra ID (Azure AD) bearer tokens for the storage audience, behind [`TokenProvider`], kept
//! by a [`TokenCache`] that fetches a new one before the current one expires.
//!
//! Providers: a service principal's client secret and workload identity (a federated token
//! file, as AKS mounts it) both use the OAuth 2.0 client-credentials grant at
//! `AUTHORITY/TENANT/oauth2/v2.0/token`; managed identity asks the instance metadata service
//! (IMDS) or, on App Service and Functions, `IDENTITY_ENDPOINT` with `IDENTITY_HEADER`.
//! Every exchange goes through [`Network`] (proxies, CA bundle), with short timeouts.
//!
//! Tokens, secrets and assertions never appear in `Debug`, messages or logs: answers from the
//! token services are redacted of what we sent before any of their text is shown.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http;

use crate::http::network::Network;
use crate::util::encoding::uri_encode;
use crate::util::json::{self, Value};

/// The OAuth scope of Azure Storage (client-credentials grant).
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// The resource of Azure Storage (managed identity endpoints).
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com/";
/// The public cloud's authority; `AZURE_AUTHORITY_HOST` overrides it.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The instance metadata service's token endpoint.
pub const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// Fetch a new token when the current one expires within this time.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// Never send a token that expires within this time.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Timeout of each phase of a token request.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest token answer read.
const MAX_ANSWER: u64 = 1 << 20;

/// A bearer token and when it expires. `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: Arc<str>,
    pub expires_at: SystemTime,
}

impl AccessToken {
    pub fn new(token: &str, expires_at: SystemTime) -> AccessToken {
        AccessToken {
            secret: Arc::from(token),
            expires_at,
        }
    }

    /// The token itself, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token could not be had. One line, no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The provider, e.g. `service principal 1234 (client secret)`.
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for TokenError {}

/// One source of bearer tokens.
pub trait TokenProvider: Send + Sync {
    /// What the source is, for messages.
    fn name(&self) -> String;
    /// Fetches a token now (the cache decides when).
    fn fetch(&self) -> Result<AccessToken, TokenError>;
}

/// The time source; tests inject their own.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Keeps one provider's token and fetches a new one [`REFRESH_BEFORE`] it expires. One
/// thread fetches while the others wait for it (they would need the token anyway); when a
/// refresh fails while the current token is still usable, that one is kept.
pub struct TokenCache {
    provider: Box<dyn TokenProvider>,
    clock: Clock,
    current: Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.provider.name())
            .finish()
    }
}

impl TokenCache {
    pub fn new(provider: Box<dyn TokenProvider>) -> TokenCache {
        TokenCache::with_clock(provider, Arc::new(SystemTime::now))
    }

    pub fn with_clock(provider: Box<dyn TokenProvider>, clock: Clock) -> TokenCache {
        TokenCache {
            provider,
            clock,
            current: Mutex::new(None),
        }
    }

    pub fn source(&self) -> String {
        self.provider.name()
    }

    /// A token good for at least [`EXPIRY_MARGIN`].
    pub fn get(&self) -> Result<AccessToken, TokenError> {
        let now = (self.clock)();
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(token) = current.as_ref()
            && token.expires_at > now + REFRESH_BEFORE
        {
            return Ok(token.clone());
        }
        match self.provider.fetch() {
            Ok(token) => {
                *current = Some(token.clone());
                Ok(token)
            }
            Err(e) => match current.as_ref() {
                Some(token) if token.expires_at > now + EXPIRY_MARGIN => {
                    log::warn!("refreshing the Entra ID token failed ({e}); using the current one");
                    Ok(token.clone())
                }
                _ => Err(e),
            },
        }
    }
}

/// A service principal with a client secret (`AZURE_CLIENT_SECRET`, or azcopy's
/// `AZCOPY_SPA_CLIENT_SECRET`).
pub struct ClientSecret {
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    pub secret: String,
    pub network: Network,
}

/// Workload identity: a federated token (a Kubernetes service account token) in a file,
/// read again on every fetch since it is rotated, exchanged as a client assertion.
pub struct WorkloadIdentity {
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    pub token_file: PathBuf,
    pub network: Network,
}

/// Where a managed identity's token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentityEndpoint {
    /// The instance metadata service (VMs, scale sets, AKS nodes); usually [`IMDS_TOKEN_URL`].
    Imds(String),
    /// App Service and Functions: `IDENTITY_ENDPOINT`, with `IDENTITY_HEADER` as the
    /// `X-IDENTITY-HEADER` (a secret).
    AppService { url: String, header: String },
}

/// A managed identity, system-assigned or (with `client_id`) user-assigned.
pub struct ManagedIdentity {
    pub endpoint: ManagedIdentityEndpoint,
    pub client_id: Option<String>,
    pub network: Network,
}

impl TokenProvider for ClientSecret {
    fn name(&self) -> String {
        format!("service principal {} (client secret)", self.client_id)
    }

    fn fetch(&self) -> Result<AccessToken, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_secret", &self.secret),
            ("scope", STORAGE_SCOPE),
        ];
        let url = token_url(&self.authority_host, &self.tenant_id);
        let answer = post_form(&self.network, &url, &form);
        read_token(&self.name(), answer, &[&self.secret])
    }
}

impl TokenProvider for WorkloadIdentity {
    fn name(&self) -> String {
        format!(
            "workload identity {} ({})",
            self.client_id,
            self.token_file.display()
        )
    }

    fn fetch(&self) -> Result<AccessToken, TokenError> {
        let assertion = std::fs::read_to_string(&self.token_file).map_err(|e| TokenError {
            source: self.name(),
            message: format!("cannot read AZURE_FEDERATED_TOKEN_FILE: {e}"),
        })?;
        let assertion = assertion.trim();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
            ("scope", STORAGE_SCOPE),
        ];
        let url = token_url(&self.authority_host, &self.tenant_id);
        let answer = post_form(&self.network, &url, &form);
        read_token(&self.name(), answer, &[assertion])
    }
}

impl TokenProvider for ManagedIdentity {
    fn name(&self) -> String {
        let kind = match &self.endpoint {
            ManagedIdentityEndpoint::Imds(_) => "instance metadata",
            ManagedIdentityEndpoint::AppService { .. } => "App Service identity endpoint",
        };
        match &self.client_id {
            Some(id) => format!("managed identity {id} ({kind})"),
            None => format!("managed identity ({kind})"),
        }
    }

    fn fetch(&self) -> Result<AccessToken, TokenError> {
        let client = self
            .client_id
            .as_deref()
            .map(|id| format!("&client_id={}", uri_encode(id, false)))
            .unwrap_or_default();
        let resource = uri_encode(STORAGE_RESOURCE, false);
        let (url, headers, secrets): (String, Vec<(&str, &str)>, Vec<&str>) = match &self.endpoint {
            ManagedIdentityEndpoint::Imds(base) => (
                format!("{base}?api-version=2018-02-01&resource={resource}{client}"),
                vec![("metadata", "true")],
                vec![],
            ),
            ManagedIdentityEndpoint::AppService { url, header } => (
                format!("{url}?api-version=2019-08-01&resource={resource}{client}"),
                vec![("x-identity-header", header.as_str())],
                vec![header.as_str()],
            ),
        };
        let answer = exchange(&self.network, "GET", &url, &headers, None);
        read_token(&self.name(), answer, &secrets)
    }
}

fn token_url(authority_host: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/'),
        uri_encode(tenant, false)
    )
}

fn post_form(network: &Network, url: &str, form: &[(&str, &str)]) -> Result<(u16, String), String> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&");
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    exchange(network, "POST", url, &headers, Some(body.as_bytes()))
}

/// One request to a token service: the status and the answer's text.
fn exchange(
    network: &Network,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<(u16, String), String> {
    let (https, rest) = match url.split_once("://") {
        Some(("https", rest)) => (true, rest),
        Some(("http", rest)) => (false, rest),
        _ => return Err("the token endpoint is not an http(s) URL".into()),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let agent = network.service_agent(https, authority, TOKEN_TIMEOUT);
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header("accept", "application/json");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let sent = match body {
        Some(b) => builder
            .header("content-length", b.len().to_string())
            .body(b)
            .map(|r| agent.run(r)),
        None => builder.body(()).map(|r| agent.run(r)),
    };
    let response = sent
        .map_err(|e| format!("cannot build the request: {e}"))?
        .map_err(|e| format!("{e} ({authority})"))?;
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    Ok((status, text))
}

/// Reads a token answer: `access_token` with `expires_in` (seconds from now) or `expires_on`
/// (Unix seconds), as numbers or strings; an error answer's `error` and description.
fn read_token(
    source: &str,
    answer: Result<(u16, String), String>,
    secrets: &[&str],
) -> Result<AccessToken, TokenError> {
    let fail = |message: String| TokenError {
        source: source.to_string(),
        message: crate::util::redact::redact(&message, secrets),
    };
    let (status, text) = answer.map_err(fail)?;
    let doc = json::parse(&text)
        .map_err(|e| fail(format!("HTTP {status}: the answer is not JSON ({e})")))?;
    if !(200..300).contains(&status) {
        let code = doc.str("error").unwrap_or("error");
        let description = doc
            .str("error_description")
            .or_else(|| doc.str("message"))
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        return Err(fail(format!("HTTP {status}: {code}: {description}")));
    }
    let token = doc
        .str("access_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail("the answer has no access_token".into()))?;
    let number = |name: &str| match doc.get(name) {
        Some(Value::Number(n)) | Some(Value::String(n)) => n.trim().parse::<u64>().ok(),
        _ => None,
    };
    let expires_at = if let Some(on) = number("expires_on") {
        UNIX_EPOCH + Duration::from_secs(on)
    } else if let Some(secs) = number("expires_in") {
        SystemTime::now() + Duration::from_secs(secs)
    } else {
        return Err(fail(
            "the answer says neither expires_in nor expires_on".into(),
        ));
    };
    Ok(AccessToken::new(token, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Counting {
        calls: Arc<AtomicU32>,
        lifetime: Duration,
        fail: bool,
        clock: Clock,
    }

    impl TokenProvider for Counting {
        fn name(&self) -> String {
            "test".into()
        }
        fn fetch(&self) -> Result<AccessToken, TokenError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail && n > 0 {
                return Err(TokenError {
                    source: "test".into(),
                    message: "down".into(),
                });
            }
            Ok(AccessToken::new(
                &format!("t{n}"),
                (self.clock)() + self.lifetime,
            ))
        }
    }

    fn cache(
        lifetime: Duration,
        fail: bool,
    ) -> (TokenCache, Arc<AtomicU32>, Arc<Mutex<SystemTime>>) {
        let now = Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(1_000_000)));
        let shared = Arc::clone(&now);
        let clock: Clock = Arc::new(move || *shared.lock().unwrap_or_else(|p| p.into_inner()));
        let calls = Arc::new(AtomicU32::new(0));
        let provider = Counting {
            calls: Arc::clone(&calls),
            lifetime,
            fail,
            clock: Arc::clone(&clock),
        };
        (
            TokenCache::with_clock(Box::new(provider), clock),
            calls,
            now,
        )
    }

    fn advance(now: &Mutex<SystemTime>, by: Duration) {
        let mut t = now.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }

    #[test]
    fn tokens_are_cached_and_refreshed_before_expiry() {
        let (cache, calls, now) = cache(Duration::from_secs(3600), false);
        let first = cache.get().map(|t| t.secret().to_string());
        assert_eq!(first.as_deref(), Ok("t0"));
        advance(&now, Duration::from_secs(3000));
        assert_eq!(
            cache.get().map(|t| t.secret().to_string()).as_deref(),
            Ok("t0")
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // 55 minutes in: within five minutes of expiry, a new token is fetched.
        advance(&now, Duration::from_secs(301));
        assert_eq!(
            cache.get().map(|t| t.secret().to_string()).as_deref(),
            Ok("t1")
        );
        assert!(!format!("{:?}", cache.get()).contains("t1"));
    }

    #[test]
    fn a_failed_refresh_keeps_a_usable_token_and_not_an_expired_one() {
        let (cache, _calls, now) = cache(Duration::from_secs(3600), true);
        assert!(cache.get().is_ok());
        advance(&now, Duration::from_secs(3400));
        assert_eq!(
            cache.get().map(|t| t.secret().to_string()).as_deref(),
            Ok("t0")
        );
        advance(&now, Duration::from_secs(190));
        assert!(cache.get().is_err());
    }

    /// Serves one HTTP exchange on a local port: records the request, answers `reply`.
    fn one_shot(reply: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let handle = std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return String::new();
            };
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
            head + "\r\n" + &String::from_utf8_lossy(&body)
        });
        (format!("http://127.0.0.1:{port}"), handle)
    }

    #[test]
    fn client_secret_uses_the_client_credentials_grant() {
        let (authority, server) =
            one_shot(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.tok"}"#);
        let provider = ClientSecret {
            authority_host: authority,
            tenant_id: "tenant-1".into(),
            client_id: "app-1".into(),
            secret: "s3cr3t+/=".into(),
            network: Network::default(),
        };
        let token = provider.fetch().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(token.secret(), "eyJ.tok");
        assert!(token.expires_at > SystemTime::now() + Duration::from_secs(3500));
        let request = server.join().unwrap_or_default();
        assert!(
            request.starts_with("POST /tenant-1/oauth2/v2.0/token "),
            "{request}"
        );
        assert!(
            request.contains("grant_type=client_credentials"),
            "{request}"
        );
        assert!(
            request.contains("client_secret=s3cr3t%2B%2F%3D"),
            "{request}"
        );
        assert!(
            request.contains("scope=https%3A%2F%2Fstorage.azure.com%2F.default"),
            "{request}"
        );
    }

    #[test]
    fn app_service_identity_sends_its_header_and_reads_expires_on() {
        let (base, server) = one_shot(r#"{"access_token":"mi-tok","expires_on":"4102444800"}"#);
        let provider = ManagedIdentity {
            endpoint: ManagedIdentityEndpoint::AppService {
                url: format!("{base}/msi/token"),
                header: "hdr-secret".into(),
            },
            client_id: Some("uami-1".into()),
            network: Network::default(),
        };
        let token = provider.fetch().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            token.expires_at,
            UNIX_EPOCH + Duration::from_secs(4_102_444_800)
        );
        let request = server.join().unwrap_or_default().to_ascii_lowercase();
        assert!(request.starts_with("get /msi/token?api-version=2019-08-01&resource=https%3a%2f%2fstorage.azure.com%2f&client_id=uami-1 "), "{request}");
        assert!(
            request.contains("x-identity-header: hdr-secret"),
            "{request}"
        );
    }

    #[test]
    fn error_answers_are_one_line_without_secrets() {
        let answer = Ok((
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: s3cr3t.\r\nTrace ID: x"}"#
                .to_string(),
        ));
        let err = read_token("sp", answer, &["s3cr3t"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("HTTP 401: invalid_client: AADSTS7000215"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t") && !err.contains('\n'), "{err}");
        let missing = read_token("sp", Ok((200, "{}".into())), &[]);
        assert!(missing.is_err());
    }
}
