//! End-to-end: what the store promises across restarts and crashes.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
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

/// Starts the release-less test binary on `data` and returns it with its base URL.
fn start_binary(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(["serve", "--listen", "127.0.0.1:0", "--templates"])
        .arg(repo_root().join("templates"))
        .arg("--functions")
        .arg(data.join("no-functions-folder"))
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("twiml-edge listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_uploads_loses_no_acknowledged_upload_and_serves_no_torn_one() {
    let data = tempfile::tempdir().unwrap();
    let account = create_account(data.path());
    let (mut child, base) = start_binary(data.path());
    let auth = account.basic();
    let guests = ["pstn-dial", "header-router", "echo", "big-answer"];
    let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel();
    let mut uploads = Vec::new();
    for i in 0..24 {
        let (url, auth, acks) = (
            format!(
                "{base}/2010-04-01/Accounts/{}/Functions.json?FriendlyName=f{i}",
                account.sid
            ),
            auth.clone(),
            acks.clone(),
        );
        let wasm = guest(guests[i % guests.len()]);
        uploads.push(tokio::spawn(async move {
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/wasm"),
            ];
            let mut request = hyper::Request::post(&url);
            for (n, v) in headers {
                request = request.header(n, v);
            }
            let request = request
                .body(http_body_util::Full::new(bytes::Bytes::from(wasm)))
                .unwrap();
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http();
            // The connection may die with the server: only a whole 201 is an acknowledgement.
            if let Ok(response) = client.request(request).await
                && response.status() == 201
                && let Ok(body) = http_body_util::BodyExt::collect(response.into_body()).await
                && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body.to_bytes())
            {
                acks.send(json).ok();
            }
        }));
    }
    drop(acks);
    // Kill once some uploads are acknowledged and others are still under way.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 5 {
        acknowledged.push(
            tokio::time::timeout(Duration::from_secs(60), acked.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for upload in uploads {
        upload.await.unwrap();
    }
    while let Ok(json) = acked.try_recv() {
        acknowledged.push(json);
    }
    assert!(
        acknowledged.len() < 24,
        "every upload finished before the kill: nothing was tested"
    );

    let (mut child, base) = start_binary(data.path());
    let api_get = |rest: String| {
        let (base, auth, sid) = (base.clone(), auth.clone(), account.sid.clone());
        async move {
            send_to(
                &format!("{base}/2010-04-01/Accounts/{sid}{rest}"),
                "GET",
                &[("authorization", &auth)],
                bytes::Bytes::new(),
            )
            .await
        }
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
    // Whatever else made it in is whole too, and runs.
    let listed = api_get("/Functions.json".to_owned()).await.json(200);
    let listed = listed["functions"].as_array().unwrap();
    assert!(listed.len() >= acknowledged.len());
    for function in listed {
        let sid = function["sid"].as_str().unwrap();
        let content = api_get(format!("/Functions/{sid}/Content")).await;
        assert_eq!(content.status, 200, "{sid}");
        assert_eq!(
            hex::encode(Sha256::digest(&content.bytes)),
            function["version"]["sha256"].as_str().unwrap(),
            "{sid}"
        );
        let webhook = function["webhook_url"]
            .as_str()
            .unwrap()
            .replace("http://", "");
        let path = &webhook[webhook.find('/').unwrap()..];
        let body = crate::common::encode(&sip_webhook());
        let signature = twiml_edge_server::signature::sign(
            &account.token,
            &format!("{base}{path}"),
            twiml_edge_server::signature::Body::Form(body.as_bytes()),
        );
        let answer = send_to(
            &format!("{base}{path}"),
            "POST",
            &[("content-type", FORM), ("x-twilio-signature", &signature)],
            body.into(),
        )
        .await;
        assert!(
            answer.status == 200 || answer.status == 500,
            "{sid}: {}",
            answer.body
        );
        assert_ne!(answer.status, 403, "{sid} is stored but not served");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
