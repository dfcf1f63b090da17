//! Microsoft Entra ID through the binary, end to end: a local token server (the stand-in
//! for login.microsoftonline.com, reached through `AZURE_AUTHORITY_HOST`, or for a managed
//! identity endpoint) hands out tokens, and a secure Azurite of its own (https with a test
//! certificate authority, `--oauth basic`) checks each bearer token's issuer, audience and
//! lifetime before it serves the request. What landed is read back with the account key and
//! compared by MD5; no secret or token ever appears in the output, even at `-vvv`.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::azurite::{self, Azurite};
use common::standin::{Seen, StandIn};
use common::{data, md5_hex, run, s, write_file};
use s3sync::azure::location::ServiceEndpoint;
use s3sync::azure::{Client, ClientConfig, Credentials};
use s3sync::s3::network::{Network, ProxyEnv};
use s3sync::util::encoding::base64;

const MIB: usize = 1 << 20;
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "0a1b2c3d-0000-4000-8000-00000000c11e";
const SECRET: &str = "s3cr3t~ClientSecretValue.Never.Shown";

/// The https Azurite and the certificate authority that signed its certificate.
struct Secure {
    azurite: Azurite,
    ca: PathBuf,
}

fn secure() -> &'static Secure {
    static SECURE: OnceLock<Secure> = OnceLock::new();
    SECURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(common::unique("entra-tls"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        common::tls::make_test_ca(&dir);
        let azurite = azurite::start_https(&dir.join("server.pem"), &dir.join("server.key"));
        Secure {
            azurite,
            ca: dir.join("ca.pem"),
        }
    })
}

/// A client of the secure Azurite signing with the account key (to set up and check).
fn key_client() -> Client {
    let secure = secure();
    let endpoint =
        ServiceEndpoint::parse(&secure.azurite.endpoint).unwrap_or_else(|e| panic!("{e}"));
    let key = azurite::account_key();
    let mut cfg = ClientConfig::new(endpoint, Credentials::SharedKey(std::sync::Arc::new(key)));
    cfg.network =
        Network::new(&ProxyEnv::default(), Some(&secure.ca)).unwrap_or_else(|e| panic!("{e}"));
    cfg.max_attempts = 2;
    Client::new(cfg)
}

fn url(container: &str, prefix: &str) -> String {
    format!("{}/{container}/{prefix}", secure().azurite.endpoint)
}

fn b64url(bytes: &[u8]) -> String {
    base64(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token shaped as Entra ID issues them for Azure Storage (unsigned: Azurite reads the
/// claims only), for `audience`.
fn jwt(audience: &str) -> String {
    let t = now();
    let header = br#"{"alg":"RS256","typ":"JWT"}"#;
    let claims = format!(
        r#"{{"aud":"{audience}","iss":"https://sts.windows.net/{TENANT}/","iat":{},"nbf":{},"exp":{},"tid":"{TENANT}","appid":"{CLIENT_ID}"}}"#,
        t - 60,
        t - 60,
        t + 3600
    );
    format!(
        "{}.{}.{}",
        b64url(header),
        b64url(claims.as_bytes()),
        b64url(b"not-a-real-signature")
    )
}

const STORAGE: &str = "https://storage.azure.com";

/// The client-credentials answer of the v2.0 token endpoint.
fn token_answer(token: &str) -> String {
    format!(
        r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{token}"}}"#
    )
}

/// A stand-in token endpoint for `tenant` that gives `token` to a client-credentials
/// request of the storage scope, and 400 to anything else.
fn token_server(token: String) -> StandIn {
    StandIn::start(move |req: &Seen, _| {
        let path_ok = req.target == format!("/{TENANT}/oauth2/v2.0/token");
        let form_ok = req.method == "POST"
            && req.body.contains("grant_type=client_credentials")
            && req
                .body
                .contains("scope=https%3A%2F%2Fstorage.azure.com%2F.default");
        if path_ok && form_ok {
            (200, token_answer(&token))
        } else {
            (
                400,
                r#"{"error":"invalid_request","error_description":"AADSTS900144: unexpected request"}"#
                    .into(),
            )
        }
    })
}

/// The environment of a run against the secure Azurite: its CA, and no account key.
fn base_env(ca: &str) -> Vec<(String, String)> {
    vec![("AWS_CA_BUNDLE".into(), ca.into())]
}

/// [`base_env`] with the service principal whose tokens `tokens` hands out.
fn service_principal_env(tokens: &StandIn) -> Vec<(String, String)> {
    let mut env = base_env(&s(&secure().ca));
    env.extend([
        ("AZURE_TENANT_ID".to_string(), TENANT.to_string()),
        ("AZURE_CLIENT_ID".into(), CLIENT_ID.into()),
        ("AZURE_CLIENT_SECRET".into(), SECRET.into()),
        ("AZURE_AUTHORITY_HOST".into(), tokens.url()),
    ]);
    env
}

/// Runs s3sync trusting the loopback host with Entra ID tokens (azcopy's flag: tokens go
/// only to Azure Storage domains and the hosts it names).
fn run_env(args: &[String], env: &[(String, String)]) -> common::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut all = vec!["--trusted-microsoft-suffixes=127.0.0.1".to_string()];
    all.extend(args.iter().cloned());
    run(&all, &env)
}

fn assert_no_secret(run: &common::Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "a secret reached the output: {}",
            run.stderr
        );
    }
}

fn md5_of_blob(client: &Client, container: &str, name: &str) -> String {
    md5_hex(&azurite::read_all(client, container, name, None))
}

#[test]
fn a_service_principal_syncs_both_ways_over_https_with_one_token() {
    let client = key_client();
    let container = azurite::container(&client);
    let token = jwt(STORAGE);
    let tokens = token_server(token.clone());
    let dir = std::env::temp_dir().join(common::unique("entra-sp"));
    let small = data(20_000, 7);
    let big = data(6 * MIB + 11, 8);
    write_file(&dir.join("src/a.txt"), &small);
    write_file(&dir.join("src/d/big.bin"), &big);

    let env = service_principal_env(&tokens);
    // Up: the large file goes in blocks (Put Block, Put Block List), all with the bearer.
    let up = run_env(
        &[
            "-vvv".into(),
            "--multipart-threshold".into(),
            "5MiB".into(),
            "--multipart-chunksize".into(),
            "5MiB".into(),
            s(&dir.join("src")),
            url(&container, "up/"),
        ],
        &env,
    );
    up.assert_code(0);
    assert_no_secret(&up, &[SECRET, &token]);
    assert_eq!(
        md5_of_blob(&client, &container, "up/a.txt"),
        md5_hex(&small)
    );
    assert_eq!(
        md5_of_blob(&client, &container, "up/d/big.bin"),
        md5_hex(&big)
    );

    // Down again, into another directory.
    let down = run_env(
        &["-vvv".into(), url(&container, "up/"), s(&dir.join("back"))],
        &env,
    );
    down.assert_code(0);
    assert_no_secret(&down, &[SECRET, &token]);
    let read = |p: &str| std::fs::read(dir.join("back").join(p)).unwrap_or_default();
    assert_eq!(md5_hex(&read("a.txt")), md5_hex(&small));
    assert_eq!(md5_hex(&read("d/big.bin")), md5_hex(&big));

    // One token per run: the cache serves every request and every worker.
    let seen = tokens.seen();
    assert_eq!(seen.len(), 2, "token requests: {seen:?}");
    for req in &seen {
        assert!(
            req.body.contains(&format!("client_id={CLIENT_ID}")),
            "{}",
            req.body
        );
        assert!(req.body.contains("client_secret="), "{}", req.body);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn azcopy_service_principal_variables_work_the_same() {
    let secure = secure();
    let client = key_client();
    let container = azurite::container(&client);
    let tokens = token_server(jwt(STORAGE));
    let dir = std::env::temp_dir().join(common::unique("entra-azcopy"));
    let body = data(3000, 3);
    write_file(&dir.join("src/f.bin"), &body);
    let mut env = base_env(&s(&secure.ca));
    env.extend([
        ("AZCOPY_AUTO_LOGIN_TYPE".to_string(), "SPN".to_string()),
        ("AZCOPY_SPA_APPLICATION_ID".into(), CLIENT_ID.into()),
        ("AZCOPY_SPA_CLIENT_SECRET".into(), SECRET.into()),
        ("AZCOPY_TENANT_ID".into(), TENANT.into()),
        ("AZURE_AUTHORITY_HOST".into(), tokens.url()),
    ]);
    let up = run_env(&[s(&dir.join("src")), url(&container, "")], &env);
    up.assert_code(0);
    assert_eq!(md5_of_blob(&client, &container, "f.bin"), md5_hex(&body));
    let seen = tokens.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].body.contains(&format!("client_id={CLIENT_ID}")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn workload_identity_sends_the_federated_token_as_its_assertion() {
    let secure = secure();
    let client = key_client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("entra-wi"));
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.federated-sig";
    let file = write_file(&dir.join("token"), format!("{assertion}\n").as_bytes());
    let token = jwt(STORAGE);
    let tokens = StandIn::start(move |req: &Seen, _| {
        let ok = req.body.contains(&format!("client_assertion={assertion}"))
            && req.body.contains(
                "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
            );
        if ok {
            (200, token_answer(&token))
        } else {
            (401, r#"{"error":"invalid_client"}"#.into())
        }
    });
    let body = data(4096, 4);
    write_file(&dir.join("src/w.bin"), &body);
    let mut env = base_env(&s(&secure.ca));
    env.extend([
        ("AZURE_TENANT_ID".to_string(), TENANT.to_string()),
        ("AZURE_CLIENT_ID".into(), CLIENT_ID.into()),
        ("AZURE_FEDERATED_TOKEN_FILE".into(), s(&file)),
        ("AZURE_AUTHORITY_HOST".into(), tokens.url()),
    ]);
    let up = run_env(
        &["-vvv".into(), s(&dir.join("src")), url(&container, "w/")],
        &env,
    );
    up.assert_code(0);
    assert_no_secret(&up, &[assertion]);
    assert_eq!(md5_of_blob(&client, &container, "w/w.bin"), md5_hex(&body));
    assert_eq!(tokens.seen().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_app_service_managed_identity_sends_its_header() {
    let secure = secure();
    let client = key_client();
    let container = azurite::container(&client);
    let header = "identity-header-value-secret";
    let token = jwt(STORAGE);
    let identity = StandIn::start(move |req: &Seen, _| {
        let ok = req.method == "GET"
            && req.header("x-identity-header") == Some(header)
            && req
                .target
                .contains("resource=https%3A%2F%2Fstorage.azure.com");
        if ok {
            let on = now() + 3600;
            (
                200,
                format!(
                    r#"{{"access_token":"{token}","expires_on":"{on}","resource":"https://storage.azure.com","token_type":"Bearer"}}"#
                ),
            )
        } else {
            (400, r#"{"error":"invalid_request"}"#.into())
        }
    });
    let dir = std::env::temp_dir().join(common::unique("entra-mi"));
    let body = data(5000, 5);
    write_file(&dir.join("src/m.bin"), &body);
    let mut env = base_env(&s(&secure.ca));
    env.extend([
        (
            "IDENTITY_ENDPOINT".to_string(),
            format!("{}/msi/token", identity.url()),
        ),
        ("IDENTITY_HEADER".into(), header.into()),
    ]);
    let up = run_env(
        &["-vvv".into(), s(&dir.join("src")), url(&container, "")],
        &env,
    );
    up.assert_code(0);
    assert_no_secret(&up, &[header]);
    assert_eq!(md5_of_blob(&client, &container, "m.bin"), md5_hex(&body));
    assert_eq!(identity.seen().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_token_for_another_audience_is_refused_by_the_service_in_one_line() {
    let client = key_client();
    let container = azurite::container(&client);
    let token = jwt("https://management.azure.com");
    let tokens = token_server(token.clone());
    let dir = std::env::temp_dir().join(common::unique("entra-aud"));
    write_file(&dir.join("src/x"), b"x");
    let env = service_principal_env(&tokens);
    let up = run_env(
        &["-vvv".into(), s(&dir.join("src")), url(&container, "")],
        &env,
    );
    up.assert_code(1);
    assert_no_secret(&up, &[SECRET, &token]);
    let errors: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("s3sync: error: "))
        .collect();
    assert!(!errors.is_empty(), "{}", up.stderr);
    assert!(
        up.stderr.contains("AuthenticationFailed") || up.stderr.contains("403"),
        "{}",
        up.stderr
    );
    // Nothing landed.
    assert!(azurite::list_all(&client, &container, "", 100).0.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_refused_client_secret_is_one_line_without_the_secret() {
    let client = key_client();
    let container = azurite::container(&client);
    let tokens = StandIn::start(|_: &Seen, _| {
        (
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#
                .into(),
        )
    });
    let dir = std::env::temp_dir().join(common::unique("entra-bad"));
    write_file(&dir.join("src/x"), b"x");
    let env = service_principal_env(&tokens);
    let up = run_env(
        &["-vvv".into(), s(&dir.join("src")), url(&container, "")],
        &env,
    );
    up.assert_code(1);
    assert_no_secret(&up, &[SECRET]);
    let line = up
        .stderr
        .lines()
        .find(|l| l.starts_with("s3sync: error: "))
        .unwrap_or_else(|| panic!("no error line: {}", up.stderr));
    assert!(
        line.contains("invalid_client") || line.contains("AADSTS7000215"),
        "{line}"
    );
    assert!(azurite::list_all(&client, &container, "", 100).0.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bearer_tokens_are_never_sent_over_http() {
    // The plain-http emulator: an Entra ID identity is refused before any request.
    let tokens = token_server(jwt(STORAGE));
    let dir = std::env::temp_dir().join(common::unique("entra-http"));
    write_file(&dir.join("src/x"), b"x");
    let target = format!("{}/somecontainer/", azurite::azurite().endpoint);
    let up = run(
        &[s(&dir.join("src")), target],
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT_ID),
            ("AZURE_CLIENT_SECRET", SECRET),
            ("AZURE_AUTHORITY_HOST", &tokens.url()),
        ],
    );
    up.assert_code(2);
    assert_eq!(up.stderr.lines().count(), 1, "{}", up.stderr);
    assert!(up.stderr.starts_with("s3sync: error: "), "{}", up.stderr);
    assert!(up.stderr.contains("https"), "{}", up.stderr);
    assert_no_secret(&up, &[SECRET]);
    assert!(tokens.seen().is_empty(), "a token was fetched for http");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tokens_go_only_to_storage_domains_unless_trusted() {
    let secure = secure();
    let tokens = token_server(jwt(STORAGE));
    let dir = std::env::temp_dir().join(common::unique("entra-trust"));
    write_file(&dir.join("src/x"), b"x");
    let ca = s(&secure.ca);
    let authority = tokens.url();
    let env = [
        ("AWS_CA_BUNDLE", ca.as_str()),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", SECRET),
        ("AZURE_AUTHORITY_HOST", authority.as_str()),
    ];
    // 127.0.0.1 is no Azure Storage domain: refused before any token is fetched.
    let up = run(&[s(&dir.join("src")), url("trusted", "")], &env);
    up.assert_code(2);
    assert_eq!(up.stderr.lines().count(), 1, "{}", up.stderr);
    assert!(
        up.stderr.starts_with("s3sync: error: ")
            && up.stderr.contains("--trusted-microsoft-suffixes"),
        "{}",
        up.stderr
    );
    assert!(tokens.seen().is_empty());
    // Another suffix does not trust it either.
    let other = run(
        &[
            "--trusted-microsoft-suffixes=*.contoso.example".into(),
            s(&dir.join("src")),
            url("trusted", ""),
        ],
        &env,
    );
    other.assert_code(2);
    assert!(tokens.seen().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
