//! Shared by the end-to-end tests: a real server on a loopback port and a small HTTP client.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use tokio::{net::TcpListener, sync::oneshot};
use twiml_edge_server::{App, Config, signature};
use twiml_edge_store::{AccountUpdate, SqliteStore, prelude::*};

/// The repository root, where `templates/` and `tests/` live.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `scripts/build-guests.sh` writes the guest components (`TWIML_EDGE_GUESTS` overrides).
pub(crate) fn guests_dir() -> PathBuf {
    let dir = std::env::var_os("TWIML_EDGE_GUESTS")
        .map_or_else(|| repo_root().join("target/guests"), PathBuf::from);
    assert!(
        dir.join("pstn-dial.wasm").exists(),
        "no guests in {dir:?}: run scripts/build-guests.sh first"
    );
    dir
}

/// The Python with twilio-python that `scripts/test.sh` installs in `target/python`
/// (`TWIML_EDGE_PYTHON` overrides).
pub(crate) fn python() -> PathBuf {
    let python = std::env::var_os("TWIML_EDGE_PYTHON").map_or_else(
        || repo_root().join("target/python/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "no {python:?}: run scripts/test.sh, which installs twilio-python there"
    );
    python
}

/// Runs `tests/compat/{script}` with twilio-python, isolated from the environment's Python
/// settings (`-I`: no `PYTHONOPTIMIZE`, no user site), with `env` set. Returns its standard
/// output once it exited successfully and its last line is `done`: a script that stopped early
/// cannot pass.
pub(crate) async fn run_python(script: &str, env: &[(&str, &str)]) -> String {
    let output = tokio::process::Command::new(python())
        .arg("-I")
        .arg(repo_root().join("tests/compat").join(script))
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.lines().last() == Some(done_line(script).as_str()),
        "{script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The last line every script of `tests/compat` prints when all its checks passed.
fn done_line(script: &str) -> String {
    format!("{script}: all checks passed")
}

/// A server bound to `127.0.0.1:0`, stopped gracefully when dropped.
#[derive(Debug)]
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// The store made for this server, removed with it.
    _data: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Serves `config` on a fresh loopback port, with a fresh store unless `config.data` names one.
    pub(crate) async fn start(mut config: Config) -> Self {
        let data = (config.data == Config::default().data).then(|| tempfile::tempdir().unwrap());
        if let Some(dir) = &data {
            config.data = dir.path().to_path_buf();
        }
        let app = App::new(config).expect("the test configuration compiles");
        let mut server = Self::serve(app).await;
        server._data = data;
        server
    }

    /// Serves `app` on a fresh loopback port.
    pub(crate) async fn serve(app: App) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(twiml_edge_server::serve(listener, app, async {
            stopped.await.ok();
        }));
        Self {
            addr,
            stop: Some(stop),
            _data: None,
        }
    }

    /// Serves the shipped `templates/` on a fresh store holding one account per entry of
    /// `signed` (whether it checks webhook signatures), `configure` adjusting the rest.
    pub(crate) async fn with_accounts(
        signed: &[bool],
        configure: impl FnOnce(Config) -> Config,
    ) -> (Self, Vec<TestAccount>, tempfile::TempDir) {
        let data = tempfile::tempdir().unwrap();
        let accounts = signed
            .iter()
            .map(|&validate| TestAccount::create(data.path(), validate))
            .collect();
        let config = configure(Config {
            templates: repo_root().join("templates"),
            data: data.path().to_path_buf(),
            ..Config::default()
        });
        (Self::start(config).await, accounts, data)
    }

    /// Serves the shipped `templates/` with default limits.
    pub(crate) async fn shipped() -> Self {
        Self::start(Config {
            templates: repo_root().join("templates"),
            ..Config::default()
        })
        .await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends one request; `content_type` is set when given.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Answer {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("content-type", ct))
            .into_iter()
            .collect();
        self.request(method, path, &headers, body).await
    }

    /// Sends one request with `headers`.
    pub(crate) async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        send_to(&self.url(path), method, headers, body.into()).await
    }

    /// Posts `params` as a webhook signed with `token` for the URL the server sees.
    pub(crate) async fn signed_post(
        &self,
        path: &str,
        token: &str,
        params: &[(String, String)],
    ) -> Answer {
        signed_post_to(&self.url(path), token, params).await
    }

    /// The management API as `account`.
    pub(crate) fn api<'a>(&'a self, account: &'a TestAccount) -> Api<'a> {
        Api {
            server: self,
            account,
        }
    }

    /// Posts form parameters the way the SIP engine does.
    pub(crate) async fn post_form(&self, path: &str, params: &[(String, String)]) -> Answer {
        self.send("POST", path, Some(FORM), encode(params)).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// The wall-clock limit of tests whose looping guest must end at its CPU deadline
/// (`function_deadline`): a tick counts only while the guest runs, so on a loaded machine a
/// few seconds of CPU take longer than the default 10 s of wall time, which would end it first.
pub(crate) const UNHURRIED_WALL_TIME: std::time::Duration = std::time::Duration::from_secs(600);

/// Posts `params` to the absolute `url` as a webhook signed with `token`.
pub(crate) async fn signed_post_to(url: &str, token: &str, params: &[(String, String)]) -> Answer {
    let body = encode(params);
    let signature = signature::sign(token, url, signature::Body::Form(body.as_bytes()));
    send_to(
        url,
        "POST",
        &[("content-type", FORM), ("x-twilio-signature", &signature)],
        body.into(),
    )
    .await
}

/// Waits until `condition` holds, failing the test after 10 s with `what`.
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "never true: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The `calls` of the call log at `rest` (under the account), once it holds at least `n`: the
/// log is written by a thread of its own.
pub(crate) async fn wait_for_calls(
    server: &TestServer,
    account: &TestAccount,
    rest: &str,
    n: usize,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = server.api(account).get(rest).await.json(200);
        let calls = log["calls"].as_array().unwrap().clone();
        if calls.len() >= n {
            return calls;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the call log at {rest} never got {n} entries"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Sends one request to an absolute URL.
pub(crate) async fn send_to(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Answer {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The body as text (lossy for binary bodies; see `bytes`).
    pub(crate) body: String,
    pub(crate) bytes: Bytes,
}

impl Answer {
    /// The JSON body, after checking the status.
    pub(crate) fn json(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The Twilio-shaped API error, after checking its status and code.
    pub(crate) fn api_error(&self, status: u16, code: u32) -> serde_json::Value {
        let json = self.json(status);
        assert_eq!(json["status"], status, "{json}");
        assert_eq!(json["code"], code, "{json}");
        assert_eq!(
            json["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}"),
            "{json}"
        );
        assert!(json["message"].is_string(), "{json}");
        json
    }

    /// The JSON error body, after checking it has the documented shape.
    pub(crate) fn error(&self) -> serde_json::Value {
        let json: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {}", self.body));
        assert_eq!(json["status"], self.status.as_u16(), "{json}");
        assert!(json["code"].is_string(), "{json}");
        assert!(json["message"].is_string(), "{json}");
        json
    }

    /// Asserts a webhook error answer with `status` and returns its `code`.
    pub(crate) fn api_error_code(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        self.error()["code"].as_str().unwrap().to_owned()
    }

    /// Asserts a 200 TwiML answer and returns it.
    pub(crate) fn twiml(&self) -> &str {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.headers["content-type"], "text/xml; charset=utf-8");
        &self.body
    }
}

pub(crate) fn encode(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// The realistic SIP webhook of `tests/cases/webhook.form`.
pub(crate) fn sip_webhook() -> Vec<(String, String)> {
    parse_params(&std::fs::read_to_string(repo_root().join("tests/cases/webhook.form")).unwrap())
}

/// `Name=value` lines (not URL-encoded); `#` lines and blank lines are skipped.
pub(crate) fn parse_params(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (n, v) = l.split_once('=').unwrap_or((l, ""));
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

/// `base` with every parameter `overrides` names replaced by the override's values.
pub(crate) fn with_overrides(
    base: &[(String, String)],
    overrides: &[(String, String)],
) -> Vec<(String, String)> {
    let mut params: Vec<_> = base
        .iter()
        .filter(|(n, _)| !overrides.iter().any(|(o, _)| o == n))
        .cloned()
        .collect();
    params.extend(overrides.iter().cloned());
    params
}

/// Runs every `*.case` file of `dir` against `server` and returns the paths they covered.
///
/// A case is one request and its whole expected answer:
/// ```text
/// # what the case shows
/// POST /bins/NAME?query
/// Name=value lines replacing those of tests/cases/webhook.form
/// ----
/// the whole TwiML answer
/// ```
/// or, after `----`, an error: `STATUS code` on one line and a fragment of the message on the
/// next (`500 function_deadline` / `exceeded its 100 ms CPU deadline`).
pub(crate) async fn run_cases(
    server: &TestServer,
    dir: &Path,
) -> std::collections::BTreeSet<String> {
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {dir:?}");
    let mut covered = std::collections::BTreeSet::new();
    for path in cases {
        let text = std::fs::read_to_string(&path).unwrap();
        let (request, expected) = text.split_once("\n----\n").expect("a ---- line");
        let mut lines = request.lines().filter(|l| !l.starts_with('#'));
        let (method, target) = lines.next().unwrap().split_once(' ').unwrap();
        let params = with_overrides(
            &sip_webhook(),
            &parse_params(&lines.collect::<Vec<_>>().join("\n")),
        );
        let answer = match method {
            "POST" => server.post_form(target, &params).await,
            "GET" => {
                let sep = if target.contains('?') { '&' } else { '?' };
                let target = format!("{target}{sep}{}", encode(&params));
                server.send("GET", &target, None, "").await
            }
            other => panic!("{path:?}: unsupported method {other}"),
        };
        let expected = expected.trim_end();
        let error = expected
            .split_once('\n')
            .and_then(|(head, message)| Some((head.split_once(' ')?, message)))
            .filter(|((status, _), _)| status.len() == 3 && status.parse::<u16>().is_ok());
        match error {
            Some(((status, code), message)) => {
                assert_eq!(
                    answer.status.as_str(),
                    status,
                    "case {path:?}: {}",
                    answer.body
                );
                let json = answer.error();
                assert_eq!(json["code"], code, "case {path:?}: {json}");
                let text = json["message"].as_str().unwrap();
                assert!(
                    text.contains(message),
                    "case {path:?}: {text:?} lacks {message:?}"
                );
            }
            None => assert_eq!(answer.twiml(), expected, "case {path:?}"),
        }
        covered.insert(target.split('?').next().unwrap().to_owned());
    }
    covered
}

/// An account made in a store before the server starts.
#[derive(Debug, Clone)]
pub(crate) struct TestAccount {
    pub(crate) sid: String,
    pub(crate) token: String,
}

impl TestAccount {
    /// A new account in the store under `data`.
    pub(crate) fn create(data: &Path, validate_signatures: bool) -> Self {
        let store = SqliteStore::open(data).unwrap();
        let account = store.create_account("test").unwrap();
        if !validate_signatures {
            let update = AccountUpdate {
                validate_signatures: Some(false),
                ..AccountUpdate::default()
            };
            store.update_account(&account.sid, &update).unwrap();
        }
        Self {
            sid: account.sid,
            token: account.auth_token,
        }
    }

    /// `Authorization: Basic ...` for this account.
    pub(crate) fn basic(&self) -> String {
        let credentials = format!("{}:{}", self.sid, self.token);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }
}

/// The management API of a test server, as one account.
#[derive(Debug)]
pub(crate) struct Api<'a> {
    pub(crate) server: &'a TestServer,
    pub(crate) account: &'a TestAccount,
}

impl Api<'_> {
    /// `/2010-04-01/Accounts/{sid}{rest}`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/2010-04-01/Accounts/{}{rest}", self.account.sid)
    }

    pub(crate) async fn get(&self, rest: &str) -> Answer {
        let auth = self.account.basic();
        self.server
            .request("GET", &self.path(rest), &[("authorization", &auth)], "")
            .await
    }

    pub(crate) async fn delete(&self, rest: &str) -> Answer {
        let auth = self.account.basic();
        self.server
            .request("DELETE", &self.path(rest), &[("authorization", &auth)], "")
            .await
    }

    pub(crate) async fn post(&self, rest: &str, params: &[(&str, &str)]) -> Answer {
        let auth = self.account.basic();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.server
            .request(
                "POST",
                &self.path(rest),
                &[("authorization", &auth), ("content-type", FORM)],
                body,
            )
            .await
    }

    /// Uploads `wasm` to `rest` (`/Functions.json?FriendlyName=x` or `/Functions/ZH...json`).
    pub(crate) async fn upload(&self, rest: &str, wasm: Vec<u8>) -> Answer {
        let auth = self.account.basic();
        self.server
            .request(
                "POST",
                &self.path(rest),
                &[
                    ("authorization", &auth),
                    ("content-type", "application/wasm"),
                ],
                wasm,
            )
            .await
    }
}

/// A guest component built by `scripts/build-guests.sh`.
pub(crate) fn guest(name: &str) -> Vec<u8> {
    std::fs::read(guests_dir().join(format!("{name}.wasm"))).unwrap()
}

/// A guest the runtime must refuse, kept out of the served folder by `scripts/build-guests.sh`.
pub(crate) fn refused_guest(name: &str) -> Vec<u8> {
    std::fs::read(
        guests_dir()
            .join("refused")
            .join(format!("refused-{name}.wasm")),
    )
    .unwrap()
}

/// Starts `twiml-edge serve --listen 127.0.0.1:0` with `args`, and returns it with its base URL
/// once it says where it listens.
pub(crate) fn serve_binary(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("twiml-edge listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// Sends `signal` (`TERM`, `INT`) to `child`.
pub(crate) fn signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits for `child` to exit, failing the test after `within`.
pub(crate) fn wait_exit(
    child: &mut std::process::Child,
    within: std::time::Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process {} still runs after {within:?}",
            child.id()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Sends SIGTERM to `child` and waits for it to exit, failing the test after `within`.
pub(crate) fn terminate(
    child: &mut std::process::Child,
    within: std::time::Duration,
) -> std::process::ExitStatus {
    signal(child, "TERM");
    wait_exit(child, within)
}
