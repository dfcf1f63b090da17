//! Which credentials a Blob location is reached with, in the order users expect:
//!
//! 1. a SAS token in the location's URL;
//! 2. `AZURE_STORAGE_SAS_TOKEN`;
//! 3. an account key: `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`;
//! 4. `AZURE_STORAGE_CONNECTION_STRING` (`AccountName`/`AccountKey`, `SharedAccessSignature`,
//!    `BlobEndpoint`, or `UseDevelopmentStorage=true` for Azurite's well-known account);
//! 5. Entra ID: azcopy's `AZCOPY_AUTO_LOGIN_TYPE` (`SPN`, `MSI`, `WORKLOAD`) when set, else a
//!    service principal secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`),
//!    workload identity (`AZURE_FEDERATED_TOKEN_FILE`), App Service managed identity
//!    (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), or instance-metadata managed identity when
//!    asked for ([`AzureEnv::use_managed_identity`]: probing 169.254.169.254 on every run
//!    that meant to be anonymous would cost a timeout off Azure);
//! 6. anonymous (public containers).
//!
//! Nothing here reads the process environment: the CLI captures it with
//! [`AzureEnv::from_lookup`], as it does `s3::credentials::AwsEnv`. Neither type has a `Debug`
//! that could show a secret.

use std::path::PathBuf;
use std::sync::Arc;

use super::auth::AccountKey;
use super::location::{BlobLocation, ServiceEndpoint};
use super::sas::SasToken;
use super::token::{
    ClientSecret, DEFAULT_AUTHORITY_HOST, IMDS_TOKEN_URL, ManagedIdentity, ManagedIdentityEndpoint,
    TokenCache, TokenProvider, WorkloadIdentity,
};
use crate::http::network::Network;

/// Azurite's account, and the key Microsoft publishes for it in the Azurite documentation. It
/// protects nothing (every emulator has it); `UseDevelopmentStorage=true` means exactly this.
pub const DEVELOPMENT_ACCOUNT: &str = "devstoreaccount1";
pub const DEVELOPMENT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Azurite's default Blob endpoint.
pub const DEVELOPMENT_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// The Azure-related environment, captured once by the CLI. Empty values are `None`.
#[derive(Clone, Default)]
pub struct AzureEnv {
    pub storage_account: Option<String>,
    pub storage_key: Option<String>,
    pub sas_token: Option<String>,
    pub connection_string: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub authority_host: Option<String>,
    pub federated_token_file: Option<PathBuf>,
    pub identity_endpoint: Option<String>,
    pub identity_header: Option<String>,
    pub azcopy_auto_login_type: Option<String>,
    pub azcopy_spa_application_id: Option<String>,
    pub azcopy_spa_client_secret: Option<String>,
    pub azcopy_tenant_id: Option<String>,
    pub azcopy_msi_client_id: Option<String>,
    /// Ask the instance metadata service for a managed identity token when nothing else is
    /// configured (a flag of the CLI, not a variable).
    pub use_managed_identity: bool,
    /// Where the instance metadata service is; [`IMDS_TOKEN_URL`] unless a test says otherwise.
    pub imds_url: Option<String>,
}

impl AzureEnv {
    /// Reads the variables through `get` (the CLI passes `std::env::var`).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> AzureEnv {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        AzureEnv {
            storage_account: var("AZURE_STORAGE_ACCOUNT"),
            storage_key: var("AZURE_STORAGE_KEY"),
            sas_token: var("AZURE_STORAGE_SAS_TOKEN"),
            connection_string: var("AZURE_STORAGE_CONNECTION_STRING"),
            tenant_id: var("AZURE_TENANT_ID"),
            client_id: var("AZURE_CLIENT_ID"),
            client_secret: var("AZURE_CLIENT_SECRET"),
            authority_host: var("AZURE_AUTHORITY_HOST"),
            federated_token_file: var("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
            identity_endpoint: var("IDENTITY_ENDPOINT"),
            identity_header: var("IDENTITY_HEADER"),
            azcopy_auto_login_type: var("AZCOPY_AUTO_LOGIN_TYPE"),
            azcopy_spa_application_id: var("AZCOPY_SPA_APPLICATION_ID"),
            azcopy_spa_client_secret: var("AZCOPY_SPA_CLIENT_SECRET"),
            azcopy_tenant_id: var("AZCOPY_TENANT_ID"),
            azcopy_msi_client_id: var("AZCOPY_MSI_CLIENT_ID"),
            use_managed_identity: false,
            imds_url: None,
        }
    }
}

/// How requests are authorized. `Debug` names the kind only.
#[derive(Clone)]
pub enum Credentials {
    /// A SAS token appended to every URL.
    Sas(SasToken),
    /// SharedKey signatures with the account key.
    SharedKey(Arc<AccountKey>),
    /// `Authorization: Bearer` with Entra ID tokens.
    Bearer(Arc<TokenCache>),
    Anonymous,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Credentials {
    /// What they are, for messages: never the secret itself.
    pub fn describe(&self) -> String {
        match self {
            Credentials::Sas(t) => format!("SAS token ({t})"),
            Credentials::SharedKey(k) => format!("account key of '{}'", k.account()),
            Credentials::Bearer(cache) => format!("Entra ID token from {}", cache.source()),
            Credentials::Anonymous => "anonymous".into(),
        }
    }
}

/// A parsed `AZURE_STORAGE_CONNECTION_STRING`. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct ConnectionString {
    pub account: Option<String>,
    pub key: Option<String>,
    pub sas: Option<SasToken>,
    /// `BlobEndpoint`, or the endpoint built from `DefaultEndpointsProtocol`, `AccountName`
    /// and `EndpointSuffix`, or Azurite's for development storage.
    pub blob_endpoint: Option<ServiceEndpoint>,
}

impl ConnectionString {
    /// Parses `Name=value;Name=value` (values may contain `=`; names are case-insensitive).
    /// Errors name the field, never a value.
    pub fn parse(text: &str) -> Result<ConnectionString, String> {
        let mut out = ConnectionString::default();
        let mut protocol = "https".to_string();
        let mut suffix = "core.windows.net".to_string();
        let mut development = false;
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item.split_once('=').ok_or_else(|| {
                "AZURE_STORAGE_CONNECTION_STRING: expected Name=value pairs separated by ';'"
                    .to_string()
            })?;
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "accountname" => out.account = Some(value),
                "accountkey" => out.key = Some(value),
                "sharedaccesssignature" => {
                    out.sas = Some(SasToken::parse(&value).map_err(|e| {
                        format!("AZURE_STORAGE_CONNECTION_STRING SharedAccessSignature: {e}")
                    })?)
                }
                "blobendpoint" => {
                    out.blob_endpoint = Some(ServiceEndpoint::parse(&value).map_err(|e| {
                        format!("AZURE_STORAGE_CONNECTION_STRING BlobEndpoint: {e}")
                    })?)
                }
                "defaultendpointsprotocol" => protocol = value.to_ascii_lowercase(),
                "endpointsuffix" => suffix = value,
                "usedevelopmentstorage" => development = value.eq_ignore_ascii_case("true"),
                // Other services' endpoints and options the Blob client does not need.
                _ => {}
            }
        }
        if development {
            out.account = Some(DEVELOPMENT_ACCOUNT.into());
            out.key = Some(DEVELOPMENT_KEY.into());
            if out.blob_endpoint.is_none() {
                out.blob_endpoint = ServiceEndpoint::parse(DEVELOPMENT_BLOB_ENDPOINT).ok();
            }
        }
        if out.blob_endpoint.is_none()
            && let Some(account) = &out.account
        {
            let url = format!("{protocol}://{account}.blob.{suffix}");
            out.blob_endpoint = Some(
                ServiceEndpoint::parse(&url)
                    .map_err(|e| format!("AZURE_STORAGE_CONNECTION_STRING: {e}"))?,
            );
        }
        if out.key.is_some() && out.account.is_none() {
            return Err(
                "AZURE_STORAGE_CONNECTION_STRING has an AccountKey but no AccountName".into(),
            );
        }
        Ok(out)
    }
}

/// The credentials for `location` (see the module documentation), and where they came from.
pub fn resolve(
    location: &BlobLocation,
    env: &AzureEnv,
    network: &Network,
) -> Result<(Credentials, &'static str), String> {
    if let Some(sas) = location.sas() {
        return Ok((Credentials::Sas(sas.clone()), "the URL's SAS token"));
    }
    if let Some(text) = &env.sas_token {
        let sas = SasToken::parse(text).map_err(|e| format!("AZURE_STORAGE_SAS_TOKEN: {e}"))?;
        return Ok((Credentials::Sas(sas), "AZURE_STORAGE_SAS_TOKEN"));
    }
    let account = &location.endpoint.account;
    match (&env.storage_account, &env.storage_key) {
        (Some(name), Some(key)) => {
            if name != account {
                return Err(format!(
                    "AZURE_STORAGE_ACCOUNT is '{name}' but the URL names account '{account}': \
                     the key of one account cannot sign for another"
                ));
            }
            let key = AccountKey::new(name, key).map_err(|e| format!("AZURE_STORAGE_KEY: {e}"))?;
            return Ok((Credentials::SharedKey(Arc::new(key)), "AZURE_STORAGE_KEY"));
        }
        (None, Some(_)) => {
            return Err("AZURE_STORAGE_KEY is set without AZURE_STORAGE_ACCOUNT".into());
        }
        _ => {}
    }
    if let Some(text) = &env.connection_string {
        let cs = ConnectionString::parse(text)?;
        const FROM: &str = "AZURE_STORAGE_CONNECTION_STRING";
        if let Some(sas) = cs.sas {
            return Ok((Credentials::Sas(sas), FROM));
        }
        if let (Some(name), Some(key)) = (&cs.account, &cs.key) {
            if name != account {
                return Err(format!(
                    "{FROM} is for account '{name}' but the URL names account '{account}'"
                ));
            }
            let key = AccountKey::new(name, key).map_err(|e| format!("{FROM}: {e}"))?;
            return Ok((Credentials::SharedKey(Arc::new(key)), FROM));
        }
    }
    if let Some(provider) = entra_id(env, network)? {
        // A bearer token is good for every container the identity can reach: it is never
        // sent in the clear (Azure Storage refuses it over http anyway).
        if !location.endpoint.https {
            return Err(format!(
                "Entra ID tokens are sent only over https, and {} is http: use its https \
                 address, or an account key or SAS token for an emulator",
                location.describe()
            ));
        }
        let cache = TokenCache::new(provider);
        return Ok((Credentials::Bearer(Arc::new(cache)), "Entra ID"));
    }
    Ok((Credentials::Anonymous, "no credentials (anonymous)"))
}

/// The Entra ID token provider the environment configures, if any.
pub fn entra_id(
    env: &AzureEnv,
    network: &Network,
) -> Result<Option<Box<dyn TokenProvider>>, String> {
    let authority_host = env
        .authority_host
        .clone()
        .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_string());
    let imds = || ManagedIdentity {
        endpoint: match (&env.identity_endpoint, &env.identity_header) {
            (Some(url), Some(header)) => ManagedIdentityEndpoint::AppService {
                url: url.clone(),
                header: header.clone(),
            },
            _ => ManagedIdentityEndpoint::Imds(
                env.imds_url
                    .clone()
                    .unwrap_or_else(|| IMDS_TOKEN_URL.into()),
            ),
        },
        client_id: env
            .azcopy_msi_client_id
            .clone()
            .or_else(|| env.client_id.clone()),
        network: network.clone(),
    };
    let workload = |tenant: &String, client: &String, file: &PathBuf| WorkloadIdentity {
        authority_host: authority_host.clone(),
        tenant_id: tenant.clone(),
        client_id: client.clone(),
        token_file: file.clone(),
        network: network.clone(),
    };
    if let Some(kind) = &env.azcopy_auto_login_type {
        return match kind.to_ascii_uppercase().as_str() {
            "SPN" => {
                let (Some(tenant), Some(client), Some(secret)) = (
                    env.azcopy_tenant_id.as_ref().or(env.tenant_id.as_ref()),
                    &env.azcopy_spa_application_id,
                    &env.azcopy_spa_client_secret,
                ) else {
                    return Err(
                        "AZCOPY_AUTO_LOGIN_TYPE=SPN needs AZCOPY_SPA_APPLICATION_ID, \
                                AZCOPY_SPA_CLIENT_SECRET and AZCOPY_TENANT_ID"
                            .into(),
                    );
                };
                Ok(Some(Box::new(ClientSecret {
                    authority_host,
                    tenant_id: tenant.clone(),
                    client_id: client.clone(),
                    secret: secret.clone(),
                    network: network.clone(),
                })))
            }
            "MSI" => Ok(Some(Box::new(imds()))),
            "WORKLOAD" => match (
                env.azcopy_tenant_id.as_ref().or(env.tenant_id.as_ref()),
                &env.client_id,
                &env.federated_token_file,
            ) {
                (Some(t), Some(c), Some(f)) => Ok(Some(Box::new(workload(t, c, f)))),
                _ => Err("AZCOPY_AUTO_LOGIN_TYPE=WORKLOAD needs AZURE_TENANT_ID, \
                          AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE"
                    .into()),
            },
            other => Err(format!(
                "AZCOPY_AUTO_LOGIN_TYPE={other} is not supported: use SPN, MSI or WORKLOAD \
                 (or an account key or SAS token)"
            )),
        };
    }
    if let (Some(tenant), Some(client)) = (&env.tenant_id, &env.client_id) {
        if let Some(secret) = &env.client_secret {
            return Ok(Some(Box::new(ClientSecret {
                authority_host,
                tenant_id: tenant.clone(),
                client_id: client.clone(),
                secret: secret.clone(),
                network: network.clone(),
            })));
        }
        if let Some(file) = &env.federated_token_file {
            return Ok(Some(Box::new(workload(tenant, client, file))));
        }
    }
    if env.client_secret.is_some() {
        return Err(
            "AZURE_CLIENT_SECRET is set without AZURE_TENANT_ID and AZURE_CLIENT_ID".into(),
        );
    }
    if (env.identity_endpoint.is_some() && env.identity_header.is_some())
        || env.use_managed_identity
    {
        return Ok(Some(Box::new(imds())));
    }
    Ok(None)
}

#[cfg(test)]
mod suffix_tests {
    use super::token_may_go_to;

    #[test]
    fn tokens_go_only_to_storage_domains_or_named_ones() {
        assert!(token_may_go_to("acct.blob.core.windows.net", None));
        assert!(token_may_go_to(
            "acct.privatelink.blob.core.windows.net:443",
            None
        ));
        assert!(token_may_go_to("acct.blob.core.chinacloudapi.cn", None));
        assert!(!token_may_go_to(
            "acct.blob.core.windows.net.evil.example",
            None
        ));
        assert!(!token_may_go_to("evilcore.windows.net", None));
        assert!(!token_may_go_to("127.0.0.1:10000", None));
        assert!(token_may_go_to("127.0.0.1:10000", Some("127.0.0.1")));
        assert!(token_may_go_to(
            "blob.contoso.example",
            Some("x.test; *.contoso.example")
        ));
        assert!(!token_may_go_to("blob.contoso.example", Some("")));
        assert!(token_may_go_to("[::1]:8443", Some("[::1]")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(url: &str) -> BlobLocation {
        BlobLocation::parse(url).unwrap_or_else(|e| panic!("{e}"))
    }

    fn chosen(url: &str, env: &AzureEnv) -> String {
        match resolve(&location(url), env, &Network::default()) {
            Ok((c, from)) => format!("{from}: {}", c.describe()),
            Err(e) => format!("error: {e}"),
        }
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn the_environment_is_read_through_the_lookup_only() {
        let env = AzureEnv::from_lookup(&|name| match name {
            "AZURE_STORAGE_ACCOUNT" => Some("acct".into()),
            "AZURE_STORAGE_KEY" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(env.storage_account.as_deref(), Some("acct"));
        assert!(env.storage_key.is_none());
    }

    #[test]
    fn resolution_follows_the_documented_order() {
        let url = "https://acct.blob.core.windows.net/c01/x";
        let mut env = AzureEnv {
            sas_token: Some("sv=2025-01-05&sig=ENVSIG".into()),
            storage_account: Some("acct".into()),
            storage_key: Some(KEY.into()),
            connection_string: Some(format!("AccountName=acct;AccountKey={KEY}")),
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            ..AzureEnv::default()
        };
        let with_sas = format!("{url}?sv=2025-01-05&sig=URLSIG");
        let got = chosen(&with_sas, &env);
        assert!(
            got.starts_with("the URL's SAS token") && !got.contains("URLSIG"),
            "{got}"
        );
        let got = chosen(url, &env);
        assert!(
            got.starts_with("AZURE_STORAGE_SAS_TOKEN") && !got.contains("ENVSIG"),
            "{got}"
        );
        env.sas_token = None;
        assert_eq!(
            chosen(url, &env),
            "AZURE_STORAGE_KEY: account key of 'acct'"
        );
        env.storage_account = None;
        env.storage_key = None;
        assert_eq!(
            chosen(url, &env),
            "AZURE_STORAGE_CONNECTION_STRING: account key of 'acct'"
        );
        env.connection_string = None;
        assert_eq!(
            chosen(url, &env),
            "Entra ID: Entra ID token from service principal c (client secret)"
        );
        env.client_secret = None;
        assert_eq!(chosen(url, &env), "no credentials (anonymous): anonymous");
        env.identity_endpoint = Some("http://127.0.0.1:1/msi".into());
        env.identity_header = Some("h".into());
        assert!(chosen(url, &env).contains("App Service identity endpoint"));
    }

    #[test]
    fn azcopy_login_variables_take_precedence_within_entra_id() {
        let url = "https://acct.blob.core.windows.net/c01/x";
        let env = AzureEnv {
            azcopy_auto_login_type: Some("spn".into()),
            azcopy_spa_application_id: Some("app".into()),
            azcopy_spa_client_secret: Some("sec".into()),
            azcopy_tenant_id: Some("ten".into()),
            client_id: Some("other".into()),
            client_secret: Some("other".into()),
            tenant_id: Some("other".into()),
            ..AzureEnv::default()
        };
        assert!(chosen(url, &env).contains("service principal app"));
        let msi = AzureEnv {
            azcopy_auto_login_type: Some("MSI".into()),
            ..AzureEnv::default()
        };
        assert!(chosen(url, &msi).contains("managed identity (instance metadata)"));
        let bad = AzureEnv {
            azcopy_auto_login_type: Some("DEVICE".into()),
            ..AzureEnv::default()
        };
        assert!(chosen(url, &bad).contains("not supported: use SPN, MSI or WORKLOAD"));
        let half = AzureEnv {
            azcopy_auto_login_type: Some("SPN".into()),
            ..AzureEnv::default()
        };
        assert!(chosen(url, &half).contains("needs AZCOPY_SPA_APPLICATION_ID"));
        let workload = AzureEnv {
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            federated_token_file: Some("/var/run/token".into()),
            ..AzureEnv::default()
        };
        assert!(chosen(url, &workload).contains("workload identity c"));
    }

    #[test]
    fn a_key_for_another_account_is_refused_without_showing_it() {
        let env = AzureEnv {
            storage_account: Some("other".into()),
            storage_key: Some(KEY.into()),
            ..AzureEnv::default()
        };
        let got = chosen("https://acct.blob.core.windows.net/c01", &env);
        assert!(
            got.contains("'other'") && got.contains("'acct'") && !got.contains(KEY),
            "{got}"
        );
    }

    #[test]
    fn connection_strings() {
        let dev = ConnectionString::parse("UseDevelopmentStorage=true").unwrap_or_default();
        assert_eq!(dev.account.as_deref(), Some(DEVELOPMENT_ACCOUNT));
        let ep = dev.blob_endpoint.unwrap_or_else(|| panic!("no endpoint"));
        assert_eq!(
            (
                ep.authority.as_str(),
                ep.account.as_str(),
                ep.path_style,
                ep.https
            ),
            ("127.0.0.1:10000", DEVELOPMENT_ACCOUNT, true, false)
        );
        let full = ConnectionString::parse(&format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn"
        ))
        .unwrap_or_default();
        let ep = full.blob_endpoint.unwrap_or_else(|| panic!("no endpoint"));
        assert_eq!(ep.authority, "acct.blob.core.chinacloudapi.cn");
        assert_eq!(full.key.as_deref(), Some(KEY));
        let custom = ConnectionString::parse(
            "BlobEndpoint=http://127.0.0.1:4000/devstoreaccount1;SharedAccessSignature=sv=2025-01-05&sig=abc",
        )
        .unwrap_or_default();
        assert_eq!(
            custom.blob_endpoint.map(|e| e.authority).as_deref(),
            Some("127.0.0.1:4000")
        );
        assert!(custom.sas.is_some());
        let err = ConnectionString::parse("AccountKey=secretvalue")
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("no AccountName") && !err.contains("secretvalue"),
            "{err}"
        );
        assert!(ConnectionString::parse("garbage").is_err());
    }
}

/// The domains Entra ID tokens may be sent to without being named: Azure Storage's own, on
/// every cloud (azcopy's list).
pub const TRUSTED_SUFFIXES: [&str; 5] = [
    "core.windows.net",
    "core.chinacloudapi.cn",
    "core.cloudapi.de",
    "core.usgovcloudapi.net",
    "storage.azure.net",
];

/// Whether a bearer token may go to `authority` (`host[:port]`): its host is, or ends in,
/// one of [`TRUSTED_SUFFIXES`] or of `extra` (`;`-separated, as azcopy's
/// `--trusted-microsoft-suffixes` takes them, `*.` allowed in front).
pub fn token_may_go_to(authority: &str, extra: Option<&str>) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => &authority[..rest.find(']').map_or(authority.len(), |i| i + 2)],
        None => authority.split(':').next().unwrap_or(authority),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let given = extra.unwrap_or_default().split(';');
    TRUSTED_SUFFIXES
        .iter()
        .copied()
        .chain(given)
        .map(|s| s.trim().trim_start_matches("*.").trim_start_matches('.'))
        .filter(|s| !s.is_empty())
        .any(|suffix| {
            let suffix = suffix.to_ascii_lowercase();
            host == suffix || host.ends_with(&format!(".{suffix}"))
        })
}
