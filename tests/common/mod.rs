//! Shared helpers of the end-to-end tests: a real `callvault server --dev` process on a
//! free loopback port, its dev tokens, and paths into the shared corpus.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shared corpus directory (`../shared/corpus/dev`).
pub fn dev_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev")
}

/// The scorer script.
pub fn scorer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/score_redaction.py")
}

/// The callvault binary built for this test run.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_callvault")
}

/// A dev vault server running as a child process; killed on drop.
pub struct TestServer {
    child: Child,
    /// Its data directory (kept until drop).
    pub data: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// Dev tokens by principal name.
    pub tokens: BTreeMap<String, String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestServer {
    /// Starts a dev server with extra `CALLVAULT_SERVER__*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        Self::start_in(data, env)
    }

    /// Starts a dev server.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a dev server on an existing data directory.
    pub fn start_in(data: tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin());
        cmd.args(["server", "--dev", "--data"])
            .arg(data.path())
            .args(["--listen", &addr]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("CALLVAULT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("the callvault binary starts");
        let mut server = TestServer {
            child,
            data,
            addr: format!("http://{addr}"),
            tokens: BTreeMap::new(),
        };
        server.wait_ready();
        let creds = std::fs::read(server.data.path().join("dev-credentials.json")).unwrap();
        server.tokens = serde_json::from_slice(&creds).unwrap();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/v1/health", self.addr);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited during start-up: {status}");
            }
            if reqwest::blocking::get(&url).is_ok_and(|r| r.status().is_success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not become ready");
    }

    /// The token of a dev principal.
    pub fn token(&self, name: &str) -> &str {
        &self.tokens[name]
    }

    /// A `callvault` client command with this server's address and `who`'s token.
    pub fn cli(&self, who: &str) -> Command {
        let mut c = Command::new(bin());
        c.env("CALLVAULT_ADDR", &self.addr)
            .env("CALLVAULT_TOKEN", self.token(who));
        c
    }

    /// A blocking HTTP client.
    pub fn http(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
    }

    /// `GET path` as `who`.
    pub fn get(&self, who: &str, path: &str) -> reqwest::blocking::Response {
        self.http()
            .get(format!("{}{}", self.addr, path))
            .bearer_auth(self.token(who))
            .send()
            .unwrap()
    }

    /// Uploads dev-corpus calls (transcript and audio) as the recorder, through the CLI.
    pub fn ingest(&self, ids: &[&str]) {
        let mut cmd = self.cli("recorder");
        cmd.arg("ingest");
        for id in ids {
            cmd.arg(dev_corpus().join("calls").join(format!("{id}.json")));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `POST path` with a JSON body as `who`.
    pub fn post(
        &self,
        who: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::blocking::Response {
        self.http()
            .post(format!("{}{}", self.addr, path))
            .bearer_auth(self.token(who))
            .json(body)
            .send()
            .unwrap()
    }

    /// Has `who` request masked access to `calls` and `compliance` approve it; returns the
    /// request id.
    pub fn grant(&self, who: &str, calls: &[&str]) -> String {
        let r = self.post(
            who,
            "/v1/access-requests",
            &serde_json::json!({"call_ids": calls, "purpose": "test reads"}),
        );
        assert_eq!(r.status(), 201, "request");
        let id = r.json::<serde_json::Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = self.post(
            "compliance",
            &format!("/v1/access-requests/{id}/approve"),
            &serde_json::json!({"reason": "test"}),
        );
        assert_eq!(r.status(), 200, "approve");
        id
    }

    /// Stops the server (it is also stopped on drop).
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let data = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data, data)
    }

    /// Every regular file under the data directory.
    pub fn data_files(&self) -> Vec<PathBuf> {
        walk(self.data.path())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every regular file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A multipart upload: transcript bytes with a content type and file name, optional audio.
pub fn upload_form(
    transcript: Vec<u8>,
    mime: &str,
    name: &str,
    audio: Option<Vec<u8>>,
) -> reqwest::blocking::multipart::Form {
    use reqwest::blocking::multipart::{Form, Part};
    let mut form = Form::new().part(
        "transcript",
        Part::bytes(transcript)
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap(),
    );
    if let Some(a) = audio {
        form = form.part(
            "audio",
            Part::bytes(a)
                .file_name("audio.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    }
    form
}
