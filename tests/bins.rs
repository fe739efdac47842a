//! End-to-end: SIP webhooks posted over HTTP to the shipped TwiML Bins, and every refusal.
//!
//! Each `tests/cases/bins/*.case` is one request and its whole expected answer: a comment line,
//! the request line (`POST /bins/NAME?query`), parameters that replace those of the realistic
//! webhook in `tests/cases/webhook.form`, `----`, then the TwiML.

mod common;

use common::{FORM, TestServer, encode, parse_params, repo_root, sip_webhook, with_overrides};
use hyper::StatusCode;
use twiml_edge_runtime::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_bins_answer_every_case() {
    let server = TestServer::shipped().await;
    let mut dir: Vec<_> = std::fs::read_dir(repo_root().join("tests/cases/bins"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dir.sort();
    assert!(dir.len() >= 5, "the case folder is missing");
    let mut shipped_seen = std::collections::BTreeSet::new();
    for path in dir {
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
        assert_eq!(answer.twiml(), expected.trim_end(), "case {path:?}");
        shipped_seen.insert(
            target
                .trim_start_matches("/bins/")
                .split('?')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    for template in std::fs::read_dir(repo_root().join("templates")).unwrap() {
        let path = template.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            assert!(
                shipped_seen.contains(&name),
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
            r#"<Dial callerId="&quot;/&gt;&lt;Hangup/&gt;&lt;Say x=&quot;" "#,
            r#"action="/next?c=&lt;/Dial&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;">"#,
            r#"<Sip>sip:&quot;/&gt;&lt;Hangup/&gt;&lt;Say x=&quot;@pbx.example.com</Sip></Dial>"#,
            r#"<Say>&lt;/Dial&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;</Say></Response>"#,
        )
    );
    // The structure is the template's: one of each element, nothing injected.
    for (tag, count) in [
        ("<Dial", 1),
        ("<Sip>", 1),
        ("<Say>", 1),
        ("<Hangup", 0),
        ("<Redirect", 0),
    ] {
        assert_eq!(
            answer.body.matches(tag).count(),
            count,
            "{tag} in {}",
            answer.body
        );
    }
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
    let cases: Vec<(&str, &str, Option<&str>, String, StatusCode, &str, &str)> = vec![
        (
            "POST",
            "/bins/nope",
            Some(FORM),
            good.clone(),
            StatusCode::NOT_FOUND,
            "not_found",
            "no TwiML Bin named \"nope\"",
        ),
        (
            "POST",
            "/elsewhere",
            Some(FORM),
            good.clone(),
            StatusCode::NOT_FOUND,
            "not_found",
            "/bins/NAME",
        ),
        (
            "PUT",
            "/bins/pstn-dial",
            Some(FORM),
            good.clone(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use GET, POST",
        ),
        (
            "DELETE",
            "/bins/pstn-dial",
            None,
            String::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "DELETE",
        ),
        (
            "POST",
            "/bins/pstn-dial",
            Some("application/json"),
            "{}".into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/x-www-form-urlencoded",
        ),
        (
            "POST",
            "/bins/pstn-dial",
            Some("text/plain"),
            good.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "\"text/plain\"",
        ),
        (
            "POST",
            "/bins/pstn-dial",
            Some(FORM),
            format!("{good}&Pad={}", "x".repeat(5000)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "4096-byte limit",
        ),
        (
            "POST",
            "/bins/pstn-dial",
            Some(FORM),
            "From=%zz".into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            "\"From\"",
        ),
        (
            "POST",
            "/bins/pstn-dial",
            Some(FORM),
            "To=%C3%28".into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            "UTF-8",
        ),
        (
            "GET",
            "/bins/pstn-dial?To=%G1",
            None,
            String::new(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            "query string",
        ),
    ];
    for (method, path, content_type, body, status, code, message) in cases {
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
    let err = twiml_edge_runtime::App::new(Config {
        templates: dir.to_path_buf(),
        ..Config::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("broken.xml"), "{err}");
    assert!(err.contains("line "), "{err}");
}
