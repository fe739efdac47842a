//! End-to-end: `twiml-edge call` for every seed scenario, against a running server and against
//! a data folder in process.

use std::process::Output;

use crate::common::{TestAccount, TestServer, guest, repo_root};
use serde_json::Value;
use twiml_edge_server::Config;

/// Runs `twiml-edge ARGS` as `account` against `server`.
async fn twiml_edge(server: Option<&TestServer>, account: &TestAccount, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_twiml-edge"));
    command
        .args(args)
        .env("TWILIO_ACCOUNT_SID", &account.sid)
        .env("TWILIO_AUTH_TOKEN", &account.token)
        .env("TWIML_EDGE_LOG", "warn");
    if let Some(server) = server {
        command.env("TWIML_EDGE_URL", server.url(""));
    }
    command.output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A server with one account that holds the seed scenarios' functions, bins and domains.
struct Scenario {
    server: TestServer,
    account: TestAccount,
    _data: tempfile::TempDir,
}

async fn scenario() -> Scenario {
    scenario_with(|config| config).await
}

/// [`scenario`] on a server whose configuration `configure` changes.
async fn scenario_with(configure: impl FnOnce(Config) -> Config) -> Scenario {
    let (server, accounts, data) = TestServer::with_accounts(&[true], configure).await;
    let account = accounts.into_iter().next().unwrap();
    let api = server.api(&account);
    let seed = std::fs::read_to_string(repo_root().join("templates/pstn-dial.xml")).unwrap();
    let bin = api
        .post(
            "/TwimlBins.json",
            &[("FriendlyName", "pstn-dial"), ("Template", &seed)],
        )
        .await
        .json(201);
    let fallback = api
        .post(
            "/TwimlBins.json",
            &[
                ("FriendlyName", "sorry"),
                (
                    "Template",
                    "<Response><Say>Sorry, error {{ErrorCode}}.</Say></Response>",
                ),
            ],
        )
        .await
        .json(201);
    let url = |json: &Value| json["webhook_url"].as_str().unwrap().to_owned();
    let mut functions = std::collections::HashMap::new();
    for name in ["echo", "header-router", "trap"] {
        let function = api
            .upload(&format!("/Functions.json?FriendlyName={name}"), guest(name))
            .await
            .json(201);
        functions.insert(name, url(&function));
    }
    for (domain, voice_url, fallback_url) in [
        ("pstn.sip.twilio.com", url(&bin), None),
        ("headers.sip.twilio.com", functions["echo"].clone(), None),
        (
            "route.sip.twilio.com",
            functions["header-router"].clone(),
            None,
        ),
        (
            "broken.sip.twilio.com",
            functions["trap"].clone(),
            Some(url(&fallback)),
        ),
    ] {
        let mut form = vec![("DomainName", domain), ("VoiceUrl", voice_url.as_str())];
        if let Some(fallback) = &fallback_url {
            form.push(("VoiceFallbackUrl", fallback));
        }
        api.post("/SIP/Domains.json", &form).await.json(201);
    }
    Scenario {
        server,
        account,
        _data: data,
    }
}

fn param<'a>(json: &'a Value, name: &str) -> Option<&'a str> {
    json["webhook"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == name)
        .and_then(|p| p[1].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_dials_a_pstn_number_through_the_seed_004_bin() {
    let s = scenario().await;
    let output = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--request-uri",
            "sip:+15125551212@pstn.sip.us1.twilio.com;transport=tls",
            "--from",
            "\"Alice\" <sip:+14155550100@pstn.sip.twilio.com>;tag=a73kszlfl",
            "--username",
            "alice",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    for line in [
        "Webhook: POST http://127.0.0.1:",
        "  From=sip:+14155550100@pstn.sip.twilio.com\n",
        "  To=sip:+15125551212@pstn.sip.us1.twilio.com;transport=tls\n",
        "  SipDomain=pstn.sip.us1.twilio.com\n",
        "  SipUsername=alice\n",
        "Fallback: did not run\n",
        r#"<Response><Dial callerId="+14155550100">+15125551212</Dial></Response>"#,
        "Dial plan:\n  Dial (parallel, callerId +14155550100)\n    1. number +15125551212\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    assert!(text.contains("  SipDomainSid=SD"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_headers_and_uui_arrive_as_sip_header_parameters() {
    let s = scenario().await;
    let output = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--json",
            "--request-uri",
            "sip:alice@headers.sip.twilio.com",
            "--from",
            "sip:bob@headers.sip.twilio.com",
            "-H",
            "X-Customer: 42",
            "-H",
            "X-Test: a=1;b=2",
            "-H",
            "User-to-User: 56a390f3d2b7310023a2;encoding=hex",
            "-H",
            "P-Asserted-Identity: <sip:+14155550100@pbx.example.com>",
            "-H",
            "Contact: <sip:bob@203.0.113.10>",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(param(&json, "SipHeader_X-Customer"), Some("42"));
    assert_eq!(param(&json, "SipHeader_X-Test"), Some("a=1;b=2"));
    assert_eq!(
        param(&json, "SipHeader_User-to-User"),
        Some("56a390f3d2b7310023a2;encoding=hex")
    );
    let names: Vec<&str> = json["webhook"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("Asserted") || n.contains("Contact")),
        "{names:?}"
    );
    // The echo function says back what it received: the headers reached the guest.
    let twiml = json["twiml"].as_str().unwrap();
    assert!(
        twiml.contains("<Say>SipHeader_X-Customer=42</Say>"),
        "{twiml}"
    );
    assert!(
        twiml.contains("<Say>SipHeader_User-to-User=56a390f3d2b7310023a2;encoding=hex</Say>"),
        "{twiml}"
    );
    assert_eq!(json["status"], 200);
    assert_eq!(json["fallback"], Value::Null);
    assert_eq!(json["dial_plan"]["verbs"][0]["verb"], "Other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_routes_the_call_to_a_sip_target_with_region_and_transport() {
    let s = scenario().await;
    let output = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--json",
            "--request-uri",
            "sip:support@route.sip.us1.twilio.com",
            "--from",
            "sip:+14155550100@route.sip.twilio.com",
            "-H",
            "X-Department: support",
            "-H",
            "X-Customer: 42 & co",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let dial = &json["dial_plan"]["verbs"][0];
    assert_eq!(dial["verb"], "Dial");
    assert_eq!(dial["answer_on_bridge"], true);
    let target = &dial["targets"][0];
    assert_eq!(target["kind"], "Sip");
    assert_eq!(target["user"], "support");
    assert_eq!(target["host"], "pbx-eu.example.com");
    assert_eq!(target["transport"], "tls");
    assert_eq!(target["region"], "ie1");
    assert_eq!(
        target["headers"],
        serde_json::json!([["x-customer", "42 & co"]])
    );

    let text = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--request-uri",
            "sip:support@route.sip.us1.twilio.com",
            "--from",
            "sip:+14155550100@route.sip.twilio.com",
            "-H",
            "X-Department: support",
        ],
    )
    .await;
    let text = stdout(&text);
    assert!(
        text.contains("1. sip:support@pbx-eu.example.com;region=ie1;transport=tls  user support  host pbx-eu.example.com  transport tls  region ie1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_function_falls_back_and_the_simulator_says_so() {
    let s = scenario().await;
    let output = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--request-uri",
            "sip:+15125551212@broken.sip.us1.twilio.com",
            "--from",
            "sip:alice@broken.sip.twilio.com",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains("Fallback: ran, after the voice_url failed with ErrorCode 11200"),
        "{text}"
    );
    assert!(text.contains("<Say>Sorry, error 11200.</Say>"), "{text}");
    assert!(
        text.contains("Dial plan:\n  Say \"Sorry, error 11200.\""),
        "{text}"
    );

    // Without a way to answer, the simulator prints why and fails.
    let unknown = twiml_edge(
        Some(&s.server),
        &s.account,
        &[
            "call",
            "--request-uri",
            "sip:x@nowhere.sip.twilio.com",
            "--from",
            "sip:a@b.com",
        ],
    )
    .await;
    // The server answers 403 alone (an anonymous caller learns nothing); the CLI, holding the
    // account's credentials, says the domain is missing and how to add one.
    assert!(!unknown.status.success());
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        said.contains(&format!(
            "account {} has no SIP domain nowhere.sip.twilio.com",
            s.account.sid
        )),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_answers_without_a_server() {
    let s = scenario().await;
    let data = s._data.path().to_str().unwrap().to_owned();
    let output = twiml_edge(
        None,
        &s.account,
        &[
            "call",
            "--json",
            "--data",
            &data,
            "--request-uri",
            "sip:+15125551212@pstn.sip.us1.twilio.com",
            "--from",
            "sip:+14155550100@pstn.sip.twilio.com",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        json["dial_plan"]["verbs"][0]["targets"][0]["number"],
        "+15125551212"
    );
    assert_eq!(param(&json, "AccountSid"), Some(s.account.sid.as_str()));
}

#[tokio::test]
async fn a_malformed_invite_is_refused_with_what_to_fix() {
    let account = TestAccount {
        sid: String::new(),
        token: String::new(),
    };
    for (args, message) in [
        (
            ["--request-uri", "tel:+1512", "--from", "sip:a@b.com"],
            "request URI",
        ),
        (["--request-uri", "sip:a@b.com", "--from", ""], "From"),
    ] {
        let mut all = vec!["call", "--url", "http://127.0.0.1:9"];
        all.extend(args);
        let output = twiml_edge(None, &account, &all).await;
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_or_wrongly_signed_call_is_refused_with_what_to_give() {
    let s = scenario().await;
    let invite = [
        "call",
        "--request-uri",
        "sip:+15125551212@pstn.sip.us1.twilio.com",
        "--from",
        "sip:+14155550100@pstn.sip.twilio.com",
    ];
    let unsigned = tokio::process::Command::new(env!("CARGO_BIN_EXE_twiml-edge"))
        .args(invite)
        .env("TWIML_EDGE_URL", s.server.url(""))
        .env("TWIML_EDGE_LOG", "warn")
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(!unsigned.status.success());
    let stderr = String::from_utf8_lossy(&unsigned.stderr);
    assert!(
        stderr.contains(
            "403 Forbidden: the server checks signatures; give the domain account's --token"
        ),
        "{stderr}"
    );

    // Behind a proxy the engine signs the public URL; signing the local one does not match.
    let proxied = scenario_with(|config| Config {
        public_url: Some("https://edge.example.com".to_owned()),
        ..config
    })
    .await;
    let output = twiml_edge(Some(&proxied.server), &proxied.account, &invite).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the signature did not match") && stderr.contains("--public-url"),
        "{stderr}"
    );
}
