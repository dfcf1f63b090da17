//! Fixed keys: from the command line, the environment or a profile. They never expire.

use super::{AwsEnv, CredentialError, Credentials, Expiring, Provider};

/// Keys given once, with where they came from.
pub struct StaticKeys {
    origin: String,
    credentials: Credentials,
}

impl StaticKeys {
    pub fn new(origin: impl Into<String>, credentials: Credentials) -> StaticKeys {
        StaticKeys {
            origin: origin.into(),
            credentials,
        }
    }

    /// The keys of `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`),
    /// if set; one without the other is an error.
    pub fn from_env(env: &AwsEnv) -> Result<Option<Box<dyn Provider>>, String> {
        match (&env.access_key_id, &env.secret_access_key) {
            (Some(ak), Some(sk)) => Ok(Some(Box::new(StaticKeys::new(
                "environment (AWS_ACCESS_KEY_ID)",
                Credentials {
                    access_key_id: ak.clone(),
                    secret_access_key: sk.clone(),
                    session_token: env.session_token.clone(),
                },
            )))),
            (None, None) => Ok(None),
            (Some(_), None) => {
                Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into())
            }
            (None, Some(_)) => {
                Err("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into())
            }
        }
    }
}

impl Provider for StaticKeys {
    fn name(&self) -> String {
        self.origin.clone()
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        Ok(Expiring::new(self.credentials.clone(), None))
    }
}
