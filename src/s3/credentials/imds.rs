//! EC2 instance metadata (IMDSv2): `PUT /latest/api/token` with a TTL header, then
//! `GET /latest/meta-data/iam/security-credentials/` for the role name and
//! `GET .../security-credentials/<role>` for its credentials, both with the token header.
//! Timeouts are short (1 s per phase) so that a machine that is not on EC2 learns it fast.
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves the service (tests point it at a local server);
//! `AWS_EC2_METADATA_DISABLED=true` leaves it out of the chain.

use std::time::Duration;

use super::container::parse_document;
use super::http::{Url, exchange};
use super::{CredentialError, Expiring, Provider};
use crate::http::network::Network;

pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
pub const DEFAULT_ENDPOINT_IPV6: &str = "http://[fd00:ec2::254]";
const TIMEOUT: Duration = Duration::from_secs(1);
const TOKEN_TTL_SECONDS: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

pub struct Imds {
    base: Url,
    agent: ureq::Agent,
}

impl Imds {
    /// `endpoint` and `mode` as in `AWS_EC2_METADATA_SERVICE_ENDPOINT` and `_ENDPOINT_MODE`.
    pub fn new(net: &Network, endpoint: Option<&str>, mode: Option<&str>) -> Result<Imds, String> {
        let text = match (endpoint, mode) {
            (Some(e), _) => e.trim_end_matches('/').to_string(),
            (None, Some(m)) if m.eq_ignore_ascii_case("ipv6") => DEFAULT_ENDPOINT_IPV6.into(),
            (None, Some(m)) if m.eq_ignore_ascii_case("ipv4") => DEFAULT_ENDPOINT.into(),
            (None, Some(_)) => {
                return Err("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6".into());
            }
            (None, None) => DEFAULT_ENDPOINT.into(),
        };
        let mut base =
            Url::parse(&text).map_err(|e| format!("AWS_EC2_METADATA_SERVICE_ENDPOINT {e}"))?;
        base.path = base.path.trim_end_matches('/').to_string();
        Ok(Imds {
            agent: net.service_agent(base.https, &base.authority, TIMEOUT),
            base,
        })
    }

    fn url(&self, path: &str) -> String {
        let mut url = self.base.clone();
        url.path = format!("{}{path}", url.path);
        url.to_url()
    }
}

impl Provider for Imds {
    fn name(&self) -> String {
        format!("EC2 instance metadata at {}", self.base.authority)
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        let fail = |message: String| CredentialError::new(self.name(), message);
        let (status, token) = exchange(
            &self.agent,
            "PUT",
            &self.url("/latest/api/token"),
            &[("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)],
            Some(b""),
        )
        .map_err(|e| {
            fail(format!(
                "no answer ({e}); not on EC2? Give credentials another way (flags, AWS_ACCESS_KEY_ID, \
                 a profile), or set AWS_EC2_METADATA_DISABLED=true"
            ))
        })?;
        if status != 200 {
            return Err(fail(format!(
                "the token request (IMDSv2) answered HTTP {status}; check the instance's \
                 metadata options (hop limit, IMDSv2 enabled)"
            )));
        }
        let token = token.trim().to_string();
        let headers = [("x-aws-ec2-metadata-token", token.as_str())];
        let (status, roles) = exchange(
            &self.agent,
            "GET",
            &self.url(CREDENTIALS_PATH),
            &headers,
            None,
        )
        .map_err(|e| fail(format!("reading the role name failed: {e}")))?;
        if status == 404 {
            return Err(fail(
                "this instance has no IAM role (instance profile): attach one, or give \
                 credentials another way"
                    .into(),
            ));
        }
        if status != 200 {
            return Err(fail(format!(
                "reading the role name answered HTTP {status}"
            )));
        }
        let Some(role) = roles.lines().map(str::trim).find(|l| !l.is_empty()) else {
            return Err(fail("the instance lists no IAM role".into()));
        };
        let role_path = format!(
            "{CREDENTIALS_PATH}{}",
            crate::util::encoding::uri_encode(role, false)
        );
        let (status, text) = exchange(&self.agent, "GET", &self.url(&role_path), &headers, None)
            .map_err(|e| {
                fail(format!(
                    "reading the credentials of role {role} failed: {e}"
                ))
            })?;
        if status != 200 {
            return Err(fail(format!(
                "reading the credentials of role {role} answered HTTP {status}"
            )));
        }
        parse_document(&text).map_err(|e| fail(format!("role {role}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let net = Network::default();
        let url = |e: Option<&str>, m: Option<&str>| {
            Imds::new(&net, e, m).map(|i| i.url("/latest/api/token"))
        };
        assert_eq!(
            url(None, None).ok().as_deref(),
            Some("http://169.254.169.254/latest/api/token")
        );
        assert_eq!(
            url(None, Some("IPv6")).ok().as_deref(),
            Some("http://[fd00:ec2::254]/latest/api/token")
        );
        assert_eq!(
            url(Some("http://127.0.0.1:1234/"), None).ok().as_deref(),
            Some("http://127.0.0.1:1234/latest/api/token")
        );
        assert!(url(None, Some("carrier-pigeon")).is_err());
        assert!(url(Some("169.254.169.254"), None).is_err());
    }
}
