//! How connections leave this process: through which proxy (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`, captured by the CLI) and trusting which certificate authorities
//! (`AWS_CA_BUNDLE`). Every HTTP destination — S3, STS, the container and instance metadata
//! endpoints — goes through [`Network`], so they all follow the same rules.
//!
//! Proxies are HTTP CONNECT proxies (`http://` or `https://`, optional `user:password@`, sent
//! as `Proxy-Authorization: Basic`); ureq tunnels plain-http destinations through CONNECT
//! too. TLS certificates are always verified: with a CA bundle, against its certificates
//! only (as the AWS CLI does), otherwise against the Mozilla roots built in.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// The proxy variables as the CLI found them (empty ones already dropped). No `Debug`: the
/// URLs may hold passwords.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    /// `https_proxy`, else `HTTPS_PROXY`.
    pub https: Option<String>,
    /// `http_proxy`, else `HTTP_PROXY`.
    pub http: Option<String>,
    /// `all_proxy`, else `ALL_PROXY`: for either scheme when its own variable is unset.
    pub all: Option<String>,
    /// `no_proxy`, else `NO_PROXY`.
    pub no_proxy: Option<String>,
}

/// A proxy and how to name it in messages (never with its user or password).
#[derive(Clone)]
struct NamedProxy {
    proxy: ureq::Proxy,
    shown: String,
}

/// Proxy and trust settings shared by every HTTP client of a run. `Debug` never shows proxy
/// credentials.
#[derive(Clone, Default)]
pub struct Network {
    https_proxy: Option<NamedProxy>,
    http_proxy: Option<NamedProxy>,
    no_proxy: NoProxy,
    /// Roots from `AWS_CA_BUNDLE`; `None` uses the built-in Mozilla roots.
    ca: Option<Arc<Vec<Certificate<'static>>>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("https_proxy", &self.https_proxy.as_ref().map(|p| &p.shown))
            .field("http_proxy", &self.http_proxy.as_ref().map(|p| &p.shown))
            .field("no_proxy", &self.no_proxy.entries.len())
            .field("ca_certificates", &self.ca.as_ref().map(|c| c.len()))
            .finish()
    }
}

impl Network {
    /// Validates the proxy variables and loads the CA bundle. Errors are one line, name the
    /// variable and never show a proxy URL (it may hold a password).
    pub fn new(proxies: &ProxyEnv, ca_bundle: Option<&Path>) -> Result<Network, String> {
        let https = proxies.https.as_ref().map(|v| ("HTTPS_PROXY", v));
        let http = proxies.http.as_ref().map(|v| ("HTTP_PROXY", v));
        let all = proxies.all.as_ref().map(|v| ("ALL_PROXY", v));
        let ca = match ca_bundle {
            Some(path) => Some(Arc::new(load_ca_bundle(path)?)),
            None => None,
        };
        Ok(Network {
            https_proxy: https.or(all).map(parse_proxy).transpose()?,
            http_proxy: http.or(all).map(parse_proxy).transpose()?,
            no_proxy: NoProxy::parse(proxies.no_proxy.as_deref().unwrap_or("")),
            ca,
        })
    }

    /// The proxy for https or http destinations, before NO_PROXY is applied.
    pub fn scheme_proxy(&self, https: bool) -> Option<&ureq::Proxy> {
        let proxy = if https {
            self.https_proxy.as_ref()
        } else {
            self.http_proxy.as_ref()
        };
        proxy.map(|p| &p.proxy)
    }

    /// The proxy to reach `host` (no brackets around IPv6) on `port` over https or http, or
    /// `None` to connect directly.
    pub fn proxy_for(&self, https: bool, host: &str, port: u16) -> Option<&ureq::Proxy> {
        let proxy = self.scheme_proxy(https)?;
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }

    /// The proxy for `scheme://authority` (`host`, `host:port`, `[v6]:port`).
    pub fn proxy_for_authority(&self, https: bool, authority: &str) -> Option<&ureq::Proxy> {
        let (host, port) = split_authority(authority, if https { 443 } else { 80 });
        self.proxy_for(https, host, port)
    }

    /// TLS settings: certificates always verified, against the bundle when one was given.
    pub fn tls_config(&self) -> TlsConfig {
        let builder = TlsConfig::builder();
        match &self.ca {
            Some(certs) => builder
                .root_certs(RootCerts::Specific(Arc::clone(certs)))
                .build(),
            None => builder.root_certs(RootCerts::WebPki).build(),
        }
    }

    /// A plain agent for one small service (STS, container or instance metadata) at
    /// `https`/`authority`: this network's proxy and trust, a short timeout per phase, error
    /// statuses returned as responses.
    pub fn service_agent(
        &self,
        https: bool,
        authority: &str,
        timeout: std::time::Duration,
    ) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            .proxy(self.proxy_for_authority(https, authority).cloned())
            .tls_config(self.tls_config())
            .user_agent(concat!("s3sync/", env!("CARGO_PKG_VERSION")))
            .build();
        ureq::Agent::new_with_config(config)
    }
}

/// Splits `host[:port]` or `[v6][:port]` into the bare host and the port.
pub fn split_authority(authority: &str, default_port: u16) -> (&str, u16) {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return (host, port);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p.parse().unwrap_or(default_port)),
        _ => (authority, default_port),
    }
}

fn parse_proxy((name, value): (&str, &String)) -> Result<NamedProxy, String> {
    let bad = || {
        format!(
            "{name} is not a proxy URL: expected http://[user:password@]host:port or https://... \
             (its value is not shown: it may hold a password)"
        )
    };
    let text = value.trim();
    let scheme = text.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http") | Some("https") => {}
        Some(_) => {
            return Err(format!(
                "{name}: only http:// and https:// proxies are supported (SOCKS is not)"
            ));
        }
    }
    let proxy = ureq::Proxy::new(text).map_err(|_| bad())?;
    let scheme = if proxy.protocol() == ureq::ProxyProtocol::Https {
        "https"
    } else {
        "http"
    };
    let shown = format!("{scheme}://{}:{}", proxy.host(), proxy.port());
    Ok(NamedProxy { proxy, shown })
}

/// Reads a PEM bundle of CA certificates.
fn load_ca_bundle(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let shown = path.display();
    let pem =
        std::fs::read(path).map_err(|e| format!("AWS_CA_BUNDLE {shown}: cannot read it: {e}"))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("AWS_CA_BUNDLE {shown}: not a PEM file: {e}")),
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "AWS_CA_BUNDLE {shown}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        ));
    }
    Ok(certs)
}

/// One `NO_PROXY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bypass {
    /// `*`: every host.
    All,
    /// A host name (lower case, no leading dot): itself and every subdomain; any port
    /// unless one is given.
    Domain(String, Option<u16>),
    /// An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`).
    Net(IpAddr, u8),
}

/// `NO_PROXY` as curl reads it: a comma list of `*`, host names (`example.com` also
/// covers `a.example.com`; a leading `.` or `*.` changes nothing), optional `:port`, IP
/// addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Bypass>,
}

impl NoProxy {
    pub fn parse(text: &str) -> NoProxy {
        let mut entries = Vec::new();
        for raw in text.split([',', ' ', '\t']).map(str::trim) {
            if raw.is_empty() {
                continue;
            }
            if raw == "*" {
                entries.push(Bypass::All);
                continue;
            }
            if let Some((addr, bits)) = raw.split_once('/')
                && let (Ok(ip), Ok(bits)) = (
                    addr.trim_matches(['[', ']']).parse::<IpAddr>(),
                    bits.parse::<u8>(),
                )
            {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                entries.push(Bypass::Net(ip, bits.min(max)));
                continue;
            }
            if let Ok(ip) = raw.trim_matches(['[', ']']).parse::<IpAddr>() {
                entries.push(Bypass::Net(ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            let (host, port) = match split_authority(raw, 0) {
                (h, 0) => (h, None),
                (h, p) => (h, Some(p)),
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                // An address with a port: the port is not worth a separate kind.
                entries.push(Bypass::Net(ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            let name = host
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !name.is_empty() {
                entries.push(Bypass::Domain(name, port));
            }
        }
        NoProxy { entries }
    }

    /// Whether a connection to `host` (no brackets) on `port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_matches(['[', ']']).trim_end_matches('.');
        let ip = host.parse::<IpAddr>().ok();
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|entry| match entry {
            Bypass::All => true,
            Bypass::Domain(name, want_port) => {
                want_port.is_none_or(|p| p == port)
                    && (host == *name
                        || host
                            .strip_suffix(name.as_str())
                            .is_some_and(|rest| rest.ends_with('.')))
            }
            Bypass::Net(net, bits) => ip.is_some_and(|ip| in_block(ip, *net, *bits)),
        })
    }
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_follows_curl() {
        let np = NoProxy::parse(" .internal.example, localhost,10.0.0.0/8 , ::1, s3.local:9000");
        assert!(np.matches("a.internal.example", 443));
        assert!(np.matches("internal.example", 443));
        assert!(!np.matches("notinternal.example", 443));
        assert!(np.matches("LOCALHOST", 80));
        assert!(np.matches("10.2.3.4", 80));
        assert!(!np.matches("11.2.3.4", 80));
        assert!(np.matches("[::1]", 80));
        assert!(np.matches("s3.local", 9000));
        assert!(np.matches("bucket.s3.local", 9000));
        assert!(!np.matches("s3.local", 9001));
        assert!(NoProxy::parse("*").matches("anything", 1));
        assert!(!NoProxy::parse("").matches("anything", 1));
        assert!(NoProxy::parse("*.example.com").matches("example.com", 1));
        assert!(NoProxy::parse("127.0.0.1").matches("127.0.0.1", 1));
    }

    #[test]
    fn proxies_by_scheme_and_bypass() {
        let env = ProxyEnv {
            https: Some("http://user:pa55word@proxy.example:3128".into()),
            all: Some("http://other.example:8080".into()),
            no_proxy: Some("169.254.169.254,.corp".into()),
            ..ProxyEnv::default()
        };
        let net = Network::new(&env, None).unwrap_or_default();
        let https = net
            .proxy_for(true, "s3.amazonaws.com", 443)
            .map(|p| p.host());
        assert_eq!(https, Some("proxy.example"));
        // ALL_PROXY covers http when HTTP_PROXY is unset.
        let http = net
            .proxy_for(false, "s3.amazonaws.com", 80)
            .map(|p| p.host());
        assert_eq!(http, Some("other.example"));
        assert!(net.proxy_for(false, "169.254.169.254", 80).is_none());
        assert!(net.proxy_for_authority(true, "b.s3.corp:8443").is_none());
        let shown = format!("{net:?}");
        assert!(shown.contains("proxy.example:3128") && !shown.contains("pa55word"));
    }

    #[test]
    fn bad_proxies_are_named_without_their_value() {
        let env = ProxyEnv {
            https: Some("socks5://u:secretpw@h:1".into()),
            ..ProxyEnv::default()
        };
        let err = Network::new(&env, None).err().unwrap_or_default();
        assert!(
            err.contains("HTTPS_PROXY") && !err.contains("secretpw"),
            "{err}"
        );
        let env = ProxyEnv {
            http: Some("http://u:secretpw@[::1".into()),
            ..ProxyEnv::default()
        };
        let err = Network::new(&env, None).err().unwrap_or_default();
        assert!(
            err.contains("HTTP_PROXY") && !err.contains("secretpw"),
            "{err}"
        );
    }

    #[test]
    fn ca_bundles_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("s3sync-ca-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("empty.pem");
        let _ = std::fs::write(&path, "not a certificate\n");
        let err = Network::new(&ProxyEnv::default(), Some(&path))
            .err()
            .unwrap_or_default();
        assert!(err.contains("AWS_CA_BUNDLE"), "{err}");
        let missing = dir.join("missing.pem");
        let err = Network::new(&ProxyEnv::default(), Some(&missing))
            .err()
            .unwrap_or_default();
        assert!(err.contains("cannot read"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
