//! `credential_process`: a profile's command that prints credentials as JSON (Version 1):
//! `{"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...,
//! "Expiration": "2030-01-01T00:00:00Z"}`. It runs through the shell (`sh -c`, `cmd /C` on
//! Windows) as the AWS SDKs do; its standard input and error are the user's (tools such as
//! aws-vault prompt there), its standard output is read and never shown.

use std::process::{Command, Stdio};

use super::json::{self, Value};
use super::{CredentialError, Credentials, Expiring, Provider, parse_expiry};

pub struct CredentialProcess {
    pub profile: String,
    pub command: String,
}

impl Provider for CredentialProcess {
    fn name(&self) -> String {
        format!("credential_process of profile '{}'", self.profile)
    }

    fn fetch(&self) -> Result<Expiring, CredentialError> {
        let fail = |message: String| CredentialError::new(self.name(), message);
        let mut command = shell(&self.command);
        let output = command
            .stdin(Stdio::inherit())
            .stderr(Stdio::inherit())
            .stdout(Stdio::piped())
            .output()
            .map_err(|e| fail(format!("cannot run the command: {e}")))?;
        if !output.status.success() {
            let status = output
                .status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
            return Err(fail(format!(
                "the command exited with {status}; run it by hand to see why"
            )));
        }
        let text = String::from_utf8(output.stdout)
            .map_err(|_| fail("the command's output is not UTF-8".into()))?;
        parse_output(&text).map_err(fail)
    }
}

#[cfg(not(windows))]
fn shell(command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(command);
    c
}

#[cfg(windows)]
fn shell(command: &str) -> Command {
    let mut c = Command::new("cmd.exe");
    c.arg("/C").arg(command);
    c
}

/// Reads the Version 1 document. Messages name fields, never values.
pub fn parse_output(text: &str) -> Result<Expiring, String> {
    let doc = json::parse(text).map_err(|e| {
        format!("its output is not the JSON document credential_process must print ({e})")
    })?;
    match doc.get("Version") {
        Some(Value::Number(n)) if n == "1" => {}
        _ => return Err("its output must have \"Version\": 1".into()),
    }
    let field = |name: &str| {
        doc.str(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("its output has no \"{name}\" string"))
    };
    let expiry = match doc.get("Expiration") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_expiry(s).ok_or_else(|| {
            "its \"Expiration\" is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)".to_string()
        })?),
        Some(_) => return Err("its \"Expiration\" must be a string".into()),
    };
    Ok(Expiring::new(
        Credentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: doc
                .str("SessionToken")
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        },
        expiry,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_1() {
        let ok = parse_output(
            r#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"sk","SessionToken":"tk",
                "Expiration":"2030-01-01T00:00:00Z"}"#,
        );
        let ok = ok.map(|e| (e.credentials.session_token.clone(), e.expiry.is_some()));
        assert_eq!(ok, Ok((Some("tk".into()), true)));
        let no_expiry = parse_output(r#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"s"}"#);
        assert!(no_expiry.is_ok_and(|e| e.expiry.is_none()));
        for (bad, says) in [
            (
                r#"{"Version":2,"AccessKeyId":"AK","SecretAccessKey":"s"}"#,
                "Version",
            ),
            (r#"{"Version":1,"SecretAccessKey":"hush"}"#, "AccessKeyId"),
            (
                r#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"hush","Expiration":"soon"}"#,
                "Expiration",
            ),
            ("hush hush", "JSON"),
        ] {
            let err = parse_output(bad).err().unwrap_or_default();
            assert!(err.contains(says) && !err.contains("hush"), "{bad}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn runs_the_command_and_reports_failures_without_output() {
        let ok = CredentialProcess {
            profile: "p".into(),
            command: r#"printf '{"Version": 1, "AccessKeyId": "AKP", "SecretAccessKey": "s"}'"#
                .into(),
        };
        assert_eq!(
            ok.fetch().map(|e| e.credentials.access_key_id.clone()),
            Ok("AKP".into())
        );
        let failing = CredentialProcess {
            profile: "p".into(),
            command: "echo topsecret; exit 3".into(),
        };
        let err = failing
            .fetch()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("status 3") && err.contains("profile 'p'"),
            "{err}"
        );
        assert!(!err.contains("topsecret"));
    }
}
