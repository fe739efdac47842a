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
        .env_remove("TWIML_EDGE_LOG")
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
    let run = |args: &[&str]| {
        let (server, account) = (&server, account);
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tokio::task::block_in_place(|| twiml_edge(server, account, &args))
        }
    };

    // `new` from a copy of the binary, away from this checkout: the project names the SDK the
    // binary carries, unpacked into the user's cache, and builds from there.
    let copied = work.path().join("bin/twiml-edge");
    std::fs::create_dir_all(copied.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_twiml-edge"), &copied).unwrap();
    let home = work.path().join("home");
    let new = Command::new(&copied)
        .args(["new", "my-dial", "--dir", dir])
        .current_dir(work.path())
        .env("HOME", &home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("TWIML_EDGE_CACHE")
        .output()
        .unwrap();
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let crate_dir = work.path().join("my-dial");
    assert!(stdout(&new).contains("created"), "{}", stdout(&new));
    assert!(crate_dir.join("src/lib.rs").is_file());
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let sdk_line = manifest
        .lines()
        .find(|l| l.starts_with("twiml-edge-sdk"))
        .unwrap();
    let cache = home.join(".cache/twiml-edge");
    assert!(
        sdk_line.contains(cache.to_str().unwrap())
            && !sdk_line.contains(repo_root().to_str().unwrap()),
        "{sdk_line}"
    );
    assert!(
        new.stderr.is_empty(),
        "no log lines among a command's output: {}",
        String::from_utf8_lossy(&new.stderr)
    );

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
        progress.contains("Compiling my-dial") && progress.contains("Compiling twiml-edge-sdk"),
        "build shows cargo's progress, the bundled SDK compiled with the crate:\n{progress}"
    );
    assert!(
        !progress.contains("twiml:edge@"),
        "a project from `new` speaks the runtime's world:\n{progress}"
    );

    let deployed = run(&[
        "deploy",
        crate_dir.to_str().unwrap(),
        "--var",
        "PBX=pbx.example.com",
        "--secret",
        "API_KEY=sk_live_walk",
        "--allow-host",
        "https://api.example.com",
    ])
    .await;
    let deployed = stdout(&deployed);
    assert!(
        deployed.starts_with("deployed function my-dial (ZH"),
        "{deployed}"
    );
    for said in [
        "allowed hosts: https://api.example.com",
        "set variable PBX",
        "set secret API_KEY",
    ] {
        assert!(deployed.contains(said), "{deployed}");
    }
    assert!(!deployed.contains("sk_live_walk"), "{deployed}");
    let sid = deployed.split(['(', ')']).nth(1).unwrap();
    let variables = server
        .api(account)
        .get(&format!("/Functions/{sid}/Variables.json"))
        .await
        .json(200);
    let kept: Vec<(&str, &Value, bool)> = variables["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["key"].as_str().unwrap(), &v["value"], v["secret"] == true))
        .collect();
    assert_eq!(
        kept,
        [
            ("PBX", &Value::from("pbx.example.com"), false),
            ("API_KEY", &Value::Null, true)
        ]
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

    // A request URI of a domain the account does not have: the CLI asks the API and says so,
    // where the server tells an anonymous caller only that the signature did not match.
    let missing = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args([
            "call",
            "--request-uri",
            "sip:+15125551212@nowhere.sip.us1.twilio.com",
            "--from",
            "sip:+14155550100@nowhere.sip.twilio.com",
        ])
        .env("TWIML_EDGE_URL", server.url(""))
        .env("TWILIO_ACCOUNT_SID", &account.sid)
        .env("TWILIO_AUTH_TOKEN", &account.token)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(
        said.contains(&format!(
            "account {} has no SIP domain nowhere.sip.us1.twilio.com: create one with",
            account.sid
        )) && said.contains("--path /functions/NAME"),
        "{said}"
    );
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
    // At the default log level: what dev says is for a person, on stdout; stderr keeps the
    // tracing log, which says nothing unless something is wrong.
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let mut dev = Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(["dev", "--listen", "127.0.0.1:0"])
        .arg(crate_dir)
        .env_remove("TWIML_EDGE_LOG")
        .stdout(Stdio::piped())
        .stderr(stderr.reopen().unwrap())
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
    // Each call in a line of its own, after the lines its guest logged.
    let logged = expect_line("[my-dial] dialling");
    assert!(logged.trim_start().starts_with("info"), "{logged}");
    let request = expect_line("POST /functions/my-dial -> 200 (");
    assert!(request.ends_with(" ms)"), "{request}");
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
    let log = std::fs::read_to_string(stderr.path()).unwrap();
    assert!(
        !log.contains(" INFO ") && !log.contains("twiml_edge::toolchain"),
        "dev's stderr holds no info lines:\n{log}"
    );
}
