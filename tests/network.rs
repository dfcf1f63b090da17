//! How connections leave: HTTP CONNECT proxies with basic auth and NO_PROXY, the CA bundle
//! for https endpoints, and anonymous requests. A CONNECT proxy written here records each
//! tunnel; a moto server of its own serves https with a certificate from a test CA.

mod common;

use common::standin::{ConnectProxy, StandIn, credential_json};
use common::{ACCESS_KEY, Kind, RecordingProxy, Run, SECRET_KEY, World, server, write_file};
use s3sync::s3::Client;
use s3sync::s3::endpoint::Endpoint;
use s3sync::s3::network::{Network, ProxyEnv};
use s3sync::util::encoding::base64;

fn upload(w: &World, endpoint: &str, with_keys: bool, env: &[(&str, &str)]) -> Run {
    let mut args: Vec<String> = vec![
        "-vvv".into(),
        "--target-endpoint-url".into(),
        endpoint.into(),
        "--target-force-path-style".into(),
    ];
    if with_keys {
        args.extend([
            "--target-access-key".into(),
            ACCESS_KEY.into(),
            "--target-secret-access-key".into(),
            SECRET_KEY.into(),
        ]);
    }
    args.push(w.path("src").display().to_string());
    args.push(w.url("p/"));
    common::run(&args, env)
}

fn printed(run: &Run, text: &str) -> bool {
    run.stdout.contains(text) || run.stderr.contains(text)
}

#[test]
fn connect_proxy_with_basic_auth_and_no_proxy_bypass() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/a"), b"through the proxy");
    // The password is percent-encoded in the URL and sent decoded.
    let expected = format!("Basic {}", base64(b"s3user:pr0xy@pa55"));
    let proxy = ConnectProxy::start(Some(expected.clone()));
    let proxy_url = format!("http://s3user:pr0xy%40pa55@127.0.0.1:{}", proxy.port);
    // Credentials from an instance metadata stand-in: that service goes through the proxy too.
    let imds = StandIn::start(|req, _| match req.target.as_str() {
        "/latest/api/token" => (200, "t".into()),
        "/latest/meta-data/iam/security-credentials/" => (200, "role".into()),
        _ => (200, credential_json(ACCESS_KEY, SECRET_KEY, "tok", 3600)),
    });
    let imds_url = imds.url();
    let s3_port = server(Kind::S3sFs).port();
    let mut env = vec![
        ("HTTP_PROXY", proxy_url.as_str()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_url.as_str()),
    ];
    let run = upload(&w, w.endpoint(), false, &env);
    run.assert_code(0);
    assert_eq!(w.get("p/a"), b"through the proxy");
    let tunnels = proxy.tunnels();
    let targets: Vec<&str> = tunnels.iter().map(|t| t.target.as_str()).collect();
    assert!(
        targets.contains(&format!("127.0.0.1:{s3_port}").as_str()),
        "{targets:?}"
    );
    assert!(
        targets.contains(&format!("127.0.0.1:{}", imds.port).as_str()),
        "{targets:?}"
    );
    assert!(
        tunnels
            .iter()
            .all(|t| t.proxy_authorization.as_deref() == Some(expected.as_str())),
        "{tunnels:?}"
    );
    assert!(!printed(&run, "pr0xy@pa55") && !printed(&run, "pr0xy%40pa55"));

    // NO_PROXY: the same run connects directly; the proxy sees nothing new.
    let before = proxy.tunnels().len();
    write_file(&w.path("src/b"), b"direct");
    env.push(("NO_PROXY", "localhost,127.0.0.0/8"));
    let run = upload(&w, w.endpoint(), false, &env);
    run.assert_code(0);
    assert_eq!(w.get("p/b"), b"direct");
    assert_eq!(proxy.tunnels().len(), before);

    // A wrong password: the proxy's 407, one line, no password.
    let wrong = format!("http://s3user:wrong-pa55@127.0.0.1:{}", proxy.port);
    let run = upload(
        &w,
        w.endpoint(),
        true,
        &[("https_proxy", "http://unused:1"), ("http_proxy", &wrong)],
    );
    run.assert_code(1);
    assert!(run.stderr.contains("407"), "{}", run.stderr);
    assert!(!printed(&run, "wrong-pa55"));
}

#[test]
fn bad_proxy_and_ca_settings_exit_2_without_their_values() {
    let d = std::env::temp_dir().display().to_string();
    let args = vec![d.clone(), "s3://bucket/p".to_string()];
    let not_pem = write_file(
        &std::env::temp_dir()
            .join(common::unique("ca"))
            .join("x.pem"),
        b"no",
    );
    let not_pem = not_pem.display().to_string();
    let cases = [
        ("HTTPS_PROXY", "socks5://u:socks-secret@h:1", "HTTPS_PROXY"),
        ("HTTP_PROXY", "http://u:bad-secret@[::1", "HTTP_PROXY"),
        ("AWS_CA_BUNDLE", not_pem.as_str(), "AWS_CA_BUNDLE"),
    ];
    for (var, value, says) in cases {
        let run = common::run(
            &args,
            &[
                (var, value),
                ("AWS_ACCESS_KEY_ID", "a"),
                ("AWS_SECRET_ACCESS_KEY", "b"),
                ("AWS_REGION", "us-east-1"),
            ],
        );
        assert_eq!(run.code, 2, "{var}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(!printed(&run, "secret"), "{}", run.stderr);
    }
    // Without an S3 side, the network settings play no part.
    let dir = std::env::temp_dir().join(common::unique("local"));
    write_file(&dir.join("src/f"), b"local");
    let local = vec![
        dir.join("src").display().to_string(),
        dir.join("dst").display().to_string(),
    ];
    common::run(&local, &[("HTTPS_PROXY", "socks5://h:1")]).assert_code(0);
    assert_eq!(
        std::fs::read(dir.join("dst/f")).unwrap_or_default(),
        b"local"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn https_endpoint_needs_the_ca_bundle_and_uses_https_proxy() {
    let dir = std::env::temp_dir().join(common::unique("tls"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    common::tls::make_test_ca(&dir);
    let tls = common::tls::start_moto_https(&dir.join("server.pem"), &dir.join("server.key"));
    let ca = dir.join("ca.pem");
    // The library path: a client trusting the test CA creates the bucket.
    let mut config = common::client(Kind::Moto).config().clone();
    config.endpoint = Endpoint::parse(&tls.endpoint).unwrap_or_else(|e| panic!("{e}"));
    config.network =
        Network::new(&ProxyEnv::default(), Some(&ca)).unwrap_or_else(|e| panic!("{e}"));
    let client = Client::new(config);
    let bucket = common::unique("tls").to_lowercase();
    client
        .create_bucket(&bucket)
        .unwrap_or_else(|e| panic!("CreateBucket over https: {e}"));

    write_file(&dir.join("src/f"), b"over tls");
    let run_with = |env: &[(&str, &str)]| {
        let args: Vec<String> = vec![
            "-vvv".into(),
            "--target-endpoint-url".into(),
            tls.endpoint.clone(),
            "--target-access-key".into(),
            ACCESS_KEY.into(),
            "--target-secret-access-key".into(),
            SECRET_KEY.into(),
            dir.join("src").display().to_string(),
            format!("s3://{bucket}/x/"),
        ];
        common::run(&args, env)
    };
    // Without the bundle the certificate is not trusted: no way around verification.
    let started = std::time::Instant::now();
    let run = run_with(&[]);
    run.assert_code(1);
    // A certificate that is not trusted is not retried.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(run.stderr.contains("AWS_CA_BUNDLE"), "{}", run.stderr);
    assert!(
        run.stderr.to_ascii_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );

    // With it, through HTTPS_PROXY (HTTP_PROXY points nowhere: it is for http only).
    let proxy = ConnectProxy::start(None);
    let ca_text = ca.display().to_string();
    let https_proxy = format!("http://127.0.0.1:{}", proxy.port);
    let run = run_with(&[
        ("AWS_CA_BUNDLE", ca_text.as_str()),
        ("HTTPS_PROXY", https_proxy.as_str()),
        ("HTTP_PROXY", "http://127.0.0.1:1"),
    ]);
    run.assert_code(0);
    let tls_port = tls.port();
    assert!(
        proxy
            .tunnels()
            .iter()
            .any(|t| t.target == format!("127.0.0.1:{tls_port}")),
        "{:?}",
        proxy.tunnels()
    );
    let head = client
        .head_object(&bucket, "x/f")
        .unwrap_or_else(|e| panic!("HEAD over https: {e}"));
    assert_eq!(head.map(|h| h.size), Some(8));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_sign_request_sends_anonymous_requests() {
    let m = World::new(Kind::Moto);
    // moto applies ACLs to anonymous requests: the object is public-read.
    m.put_with("pub/a", b"public", &[("x-amz-acl", "public-read")]);
    let proxy = RecordingProxy::start(server(Kind::Moto).port());
    let out = m.path("out");
    let args: Vec<String> = vec![
        "--source-endpoint-url".into(),
        proxy.endpoint(),
        "--source-force-path-style".into(),
        "--source-no-sign-request".into(),
        m.url("pub/"),
        out.display().to_string(),
    ];
    // Keys in the environment are not used.
    let run = common::run(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIANOTUSED"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    );
    run.assert_code(0);
    assert_eq!(std::fs::read(out.join("a")).unwrap_or_default(), b"public");
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(sent.contains("get /"), "{sent}");
    assert!(
        !sent.contains("authorization:") && !sent.contains("akianotused"),
        "{sent}"
    );

    // s3s-fs wants signatures: the anonymous listing is refused.
    let w = World::new(Kind::S3sFs);
    w.put("a", b"private");
    let args: Vec<String> = vec![
        "--source-endpoint-url".into(),
        w.endpoint().into(),
        "--source-no-sign-request".into(),
        w.url(""),
        w.path("out").display().to_string(),
    ];
    let run = common::run(&args, &[]);
    run.assert_code(1);
    assert!(run.stderr.contains("AccessDenied"), "{}", run.stderr);
    assert!(!w.path("out/a").exists());
}
