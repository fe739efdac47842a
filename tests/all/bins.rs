//! End-to-end: SIP webhooks posted over HTTP to the shipped TwiML Bins, and every refusal.
//!
//! Each `tests/cases/bins/*.case` is one request and its whole expected answer (see
//! `crate::common::run_cases` for the format).

use crate::common::{FORM, TestServer, encode, repo_root, run_cases, sip_webhook, with_overrides};
use hyper::StatusCode;
use twiml_edge_server::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_bins_answer_every_case() {
    let server = TestServer::shipped().await;
    let covered = run_cases(&server, &repo_root().join("tests/cases/bins")).await;
    for template in std::fs::read_dir(repo_root().join("templates")).unwrap() {
        let path = template.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            let name = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                covered.contains(&format!("/bins/{name}")),
                "no case covers templates/{name}.xml"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_caller_cannot_change_the_twiml_structure() {
    let server = TestServer::start(Config {
        templates: repo_root().join("tests/templates"),
        ..Config::default()
    })
    .await;
    let params = with_overrides(
        &sip_webhook(),
        &[
            ("From".into(), r#""/><Hangup/><Say x=""#.into()),
            (
                "SipHeader_X-Evil".into(),
                "</Dial><Redirect>http://evil</Redirect>".into(),
            ),
        ],
    );
    let answer = server.post_form("/bins/echo", &params).await;
    assert_eq!(
        answer.twiml(),
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            r#"<Say voice="&quot;/&gt;&lt;Hangup/&gt;&lt;Say x=&quot;">"#,
            r#"&lt;/Dial&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;</Say>"#,
            r#"<Redirect method="POST">/next?c=&lt;/Dial&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;"#,
            r#"&amp;f=&quot;/&gt;&lt;Hangup/&gt;&lt;Say x=&quot;</Redirect></Response>"#,
        )
    );
    // The structure is the template's: one of each element, nothing injected.
    for (tag, count) in [("<Say", 1), ("<Redirect", 1), ("<Hangup", 0), ("<Dial", 0)] {
        assert_eq!(
            answer.body.matches(tag).count(),
            count,
            "{tag} in {}",
            answer.body
        );
    }
    // Where the value lands in an attribute with rules of its own, the TwiML check refuses it
    // before the engine sees it.
    let answer = server.post_form("/bins/dial-from", &params).await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        answer.body
    );
    let error = answer.error();
    assert_eq!(error["code"], "invalid_twiml");
    assert_eq!(error["rule"], "dial-caller-id");
}

/// One bad request and the JSON error it must get.
struct Refusal {
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_json_and_the_server_keeps_serving() {
    let server = TestServer::start(Config {
        templates: repo_root().join("templates"),
        max_body_bytes: 4096,
        ..Config::default()
    })
    .await;
    let good = encode(&sip_webhook());
    let cases = [
        Refusal {
            method: "POST",
            path: "/bins/nope",
            content_type: Some(FORM),
            body: good.clone(),
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "no TwiML Bin named \"nope\"",
        },
        Refusal {
            method: "POST",
            path: "/elsewhere",
            content_type: Some(FORM),
            body: good.clone(),
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "/bins/NAME",
        },
        Refusal {
            method: "PUT",
            path: "/bins/pstn-dial",
            content_type: Some(FORM),
            body: good.clone(),
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "use GET, POST",
        },
        Refusal {
            method: "DELETE",
            path: "/bins/pstn-dial",
            content_type: None,
            body: String::new(),
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "DELETE",
        },
        Refusal {
            method: "POST",
            path: "/bins/pstn-dial",
            content_type: Some("application/xml"),
            body: "<x/>".into(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "application/x-www-form-urlencoded",
        },
        Refusal {
            method: "POST",
            path: "/bins/pstn-dial",
            content_type: Some("text/plain"),
            body: good.clone(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "\"text/plain\"",
        },
        Refusal {
            method: "POST",
            path: "/bins/pstn-dial",
            content_type: Some(FORM),
            body: format!("{good}&Pad={}", "x".repeat(5000)),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: "4096-byte limit",
        },
        Refusal {
            method: "POST",
            path: "/bins/pstn-dial",
            content_type: Some(FORM),
            body: "From=%zz".into(),
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: "\"From\"",
        },
        Refusal {
            method: "POST",
            path: "/bins/pstn-dial",
            content_type: Some(FORM),
            body: "To=%C3%28".into(),
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: "UTF-8",
        },
        Refusal {
            method: "GET",
            path: "/bins/pstn-dial?To=%G1",
            content_type: None,
            body: String::new(),
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: "query string",
        },
    ];
    for Refusal {
        method,
        path,
        content_type,
        body,
        status,
        code,
        message,
    } in cases
    {
        let answer = server.send(method, path, content_type, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        let error = answer.error();
        assert_eq!(error["code"], code, "{method} {path}");
        let text = error["message"].as_str().unwrap();
        assert!(
            text.contains(message),
            "{method} {path}: {text:?} lacks {message:?}"
        );
        assert_eq!(answer.headers["content-type"], "application/json");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(answer.headers["allow"], "GET, POST");
        }
        // After every refusal the same server still answers a good webhook.
        let ok = server
            .send("POST", "/bins/pstn-dial", Some(FORM), good.clone())
            .await;
        assert!(ok.twiml().contains("<Dial callerId=\"+14155550100\">"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_does_not_parse_is_refused_at_start_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("ok.xml"), "<Response/>").unwrap();
    std::fs::write(
        dir.join("broken.xml"),
        "<Response>\n<Dial>\n{{#e164}}{{To}}\n</Dial>\n</Response>\n",
    )
    .unwrap();
    let err = twiml_edge_server::App::new(Config {
        templates: dir.to_path_buf(),
        data: dir.join("data"),
        ..Config::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("broken.xml"), "{err}");
    assert!(err.contains("line "), "{err}");
}
