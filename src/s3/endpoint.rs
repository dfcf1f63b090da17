//! Where requests go: endpoint parsing and path-style / virtual-hosted addressing.

use crate::util::encoding::uri_encode;

/// A parsed endpoint URL (`https://s3.us-east-1.amazonaws.com`, `http://127.0.0.1:9000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    pub host: String,
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `http(s)://host[:port][/]`. Paths, queries and user info are refused.
    pub fn parse(raw: &str) -> Result<Endpoint, String> {
        // Messages show the URL without any user:password part.
        let shown = match raw.split_once("://") {
            Some((scheme, rest)) if rest.split('/').next().is_some_and(|a| a.contains('@')) => {
                format!(
                    "{scheme}://***@{}",
                    rest.split_once('@').map(|(_, h)| h).unwrap_or_default()
                )
            }
            _ => raw.to_string(),
        };
        let url = shown.as_str();
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!("'{url}' must start with http:// or https://"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "'{url}' must be a scheme, a host and an optional port, without a path"
            ));
        }
        let (host, port_text) = if authority.starts_with('[') {
            let close = authority
                .find(']')
                .ok_or_else(|| format!("'{url}' has an unclosed IPv6 bracket"))?;
            let after = &authority[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("'{url}' has text after the IPv6 address")),
            };
            (authority[..=close].to_string(), port)
        } else if authority.matches(':').count() > 1 {
            return Err(format!(
                "'{url}': put IPv6 addresses in brackets, e.g. http://[::1]:9000"
            ));
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port_text {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("'{url}' has an invalid port '{p}'"))?,
            ),
            None => None,
        };
        if host.is_empty() {
            return Err(format!("'{url}' has no host"));
        }
        Ok(Endpoint { https, host, port })
    }

    /// The AWS endpoint of a region.
    pub fn aws(region: &str, accelerate: bool) -> Endpoint {
        let host = if accelerate {
            "s3-accelerate.amazonaws.com".to_string()
        } else {
            format!("s3.{region}.amazonaws.com")
        };
        Endpoint {
            https: true,
            host,
            port: None,
        }
    }

    fn authority(&self, host: &str) -> String {
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    /// Whether the host is an IP address or `localhost`, where virtual hosting cannot work.
    pub fn is_ip_or_localhost(&self) -> bool {
        self.host == "localhost"
            || self.host.parse::<std::net::IpAddr>().is_ok()
            || self.host.starts_with('[')
    }
}

/// Whether `bucket` can be a DNS label under the endpoint (virtual-hosted addressing).
pub fn is_dns_compatible(bucket: &str, https: bool) -> bool {
    let len_ok = (3..=63).contains(&bucket.len());
    let chars_ok = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let edges_ok = !bucket.starts_with(['-', '.']) && !bucket.ends_with(['-', '.']);
    // Dots break the wildcard TLS certificate of virtual hosts.
    len_ok && chars_ok && edges_ok && !(https && bucket.contains('.')) && !bucket.contains("..")
}

/// Host header and path of a request to `bucket` / `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `host[:port]`, as sent in the `Host` header and signed.
    pub authority: String,
    /// Percent-encoded path, as sent and signed.
    pub path: String,
    pub https: bool,
}

impl Address {
    /// The URL without query string.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.https { "https" } else { "http" },
            self.authority,
            self.path
        )
    }
}

/// Builds the address of a request. Virtual-hosted style is used unless `path_style` is set,
/// the endpoint is an IP address, or the bucket name cannot be a DNS label.
pub fn address(endpoint: &Endpoint, bucket: &str, key: Option<&str>, path_style: bool) -> Address {
    let virtual_host =
        !path_style && !endpoint.is_ip_or_localhost() && is_dns_compatible(bucket, endpoint.https);
    let encoded_key = key.map(|k| uri_encode(k, true)).unwrap_or_default();
    if virtual_host {
        Address {
            authority: endpoint.authority(&format!("{bucket}.{}", endpoint.host)),
            path: format!("/{encoded_key}"),
            https: endpoint.https,
        }
    } else {
        let path = match key {
            Some(_) => format!("/{}/{encoded_key}", uri_encode(bucket, false)),
            None => format!("/{}", uri_encode(bucket, false)),
        };
        Address {
            authority: endpoint.authority(&endpoint.host),
            path,
            https: endpoint.https,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap_or(Endpoint::aws("x", false));
        assert_eq!(
            e,
            Endpoint {
                https: false,
                host: "127.0.0.1".into(),
                port: Some(9000)
            }
        );
        let e = Endpoint::parse("https://minio.example.com/").unwrap_or(Endpoint::aws("x", false));
        assert_eq!(
            e,
            Endpoint {
                https: true,
                host: "minio.example.com".into(),
                port: None
            }
        );
        let e = Endpoint::parse("http://[::1]:9000").unwrap_or(Endpoint::aws("x", false));
        assert_eq!(e.host, "[::1]");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://host/path").is_err());
        assert!(Endpoint::parse("http://host:99999").is_err());
        assert!(Endpoint::parse("http://").is_err());
        assert!(Endpoint::parse("http://::1").is_err());
    }

    #[test]
    fn chooses_addressing() {
        let aws = Endpoint::aws("eu-west-1", false);
        let a = address(&aws, "my-bucket", Some("a b/c+d"), false);
        assert_eq!(a.authority, "my-bucket.s3.eu-west-1.amazonaws.com");
        assert_eq!(a.path, "/a%20b/c%2Bd");
        let a = address(&aws, "my-bucket", Some("k"), true);
        assert_eq!(a.url(), "https://s3.eu-west-1.amazonaws.com/my-bucket/k");
        let a = address(&aws, "my.bucket", None, false);
        assert_eq!(a.url(), "https://s3.eu-west-1.amazonaws.com/my.bucket");
        let local = Endpoint {
            https: false,
            host: "127.0.0.1".into(),
            port: Some(9000),
        };
        assert_eq!(
            address(&local, "b", Some("k"), false).url(),
            "http://127.0.0.1:9000/b/k"
        );
    }
}
