//! An https S3 server for the TLS tests: a test certificate authority and a moto server of
//! its own serving a certificate signed by it.

use std::path::Path;
use std::process::Command;

use super::{Kind, Server, free_port, spawn_guarded, tool, tools_dir, wait_for_port};

/// Writes a test certificate authority (`ca.pem`) and a server certificate for 127.0.0.1
/// signed by it (`server.pem`, `server.key`) into `dir`, with the `cryptography` package of
/// moto's environment (next to its `moto_server`).
pub fn make_test_ca(dir: &Path) {
    let moto = tool(
        "MOTO_SERVER_BIN",
        tools_dir().join("venv").join("bin").join("moto_server"),
    );
    let python = moto.with_file_name("python3");
    let script = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
ca_key = ec.generate_private_key(ec.SECP256R1())
ca = (x509.CertificateBuilder().subject_name(name("s3sync test CA")).issuer_name(name("s3sync test CA"))
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
          content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
          encipher_only=False, decipher_only=False), critical=True)
      .sign(ca_key, hashes.SHA256()))
key = ec.generate_private_key(ec.SECP256R1())
cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256()))
open(out + "/ca.pem", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open(out + "/server.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(out + "/server.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
"#;
    let status = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(status.success(), "generating the test certificates failed");
}

/// A moto server of its own over https, with `cert`/`key`.
pub fn start_moto_https(cert: &Path, key: &Path) -> Server {
    let bin = tool(
        "MOTO_SERVER_BIN",
        tools_dir().join("venv").join("bin").join("moto_server"),
    );
    let port = free_port();
    let log = std::env::temp_dir().join(format!("moto-https-{}-{port}.log", std::process::id()));
    let args: Vec<String> = vec![
        "-H".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-s".into(),
        "-c".into(),
        cert.display().to_string(),
        "-k".into(),
        key.display().to_string(),
    ];
    let child = spawn_guarded(&bin, &args, &log);
    wait_for_port(port, "moto_server (https)", &log);
    Server {
        kind: Kind::Moto,
        endpoint: format!("https://127.0.0.1:{port}"),
        _child: child,
        _data: None,
    }
}
