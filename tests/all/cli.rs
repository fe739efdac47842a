//! End-to-end: the `twiml-edge` binary as an operator runs it.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use crate::common::{
    FORM, TestAccount, encode, repo_root, send_to, serve_binary, signed_post_to, sip_webhook,
};

fn twiml_edge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
}

/// What `/bins/pstn-dial` answers `sip_webhook()`.
const PSTN_DIAL_BIN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial \
     callerId=\"+14155550100\">+15125551212</Dial></Response>";

/// `twiml-edge serve` of the shipped templates on a fresh store in `data`.
fn serve(data: &Path) -> (Child, String) {
    let templates = repo_root().join("templates");
    serve_binary(&[
        "--templates".as_ref(),
        templates.as_os_str(),
        "--data".as_ref(),
        data.as_os_str(),
    ])
}

/// Reads one HTTP/1.1 answer head from `stream`, and as much of the body as `Content-Length`
/// says, returning (status line, body).
fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the connection closed: {:?}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while answer.len() < head_end + length {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed mid-body");
        answer.extend_from_slice(&buf[..n]);
    }
    let status = head.lines().next().unwrap().to_owned();
    let body = String::from_utf8_lossy(&answer[head_end..head_end + length]).into_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_webhooks_and_stops_gracefully_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(data.path());
    let answer = send_to(
        &format!("{url}/bins/pstn-dial"),
        "POST",
        &[("content-type", FORM)],
        encode(&sip_webhook()).into(),
    )
    .await;
    assert_eq!(answer.twiml(), PSTN_DIAL_BIN);
    let exit = tokio::task::block_in_place(|| {
        crate::common::terminate(&mut child, Duration::from_secs(15))
    });
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn a_request_under_way_at_sigterm_or_sigint_completes_and_new_connections_are_refused() {
    for signal in ["TERM", "INT"] {
        let data = tempfile::tempdir().unwrap();
        let (mut child, url) = serve(data.path());
        let addr = url.strip_prefix("http://").unwrap().to_owned();
        let body = encode(&sip_webhook());
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        // `Expect: 100-continue` makes the state observable: the server says "continue" once
        // it has read the head and waits for the body, so the request is under way.
        write!(
            stream,
            "POST /bins/pstn-dial HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {FORM}\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut continued = Vec::new();
        let mut byte = [0u8; 1];
        while !continued.ends_with(b"\r\n\r\n") {
            assert_eq!(
                stream.read(&mut byte).unwrap(),
                1,
                "closed before 100 Continue"
            );
            continued.push(byte[0]);
        }
        assert!(
            continued.starts_with(b"HTTP/1.1 100 Continue"),
            "{:?}",
            String::from_utf8_lossy(&continued)
        );

        crate::common::signal(&child, signal);
        // The listener closes: new clients are refused rather than queued.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&addr).is_ok() {
            assert!(
                Instant::now() < deadline,
                "SIG{signal}: new connections are still accepted"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "SIG{signal}: the server exited with a request under way"
        );
        // The request under way gets its whole answer, then the server exits cleanly.
        stream.write_all(body.as_bytes()).unwrap();
        let (status, answer) = read_answer(&mut stream);
        assert_eq!(status, "HTTP/1.1 200 OK", "SIG{signal}");
        assert_eq!(answer, PSTN_DIAL_BIN, "SIG{signal}");
        let exit = crate::common::wait_exit(&mut child, Duration::from_secs(15));
        assert!(exit.success(), "SIG{signal}: exit status {exit:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_created_by_the_cli_while_serving_works_at_once() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(data.path());
    let create = |args: &[&str]| {
        let output = twiml_edge()
            .args(["account", "create", "--data"])
            .arg(data.path())
            .args(args)
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
    };
    let get_account = |account: TestAccount| {
        let url = format!("{url}/2010-04-01/Accounts/{}.json", account.sid);
        async move {
            send_to(
                &url,
                "GET",
                &[("authorization", &account.basic())],
                "".into(),
            )
            .await
        }
    };
    // A new account answers on its first request.
    let created =
        tokio::task::block_in_place(|| create(&["--friendly-name", "made while serving"]));
    let json = get_account(created.clone()).await.json(200);
    assert_eq!(json["friendly_name"], "made while serving");

    // An imported one that was asked for before it existed is refused, then found once the
    // store has it: the server remembers an absent account only briefly.
    let imported = TestAccount {
        sid: format!("AC{}", "ab".repeat(16)),
        token: "cd".repeat(16),
    };
    get_account(imported.clone()).await.api_error(401, 20003);
    tokio::task::block_in_place(|| {
        create(&["--sid", &imported.sid, "--auth-token", &imported.token])
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = get_account(imported.clone()).await;
        if answer.status == 200 {
            assert_eq!(answer.json(200)["sid"], imported.sid.as_str());
            break;
        }
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert!(
            Instant::now() < deadline,
            "the imported account is never found"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its webhooks are signed with the imported token.
    let bin = {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("FriendlyName", "hi"),
                ("Template", "<Response><Say>hi</Say></Response>"),
            ])
            .finish();
        send_to(
            &format!("{url}/2010-04-01/Accounts/{}/TwimlBins.json", imported.sid),
            "POST",
            &[("authorization", &imported.basic()), ("content-type", FORM)],
            body.into(),
        )
        .await
        .json(201)
    };
    let answer = signed_post_to(
        bin["webhook_url"].as_str().unwrap(),
        &imported.token,
        &sip_webhook(),
    )
    .await;
    assert!(
        answer
            .twiml()
            .ends_with("<Response><Say>hi</Say></Response>"),
        "{}",
        answer.body
    );
    tokio::task::block_in_place(|| {
        let exit = crate::common::terminate(&mut child, Duration::from_secs(15));
        assert!(exit.success(), "exit status {exit:?}");
    });
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
