//! End-to-end: what the store promises across restarts and crashes.

use std::{
    path::Path,
    process::{Child, Command},
    time::Duration,
};

use crate::common::{FORM, TestAccount, TestServer, guest, repo_root, send_to, sip_webhook};
use sha2::{Digest, Sha256};
use twiml_edge_server::{App, Config};

fn config(data: &Path) -> Config {
    Config {
        templates: repo_root().join("templates"),
        functions: data.join("no-functions-folder"),
        data: data.to_path_buf(),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_serves_everything_again_without_recompiling() {
    let data = tempfile::tempdir().unwrap();
    let account = TestAccount::create(data.path(), true);
    let app = App::new(config(data.path())).unwrap();
    let server = TestServer::serve(app.clone()).await;
    let api = server.api(&account);
    let mut webhooks = Vec::new();
    for name in ["pstn-dial", "header-router"] {
        let function = api
            .upload(&format!("/Functions.json?FriendlyName={name}"), guest(name))
            .await
            .json(201);
        webhooks.push(function["webhook_url"].as_str().unwrap().to_owned());
    }
    let bin = api
        .post(
            "/TwimlBins.json",
            &[
                ("FriendlyName", "hello"),
                ("Template", "<Response><Say>{{From}}</Say></Response>"),
            ],
        )
        .await
        .json(201);
    webhooks.push(bin["webhook_url"].as_str().unwrap().to_owned());
    api.post(
        "/SIP/Domains.json",
        &[
            ("DomainName", "acme.sip.twilio.com"),
            ("VoiceUrl", &webhooks[0]),
        ],
    )
    .await
    .json(201);
    let paths: Vec<String> = webhooks
        .iter()
        .map(|url| {
            url.split_once(&server.addr.to_string())
                .unwrap()
                .1
                .to_owned()
        })
        .chain(["/voice/domains/acme.sip.twilio.com".to_owned()])
        .collect();
    let mut before = Vec::new();
    for path in &paths {
        before.push(
            server
                .signed_post(path, &account.token, &sip_webhook())
                .await
                .body,
        );
    }
    assert_eq!(app.sandbox().compile_counts(), (2, 0));
    drop(server);
    drop(app);

    let app = App::new(config(data.path())).unwrap();
    assert_eq!(
        app.sandbox().compile_counts(),
        (0, 2),
        "a restart loads compiled code instead of compiling"
    );
    let server = TestServer::serve(app).await;
    for (path, before) in paths.iter().zip(&before) {
        let after = server
            .signed_post(path, &account.token, &sip_webhook())
            .await;
        assert_eq!(&after.body, before, "{path}");
        assert_eq!(after.status, 200);
    }
    let api = server.api(&account);
    assert_eq!(
        api.get("/Functions.json").await.json(200)["functions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        api.get("/SIP/Domains.json").await.json(200)["domains"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Serves the shipped templates and the store in `data`, with the `twiml-edge` binary.
fn start_binary(data: &Path) -> (Child, String) {
    let templates = repo_root().join("templates");
    let functions = data.join("no-functions-folder");
    crate::common::serve_binary(&[
        "--templates".as_ref(),
        templates.as_os_str(),
        "--functions".as_ref(),
        functions.as_os_str(),
        "--data".as_ref(),
        data.as_os_str(),
    ])
}

/// `twiml-edge account create`, as an operator runs it.
fn create_account(data: &Path) -> TestAccount {
    let output = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args([
            "account",
            "create",
            "--friendly-name",
            "crash test",
            "--data",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {stdout:?}"))
    };
    TestAccount {
        sid: field("AccountSid:"),
        token: field("AuthToken:"),
    }
}

/// The guests the SIGKILL test uploads, function `f{i}` running guest `i % 4`.
const KILL_GUESTS: [&str; 4] = [
    "pstn-dial",
    "header-router",
    "sequential-dial",
    "big-answer",
];

/// What each of `KILL_GUESTS` answers `sip_webhook()`, as the guests folder serves it: the
/// status and the whole body every uploaded copy must give too.
async fn reference_answers() -> Vec<(u16, String)> {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        functions: crate::common::guests_dir(),
        ..config(data.path())
    })
    .await;
    let mut answers = Vec::new();
    for guest in KILL_GUESTS {
        let answer = server
            .post_form(&format!("/functions/{guest}"), &sip_webhook())
            .await;
        answers.push((answer.status.as_u16(), answer.body));
    }
    assert_eq!(answers[0].0, 200);
    assert_eq!(answers[3].0, 500, "big-answer is refused: {}", answers[3].1);
    answers
}

/// Calls the webhook `url` (as the API gives it) on the server at `base`, signed with `token`.
async fn call_webhook(base: &str, token: &str, url: &str) -> crate::common::Answer {
    let path = &url[url.find("/voice/").unwrap()..];
    crate::common::signed_post_to(&format!("{base}{path}"), token, &sip_webhook()).await
}

/// The management API of the server at `base`, as `account`.
async fn api_send(
    base: &str,
    account: &TestAccount,
    method: &str,
    rest: &str,
    form: &[(&str, &str)],
) -> crate::common::Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    send_to(
        &format!("{base}/2010-04-01/Accounts/{}{rest}", account.sid),
        method,
        &[("authorization", &account.basic()), ("content-type", FORM)],
        body.into(),
    )
    .await
}

/// Sends `request` on a connection that may die with the server: only a whole answer with
/// `status` is an acknowledgement, and gives its JSON.
async fn acknowledged(
    request: hyper::Request<http_body_util::Full<bytes::Bytes>>,
    status: u16,
) -> Option<serde_json::Value> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.ok()?;
    if response.status() != status {
        return None;
    }
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .ok()?;
    serde_json::from_slice(&body.to_bytes()).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_uploads_loses_no_acknowledged_upload_and_serves_no_torn_one() {
    let expected = reference_answers().await;
    let data = tempfile::tempdir().unwrap();
    let account = create_account(data.path());
    let (mut child, base) = start_binary(data.path());
    let auth = account.basic();
    let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel();
    let mut uploads = Vec::new();
    for i in 0..24 {
        let url = format!(
            "{base}/2010-04-01/Accounts/{}/Functions.json?FriendlyName=f{i}",
            account.sid
        );
        let request = hyper::Request::post(&url)
            .header("authorization", &auth)
            .header("content-type", "application/wasm")
            .body(http_body_util::Full::new(bytes::Bytes::from(guest(
                KILL_GUESTS[i % KILL_GUESTS.len()],
            ))))
            .unwrap();
        let acks = acks.clone();
        uploads.push(tokio::spawn(async move {
            if let Some(json) = acknowledged(request, 201).await {
                acks.send(json).ok();
            }
        }));
    }
    drop(acks);
    // Two uploads whose bodies stop halfway stay under way whatever the timing, so the kill
    // always lands during an upload (the others may all be done by then on a fast turn).
    let mut stalled = Vec::new();
    for name in ["stalled-1", "stalled-2"] {
        let wasm = guest(KILL_GUESTS[0]);
        let address = base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST /2010-04-01/Accounts/{}/Functions.json?FriendlyName={name} HTTP/1.1\r\n\
             host: {address}\r\nauthorization: {auth}\r\ncontent-type: application/wasm\r\n\
             content-length: {}\r\n\r\n",
            account.sid,
            wasm.len()
        );
        tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stream, &wasm[..wasm.len() / 2])
            .await
            .unwrap();
        stalled.push(stream);
    }
    let expected_of = |function: &serde_json::Value| {
        let name = function["friendly_name"].as_str().unwrap();
        let i: usize = name.strip_prefix('f').unwrap().parse().unwrap();
        &expected[i % KILL_GUESTS.len()]
    };
    // Kill once some uploads are acknowledged, and answer as they must, while others are
    // still under way.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 5 {
        let json = tokio::time::timeout(Duration::from_secs(60), acked.recv())
            .await
            .unwrap()
            .unwrap();
        let answer =
            call_webhook(&base, &account.token, json["webhook_url"].as_str().unwrap()).await;
        let (status, body) = expected_of(&json);
        assert_eq!((answer.status.as_u16(), &answer.body), (*status, body));
        acknowledged.push(json);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for upload in uploads {
        upload.await.unwrap();
    }
    while let Ok(json) = acked.try_recv() {
        acknowledged.push(json);
    }
    drop(stalled);

    let (mut child, base) = start_binary(data.path());
    let api_get = |rest: String| {
        let (base, account) = (base.clone(), account.clone());
        async move { api_send(&base, &account, "GET", &rest, &[]).await }
    };
    // Every acknowledged upload is there, whole.
    for json in &acknowledged {
        let sid = json["sid"].as_str().unwrap();
        let fetched = api_get(format!("/Functions/{sid}.json")).await.json(200);
        assert_eq!(fetched["version"], json["version"], "{sid}");
        let content = api_get(format!("/Functions/{sid}/Content")).await;
        assert_eq!(
            hex::encode(Sha256::digest(&content.bytes)),
            json["version"]["sha256"].as_str().unwrap()
        );
    }
    // Whatever else made it in is whole too, and answers exactly as its guest does.
    let listed = api_get("/Functions.json?PageSize=100".to_owned())
        .await
        .json(200);
    let listed = listed["functions"].as_array().unwrap();
    assert!(listed.len() >= acknowledged.len());
    assert!(
        listed
            .iter()
            .all(|f| !f["friendly_name"].as_str().unwrap().starts_with("stalled")),
        "an upload whose body never arrived is not stored"
    );
    for function in listed {
        let sid = function["sid"].as_str().unwrap();
        let content = api_get(format!("/Functions/{sid}/Content")).await;
        assert_eq!(content.status, 200, "{sid}");
        assert_eq!(
            hex::encode(Sha256::digest(&content.bytes)),
            function["version"]["sha256"].as_str().unwrap(),
            "{sid}"
        );
        let answer = call_webhook(
            &base,
            &account.token,
            function["webhook_url"].as_str().unwrap(),
        )
        .await;
        let (status, body) = expected_of(function);
        assert_eq!(
            (answer.status.as_u16(), &answer.body),
            (*status, body),
            "{sid} ({})",
            function["friendly_name"]
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_bin_domain_and_account_writes_loses_no_acknowledged_one() {
    let data = tempfile::tempdir().unwrap();
    let account = create_account(data.path());
    let (mut child, base) = start_binary(data.path());
    let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel::<(usize, serde_json::Value)>();
    let writes = 60;
    let mut tasks = Vec::new();
    for i in 0..writes {
        let (base, account, acks) = (base.clone(), account.clone(), acks.clone());
        tasks.push(tokio::spawn(async move {
            let (rest, form, status): (&str, Vec<(&str, String)>, u16) = match i % 3 {
                0 => (
                    "/TwimlBins.json",
                    vec![
                        ("FriendlyName", format!("b{i}")),
                        (
                            "Template",
                            format!("<Response><Say>bin {i} {{{{From}}}}</Say></Response>"),
                        ),
                    ],
                    201,
                ),
                1 => (
                    "/SIP/Domains.json",
                    vec![
                        ("DomainName", format!("d{i}.sip.twilio.com")),
                        ("VoiceUrl", format!("https://example.com/d{i}")),
                    ],
                    201,
                ),
                _ => (".json", vec![("FriendlyName", format!("name {i}"))], 200),
            };
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish();
            let request =
                hyper::Request::post(format!("{base}/2010-04-01/Accounts/{}{rest}", account.sid))
                    .header("authorization", account.basic())
                    .header("content-type", FORM)
                    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                    .unwrap();
            if let Some(json) = acknowledged(request, status).await {
                acks.send((i, json)).ok();
            }
        }));
    }
    drop(acks);
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 10 {
        acknowledged.push(
            tokio::time::timeout(Duration::from_secs(60), acked.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    while let Ok(ack) = acked.try_recv() {
        acknowledged.push(ack);
    }
    assert!(
        acknowledged.len() < writes,
        "every write finished before the kill: nothing was tested"
    );

    let (mut child, base) = start_binary(data.path());
    let get = |rest: String| {
        let (base, account) = (base.clone(), account.clone());
        async move { api_send(&base, &account, "GET", &rest, &[]).await }
    };
    let names = |list: serde_json::Value, key: &str, field: &str| -> Vec<String> {
        list[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect()
    };
    let bins = get("/TwimlBins.json?PageSize=100".to_owned())
        .await
        .json(200);
    let domains = get("/SIP/Domains.json?PageSize=100".to_owned())
        .await
        .json(200);
    let bin_names = names(bins.clone(), "twiml_bins", "friendly_name");
    let domain_names = names(domains, "domains", "domain_name");
    let friendly_name = get(".json".to_owned()).await.json(200)["friendly_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let newest_update = acknowledged
        .iter()
        .filter(|(i, _)| i % 3 == 2)
        .map(|(i, _)| *i)
        .max();
    for (i, json) in &acknowledged {
        match i % 3 {
            0 => {
                assert!(bin_names.contains(&format!("b{i}")), "bin b{i} was lost");
                let answer =
                    call_webhook(&base, &account.token, json["webhook_url"].as_str().unwrap())
                        .await;
                assert_eq!(
                    answer.twiml(),
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>bin {i} \
                         sip:+14155550100@acme.sip.twilio.com</Say></Response>"
                    )
                );
            }
            1 => assert!(
                domain_names.contains(&format!("d{i}.sip.twilio.com")),
                "domain d{i} was lost"
            ),
            _ => {}
        }
    }
    // Updates overwrite each other in whatever order they landed; the name is one of those
    // sent, and if any was acknowledged the account no longer has the name it was created with.
    let sent: Vec<String> = (0..writes)
        .filter(|i| i % 3 == 2)
        .map(|i| format!("name {i}"))
        .collect();
    match newest_update {
        Some(_) => assert!(sent.contains(&friendly_name), "{friendly_name:?}"),
        None => assert!(
            friendly_name == "crash test" || sent.contains(&friendly_name),
            "{friendly_name:?}"
        ),
    }
    // Whatever else made it in is whole: every bin answers with its own number.
    for bin in bins["twiml_bins"].as_array().unwrap() {
        let i = bin["friendly_name"]
            .as_str()
            .unwrap()
            .strip_prefix('b')
            .unwrap();
        let answer =
            call_webhook(&base, &account.token, bin["webhook_url"].as_str().unwrap()).await;
        assert!(
            answer.twiml().contains(&format!("<Say>bin {i} ")),
            "{}",
            answer.body
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
