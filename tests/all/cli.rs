//! End-to-end: the `twiml-edge` binary as an operator runs it.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use crate::common::{FORM, encode, repo_root, sip_webhook};

fn twiml_edge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_webhooks_and_stops_gracefully_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = twiml_edge()
        .args(["serve", "--listen", "127.0.0.1:0", "--templates"])
        .arg(repo_root().join("templates"))
        .arg("--data")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .trim()
        .strip_prefix("twiml-edge listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = hyper::Request::post(format!("{url}/bins/pstn-dial"))
        .header("content-type", FORM)
        .body(encode(&sip_webhook()).into())
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), 200);

    let exit = tokio::task::block_in_place(|| {
        crate::common::terminate(&mut child, Duration::from_secs(15))
    });
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn serve_refuses_a_broken_template_with_its_file_and_line() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("broken.xml"),
        "<Response>\n  <Dial>{{#e164}}{{To}}</Dial>\n</Response>\n",
    )
    .unwrap();
    let output = twiml_edge()
        .args(["serve", "--listen", "127.0.0.1:0", "--templates"])
        .arg(templates.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.xml"), "{stderr}");
    assert!(
        stderr.contains("line 2: {{#e164}} is never closed"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_limits_beyond_what_it_can_hold() {
    let cases = [
        ("--stack-kib", "100000", "from 64 to 8192"),
        ("--cpu-ms", "20000", "from 1 to 10000"),
        ("--memory-mib", "0", "from 1 to 4096"),
        ("--max-concurrent-calls", "1000000", "from 1 to 10000"),
        ("--max-body-bytes", "99999999999", "from 1024 to 1048576"),
        ("--max-connections", "0", "from 1 to"),
    ];
    for (flag, value, want) in cases {
        let output = twiml_edge().args(["serve", flag, value]).output().unwrap();
        assert!(!output.status.success(), "{flag} {value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains(want),
            "{flag}: {stderr}"
        );
    }
}

#[test]
fn serve_refuses_an_unknown_region() {
    let output = twiml_edge()
        .args(["serve", "--default-region", "XX"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown region \"XX\""), "{stderr}");
}

#[test]
fn deploy_names_what_it_can_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a function").unwrap();
    let output = twiml_edge()
        .args(["deploy", "--account", "AC0", "--token", "t"])
        .arg(&notes)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "give a guest crate (a folder with Cargo.toml), a .wasm component or module, or a \
             .xml TwiML Bin template"
        ),
        "{stderr}"
    );
}
