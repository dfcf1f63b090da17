//! Fixed keys: from the command line, the environment or a profile. They never expire.

use super::{CredentialError, Credentials, Expiring, Provider};

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
}

impl Provider for StaticKeys {
    fn name(&self) -> String {
        self.origin.clone()
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        Ok(Expiring::new(self.credentials.clone(), None))
    }
}
