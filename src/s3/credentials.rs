//! Finding credentials and a region the way the AWS CLI does: explicit keys, then a named
//! profile, then the `AWS_*` environment, then the default profile of the shared files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::sign::Credentials;

/// The AWS-related environment, captured once by the CLI layer so nothing below it reads
/// environment variables. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct AwsEnv {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub default_region: Option<String>,
    pub endpoint_url: Option<String>,
    pub home: Option<PathBuf>,
}

/// What the user told us about one side's credentials. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct CredentialOptions {
    pub access_key: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub region: Option<String>,
}

/// Parses an AWS-style INI file into sections of key/value pairs.
pub fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            // Indented lines belong to nested blocks (e.g. `s3 =`), which we do not use.
            if raw.starts_with([' ', '\t']) {
                continue;
            }
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    sections
}

fn read_ini(path: &Path) -> Result<HashMap<String, HashMap<String, String>>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_ini(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The two shared files, loaded.
struct SharedFiles {
    config: HashMap<String, HashMap<String, String>>,
    credentials: HashMap<String, HashMap<String, String>>,
}

impl SharedFiles {
    fn load(opts: &CredentialOptions, env: &AwsEnv) -> Result<SharedFiles, String> {
        let home_file = |name: &str| env.home.as_ref().map(|h| h.join(".aws").join(name));
        let config = match opts.config_file.clone().or_else(|| home_file("config")) {
            Some(p) => read_ini(&p)?,
            None => HashMap::new(),
        };
        let credentials = match opts
            .credentials_file
            .clone()
            .or_else(|| home_file("credentials"))
        {
            Some(p) => read_ini(&p)?,
            None => HashMap::new(),
        };
        Ok(SharedFiles {
            config,
            credentials,
        })
    }

    /// The config-file section of a profile (`[default]` or `[profile NAME]`).
    fn config_section(&self, profile: &str) -> Option<&HashMap<String, String>> {
        if profile == "default" {
            self.config
                .get("default")
                .or_else(|| self.config.get("profile default"))
        } else {
            self.config.get(&format!("profile {profile}"))
        }
    }

    fn exists(&self, profile: &str) -> bool {
        self.credentials.contains_key(profile) || self.config_section(profile).is_some()
    }

    fn credentials(&self, profile: &str) -> Option<Credentials> {
        let from = |section: &HashMap<String, String>| {
            Some(Credentials {
                access_key_id: section.get("aws_access_key_id")?.clone(),
                secret_access_key: section.get("aws_secret_access_key")?.clone(),
                session_token: section.get("aws_session_token").cloned(),
            })
        };
        self.credentials
            .get(profile)
            .and_then(from)
            .or_else(|| self.config_section(profile).and_then(from))
    }

    fn region(&self, profile: &str) -> Option<String> {
        self.config_section(profile)
            .and_then(|s| s.get("region").cloned())
    }
}

/// Credentials and region for one side.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub credentials: Credentials,
    pub region: Option<String>,
}

/// Resolves credentials and region in the AWS order. Errors are one line and never contain
/// secret values.
pub fn resolve(opts: &CredentialOptions, env: &AwsEnv) -> Result<Resolved, String> {
    let files = SharedFiles::load(opts, env)?;
    let env_region = env.region.clone().or_else(|| env.default_region.clone());
    if let Some(profile) = &opts.profile
        && !files.exists(profile)
    {
        return Err(format!(
            "profile '{profile}' not found in the AWS config or credentials file"
        ));
    }
    let profile_name = opts
        .profile
        .clone()
        .or_else(|| env.profile.clone())
        .unwrap_or_else(|| "default".into());
    let region = opts
        .region
        .clone()
        .or(env_region)
        .or_else(|| files.region(&profile_name));

    if let (Some(ak), Some(sk)) = (&opts.access_key, &opts.secret_access_key) {
        let credentials = Credentials {
            access_key_id: ak.clone(),
            secret_access_key: sk.clone(),
            session_token: opts.session_token.clone(),
        };
        return Ok(Resolved {
            credentials,
            region,
        });
    }
    if opts.access_key.is_some() != opts.secret_access_key.is_some() {
        return Err("an access key needs its secret access key, and the other way round".into());
    }
    if let Some(profile) = &opts.profile {
        return match files.credentials(profile) {
            Some(credentials) => Ok(Resolved {
                credentials,
                region,
            }),
            None => Err(format!(
                "profile '{profile}' has no aws_access_key_id / aws_secret_access_key"
            )),
        };
    }
    if let (Some(ak), Some(sk)) = (&env.access_key_id, &env.secret_access_key) {
        let credentials = Credentials {
            access_key_id: ak.clone(),
            secret_access_key: sk.clone(),
            session_token: env.session_token.clone(),
        };
        return Ok(Resolved {
            credentials,
            region,
        });
    }
    match files.credentials(&profile_name) {
        Some(credentials) => Ok(Resolved {
            credentials,
            region,
        }),
        None => Err(format!(
            "no AWS credentials found: pass --*-access-key/--*-secret-access-key, a --*-profile, \
             set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or add profile '{profile_name}' to the shared files"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        let _ = std::fs::write(&p, text);
        p
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("s3sync-cred-{tag}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    #[test]
    fn parses_ini_sections() {
        let ini = parse_ini(
            "# c\n[default]\naws_access_key_id = A\n[profile x]\nregion=eu-west-1\ns3 =\n  max = 1\n",
        );
        assert_eq!(ini["default"]["aws_access_key_id"], "A");
        assert_eq!(ini["profile x"]["region"], "eu-west-1");
        assert!(!ini["profile x"].contains_key("max"));
    }

    #[test]
    fn follows_the_aws_order() {
        let dir = temp_dir("order");
        let creds = write(
            &dir,
            "credentials",
            "[default]\naws_access_key_id=DEF\naws_secret_access_key=defsecret\n\
            [prof]\naws_access_key_id=PROF\naws_secret_access_key=profsecret\n",
        );
        let config = write(
            &dir,
            "config",
            "[profile prof]\nregion = ap-northeast-1\n[default]\nregion=us-west-2\n",
        );
        let env = AwsEnv {
            access_key_id: Some("ENV".into()),
            secret_access_key: Some("envsecret".into()),
            ..AwsEnv::default()
        };
        let base = CredentialOptions {
            config_file: Some(config),
            credentials_file: Some(creds),
            ..CredentialOptions::default()
        };
        // Environment beats the default profile.
        let r = resolve(&base, &env).map(|r| (r.credentials.access_key_id, r.region));
        assert_eq!(r, Ok(("ENV".into(), Some("us-west-2".into()))));
        // A named profile beats the environment, and brings its region.
        let named = CredentialOptions {
            profile: Some("prof".into()),
            ..base.clone()
        };
        let r = resolve(&named, &env).map(|r| (r.credentials.access_key_id, r.region));
        assert_eq!(r, Ok(("PROF".into(), Some("ap-northeast-1".into()))));
        // Flags beat everything.
        let flags = CredentialOptions {
            access_key: Some("FLAG".into()),
            secret_access_key: Some("flagsecret".into()),
            region: Some("eu-central-1".into()),
            ..named.clone()
        };
        let r = resolve(&flags, &env).map(|r| (r.credentials.access_key_id, r.region));
        assert_eq!(r, Ok(("FLAG".into(), Some("eu-central-1".into()))));
        // Without environment, the default profile.
        let r = resolve(&base, &AwsEnv::default()).map(|r| r.credentials.access_key_id);
        assert_eq!(r, Ok("DEF".into()));
        // A missing profile is an error that names it.
        let missing = CredentialOptions {
            profile: Some("nope".into()),
            ..base
        };
        assert!(resolve(&missing, &env).is_err_and(|e| e.contains("'nope'")));
    }

    #[test]
    fn errors_never_contain_secrets() {
        let opts = CredentialOptions {
            secret_access_key: Some("hunter2-secret".into()),
            ..Default::default()
        };
        let err = resolve(&opts, &AwsEnv::default()).err().unwrap_or_default();
        assert!(!err.is_empty() && !err.contains("hunter2"), "{err}");
    }
}
