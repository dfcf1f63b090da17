//! ECS task roles and EKS Pod Identity: a local endpoint that serves the role's credentials
//! as JSON. `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on `http://169.254.170.2`;
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` is a whole URL, which over plain http must be a
//! loopback address or one of the ECS/EKS agent addresses (as in the AWS SDKs). The request
//! carries `Authorization:` from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read on every
//! fetch: EKS rotates it) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::http::{Url, exchange};
use super::{CredentialError, Credentials, Expiring, Provider, json, parse_expiry, redact};
use crate::http::network::Network;

/// The ECS agent's address for relative URIs.
pub const ECS_HOST: &str = "http://169.254.170.2";
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct Container {
    url: Url,
    agent: ureq::Agent,
    token: Option<String>,
    token_file: Option<PathBuf>,
}

impl Container {
    /// From the two URI variables (relative first) and the token settings. Errors name the
    /// variable.
    pub fn new(
        net: &Network,
        relative: Option<&str>,
        full: Option<&str>,
        token: Option<String>,
        token_file: Option<PathBuf>,
    ) -> Result<Container, String> {
        let url = match (relative, full) {
            (Some(rel), _) => {
                let rel = if rel.starts_with('/') {
                    rel.to_string()
                } else {
                    format!("/{rel}")
                };
                Url::parse(&format!("{ECS_HOST}{rel}"))
                    .map_err(|e| format!("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: {e}"))?
            }
            (None, Some(full)) => {
                let url = Url::parse(full)
                    .map_err(|e| format!("AWS_CONTAINER_CREDENTIALS_FULL_URI {e}"))?;
                if !url.https && !allowed_http_host(url.host()) {
                    return Err(format!(
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed to a loopback \
                         address, 169.254.170.2 or 169.254.170.23 only, not {}; use https",
                        url.host()
                    ));
                }
                url
            }
            (None, None) => {
                return Err("no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI".into());
            }
        };
        Ok(Container {
            agent: net.service_agent(url.https, &url.authority, TIMEOUT),
            url,
            token,
            token_file,
        })
    }

    fn authorization(&self) -> Result<Option<String>, String> {
        let token = match &self.token_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: {e}",
                    path.display()
                )
            })?),
            None => self.token.clone(),
        };
        let token = token.map(|t| t.trim().to_string());
        if token.as_deref().is_some_and(|t| t.contains(['\r', '\n'])) {
            return Err("the container authorization token has a line break in it".into());
        }
        Ok(token)
    }
}

fn allowed_http_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => true,
        Ok(ip) => ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
            .iter()
            .any(|a| a.parse::<IpAddr>().is_ok_and(|a| a == ip)),
        Err(_) => false,
    }
}

impl Provider for Container {
    fn name(&self) -> String {
        format!("container credentials endpoint {}", self.url.authority)
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        let fail = |message: String| CredentialError::new(self.name(), message);
        let token = self.authorization().map_err(fail)?;
        let mut headers = vec![("accept", "application/json")];
        if let Some(t) = &token {
            headers.push(("authorization", t.as_str()));
        }
        let secrets: Vec<&str> = token.as_deref().into_iter().collect();
        let (status, text) = exchange(&self.agent, "GET", &self.url.to_url(), &headers, None)
            .map_err(|e| fail(format!("the request failed: {e}")))?;
        if status != 200 {
            // The agent's error document has a code and a message, no credentials.
            let detail = json::parse(&text)
                .ok()
                .and_then(|d| {
                    let code = d.str("code").or_else(|| d.str("Code"))?.to_string();
                    let message = d.str("message").or_else(|| d.str("Message")).unwrap_or("");
                    Some(format!(" ({code}: {})", redact(message, &secrets)))
                })
                .unwrap_or_default();
            return Err(fail(format!(
                "it answered HTTP {status}{detail}; check the task or pod role and the \
                 authorization token"
            )));
        }
        parse_document(&text).map_err(fail)
    }
}

/// Reads the credential document shared by the container endpoint and instance metadata.
pub fn parse_document(text: &str) -> Result<Expiring, String> {
    let doc = json::parse(text).map_err(|e| format!("the answer is not JSON ({e})"))?;
    if let Some(code) = doc.str("Code").filter(|c| *c != "Success") {
        return Err(format!("the answer says {code}"));
    }
    let field = |name: &str| {
        doc.str(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("the answer has no {name}"))
    };
    let expiry = match doc.str("Expiration") {
        Some(e) => Some(parse_expiry(e).ok_or("the answer has a bad Expiration")?),
        None => None,
    };
    Ok(Expiring::new(
        Credentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: doc.str("Token").map(str::to_string),
        },
        expiry,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uris_over_http_must_stay_local() {
        let net = Network::default();
        let ok = |full: &str| Container::new(&net, None, Some(full), None, None).is_ok();
        assert!(ok("http://127.0.0.1:8080/creds"));
        assert!(ok("http://169.254.170.23/v1/credentials"));
        assert!(ok("http://[::1]:99/x"));
        assert!(ok("https://creds.example.com/x"));
        assert!(!ok("http://creds.example.com/x"));
        assert!(!ok("ftp://127.0.0.1/x"));
        let rel = Container::new(&net, Some("/v2/credentials/abc"), None, None, None);
        assert_eq!(
            rel.map(|c| c.url.to_url()).ok().as_deref(),
            Some("http://169.254.170.2/v2/credentials/abc")
        );
    }

    #[test]
    fn parses_credential_documents() {
        let ok = parse_document(
            r#"{"AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t",
                "Expiration":"2030-01-01T00:00:00Z","RoleArn":"arn:aws:iam::1:role/r"}"#,
        );
        assert!(ok.is_ok_and(|e| e.credentials.session_token.as_deref() == Some("t")));
        let err = parse_document(r#"{"Code":"Failure","SecretAccessKey":"hush"}"#);
        assert_eq!(err.err().as_deref(), Some("the answer says Failure"));
    }
}
