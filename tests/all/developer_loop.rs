//! End-to-end: a developer's whole loop with the `twiml-edge` binary against a running server:
//! `new` -> `build` -> `deploy` -> `call` -> `logs`, then `dev` rebuilding on an edit.
//!
//! Builds a fresh guest crate with the machine's wasm toolchain, so it takes a minute or two.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::common::{FORM, TestAccount, TestServer, encode, repo_root, sip_webhook};
use serde_json::Value;

fn twiml_edge(server: &TestServer, account: &TestAccount, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(args)
        .env("TWIML_EDGE_URL", server.url(""))
        .env("TWILIO_ACCOUNT_SID", &account.sid)
        .env("TWILIO_AUTH_TOKEN", &account.token)
        .env("TWIML_EDGE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "twiml-edge {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_build_deploy_call_logs_then_dev_reloads_an_edit() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true], |config| config).await;
    let account = &accounts[0];
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().to_str().unwrap();
    let sdk = repo_root().join("guest-sdk");
    let run = |args: &[&str]| {
        let (server, account) = (&server, account);
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tokio::task::block_in_place(|| twiml_edge(server, account, &args))
        }
    };

    let new = run(&[
        "new",
        "my-dial",
        "--dir",
        dir,
        "--sdk-path",
        sdk.to_str().unwrap(),
    ])
    .await;
    let crate_dir = work.path().join("my-dial");
    assert!(stdout(&new).contains("created"), "{}", stdout(&new));
    assert!(crate_dir.join("src/lib.rs").is_file());

    let built = run(&["build", crate_dir.to_str().unwrap()]).await;
    let component = crate_dir.join("target/twiml-edge/my-dial.wasm");
    assert_eq!(stdout(&built).trim(), component.to_str().unwrap());
    let wasm = std::fs::read(&component).unwrap();
    assert!(
        wasmparser::Parser::is_component(&wasm),
        "build writes a component"
    );
    let progress = String::from_utf8_lossy(&built.stderr);
    assert!(
        progress.contains("Compiling my-dial"),
        "build shows cargo's progress:\n{progress}"
    );

    let deployed = run(&["deploy", crate_dir.to_str().unwrap()]).await;
    let deployed = stdout(&deployed);
    assert!(
        deployed.starts_with("deployed function my-dial (ZH"),
        "{deployed}"
    );
    let webhook = deployed
        .lines()
        .find_map(|l| l.strip_prefix("webhook: "))
        .unwrap()
        .to_owned();
    server
        .api(account)
        .post(
            "/SIP/Domains.json",
            &[
                ("DomainName", "walk.sip.twilio.com"),
                ("VoiceUrl", &webhook),
            ],
        )
        .await
        .json(201);

    let call = run(&[
        "call",
        "--json",
        "--request-uri",
        "sip:+15125551212@walk.sip.us1.twilio.com",
        "--from",
        "sip:+14155550100@walk.sip.twilio.com",
    ])
    .await;
    let call: Value = serde_json::from_str(&stdout(&call)).unwrap();
    let dial = &call["dial_plan"]["verbs"][0];
    assert_eq!(dial["caller_id"], "+14155550100");
    assert_eq!(dial["targets"][0]["number"], "+15125551212");
    let call_sid = call["webhook"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "CallSid")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();

    // The call log is written by its own thread: give it a moment.
    let started = Instant::now();
    let logs = loop {
        let logs = stdout(&run(&["logs", "my-dial"]).await);
        if logs.contains(&call_sid) || started.elapsed() > Duration::from_secs(10) {
            break logs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(logs.contains(&format!("{call_sid}  ok")), "{logs}");
    assert!(
        logs.contains("info  dialling number=\"+15125551212\""),
        "{logs}"
    );

    // A second deploy is a new version of the same function.
    let again = stdout(&run(&["deploy", component.to_str().unwrap()]).await);
    assert_eq!(
        again.lines().nth(1),
        deployed.lines().nth(1),
        "same webhook URL"
    );
    assert_ne!(
        again.lines().next(),
        deployed.lines().next(),
        "a new version"
    );

    dev_rebuilds_on_an_edit(&crate_dir).await;
}

/// `twiml-edge dev` serves the crate and the templates beside it; an edit changes what it
/// answers, a broken file is reported while the last good version serves, and SIGTERM ends it.
async fn dev_rebuilds_on_an_edit(crate_dir: &Path) {
    std::fs::write(
        crate_dir.join("hello.xml"),
        "<Response><Say>hello {{From}}</Say></Response>",
    )
    .unwrap();
    let unclosed = "<Response>\n{{#To}}<Dial>{{To}}</Dial>\n</Response>";
    std::fs::write(crate_dir.join("later.xml"), unclosed).unwrap();
    let mut dev = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(["dev", "--listen", "127.0.0.1:0"])
        .arg(crate_dir)
        .env("TWIML_EDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(dev.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit_once(" on ").unwrap().1.to_owned();
    // Keep reading what dev prints, so it never blocks on a full pipe.
    let (printed, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if printed.send(line).is_err() {
                break;
            }
        }
    });
    let expect_line = |wanted: &str| {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match output.recv_timeout(left) {
                Ok(line) if line.contains(wanted) => return line,
                Ok(_) => {}
                Err(err) => panic!("dev never printed {wanted:?}: {err}"),
            }
        }
    };
    let body = encode(&sip_webhook());
    let answer = |path: &str| {
        let (url, body) = (format!("{url}{path}"), body.clone());
        async move { crate::common::send_to(&url, "POST", &[("content-type", FORM)], body.into()).await }
    };

    let broken = expect_line("broken    template");
    assert!(broken.contains("later.xml"), "{broken}");
    assert!(
        broken.contains("line 2: {{#To}} is never closed"),
        "{broken}"
    );
    assert!(
        answer("/functions/my-dial")
            .await
            .body
            .contains("<Dial callerId=\"+14155550100\">"),
        "dev serves the crate"
    );
    let hello = answer("/bins/hello").await;
    assert!(hello.body.contains("<Say>hello"), "{}", hello.body);
    assert_eq!(answer("/bins/later").await.status, 404);

    let lib = crate_dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let edited = source.replace("Dial::new()", "Dial::new().timeout(20)");
    assert_ne!(source, edited, "the template has a Dial::new() to edit");
    std::fs::write(&lib, &edited).unwrap();
    std::fs::write(
        crate_dir.join("later.xml"),
        unclosed.replace("\n</Response>", "{{/To}}\n</Response>"),
    )
    .unwrap();
    expect_line("reloaded");
    assert!(
        answer("/functions/my-dial")
            .await
            .body
            .contains("timeout=\"20\""),
        "dev serves the edit"
    );
    assert!(answer("/bins/later").await.body.contains("<Dial>"));

    // A build that fails leaves the last good function serving.
    std::fs::write(&lib, format!("{edited}\nfn broken( {{")).unwrap();
    let broken = expect_line("broken    crate");
    assert!(broken.contains("failed to build"), "{broken}");
    assert!(
        answer("/functions/my-dial")
            .await
            .body
            .contains("timeout=\"20\"")
    );

    let status = crate::common::terminate(&mut dev, Duration::from_secs(20));
    assert!(status.success(), "dev stopped with {status}");
}
