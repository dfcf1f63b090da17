//! The credential chain: which source one side uses, in the order of the AWS CLI.
//!
//! 1. keys given on the command line (`--{source,target}-access-key` ...), or a profile
//!    named there (`--{source,target}-profile`: that profile only, as `aws --profile`);
//! 2. the environment: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`;
//! 3. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`);
//! 4. the profile `AWS_PROFILE` (else `default`) of the shared files, see [`super::profile`];
//! 5. the container endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`);
//! 6. EC2 instance metadata, unless `AWS_EC2_METADATA_DISABLED=true`.
//!
//! The first source that is *configured* is the one used: when it fails (a process that
//! exits 1, STS refusing the role), that is the error, and no other identity is tried in
//! its place. Only what can be decided from settings is decided here; nothing is fetched.

use std::sync::Arc;

use super::context::Context;
use super::files::SharedFiles;
use super::profile;
use super::setup::SetupError;
use super::static_keys::StaticKeys;
use super::sts::default_session_name;
use super::web_identity::WebIdentity;
use super::{AwsEnv, CredentialOptions, Credentials, CredentialsCache, Provider};
use crate::http::network::Network;

/// Loads the shared files named by the options (or under `$HOME/.aws`).
pub fn load_files(opts: &CredentialOptions, env: &AwsEnv) -> Result<SharedFiles, SetupError> {
    SharedFiles::load(
        opts.config_file.clone(),
        opts.credentials_file.clone(),
        env.home.as_deref(),
    )
}

/// The region: the flag, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
pub fn region(opts: &CredentialOptions, env: &AwsEnv, files: &SharedFiles) -> Option<String> {
    let profile = opts
        .profile
        .as_deref()
        .or(env.profile.as_deref())
        .unwrap_or("default");
    opts.region
        .clone()
        .or_else(|| env.region.clone())
        .or_else(|| env.default_region.clone())
        .or_else(|| files.region(profile))
}

/// Sets up one side's credentials: `None` for anonymous requests. Nothing is fetched yet.
pub fn build(
    opts: &CredentialOptions,
    env: &AwsEnv,
    net: &Network,
    region: &str,
    files: &SharedFiles,
) -> Result<Option<Arc<CredentialsCache>>, SetupError> {
    if opts.no_sign_request {
        return Ok(None);
    }
    let provider = choose(opts, env, net, region, files)?;
    Ok(Some(Arc::new(CredentialsCache::new(provider))))
}

fn choose(
    opts: &CredentialOptions,
    env: &AwsEnv,
    net: &Network,
    region: &str,
    files: &SharedFiles,
) -> Result<Box<dyn Provider>, SetupError> {
    let invalid = SetupError::Invalid;
    match (&opts.access_key, &opts.secret_access_key) {
        (Some(ak), Some(sk)) => {
            return Ok(Box::new(StaticKeys::new(
                "keys given on the command line",
                Credentials {
                    access_key_id: ak.clone(),
                    secret_access_key: sk.clone(),
                    session_token: opts.session_token.clone(),
                },
            )));
        }
        (None, None) if opts.session_token.is_some() => {
            return Err(invalid(
                "a session token needs its access key and secret access key".into(),
            ));
        }
        (None, None) => {}
        _ => {
            return Err(invalid(
                "an access key needs its secret access key, and the other way round".into(),
            ));
        }
    }
    let ctx = Context::new(env, net, region, files);
    if let Some(name) = &opts.profile {
        return profile::provider(name, &ctx)?.ok_or_else(|| {
            invalid(format!(
                "profile '{name}' holds no credentials (keys, role_arn or credential_process)"
            ))
        });
    }
    if let Some(keys) = StaticKeys::from_env(env).map_err(invalid)? {
        return Ok(keys);
    }
    if let Some(token_file) = &env.web_identity_token_file {
        let role_arn = env.role_arn.clone().ok_or_else(|| {
            invalid("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".into())
        })?;
        return Ok(Box::new(WebIdentity {
            origin: "environment".into(),
            token_file: token_file.clone(),
            role_arn,
            session_name: env
                .role_session_name
                .clone()
                .unwrap_or_else(default_session_name),
            sts: ctx.sts()?,
        }));
    }
    let profile_name = env.profile.as_deref().unwrap_or("default");
    if env.profile.is_some() || files.exists(profile_name) {
        // A profile named by AWS_PROFILE must exist; `default` may be absent.
        if let Some(p) = profile::provider(profile_name, &ctx)? {
            return Ok(p);
        }
    }
    if env.container_relative_uri.is_some() || env.container_full_uri.is_some() {
        return Ok(Box::new(ctx.container().map_err(invalid)?));
    }
    if !env.ec2_metadata_disabled {
        return Ok(Box::new(ctx.imds().map_err(invalid)?));
    }
    Err(SetupError::Missing(format!(
        "no AWS credentials found: pass --*-access-key/--*-secret-access-key or a --*-profile, \
         set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, add profile '{profile_name}' to the \
         shared files, or use --*-no-sign-request for public buckets \
         (AWS_EC2_METADATA_DISABLED is set, so instance metadata was not tried)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(opts: &CredentialOptions, env: &AwsEnv, files: &SharedFiles) -> String {
        match choose(opts, env, &Network::default(), "us-east-1", files) {
            Ok(p) => p.name(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn follows_the_aws_order() {
        let files = SharedFiles::from_text(
            "[profile prof]\nregion = ap-northeast-1\n[default]\nregion=us-west-2\n",
            "[default]\naws_access_key_id=DEF\naws_secret_access_key=defsecret\n\
             [prof]\naws_access_key_id=PROF\naws_secret_access_key=profsecret\n",
        );
        let mut env = AwsEnv {
            access_key_id: Some("ENV".into()),
            secret_access_key: Some("envsecret".into()),
            web_identity_token_file: Some("/token".into()),
            role_arn: Some("arn:aws:iam::1:role/w".into()),
            container_relative_uri: Some("/creds".into()),
            ..AwsEnv::default()
        };
        let none = CredentialOptions::default();
        let flags = CredentialOptions {
            access_key: Some("FLAG".into()),
            secret_access_key: Some("flagsecret".into()),
            profile: Some("prof".into()),
            ..CredentialOptions::default()
        };
        let named = CredentialOptions {
            profile: Some("prof".into()),
            region: Some("eu-central-1".into()),
            ..CredentialOptions::default()
        };
        assert_eq!(
            chosen(&flags, &env, &files),
            "keys given on the command line"
        );
        assert_eq!(chosen(&named, &env, &files), "profile 'prof'");
        assert_eq!(
            chosen(&none, &env, &files),
            "environment (AWS_ACCESS_KEY_ID)"
        );
        env.access_key_id = None;
        env.secret_access_key = None;
        assert!(chosen(&none, &env, &files).starts_with("web identity of the environment"));
        env.web_identity_token_file = None;
        assert_eq!(chosen(&none, &env, &files), "profile 'default'");
        let no_files = SharedFiles::default();
        assert!(chosen(&none, &env, &no_files).starts_with("container credentials"));
        env.container_relative_uri = None;
        assert!(chosen(&none, &env, &no_files).starts_with("EC2 instance metadata"));
        env.ec2_metadata_disabled = true;
        assert!(chosen(&none, &env, &no_files).starts_with("error: no AWS credentials"));
        // Regions: flag, environment, profile.
        assert_eq!(
            region(&named, &env, &files).as_deref(),
            Some("eu-central-1")
        );
        let prof = CredentialOptions {
            profile: Some("prof".into()),
            ..CredentialOptions::default()
        };
        assert_eq!(
            region(&prof, &env, &files).as_deref(),
            Some("ap-northeast-1")
        );
        assert_eq!(region(&none, &env, &files).as_deref(), Some("us-west-2"));
    }

    #[test]
    fn refuses_half_settings_without_showing_secrets() {
        let files = SharedFiles::default();
        let half = CredentialOptions {
            secret_access_key: Some("hunter2-secret".into()),
            ..CredentialOptions::default()
        };
        let err = chosen(&half, &AwsEnv::default(), &files);
        assert!(
            err.starts_with("error:") && !err.contains("hunter2"),
            "{err}"
        );
        let env = AwsEnv {
            access_key_id: Some("AK".into()),
            ..AwsEnv::default()
        };
        let err = chosen(&CredentialOptions::default(), &env, &files);
        assert!(err.contains("AWS_SECRET_ACCESS_KEY is not"), "{err}");
        let env = AwsEnv {
            web_identity_token_file: Some("/t".into()),
            ..AwsEnv::default()
        };
        let err = chosen(&CredentialOptions::default(), &env, &files);
        assert!(err.contains("AWS_ROLE_ARN"), "{err}");
        let env = AwsEnv {
            profile: Some("missing".into()),
            ..AwsEnv::default()
        };
        let err = chosen(&CredentialOptions::default(), &env, &files);
        assert!(err.contains("'missing' not found"), "{err}");
    }
}
