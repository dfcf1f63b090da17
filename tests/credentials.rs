//! The credential chain end to end, run as a user would: credential_process, EC2 instance
//! metadata (IMDSv2), the container endpoint, STS web identity and role chains, refresh of
//! expiring credentials, and failures. s3s-fs checks signatures, so a sync to it proves the
//! credentials reached the signer; moto answers STS. Local stand-ins play IMDS and the
//! container endpoint. Every run is at -vvv and its output is searched for the secrets.

mod common;

use common::standin::{StandIn, credential_json, in_secs};
use common::{ACCESS_KEY, Kind, RecordingProxy, Run, SECRET_KEY, World, server, write_file};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Syncs `w`'s `src/` to its bucket at `endpoint` with no credential flags, plus `extra`.
fn upload(w: &World, endpoint: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args: Vec<String> = vec![
        "-vvv".into(),
        "--target-endpoint-url".into(),
        endpoint.into(),
        "--target-force-path-style".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(w.path("src").display().to_string());
    args.push(w.url("up/"));
    common::run(&args, env)
}

/// None of `secrets` appears anywhere in what the run printed.
fn assert_secret_free(run: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !run.stdout.contains(s) && !run.stderr.contains(s),
            "secret {s:?} was printed:\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

/// The one `s3sync: error:` line of a failed run.
fn error_line(run: &Run) -> String {
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("s3sync: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{}", run.stderr);
    errors[0].to_string()
}

/// Values of `x-amz-security-token` headers in recorded traffic, in order.
fn session_tokens(sent: &str) -> Vec<String> {
    sent.split("\r\n")
        .filter_map(|l| l.strip_prefix("x-amz-security-token: "))
        .map(str::to_string)
        .collect()
}

fn files(w: &World, n: usize) {
    for i in 0..n {
        write_file(
            &w.path(&format!("src/f{i}")),
            format!("data {i}").as_bytes(),
        );
    }
}

#[test]
fn credential_process_keys_sign_requests() {
    let w = World::new(Kind::S3sFs);
    files(&w, 2);
    let doc = format!(
        "{{\"Version\": 1, \"AccessKeyId\": \"{ACCESS_KEY}\", \"SecretAccessKey\": \"{SECRET_KEY}\", \
         \"SessionToken\": \"process-session-token-1\", \"Expiration\": \"{}\"}}",
        in_secs(3600)
    );
    let creds = write_file(&w.path("creds.json"), doc.as_bytes());
    let wrong = write_file(
        &w.path("wrong.json"),
        doc.replace(SECRET_KEY, "wrong-secret-from-process")
            .as_bytes(),
    );
    let config = write_file(
        &w.path("aws/config"),
        format!(
            "[profile proc]\ncredential_process = cat {}\n[profile wrong]\ncredential_process = cat {}\n\
             [profile broken]\ncredential_process = sh -c 'echo process-stdout-secret; exit 3'\n",
            creds.display(),
            wrong.display()
        )
        .as_bytes(),
    );
    let config = config.display().to_string();
    let env = [("AWS_CONFIG_FILE", config.as_str())];
    let run = upload(&w, w.endpoint(), &["--target-profile", "proc"], &env);
    run.assert_code(0);
    assert_eq!(w.get("up/f0"), b"data 0");
    assert_eq!(w.get("up/f1"), b"data 1");
    assert_secret_free(&run, &[SECRET_KEY, "process-session-token-1"]);

    // Keys that are not the server's: refused, exit 1, one line.
    let w2 = World::new(Kind::S3sFs);
    files(&w2, 1);
    let run = upload(&w2, w2.endpoint(), &["--target-profile", "wrong"], &env);
    run.assert_code(1);
    let line = error_line(&run);
    assert!(line.contains("SignatureDoesNotMatch"), "{line}");
    assert!(w2.list("").is_empty());
    assert_secret_free(
        &run,
        &["wrong-secret-from-process", "process-session-token-1"],
    );

    // A failing process: named, with its status, without its output.
    let run = upload(&w2, w2.endpoint(), &["--target-profile", "broken"], &env);
    run.assert_code(1);
    let line = error_line(&run);
    assert!(
        line.contains("credential_process of profile 'broken'") && line.contains("status 3"),
        "{line}"
    );
    assert_secret_free(&run, &["process-stdout-secret"]);
}

#[test]
fn credential_process_credentials_are_refreshed_before_they_expire() {
    let w = World::new(Kind::S3sFs);
    files(&w, 3);
    let doc = |token: &str, secs: u64| {
        format!(
            "{{\"Version\": 1, \"AccessKeyId\": \"{ACCESS_KEY}\", \"SecretAccessKey\": \"{SECRET_KEY}\", \
             \"SessionToken\": \"{token}\", \"Expiration\": \"{}\"}}",
            in_secs(secs)
        )
    };
    // First answer: valid two more minutes, inside the five-minute refresh window.
    write_file(
        &w.path("first.json"),
        doc("refresh-token-one", 120).as_bytes(),
    );
    write_file(
        &w.path("second.json"),
        doc("refresh-token-two", 3600).as_bytes(),
    );
    let count = w.path("count");
    let script = write_file(
        &w.path("proc.sh"),
        format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}\n\
             if [ $n -eq 1 ]; then cat {d}/first.json; else cat {d}/second.json; fi\n",
            c = count.display(),
            d = w.dir.display()
        )
        .as_bytes(),
    );
    let config = write_file(
        &w.path("aws/config"),
        format!("[default]\ncredential_process = sh {}\n", script.display()).as_bytes(),
    );
    let proxy = RecordingProxy::start(server(Kind::S3sFs).port());
    let config = config.display().to_string();
    let run = upload(
        &w,
        &proxy.endpoint(),
        &["--worker-size", "1"],
        &[("AWS_CONFIG_FILE", config.as_str())],
    );
    run.assert_code(0);
    assert_eq!(w.list("up/").len(), 3);
    // The process ran twice: once at the start, once to replace the expiring credentials.
    let runs = std::fs::read_to_string(&count).unwrap_or_default();
    assert_eq!(runs.trim(), "2");
    let tokens = session_tokens(&proxy.sent());
    assert_eq!(
        tokens.first().map(String::as_str),
        Some("refresh-token-one"),
        "{tokens:?}"
    );
    assert_eq!(
        tokens.last().map(String::as_str),
        Some("refresh-token-two"),
        "{tokens:?}"
    );
    assert_eq!(
        tokens.iter().filter(|t| *t == "refresh-token-one").count(),
        1
    );
    assert_secret_free(
        &run,
        &[SECRET_KEY, "refresh-token-one", "refresh-token-two"],
    );
}

#[test]
fn both_sides_share_one_credential_source() {
    let (from, to) = (World::new(Kind::S3sFs), World::new(Kind::S3sFs));
    from.put("a", b"shared");
    from.put("b", b"identity");
    let doc = format!(
        "{{\"Version\": 1, \"AccessKeyId\": \"{ACCESS_KEY}\", \"SecretAccessKey\": \"{SECRET_KEY}\", \
         \"Expiration\": \"{}\"}}",
        in_secs(3600)
    );
    let creds = write_file(&from.path("creds.json"), doc.as_bytes());
    let count = from.path("count");
    let config = write_file(
        &from.path("config"),
        format!(
            "[default]\ncredential_process = sh -c 'echo x >> {}; cat {}'\n",
            count.display(),
            creds.display()
        )
        .as_bytes(),
    );
    let args: Vec<String> = vec![
        "--source-endpoint-url".into(),
        from.endpoint().into(),
        "--target-endpoint-url".into(),
        to.endpoint().into(),
        from.url(""),
        to.url(""),
    ];
    let config = config.display().to_string();
    common::run(&args, &[("AWS_CONFIG_FILE", config.as_str())]).assert_code(0);
    assert_eq!(to.get("a"), b"shared");
    assert_eq!(to.get("b"), b"identity");
    let runs = std::fs::read_to_string(&count).unwrap_or_default();
    assert_eq!(
        runs.lines().count(),
        1,
        "the process ran once for both sides"
    );
}

const IMDS_TOKEN: &str = "imds-session-token-secret";

/// An IMDSv2 stand-in serving role `s3sync-role`: the first credentials expire within the
/// refresh window, later ones in an hour.
fn imds_standin() -> (StandIn, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&fetches);
    let imds = StandIn::start(move |req, _| {
        let path = "/latest/meta-data/iam/security-credentials/";
        if req.method == "PUT" && req.target == "/latest/api/token" {
            return match req.header("x-aws-ec2-metadata-token-ttl-seconds") {
                Some(_) => (200, IMDS_TOKEN.into()),
                None => (400, String::new()),
            };
        }
        if req.header("x-aws-ec2-metadata-token") != Some(IMDS_TOKEN) {
            return (401, String::new());
        }
        match (req.method.as_str(), req.target.strip_prefix(path)) {
            ("GET", Some("")) => (200, "s3sync-role\n".into()),
            ("GET", Some("s3sync-role")) => {
                let (token, secs) = match count.fetch_add(1, Ordering::SeqCst) {
                    0 => ("imds-token-one", 90),
                    _ => ("imds-token-two", 3600),
                };
                (200, credential_json(ACCESS_KEY, SECRET_KEY, token, secs))
            }
            _ => (404, String::new()),
        }
    });
    (imds, fetches)
}

#[test]
fn instance_metadata_token_flow_and_refresh() {
    let w = World::new(Kind::S3sFs);
    files(&w, 3);
    let (imds, fetches) = imds_standin();
    let proxy = RecordingProxy::start(server(Kind::S3sFs).port());
    let endpoint = imds.url();
    let run = upload(
        &w,
        &proxy.endpoint(),
        &["--worker-size", "1"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.as_str())],
    );
    run.assert_code(0);
    assert_eq!(w.list("up/").len(), 3);
    let seen = imds.seen();
    // IMDSv2: a PUT for the token with its TTL header comes first, then GETs carrying it.
    assert_eq!(seen[0].method, "PUT", "{seen:?}");
    assert_eq!(
        seen[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert!(
        seen.len() > 1
            && seen[1..]
                .iter()
                .all(|r| r.method == "PUT"
                    || r.header("x-aws-ec2-metadata-token") == Some(IMDS_TOKEN)),
        "{seen:?}"
    );
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "fetched, then refreshed once"
    );
    let tokens = session_tokens(&proxy.sent());
    assert_eq!(
        tokens.first().map(String::as_str),
        Some("imds-token-one"),
        "{tokens:?}"
    );
    assert_eq!(
        tokens.last().map(String::as_str),
        Some("imds-token-two"),
        "{tokens:?}"
    );
    assert_secret_free(
        &run,
        &[SECRET_KEY, IMDS_TOKEN, "imds-token-one", "imds-token-two"],
    );
}

#[test]
fn unreachable_or_disabled_instance_metadata_is_a_clear_error() {
    let w = World::new(Kind::S3sFs);
    files(&w, 1);
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        l.local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let endpoint = format!("http://127.0.0.1:{closed}");
    let run = upload(
        &w,
        w.endpoint(),
        &[],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.as_str())],
    );
    run.assert_code(1);
    let line = error_line(&run);
    assert!(
        line.contains("EC2 instance metadata") && line.contains("not on EC2"),
        "{line}"
    );
    let run = upload(
        &w,
        w.endpoint(),
        &[],
        &[("AWS_EC2_METADATA_DISABLED", "true")],
    );
    run.assert_code(1);
    assert!(
        run.stderr.contains("no AWS credentials found"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(w.list("").is_empty());
}

#[test]
fn container_endpoint_with_authorization_token_file() {
    let w = World::new(Kind::S3sFs);
    files(&w, 2);
    let container = StandIn::start(|req, _| {
        if req.method != "GET" || req.target != "/v1/credentials" {
            return (404, String::new());
        }
        match req.header("authorization") {
            Some("container-auth-secret") => (
                200,
                credential_json(ACCESS_KEY, SECRET_KEY, "container-session-token", 3600),
            ),
            _ => (
                401,
                "{\"code\":\"Unauthorized\",\"message\":\"bad token\"}".into(),
            ),
        }
    });
    let token_file = write_file(&w.path("token"), b"container-auth-secret\n");
    let full_uri = format!("{}/v1/credentials", container.url());
    let token_path = token_file.display().to_string();
    let env = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full_uri.as_str()),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token_path.as_str(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let run = upload(&w, w.endpoint(), &[], &env);
    run.assert_code(0);
    assert_eq!(w.list("up/").len(), 2);
    let seen = container.seen();
    assert_eq!(
        seen.len(),
        1,
        "one fetch for credentials valid an hour: {seen:?}"
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some("container-auth-secret")
    );
    assert_secret_free(
        &run,
        &[
            SECRET_KEY,
            "container-auth-secret",
            "container-session-token",
        ],
    );

    // A wrong token: the endpoint's refusal, named.
    write_file(&token_file, b"not-the-container-token");
    let w2 = World::new(Kind::S3sFs);
    files(&w2, 1);
    let run = upload(&w2, w2.endpoint(), &[], &env);
    run.assert_code(1);
    let line = error_line(&run);
    assert!(
        line.contains("container credentials endpoint") && line.contains("HTTP 401"),
        "{line}"
    );
    assert_secret_free(&run, &["not-the-container-token"]);
}

/// The request (head and body) that contains `needle` in recorded traffic.
fn request_with<'a>(sent: &'a str, needle: &str) -> &'a str {
    let at = sent
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{sent}"));
    let start = sent[..at].rfind("POST / HTTP/1.1").unwrap_or(0);
    &sent[start..at + needle.len()]
}

#[test]
fn web_identity_from_the_environment_assumes_the_role_with_sts() {
    let w = World::new(Kind::Moto);
    files(&w, 1);
    let proxy = RecordingProxy::start(server(Kind::Moto).port());
    let token = write_file(&w.path("web-token"), b"web-identity-token-secret\n");
    let token = token.display().to_string();
    let endpoint = proxy.endpoint();
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.as_str()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"),
        ("AWS_ROLE_SESSION_NAME", "web-session"),
        ("AWS_ENDPOINT_URL_STS", endpoint.as_str()),
    ];
    let run = upload(&w, &endpoint, &[], &env);
    run.assert_code(0);
    assert_eq!(w.get("up/f0"), b"data 0");
    let sent = proxy.sent();
    let sts = request_with(&sent, "WebIdentityToken=web-identity-token-secret");
    assert!(sts.contains("Action=AssumeRoleWithWebIdentity"), "{sts}");
    assert!(sts.contains("RoleSessionName=web-session"), "{sts}");
    assert!(
        sts.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fweb"),
        "{sts}"
    );
    assert!(
        !sts.to_ascii_lowercase().contains("authorization:"),
        "unsigned: {sts}"
    );
    // The S3 requests are signed with the role's session credentials.
    assert!(sent.contains("Credential=ASIA"), "{sent}");
    assert!(!session_tokens(&sent).is_empty());
    assert_secret_free(&run, &["web-identity-token-secret", "FQoGZXIvYXdz"]);
}

#[test]
fn role_chains_through_source_profiles() {
    let w = World::new(Kind::Moto);
    files(&w, 1);
    let proxy = RecordingProxy::start(server(Kind::Moto).port());
    let credentials = write_file(
        &w.path("aws/credentials"),
        b"[base]\naws_access_key_id = AKIABASEKEYS3SYNC\naws_secret_access_key = base-secret-key-s3sync\n",
    );
    let long_name = "n".repeat(70);
    let config = write_file(
        &w.path("aws/config"),
        format!(
            "[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/middle\nsource_profile = base\n\
             [profile top]\nrole_arn = arn:aws:iam::123456789012:role/top\nsource_profile = middle\n\
             role_session_name = top-session\nexternal_id = ext-123\nduration_seconds = 1800\n\
             [profile refused]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n\
             role_session_name = {long_name}\n"
        )
        .as_bytes(),
    );
    let endpoint = proxy.endpoint();
    let (config, credentials) = (
        config.display().to_string(),
        credentials.display().to_string(),
    );
    let env = [
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ("AWS_ENDPOINT_URL_STS", endpoint.as_str()),
    ];
    let run = upload(&w, &endpoint, &["--target-profile", "top"], &env);
    run.assert_code(0);
    assert_eq!(w.get("up/f0"), b"data 0");
    let sent = proxy.sent();
    let middle = request_with(
        &sent,
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmiddle",
    );
    assert!(
        middle.contains("Credential=AKIABASEKEYS3SYNC/") && middle.contains("/sts/aws4_request"),
        "{middle}"
    );
    let top = request_with(
        &sent,
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftop",
    );
    assert!(
        top.contains("Credential=ASIA") && top.contains("x-amz-security-token: "),
        "{top}"
    );
    for param in [
        "RoleSessionName=top-session",
        "ExternalId=ext-123",
        "DurationSeconds=1800",
    ] {
        assert!(sent.contains(param), "{param} not sent:\n{sent}");
    }
    assert!(sent.find("role%2Fmiddle") < sent.find("role%2Ftop"));
    assert!(
        sent.contains("/s3/aws4_request") && sent.contains("PUT /"),
        "{sent}"
    );
    assert_secret_free(&run, &["base-secret-key-s3sync", "FQoGZXIvYXdz"]);

    // STS refusing the role: exit 1, one line naming the profile and STS's answer.
    let run = upload(&w, &endpoint, &["--target-profile", "refused"], &env);
    run.assert_code(1);
    let line = error_line(&run);
    assert!(
        line.contains("profile 'refused'")
            && line.contains("AssumeRole")
            && line.contains("ValidationError"),
        "{line}"
    );
}

#[test]
fn bad_credential_settings_exit_2() {
    let d = std::env::temp_dir().display().to_string();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (&["--target-access-key", "AK"], &[], "secret access key"),
        (
            &[],
            &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")],
            "AWS_ROLE_ARN",
        ),
        (&[], &[("AWS_PROFILE", "nowhere")], "'nowhere' not found"),
        (
            &["--target-no-sign-request", "--target-profile", "x"],
            &[],
            "--target-profile",
        ),
    ];
    for (extra, env, says) in cases {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.extend([d.clone(), "s3://bucket/p".to_string()]);
        let mut env = env.to_vec();
        env.push(("AWS_REGION", "us-east-1"));
        let run = common::run(&args, &env);
        assert_eq!(run.code, 2, "{extra:?} {env:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
}
