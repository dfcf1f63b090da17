//! What building a provider needs: the captured environment, the network settings, the
//! region and the shared files, plus the one STS client a side's roles share.

use std::cell::OnceCell;
use std::sync::Arc;

use super::container::Container;
use super::files::SharedFiles;
use super::imds::Imds;
use super::setup::SetupError;
use super::static_keys::StaticKeys;
use super::sts::Sts;
use super::{AwsEnv, Provider};
use crate::http::network::Network;

/// What a provider needs to be built: settings, network, region and the shared files.
pub struct Context<'a> {
    pub env: &'a AwsEnv,
    pub net: &'a Network,
    pub region: &'a str,
    pub files: &'a SharedFiles,
    sts: OnceCell<Arc<Sts>>,
}

impl<'a> Context<'a> {
    pub fn new(
        env: &'a AwsEnv,
        net: &'a Network,
        region: &'a str,
        files: &'a SharedFiles,
    ) -> Context<'a> {
        Context {
            env,
            net,
            region,
            files,
            sts: OnceCell::new(),
        }
    }

    /// The STS client, shared by every role of this side.
    pub fn sts(&self) -> Result<Arc<Sts>, SetupError> {
        if let Some(sts) = self.sts.get() {
            return Ok(Arc::clone(sts));
        }
        let sts = Sts::new(self.net, self.env.sts_endpoint_url.as_deref(), self.region)
            .map(Arc::new)
            .map_err(|e| {
                SetupError::Invalid(format!("AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL): {e}"))
            })?;
        let _ = self.sts.set(Arc::clone(&sts));
        Ok(sts)
    }

    pub(super) fn container(&self) -> Result<Container, String> {
        let env = self.env;
        Container::new(
            self.net,
            env.container_relative_uri.as_deref(),
            env.container_full_uri.as_deref(),
            env.container_token.clone(),
            env.container_token_file.clone(),
        )
    }

    pub(super) fn imds(&self) -> Result<Imds, String> {
        Imds::new(
            self.net,
            self.env.ec2_metadata_endpoint.as_deref(),
            self.env.ec2_metadata_endpoint_mode.as_deref(),
        )
    }

    /// The provider of a profile's `credential_source`.
    pub fn credential_source(&self, kind: &str) -> Result<Box<dyn Provider>, String> {
        match kind {
            "Environment" => StaticKeys::from_env(self.env)?.ok_or_else(|| {
                "Environment, but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set".into()
            }),
            "Ec2InstanceMetadata" => Ok(Box::new(self.imds()?)),
            "EcsContainer" => Ok(Box::new(self.container()?)),
            other => Err(format!(
                "'{other}' is not Environment, Ec2InstanceMetadata or EcsContainer"
            )),
        }
    }
}
