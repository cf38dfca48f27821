//! The production (non-dev) server: configuration from `callvault.toml`, TLS with rustls,
//! and refusals at start-up that name the setting at fault.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test CA (`ca.pem`) and a server certificate for 127.0.0.1 signed by it
/// (`cert.pem`, `key.pem`): rustls refuses a CA certificate used as the server's own.
fn self_signed(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=callvault test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
}

fn generate_root_key(path: &Path) {
    let out = Command::new(common::bin())
        .args(["keys", "generate", "--out"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_configured_certificate_serves_https_only() {
    let dir = tempfile::tempdir().unwrap();
    self_signed(dir.path());
    generate_root_key(&dir.path().join("root.key"));
    let port = free_port();
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{data}\"\n[tls]\ncert = \"{d}/cert.pem\"\nkey = \"{d}/key.pem\"\n[keys]\nroot_key_file = \"{d}/root.key\"\n",
        data = dir.path().join("data").display(),
        d = dir.path().display()
    );
    std::fs::write(dir.path().join("callvault.toml"), config).unwrap();
    let mut child = Command::new(common::bin())
        .args(["server", "--config"])
        .arg(dir.path().join("callvault.toml"))
        .env("CALLVAULT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let cert =
        reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("ca.pem")).unwrap()).unwrap();
    let https = reqwest::blocking::Client::builder()
        .add_root_certificate(cert)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ok = false;
    while Instant::now() < deadline {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server exited during start-up"
        );
        if https
            .get(format!("https://127.0.0.1:{port}/v1/health"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let plain = reqwest::blocking::get(format!("http://127.0.0.1:{port}/v1/health"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "https health check never succeeded");
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP was answered"
    );
}

#[test]
fn plain_http_on_a_public_address_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    generate_root_key(&dir.path().join("root.key"));
    std::fs::write(
        dir.path().join("callvault.toml"),
        format!(
            "listen = \"0.0.0.0:{}\"\n[keys]\nroot_key_file = \"{}/root.key\"\n",
            free_port(),
            dir.path().display()
        ),
    )
    .unwrap();
    let out = Command::new(common::bin())
        .args(["server", "--config"])
        .arg(dir.path().join("callvault.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listen"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_setting_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("callvault.toml"),
        "lissen = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = Command::new(common::bin())
        .args(["server", "--config"])
        .arg(dir.path().join("callvault.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lissen"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_wrong_root_key_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    generate_root_key(&dir.path().join("a.key"));
    generate_root_key(&dir.path().join("b.key"));
    let run = |key: &str| {
        std::fs::write(
            dir.path().join("callvault.toml"),
            format!(
                "listen = \"127.0.0.1:{}\"\ndata_dir = \"{}/data\"\n[keys]\nroot_key_file = \"{}/{key}\"\n",
                free_port(),
                dir.path().display(),
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = Command::new(common::bin())
            .args(["server", "--config"])
            .arg(dir.path().join("callvault.toml"))
            .env("CALLVAULT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let exited = child.try_wait().unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        (exited, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (first, _) = run("a.key");
    assert!(
        first.is_none(),
        "the server should run with the key it was created with"
    );
    let (second, stderr) = run("b.key");
    assert!(
        second.is_some_and(|s| !s.success()),
        "a wrong root key must stop start-up"
    );
    assert!(stderr.contains("root key does not match"), "{stderr}");
}
