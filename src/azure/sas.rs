//! Shared access signatures: a token found in a URL or the environment, appended to every
//! request and never shown, and service SAS generation with an account key (a Blob → Blob copy
//! gives the service a source URL it can read, signed for a short time).
//!
//! A service SAS for a blob or container signs, with version 2020-12-06 and later:
//!
//! ```text
//! sp \n st \n se \n /blob/ACCOUNT/CONTAINER[/BLOB] \n si \n sip \n spr \n sv \n sr \n
//! snapshot time \n ses \n rscc \n rscd \n rsce \n rscl \n rsct
//! ```
//!
//! with the values as sent, before URL encoding; the ones we never set are empty.

use super::API_VERSION;
use super::auth::AccountKey;
use crate::util::encoding::{percent_decode, uri_encode};
use crate::util::time::Timestamp;

/// A SAS token: the query string (without `?`) that authorizes requests. `Debug` and
/// `Display` show its parameters with the signature replaced.
#[derive(Clone, PartialEq, Eq)]
pub struct SasToken {
    query: String,
}

impl SasToken {
    /// Accepts `sv=...&sig=...` with or without a leading `?`. A query without a `sig`
    /// parameter is not a SAS. Errors never show the text.
    pub fn parse(text: &str) -> Result<SasToken, String> {
        let query = text.trim().trim_start_matches('?');
        let has_sig = query.split('&').any(|p| {
            p.split_once('=')
                .is_some_and(|(k, v)| k == "sig" && !v.is_empty())
        });
        if !has_sig {
            return Err(
                "not a SAS token: it has no 'sig' parameter (expected sv=...&se=...&sp=...&sig=...)"
                    .into(),
            );
        }
        Ok(SasToken {
            query: query.to_string(),
        })
    }

    /// The token as it goes on the wire. It is a credential: only request URLs use it.
    pub fn as_query(&self) -> &str {
        &self.query
    }

    /// The decoded value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| percent_decode(v))
    }

    /// When the token stops working (`se`), when it says.
    pub fn expiry(&self) -> Option<Timestamp> {
        self.param("se")
            .and_then(|se| Timestamp::parse_rfc3339(&se).or_else(|| date_only(&se)))
    }

    /// `url` with this token appended to its query.
    pub fn append_to(&self, url: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{}", self.query)
    }

    /// The parameters with the signature replaced, for messages.
    pub fn redacted(&self) -> String {
        self.query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some(("sig", _)) => "sig=REDACTED".to_string(),
                _ => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `se=2025-06-01` (a date alone) as the start of that day.
fn date_only(text: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
}

impl std::fmt::Debug for SasToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SasToken({})", self.redacted())
    }
}

impl std::fmt::Display for SasToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `2025-01-06T10:00:00Z`: the time form SAS tokens carry.
pub fn sas_time(t: Timestamp) -> String {
    let c = t.civil();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// A service SAS for one blob (`blob` set) or a whole container.
#[derive(Debug, Clone)]
pub struct ServiceSas {
    pub container: String,
    pub blob: Option<String>,
    /// In the service's order: `r` read, `a` add, `c` create, `w` write, `d` delete,
    /// `l` list (containers only), `t` tags.
    pub permissions: String,
    pub start: Option<Timestamp>,
    pub expiry: Timestamp,
    /// `spr=https` instead of allowing http too.
    pub https_only: bool,
    /// `sip`: an address or `from-to` range allowed to use the token.
    pub ip: Option<String>,
}

impl ServiceSas {
    /// The string `key` signs (see the module documentation).
    pub fn string_to_sign(&self, account: &str) -> String {
        let resource = match &self.blob {
            Some(blob) => format!("/blob/{account}/{}/{blob}", self.container),
            None => format!("/blob/{account}/{}", self.container),
        };
        let fields = [
            self.permissions.clone(),
            self.start.map(sas_time).unwrap_or_default(),
            sas_time(self.expiry),
            resource,
            String::new(),
            self.ip.clone().unwrap_or_default(),
            self.protocol().unwrap_or_default().to_string(),
            API_VERSION.to_string(),
            self.resource_kind().to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        fields.join("\n")
    }

    fn protocol(&self) -> Option<&'static str> {
        self.https_only.then_some("https")
    }

    fn resource_kind(&self) -> &'static str {
        if self.blob.is_some() { "b" } else { "c" }
    }

    /// Signs this SAS with `key`.
    pub fn sign(&self, key: &AccountKey) -> SasToken {
        let signature = key.sign(&self.string_to_sign(key.account()));
        let mut params: Vec<(&str, String)> = vec![("sv", API_VERSION.to_string())];
        if let Some(start) = self.start {
            params.push(("st", sas_time(start)));
        }
        params.push(("se", sas_time(self.expiry)));
        params.push(("sr", self.resource_kind().to_string()));
        params.push(("sp", self.permissions.clone()));
        if let Some(p) = self.protocol() {
            params.push(("spr", p.to_string()));
        }
        if let Some(ip) = &self.ip {
            params.push(("sip", ip.clone()));
        }
        params.push(("sig", signature));
        let query = params
            .iter()
            .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&");
        SasToken { query }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_need_a_signature_and_never_show_it() {
        assert!(SasToken::parse("sv=2025-01-05&se=2030-01-01").is_err());
        assert!(SasToken::parse("").is_err());
        let token =
            SasToken::parse("?sv=2025-01-05&se=2030-01-01T00%3A00%3A00Z&sp=r&sig=c2VjcmV0%2B")
                .unwrap_or_else(|e| panic!("{e}"));
        for shown in [format!("{token}"), format!("{token:?}"), token.redacted()] {
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
            assert!(
                shown.contains("sig=REDACTED") && shown.contains("sp=r"),
                "{shown}"
            );
        }
        assert_eq!(token.param("sp").as_deref(), Some("r"));
        assert_eq!(
            token.expiry().map(sas_time).as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
        assert_eq!(
            token.append_to("http://h/a/c?comp=list"),
            "http://h/a/c?comp=list&sv=2025-01-05&se=2030-01-01T00%3A00%3A00Z&sp=r&sig=c2VjcmV0%2B"
        );
        let dated = SasToken::parse("se=2031-02-03&sig=x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            dated.expiry().map(sas_time).as_deref(),
            Some("2031-02-03T00:00:00Z")
        );
    }

    #[test]
    fn service_sas_signs_the_documented_fields() {
        let sas = ServiceSas {
            container: "photos".into(),
            blob: Some("dir/a b.jpg".into()),
            permissions: "r".into(),
            start: None,
            expiry: Timestamp {
                secs: 1_893_456_000,
                nanos: 0,
            },
            https_only: true,
            ip: None,
        };
        assert_eq!(
            sas.string_to_sign("acct"),
            "r\n\n2030-01-01T00:00:00Z\n/blob/acct/photos/dir/a b.jpg\n\n\nhttps\n2025-01-05\nb\n\n\n\n\n\n\n"
        );
        let key = AccountKey::new("acct", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .unwrap_or_else(|e| panic!("{e}"));
        let token = sas.sign(&key);
        assert!(
            token
                .as_query()
                .starts_with("sv=2025-01-05&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&spr=https&sig=")
        );
        assert_eq!(
            token.param("sig"),
            Some(key.sign(&sas.string_to_sign("acct")))
        );
    }
}
