//! Web identity federation (EKS IRSA, GitHub OIDC, ...): a token file, re-read on every
//! fetch because it is rotated, exchanged with STS AssumeRoleWithWebIdentity for a role's
//! credentials. Configured by `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` or by a profile's
//! `web_identity_token_file` + `role_arn`.

use std::path::PathBuf;
use std::sync::Arc;

use super::sts::Sts;
use super::{CredentialError, Expiring, Provider};

pub struct WebIdentity {
    /// `environment` or `profile 'NAME'`.
    pub origin: String,
    pub token_file: PathBuf,
    pub role_arn: String,
    pub session_name: String,
    pub sts: Arc<Sts>,
}

impl Provider for WebIdentity {
    fn name(&self) -> String {
        format!(
            "web identity of the {} (role {})",
            self.origin, self.role_arn
        )
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        let fail = |message: String| CredentialError::new(self.name(), message);
        let token = std::fs::read_to_string(&self.token_file).map_err(|e| {
            fail(format!(
                "cannot read the token file {}: {e}",
                self.token_file.display()
            ))
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(fail(format!(
                "the token file {} is empty",
                self.token_file.display()
            )));
        }
        self.sts
            .assume_role_with_web_identity(&self.role_arn, &self.session_name, token)
            .map_err(|e| {
                fail(format!(
                    "{e}; check the role's trust policy and that the token is current"
                ))
            })
    }
}
