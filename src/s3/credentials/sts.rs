//! AWS STS: AssumeRole (signed with the source credentials) and AssumeRoleWithWebIdentity
//! (unsigned), with the `AssumeRole` provider of `role_arn` + `source_profile` profiles.
//!
//! The endpoint is `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional
//! `https://sts.{region}.amazonaws.com`. Answers are read with the S3 client's XML tree.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::http::{SERVICE_TIMEOUT, Url, exchange};
use super::{CredentialError, Credentials, CredentialsCache, Expiring, Provider, parse_expiry};
use crate::http::network::Network;
use crate::s3::sign::{self, SigningInput};
use crate::s3::xml::{Node, parse_tree};
use crate::util::encoding::{hex, uri_encode};
use crate::util::time::Timestamp;

/// An STS endpoint and how to reach it.
pub struct Sts {
    agent: ureq::Agent,
    url: Url,
    region: String,
}

impl Sts {
    /// `endpoint`: the configured STS endpoint URL, if any.
    pub fn new(net: &Network, endpoint: Option<&str>, region: &str) -> Result<Sts, String> {
        let text = match endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://sts.{region}.amazonaws.com"),
        };
        let url = Url::parse(&text).map_err(|e| format!("the STS endpoint URL {e}"))?;
        Ok(Sts {
            agent: net.service_agent(url.https, &url.authority, SERVICE_TIMEOUT),
            url,
            region: region.to_string(),
        })
    }

    /// AssumeRole, signed with `base`.
    pub fn assume_role(&self, base: &Credentials, role: &RoleParams) -> Result<Expiring, String> {
        let duration = role.duration_seconds.map(|d| d.to_string());
        let mut form = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", role.role_arn.as_str()),
            ("RoleSessionName", role.session_name.as_str()),
        ];
        if let Some(id) = &role.external_id {
            form.push(("ExternalId", id));
        }
        if let Some(d) = &duration {
            form.push(("DurationSeconds", d));
        }
        let mut secrets = vec![base.secret_access_key.as_str()];
        secrets.extend(base.session_token.as_deref());
        self.call("AssumeRole", &form, Some(base), &secrets)
    }

    /// AssumeRoleWithWebIdentity: the token is the proof, so the request is not signed.
    pub fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
    ) -> Result<Expiring, String> {
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role_arn),
            ("RoleSessionName", session_name),
            ("WebIdentityToken", token),
        ];
        self.call("AssumeRoleWithWebIdentity", &form, None, &[token])
    }

    fn call(
        &self,
        action: &str,
        form: &[(&str, &str)],
        signer: Option<&Credentials>,
        secrets: &[&str],
    ) -> Result<Expiring, String> {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&");
        let now = Timestamp::now();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.url.authority.clone()),
            ("x-amz-date".into(), now.amz_date()),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ),
        ];
        if let Some(token) = signer.and_then(|c| c.session_token.clone()) {
            headers.push(("x-amz-security-token".into(), token));
        }
        if let Some(creds) = signer {
            let payload_hash = hex(&Sha256::digest(body.as_bytes()));
            let input = SigningInput {
                method: "POST",
                canonical_uri: &self.url.path,
                query: &[],
                headers: &headers,
                payload_hash: &payload_hash,
                region: &self.region,
                service: "sts",
                time: now,
            };
            headers.push(("authorization".into(), sign::authorization(&input, creds)));
        }
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(k, _)| k != "host")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, text) = exchange(
            &self.agent,
            "POST",
            &self.url.to_url(),
            &pairs,
            Some(body.as_bytes()),
        )
        .map_err(|e| format!("{action} at {} failed: {e}", self.url.authority))?;
        if !(200..300).contains(&status) {
            let detail = parse_tree(&text)
                .ok()
                .and_then(|root| {
                    let error = root.child("Error")?;
                    Some(format!(
                        "{}: {}",
                        error.text_of("Code").unwrap_or("error"),
                        error.text_of("Message").unwrap_or("")
                    ))
                })
                .unwrap_or_else(|| "no error document".into());
            return Err(super::redact(
                &format!(
                    "{action} at {} answered HTTP {status} ({detail})",
                    self.url.authority
                ),
                secrets,
            ));
        }
        parse_credentials(&text, action)
    }
}

/// Reads `<{action}Response><{action}Result><Credentials>` from an STS answer.
pub fn parse_credentials(text: &str, action: &str) -> Result<Expiring, String> {
    let bad = |what: &str| format!("{action}: the STS answer {what}");
    let root = parse_tree(text).map_err(|_| bad("is not XML"))?;
    let result = root
        .child(&format!("{action}Result"))
        .ok_or_else(|| bad("has no result"))?;
    let creds: &Node = result
        .child("Credentials")
        .ok_or_else(|| bad("has no credentials"))?;
    let field = |name: &str| {
        creds
            .text_of(name)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad(&format!("has no {name}")))
    };
    let expiry = parse_expiry(&field("Expiration")?).ok_or_else(|| bad("has a bad Expiration"))?;
    Ok(Expiring::new(
        Credentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: Some(field("SessionToken")?),
        },
        Some(expiry),
    ))
}

/// What to ask AssumeRole for.
#[derive(Debug, Clone)]
pub struct RoleParams {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
}

/// A default session name: `s3sync-<unix seconds>`, as the AWS CLI's `botocore-session-*`.
pub fn default_session_name() -> String {
    format!("s3sync-{}", Timestamp::now().secs)
}

/// `role_arn` with `source_profile` or `credential_source`: AssumeRole with the source's
/// credentials (themselves cached and refreshed).
pub struct AssumeRole {
    pub origin: String,
    pub base: Arc<CredentialsCache>,
    pub role: RoleParams,
    pub sts: Arc<Sts>,
}

impl Provider for AssumeRole {
    fn name(&self) -> String {
        format!("{} (AssumeRole {})", self.origin, self.role.role_arn)
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        let base = self.base.get().map_err(|e| {
            CredentialError::new(
                self.name(),
                format!("cannot get the source credentials: {e}"),
            )
        })?;
        self.sts.assume_role(&base, &self.role).map_err(|e| {
            CredentialError::new(
                self.name(),
                format!("{e}; check the role, its trust policy and the source credentials"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_assume_role_answers() {
        let text = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
            <AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>\
            <SecretAccessKey>sec</SecretAccessKey><SessionToken>tok</SessionToken>\
            <Expiration>2030-01-01T00:00:00.123Z</Expiration></Credentials></AssumeRoleResult>\
            </AssumeRoleResponse>";
        let e = parse_credentials(text, "AssumeRole").map(|e| {
            (
                e.credentials.access_key_id.clone(),
                e.credentials.session_token.clone(),
                e.expiry.is_some(),
            )
        });
        assert_eq!(e, Ok(("ASIAX".into(), Some("tok".into()), true)));
        let missing = text.replace("<SessionToken>tok</SessionToken>", "");
        let err = parse_credentials(&missing, "AssumeRole").err();
        assert_eq!(
            err.as_deref(),
            Some("AssumeRole: the STS answer has no SessionToken")
        );
        assert!(parse_credentials("<x>", "AssumeRole").is_err());
    }

    #[test]
    fn endpoints_default_to_the_region() {
        let sts = Sts::new(&Network::default(), None, "eu-west-3");
        assert_eq!(
            sts.map(|s| s.url.to_url()).ok().as_deref(),
            Some("https://sts.eu-west-3.amazonaws.com/")
        );
        let sts = Sts::new(&Network::default(), Some("http://127.0.0.1:5000/"), "x");
        assert_eq!(
            sts.map(|s| s.url.authority).ok().as_deref(),
            Some("127.0.0.1:5000")
        );
        assert!(Sts::new(&Network::default(), Some("ftp://x"), "x").is_err());
    }
}
