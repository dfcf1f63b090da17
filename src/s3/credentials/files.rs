//! The shared AWS files (`~/.aws/config`, `~/.aws/credentials`, or the files named by
//! `--aws-config-file` / `AWS_CONFIG_FILE` and `--aws-shared-credentials-file` /
//! `AWS_SHARED_CREDENTIALS_FILE`), read as INI sections of settings. What the settings of a
//! profile mean is [`super::profile`]'s business.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Credentials;
use super::setup::SetupError;

type Ini = HashMap<String, HashMap<String, String>>;

/// Parses an AWS-style INI file into sections of key/value pairs.
pub fn parse_ini(text: &str) -> Ini {
    let mut sections: Ini = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
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

/// Reads an INI file. A missing file is empty when it is only the default location
/// (`~/.aws/...`); a file the user named (`--aws-config-file`, `AWS_CONFIG_FILE`, ...) must
/// exist and be readable, or a typo would silently drop its profiles.
fn read_ini(path: &Path, named: Option<&str>) -> Result<Ini, SetupError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_ini(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => Ok(HashMap::new()),
        Err(e) => Err(SetupError::Invalid(format!(
            "{}{}: cannot read it ({}); give a readable file",
            named.map(|n| format!("{n} ")).unwrap_or_default(),
            path.display(),
            e
        ))),
    }
}

/// The two shared files, loaded.
#[derive(Default)]
pub struct SharedFiles {
    config: Ini,
    credentials: Ini,
}

impl SharedFiles {
    /// Loads the files: a missing default file is an empty one, a missing named one an error.
    pub fn load(
        config: Option<PathBuf>,
        credentials: Option<PathBuf>,
        home: Option<&Path>,
    ) -> Result<SharedFiles, SetupError> {
        let load = |named: Option<PathBuf>, option: &str, default: &str| match named {
            Some(p) => read_ini(&p, Some(option)),
            None => match home {
                Some(h) => read_ini(&h.join(".aws").join(default), None),
                None => Ok(HashMap::new()),
            },
        };
        Ok(SharedFiles {
            config: load(config, "--aws-config-file", "config")?,
            credentials: load(credentials, "--aws-shared-credentials-file", "credentials")?,
        })
    }

    #[cfg(test)]
    pub fn from_text(config: &str, credentials: &str) -> SharedFiles {
        SharedFiles {
            config: parse_ini(config),
            credentials: parse_ini(credentials),
        }
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

    pub fn exists(&self, profile: &str) -> bool {
        self.credentials.contains_key(profile) || self.config_section(profile).is_some()
    }

    /// A setting of a profile, the credentials file first.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        self.credentials
            .get(profile)
            .and_then(|s| s.get(key))
            .or_else(|| self.config_section(profile).and_then(|s| s.get(key)))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn region(&self, profile: &str) -> Option<String> {
        self.config_section(profile)
            .and_then(|s| s.get("region").cloned())
            .filter(|r| !r.is_empty())
    }

    /// The static keys a profile has in the credentials file, and in the config file.
    pub fn keys(
        &self,
        profile: &str,
    ) -> Result<(Option<Credentials>, Option<Credentials>), SetupError> {
        Ok((
            Self::keys_in(self.credentials.get(profile), profile)?,
            Self::keys_in(self.config_section(profile), profile)?,
        ))
    }

    /// Static keys of a profile in one file's section.
    fn keys_in(
        section: Option<&HashMap<String, String>>,
        profile: &str,
    ) -> Result<Option<Credentials>, SetupError> {
        let Some(section) = section else {
            return Ok(None);
        };
        let get = |k: &str| section.get(k).filter(|v| !v.is_empty()).cloned();
        match (get("aws_access_key_id"), get("aws_secret_access_key")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Some(Credentials {
                access_key_id,
                secret_access_key,
                session_token: get("aws_session_token"),
            })),
            (None, None) => Ok(None),
            _ => Err(SetupError::Invalid(format!(
                "profile '{profile}' has only one of aws_access_key_id and aws_secret_access_key"
            ))),
        }
    }
}
