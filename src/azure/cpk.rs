//! Customer-provided encryption on Blob requests (azcopy's `--cpk-by-value` and
//! `--cpk-by-name`): the headers that ask the service to encrypt what it writes, and to
//! decrypt what it reads, with a key the client sends (or an encryption scope it names).
//!
//! The key is a secret: it is kept in a [`Secret`] whose `Debug` prints nothing of it, and
//! it leaves the process only as a request header (never logged: `-vvv` logs operations
//! and status codes, not headers).

use std::fmt;

use sha2::{Digest, Sha256};

use crate::util::encoding::{base64, base64_decode};

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// How blobs are encrypted with the customer's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// An AES-256 key (base64) and its SHA-256 (base64), sent on every read and write of
    /// blob content or properties.
    CustomerKey { key: Secret, sha256: String },
    /// An encryption scope of the account, named on writes (the service remembers it for
    /// reads).
    Scope(String),
}

/// Why a customer key was refused (never containing the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    NotBase64,
    WrongLength(usize),
    HashMismatch,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotBase64 => f.write_str("is not base64"),
            KeyError::WrongLength(n) => {
                write!(f, "decodes to {n} bytes, not the 32 of an AES-256 key")
            }
            KeyError::HashMismatch => f.write_str("does not match the key's SHA-256"),
        }
    }
}

/// Operations that read or write a blob's content or properties: they need the key of a
/// blob encrypted with one.
const KEY_OPS: &[&str] = &[
    "GetBlob",
    "GetBlobProperties",
    "PutBlob",
    "PutBlock",
    "PutBlockFromURL",
    "PutBlockList",
    "CopyBlobFromURL",
];

/// Operations that create blob content: an encryption scope is named on them.
const SCOPE_OPS: &[&str] = &[
    "PutBlob",
    "PutBlock",
    "PutBlockFromURL",
    "PutBlockList",
    "CopyBlobFromURL",
];

impl Encryption {
    /// A customer key from its base64 form; `sha256`, when given, must be the base64 SHA-256
    /// of the key's bytes (it is computed otherwise).
    pub fn customer_key(key: &str, sha256: Option<&str>) -> Result<Encryption, KeyError> {
        let bytes = base64_decode(key.trim()).ok_or(KeyError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(KeyError::WrongLength(bytes.len()));
        }
        let computed = base64(&Sha256::digest(&bytes));
        if sha256.is_some_and(|h| h.trim() != computed) {
            return Err(KeyError::HashMismatch);
        }
        Ok(Encryption::CustomerKey {
            key: Secret(key.trim().to_string()),
            sha256: computed,
        })
    }

    /// The headers `op` carries.
    pub fn headers(&self, op: &str) -> Vec<(String, String)> {
        match self {
            Encryption::CustomerKey { key, sha256 } if KEY_OPS.contains(&op) => vec![
                ("x-ms-encryption-key".into(), key.expose().to_string()),
                ("x-ms-encryption-key-sha256".into(), sha256.clone()),
                ("x-ms-encryption-algorithm".into(), "AES256".into()),
            ],
            Encryption::Scope(name) if SCOPE_OPS.contains(&op) => {
                vec![("x-ms-encryption-scope".into(), name.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// Whether the service can read such blobs for a server-side copy: not with a customer
    /// key (it is sent with our requests only), so those are streamed.
    pub fn allows_server_copy(&self) -> bool {
        matches!(self, Encryption::Scope(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_shown() {
        let key = base64(&[7u8; 32]);
        let e = Encryption::customer_key(&key, None).expect("a 32-byte key");
        assert!(!format!("{e:?}").contains(&key));
        let Encryption::CustomerKey { sha256, .. } = &e else {
            panic!("not a customer key");
        };
        assert_eq!(
            Encryption::customer_key(&key, Some(sha256)).ok().as_ref(),
            Some(&e)
        );
        assert_eq!(
            Encryption::customer_key(&key, Some("AAAA")),
            Err(KeyError::HashMismatch)
        );
        assert_eq!(
            Encryption::customer_key(&base64(&[1u8; 16]), None),
            Err(KeyError::WrongLength(16))
        );
        assert_eq!(
            Encryption::customer_key("*", None),
            Err(KeyError::NotBase64)
        );
        let h = e.headers("GetBlob");
        assert_eq!(h.len(), 3);
        assert!(e.headers("ListBlobs").is_empty());
        assert!(e.headers("DeleteBlob").is_empty());
        let s = Encryption::Scope("scope1".into());
        assert_eq!(
            s.headers("PutBlockList"),
            [("x-ms-encryption-scope".to_string(), "scope1".to_string())]
        );
        assert!(s.headers("GetBlob").is_empty());
    }
}
