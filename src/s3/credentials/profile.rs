//! Profiles of the shared AWS files (`~/.aws/config`, `~/.aws/credentials`, or the files
//! given by `--aws-config-file` / `AWS_CONFIG_FILE` and `--aws-shared-credentials-file` /
//! `AWS_SHARED_CREDENTIALS_FILE`), turned into a provider the way the AWS CLI reads them:
//!
//! 1. `role_arn` with `source_profile` (chains allowed, loops refused) or `credential_source`
//!    (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`): STS AssumeRole with those
//!    credentials, `role_session_name`, `external_id` and `duration_seconds` applied;
//!    `role_arn` with `web_identity_token_file`: AssumeRoleWithWebIdentity;
//! 2. `aws_access_key_id` / `aws_secret_access_key` (/ `aws_session_token`) of the
//!    credentials file;
//! 3. `credential_process`;
//! 4. the same keys in the config file.
//!
//! In a profile reached through `source_profile`, keys win over its own `role_arn` (the
//! chain ends there), as in the AWS SDKs.

use std::path::PathBuf;
use std::sync::Arc;

use super::context::Context;
use super::process::CredentialProcess;
use super::setup::SetupError;
use super::static_keys::StaticKeys;
use super::sts::{AssumeRole, RoleParams, default_session_name};
use super::web_identity::WebIdentity;
use super::{Credentials, CredentialsCache, Provider};

fn invalid(profile: &str, what: &str) -> SetupError {
    SetupError::Invalid(format!("profile '{profile}' {what}"))
}

/// The provider of `profile`, or `None` when it holds no credential settings.
pub fn provider(profile: &str, ctx: &Context<'_>) -> Result<Option<Box<dyn Provider>>, SetupError> {
    resolve(profile, ctx, &mut Vec::new())
}

fn resolve(
    profile: &str,
    ctx: &Context<'_>,
    chain: &mut Vec<String>,
) -> Result<Option<Box<dyn Provider>>, SetupError> {
    let files = ctx.files;
    if !files.exists(profile) {
        return Err(SetupError::Invalid(format!(
            "profile '{profile}' not found in the AWS config or credentials file"
        )));
    }
    if chain.iter().any(|p| p == profile) {
        chain.push(profile.to_string());
        return Err(SetupError::Invalid(format!(
            "profiles loop through source_profile: {}",
            chain.join(" -> ")
        )));
    }
    chain.push(profile.to_string());
    let (file_keys, config_keys) = files.keys(profile)?;
    let origin = format!("profile '{profile}'");
    // A source profile with keys ends the chain.
    if chain.len() > 1
        && let Some(keys) = file_keys.clone().or_else(|| config_keys.clone())
    {
        return Ok(Some(Box::new(StaticKeys::new(origin, keys))));
    }
    if let Some(role_arn) = files.get(profile, "role_arn") {
        return role(profile, role_arn, ctx, chain, file_keys.or(config_keys)).map(Some);
    }
    if files.get(profile, "sso_start_url").is_some() || files.get(profile, "sso_session").is_some()
    {
        return Err(invalid(
            profile,
            "uses IAM Identity Center (SSO), which s3sync cannot log in to: run `aws configure \
             export-credentials --profile NAME --format env` and pass the result as environment \
             variables, or use a credential_process",
        ));
    }
    if let Some(keys) = file_keys {
        return Ok(Some(Box::new(StaticKeys::new(origin, keys))));
    }
    if let Some(command) = files.get(profile, "credential_process") {
        return Ok(Some(Box::new(CredentialProcess {
            profile: profile.to_string(),
            command: command.to_string(),
        })));
    }
    Ok(config_keys.map(|keys| Box::new(StaticKeys::new(origin, keys)) as Box<dyn Provider>))
}

/// A `role_arn` profile.
fn role(
    profile: &str,
    role_arn: &str,
    ctx: &Context<'_>,
    chain: &mut Vec<String>,
    own_keys: Option<Credentials>,
) -> Result<Box<dyn Provider>, SetupError> {
    let files = ctx.files;
    let get = |k: &str| files.get(profile, k);
    if get("mfa_serial").is_some() {
        return Err(invalid(
            profile,
            "needs an MFA code (mfa_serial), which s3sync cannot ask for: get temporary \
             credentials first (aws sts get-session-token) and pass them in the environment",
        ));
    }
    let session_name = get("role_session_name")
        .map(str::to_string)
        .unwrap_or_else(default_session_name);
    let duration_seconds = match get("duration_seconds") {
        Some(text) => Some(
            text.parse::<u32>()
                .ok()
                .filter(|d| (900..=43_200).contains(d))
                .ok_or_else(|| {
                    invalid(profile, "has a duration_seconds that is not 900 to 43200")
                })?,
        ),
        None => None,
    };
    let origin = format!("profile '{profile}'");
    if let Some(token_file) = get("web_identity_token_file") {
        return Ok(Box::new(WebIdentity {
            origin,
            token_file: PathBuf::from(token_file),
            role_arn: role_arn.to_string(),
            session_name,
            sts: ctx.sts()?,
        }));
    }
    let base: Box<dyn Provider> = match (get("source_profile"), get("credential_source")) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                profile,
                "has both source_profile and credential_source: keep one",
            ));
        }
        (Some(source), None) if source == profile => match own_keys {
            Some(keys) => Box::new(StaticKeys::new(origin.clone(), keys)),
            None => {
                return Err(invalid(
                    profile,
                    "is its own source_profile but has no aws_access_key_id",
                ));
            }
        },
        (Some(source), None) => resolve(source, ctx, chain)?.ok_or_else(|| {
            invalid(
                source,
                "is a source_profile but holds no credentials (keys, role_arn or \
                 credential_process)",
            )
        })?,
        (None, Some(kind)) => ctx.credential_source(kind).map_err(|e| {
            SetupError::Invalid(format!("profile '{profile}' credential_source: {e}"))
        })?,
        (None, None) => {
            return Err(invalid(
                profile,
                "has role_arn but no source_profile, credential_source or \
                 web_identity_token_file",
            ));
        }
    };
    Ok(Box::new(AssumeRole {
        origin,
        base: Arc::new(CredentialsCache::new(base)),
        role: RoleParams {
            role_arn: role_arn.to_string(),
            session_name,
            external_id: get("external_id").map(str::to_string),
            duration_seconds,
        },
        sts: ctx.sts()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::network::Network;
    use crate::s3::credentials::AwsEnv;
    use crate::s3::credentials::files::{SharedFiles, parse_ini};

    #[test]
    fn parses_ini_sections() {
        let ini = parse_ini(
            "# c\n[default]\naws_access_key_id = A\n[profile  x]\nregion=eu-west-1\ns3 =\n  max = 1\n",
        );
        assert_eq!(ini["default"]["aws_access_key_id"], "A");
        assert_eq!(ini["profile x"]["region"], "eu-west-1");
        assert!(!ini["profile x"].contains_key("max"));
    }

    fn name_of(config: &str, credentials: &str, profile: &str) -> Result<Option<String>, String> {
        let files = SharedFiles::from_text(config, credentials);
        let env = AwsEnv::default();
        let net = Network::default();
        let ctx = Context::new(&env, &net, "us-east-1", &files);
        provider(profile, &ctx)
            .map(|p| p.map(|p| p.name()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn picks_the_source_in_the_aws_cli_order() {
        let creds = "[a]\naws_access_key_id=A\naws_secret_access_key=s\n";
        let config = "[profile a]\ncredential_process = echo\n\
            [profile p]\ncredential_process = echo\naws_access_key_id=C\naws_secret_access_key=s\n\
            [profile r]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=a\n\
            [profile chain]\nrole_arn=arn:aws:iam::1:role/y\nsource_profile=r\n\
            [profile w]\nrole_arn=arn:aws:iam::1:role/w\nweb_identity_token_file=/t\n\
            [profile empty]\nregion=eu-west-1\n";
        assert_eq!(name_of(config, creds, "a"), Ok(Some("profile 'a'".into())));
        assert_eq!(
            name_of(config, creds, "p"),
            Ok(Some("credential_process of profile 'p'".into()))
        );
        assert_eq!(
            name_of(config, creds, "r"),
            Ok(Some(
                "profile 'r' (AssumeRole arn:aws:iam::1:role/x)".into()
            ))
        );
        assert_eq!(
            name_of(config, creds, "chain"),
            Ok(Some(
                "profile 'chain' (AssumeRole arn:aws:iam::1:role/y)".into()
            ))
        );
        assert!(name_of(config, creds, "w").is_ok_and(|n| n.is_some_and(|n| n.contains("web"))));
        assert_eq!(name_of(config, creds, "empty"), Ok(None));
        assert!(name_of(config, creds, "nope").is_err_and(|e| e.contains("'nope' not found")));
    }

    #[test]
    fn refuses_broken_profiles() {
        let cases = [
            (
                "[profile l1]\nrole_arn=r\nsource_profile=l2\n[profile l2]\nrole_arn=r\nsource_profile=l1\n",
                "l1",
                "l1 -> l2 -> l1",
            ),
            ("[profile n]\nrole_arn=r\n", "n", "no source_profile"),
            (
                "[profile m]\nrole_arn=r\nsource_profile=m\nmfa_serial=x\n",
                "m",
                "MFA",
            ),
            (
                "[profile d]\nrole_arn=r\nsource_profile=d\naws_access_key_id=A\naws_secret_access_key=s\nduration_seconds=5\n",
                "d",
                "duration_seconds",
            ),
            ("[profile h]\naws_access_key_id=A\n", "h", "only one of"),
            ("[profile s]\nsso_session=x\n", "s", "SSO"),
            (
                "[profile c]\nrole_arn=r\ncredential_source=Moon\n",
                "c",
                "credential_source",
            ),
        ];
        for (config, profile, says) in cases {
            let r = name_of(config, "", profile);
            assert!(
                r.as_ref().is_err_and(|e| e.contains(says)),
                "{profile}: {r:?}"
            );
        }
    }
}
