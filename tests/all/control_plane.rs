//! End-to-end: the management API, signed webhooks, SIP domain routing with fallback, and
//! tenancy, over HTTP against a real server.

use std::time::Duration;

use crate::common::{
    FORM, TestAccount, TestServer, encode, guest, refused_guest, sip_webhook, with_overrides,
};
use serde_json::Value;
use twiml_edge_server::{Config, FALLBACK_HEADER, signature};

/// What the `pstn-dial` guest answers `sip_webhook()`.
const PSTN_DIAL_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial \
     callerId=\"+14155550100\"><Number>+15125551212</Number></Dial></Response>";

async fn server_with_accounts(
    signed: &[bool],
) -> (TestServer, Vec<TestAccount>, tempfile::TempDir) {
    TestServer::with_accounts(signed, |config| config).await
}

fn is_sid(value: &Value, prefix: &str) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn is_rfc2822(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.ends_with(" +0000") && s.split(' ').count() == 6)
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

async fn upload(server: &TestServer, account: &TestAccount, name: &str, guest_name: &str) -> Value {
    server
        .api(account)
        .upload(
            &format!("/Functions.json?FriendlyName={name}"),
            guest(guest_name),
        )
        .await
        .json(201)
}

async fn create_bin(
    server: &TestServer,
    account: &TestAccount,
    name: &str,
    template: &str,
) -> Value {
    server
        .api(account)
        .post(
            "/TwimlBins.json",
            &[("FriendlyName", name), ("Template", template)],
        )
        .await
        .json(201)
}

/// The path of a `webhook_url`.
fn path(json: &Value) -> String {
    let url = json["webhook_url"].as_str().unwrap();
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_domains_are_created_fetched_listed_updated_and_deleted_as_on_twilio() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let api = server.api(&accounts[0]);
    let created = api
        .post(
            "/SIP/Domains.json",
            &[
                ("DomainName", "acme-sf.sip.twilio.com"),
                ("FriendlyName", "Acme SF"),
                ("VoiceUrl", "https://edge.example.com/voice/functions/ZH0"),
                ("VoiceMethod", "POST"),
                (
                    "VoiceFallbackUrl",
                    "https://edge.example.com/voice/bins/EH0",
                ),
                ("SipRegistration", "true"),
            ],
        )
        .await
        .json(201);
    let sid = created["sid"].as_str().unwrap().to_owned();
    assert!(is_sid(&created["sid"], "SD"), "{created}");
    assert_eq!(created["account_sid"], accounts[0].sid.as_str());
    assert_eq!(created["api_version"], "2010-04-01");
    assert_eq!(created["domain_name"], "acme-sf.sip.twilio.com");
    assert_eq!(created["friendly_name"], "Acme SF");
    assert_eq!(created["voice_method"], "POST");
    assert_eq!(created["voice_fallback_method"], "POST");
    assert_eq!(created["voice_status_callback_url"], Value::Null);
    assert_eq!(created["sip_registration"], true);
    assert!(is_rfc2822(&created["date_created"]), "{created}");
    assert!(is_rfc2822(&created["date_updated"]), "{created}");
    let uri = format!("/2010-04-01/Accounts/{}/SIP/Domains/{sid}", accounts[0].sid);
    assert_eq!(created["uri"], format!("{uri}.json"));
    assert_eq!(
        created["subresource_uris"]["credential_list_mappings"],
        format!("{uri}/CredentialListMappings.json")
    );

    let fetched = api.get(&format!("/SIP/Domains/{sid}.json")).await.json(200);
    assert_eq!(fetched, created);

    let updated = api
        .post(
            &format!("/SIP/Domains/{sid}.json"),
            &[("VoiceMethod", "GET"), ("VoiceFallbackUrl", "")],
        )
        .await
        .json(200);
    assert_eq!(updated["voice_method"], "GET");
    assert_eq!(updated["voice_fallback_url"], Value::Null);
    assert_eq!(updated["voice_url"], created["voice_url"]);

    for name in ["b.sip.twilio.com", "c.sip.twilio.com"] {
        api.post("/SIP/Domains.json", &[("DomainName", name)])
            .await
            .json(201);
    }
    let first = api.get("/SIP/Domains.json?PageSize=2").await.json(200);
    let names: Vec<_> = first["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme-sf.sip.twilio.com", "b.sip.twilio.com"]);
    assert_eq!(first["page"], 0);
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["previous_page_uri"], Value::Null);
    let next = first["next_page_uri"].as_str().unwrap();
    assert!(next.contains("Page=1"), "{first}");
    let next = next.split_once('?').unwrap().1;
    let second = api
        .get(&format!("/SIP/Domains.json?{next}"))
        .await
        .json(200);
    assert_eq!(second["domains"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_page_uri"], Value::Null);
    assert!(second["previous_page_uri"].is_string());

    let deleted = api.delete(&format!("/SIP/Domains/{sid}.json")).await;
    assert_eq!(deleted.status, 204);
    api.get(&format!("/SIP/Domains/{sid}.json"))
        .await
        .api_error(404, 20404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_what_twilio_would_with_twilios_error_shape() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let api = server.api(&accounts[0]);
    api.post(
        "/SIP/Domains.json",
        &[("DomainName", "taken.sip.twilio.com")],
    )
    .await
    .json(201);
    // The form, and the status, code and message fragment of the refusal.
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, u32, &'a str);
    let cases: &[Case] = &[
        (&[], 400, 20001, "DomainName is required"),
        (
            &[("DomainName", "nodot")],
            400,
            20001,
            "not a full host name",
        ),
        (
            &[("DomainName", "bad_name.sip.twilio.com")],
            400,
            20001,
            "letters, digits",
        ),
        (
            &[("DomainName", "TAKEN.sip.twilio.com")],
            409,
            20409,
            "taken.sip.twilio.com",
        ),
        (
            &[("DomainName", "a.b"), ("FriendlyName", &"x".repeat(65))],
            400,
            20001,
            "at most 64",
        ),
        (
            &[("DomainName", "a.b"), ("VoiceMethod", "PUT")],
            400,
            20001,
            "GET or POST",
        ),
        (
            &[("DomainName", "a.b"), ("VoiceUrl", "not a url")],
            400,
            20001,
            "absolute http",
        ),
        (
            &[("DomainName", "a.b"), ("SipRegistration", "maybe")],
            400,
            20001,
            "true or false",
        ),
    ];
    for (form, status, code, message) in cases {
        let error = api
            .post("/SIP/Domains.json", form)
            .await
            .api_error(*status, *code);
        let text = error["message"].as_str().unwrap();
        assert!(text.contains(message), "{form:?}: {text}");
    }
    let path = api.path("/SIP/Domains.json");
    let put = server
        .request("PUT", &path, &[("authorization", &accounts[0].basic())], "")
        .await;
    put.api_error(405, 20405);
    let anonymous = server.request("GET", &path, &[], "").await;
    anonymous.api_error(401, 20003);
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let wrong_token = TestAccount {
        sid: accounts[0].sid.clone(),
        token: "0".repeat(32),
    };
    server
        .api(&wrong_token)
        .get("/SIP/Domains.json")
        .await
        .api_error(401, 20003);
    api.get("/SIP/Nope.json").await.api_error(404, 20404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_are_uploaded_versioned_served_and_deleted() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let api = server.api(account);
    let function = upload(&server, account, "pstn-dial", "pstn-dial").await;
    assert!(is_sid(&function["sid"], "ZH"), "{function}");
    assert!(is_sid(&function["version"]["sid"], "ZN"), "{function}");
    let wasm = guest("pstn-dial");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm));
    assert_eq!(function["version"]["sha256"], sha.as_str());
    assert_eq!(function["version"]["size"], wasm.len());
    let sid = function["sid"].as_str().unwrap().to_owned();

    let webhook = path(&function);
    assert_eq!(webhook, format!("/voice/functions/{sid}"));
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert!(answer.twiml().contains("<Number>+15125551212</Number>"));

    // A new version replaces the old one at the same URL.
    let replaced = api
        .upload(&format!("/Functions/{sid}.json"), guest("header-router"))
        .await
        .json(200);
    assert_ne!(replaced["version"]["sid"], function["version"]["sid"]);
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert!(
        answer.twiml().contains("could not route your call"),
        "{}",
        answer.body
    );
    let versions = api
        .get(&format!("/Functions/{sid}/Versions.json"))
        .await
        .json(200);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
    assert_eq!(versions["versions"][0]["sid"], replaced["version"]["sid"]);
    let content = api.get(&format!("/Functions/{sid}/Content")).await;
    assert_eq!(content.status, 200);
    assert_eq!(content.bytes.as_ref(), guest("header-router").as_slice());

    // A refused version leaves the current one serving.
    let refused = api
        .upload(&format!("/Functions/{sid}.json"), b"not wasm".to_vec())
        .await
        .api_error(400, 20001);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not WebAssembly")
    );
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert!(answer.twiml().contains("could not route your call"));

    let listed = api.get("/Functions.json").await.json(200);
    assert_eq!(listed["functions"].as_array().unwrap().len(), 1);
    let by_name = api
        .get("/Functions.json?FriendlyName=pstn-dial")
        .await
        .json(200);
    assert_eq!(by_name["functions"][0]["sid"], sid.as_str());
    let fetched = api.get(&format!("/Functions/{sid}.json")).await.json(200);
    assert_eq!(fetched["version"], replaced["version"]);

    assert_eq!(
        api.delete(&format!("/Functions/{sid}.json")).await.status,
        204
    );
    api.get(&format!("/Functions/{sid}.json"))
        .await
        .api_error(404, 20404);
    let gone = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert_eq!(gone.status, 403, "{}", gone.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_checked_before_they_are_accepted() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true], |config| Config {
        max_upload_bytes: 256 * 1024,
        ..config
    })
    .await;
    let api = server.api(&accounts[0]);
    let create = "/Functions.json?FriendlyName=f";
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        (create, b"hello".to_vec(), 400, "not WebAssembly"),
        (create, b"\0asm\x01\0\0\0".to_vec(), 400, "twiml:edge"),
        (
            create,
            refused_guest("wrong-world"),
            400,
            "rebuild it against this runtime's wit/",
        ),
        (create, vec![0; 300 * 1024], 413, "262144-byte limit"),
        (
            "/Functions.json",
            guest("pstn-dial"),
            400,
            "FriendlyName is required",
        ),
    ];
    for (path, wasm, status, message) in cases {
        let code = 20000 + u32::from(status) - if status == 400 { 399 } else { 0 };
        let error = api.upload(path, wasm).await.api_error(status, code);
        let text = error["message"].as_str().unwrap();
        assert!(text.contains(message), "{path}: {text}");
    }
    let bad_name = api
        .upload(
            "/Functions.json?FriendlyName=no%20spaces",
            guest("pstn-dial"),
        )
        .await
        .api_error(400, 20001);
    assert!(
        bad_name["message"]
            .as_str()
            .unwrap()
            .contains("letters, digits")
    );
    let auth = accounts[0].basic();
    let text = server
        .request(
            "POST",
            &api.path(create),
            &[("authorization", &auth), ("content-type", "text/plain")],
            guest("pstn-dial"),
        )
        .await;
    text.api_error(415, 20415);
    api.upload(create, guest("pstn-dial")).await.json(201);
    let duplicate = api
        .upload(create, guest("pstn-dial"))
        .await
        .api_error(409, 20409);
    assert!(
        duplicate["message"].as_str().unwrap().contains("\"f\""),
        "{duplicate}"
    );
    assert!(
        api.get("/Functions.json").await.json(200)["functions"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twiml_bins_are_created_updated_served_and_deleted() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let api = server.api(account);
    let seed = r#"<Response><Dial callerId="{{#e164}}{{From}}{{/e164}}">{{#e164}}{{To}}{{/e164}}</Dial></Response>"#;
    let bin = create_bin(&server, account, "pstn-dial", seed).await;
    assert!(is_sid(&bin["sid"], "EH"), "{bin}");
    assert_eq!(bin["template"], seed);
    let sid = bin["sid"].as_str().unwrap().to_owned();
    let webhook = path(&bin);
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert_eq!(
        answer.twiml(),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+14155550100">+15125551212</Dial></Response>"#
    );
    let updated = api
        .post(
            &format!("/TwimlBins/{sid}.json"),
            &[(
                "Template",
                "<Response><Say>{{SipHeader_X-Customer}}</Say></Response>",
            )],
        )
        .await
        .json(200);
    assert_eq!(updated["friendly_name"], "pstn-dial");
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert!(
        answer
            .twiml()
            .ends_with("<Response><Say>42</Say></Response>")
    );

    let broken = api
        .post(
            &format!("/TwimlBins/{sid}.json"),
            &[("Template", "<Response>\n{{#To}}\n</Response>")],
        )
        .await
        .api_error(400, 20001);
    assert!(
        broken["message"].as_str().unwrap().contains("line "),
        "{broken}"
    );
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert!(
        answer
            .twiml()
            .ends_with("<Response><Say>42</Say></Response>"),
        "the old template still serves"
    );
    for (form, status, code, message) in [
        (
            &[("Template", "<Response/>")][..],
            400,
            20001,
            "FriendlyName is required",
        ),
        (
            &[("FriendlyName", "x")][..],
            400,
            20001,
            "Template is required",
        ),
        (
            &[("FriendlyName", "pstn-dial"), ("Template", "<Response/>")][..],
            409,
            20409,
            "a bin named \"pstn-dial\" already exists",
        ),
    ] {
        let json = api
            .post("/TwimlBins.json", form)
            .await
            .api_error(status, code);
        assert!(
            json["message"].as_str().unwrap().contains(message),
            "{json}"
        );
    }
    // What could reach other templates, recurse or write a value unescaped is refused up front.
    for (template, message) in [
        ("<Response>{{> other}}</Response>", "partials"),
        (
            r#"{{#*inline "p"}}{{> p}}{{/inline}}<Response>{{> p}}</Response>"#,
            "inline partials",
        ),
        ("<Response><Say>{{{From}}}</Say></Response>", "unescaped"),
    ] {
        let error = api
            .post(
                "/TwimlBins.json",
                &[("FriendlyName", "evil"), ("Template", template)],
            )
            .await
            .api_error(400, 20001);
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{error}"
        );
    }
    let listed = api.get("/TwimlBins.json").await.json(200);
    assert_eq!(listed["twiml_bins"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("/TwimlBins/{sid}.json")).await.json(200)["sid"],
        sid.as_str()
    );
    assert_eq!(
        api.delete(&format!("/TwimlBins/{sid}.json")).await.status,
        204
    );
    assert_eq!(
        server
            .signed_post(&webhook, &account.token, &sip_webhook())
            .await
            .status,
        403
    );
}

/// A domain whose voice_url is `primary` and fallback a bin that reports the error it got.
async fn domain_with(
    server: &TestServer,
    account: &TestAccount,
    name: &str,
    primary: &str,
    fallback: Option<&str>,
) -> Value {
    let mut form = vec![("DomainName", name), ("VoiceUrl", primary)];
    if let Some(fallback) = fallback {
        form.push(("VoiceFallbackUrl", fallback));
    }
    server
        .api(account)
        .post("/SIP/Domains.json", &form)
        .await
        .json(201)
}

fn domain_webhook(domain: &str) -> Vec<(String, String)> {
    with_overrides(&sip_webhook(), &params(&[("SipDomain", domain)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_voice_url_falls_back_as_the_engine_would() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let fallback = create_bin(
        &server,
        account,
        "fallback",
        "<Response><Say>Sorry: {{ErrorCode}} from {{ErrorUrl}}</Say></Response>",
    )
    .await;
    let fallback_url = fallback["webhook_url"].as_str().unwrap().to_owned();
    // Each failure kind, and the ErrorCode the engine would report for it. Three <Sip> in one
    // <Dial> break the schema for an account without enhanced SIP.
    let cases = [
        ("trap", "", "function_trap", "11200"),
        ("infinite-loop", "", "function_deadline", "11200"),
        ("memory-bomb", "", "function_memory_limit", "11200"),
        ("stack-overflow", "", "function_stack_overflow", "11200"),
        ("big-answer", "", "twiml_too_large", "11750"),
        ("malformed", "", "invalid_twiml", "12100"),
        ("empty-answer", "", "invalid_twiml", "12100"),
        // The guest refuses the webhook: To from the URL's query is not a number.
        ("pstn-dial", "?To=alice", "function_bad_request", "11200"),
        (
            "sequential-dial",
            "?User[]=a&User[]=b",
            "invalid_twiml",
            "12200",
        ),
    ];
    for (i, (guest_name, query, outcome, code)) in cases.iter().enumerate() {
        let function = upload(&server, account, guest_name, guest_name).await;
        let voice_url = format!("{}{query}", function["webhook_url"].as_str().unwrap());
        let name = format!("d{i}.sip.twilio.com");
        let domain = domain_with(&server, account, &name, &voice_url, Some(&fallback_url)).await;
        // The engine names the regional host; the domain was created without it.
        let regional = format!("d{i}.sip.us1.twilio.com");
        let answer = server
            .signed_post("/voice", &account.token, &domain_webhook(&regional))
            .await;
        assert_eq!(
            answer.twiml(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry: {code} from {}</Say></Response>"#,
                voice_url.replace('&', "&amp;")
            ),
            "{guest_name}"
        );
        assert_eq!(answer.headers[FALLBACK_HEADER], *code, "{guest_name}");
        let log = call_log(&server, account, domain["sid"].as_str().unwrap(), 1).await;
        assert_eq!(log[0]["outcome"], *outcome, "{guest_name}: {log:?}");
        let fallback_line = format!("bin {} ok", fallback["sid"].as_str().unwrap());
        assert_eq!(log[0]["fallback"], fallback_line.as_str(), "{guest_name}");
        assert_eq!(log[0]["call_sid"], "CA5f6c7e8d9a0b1c2d3e4f5a6b7c8d9e0f");
    }

    // A voice_url that names nothing of this account falls back too.
    let missing = "https://edge.example.com/voice/functions/ZH00000000000000000000000000000000";
    domain_with(
        &server,
        account,
        "missing.sip.twilio.com",
        missing,
        Some(&fallback_url),
    )
    .await;
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("missing.sip.twilio.com"),
        )
        .await;
    assert!(
        answer
            .twiml()
            .contains("Sorry: 11200 from https://edge.example.com/voice/functions/ZH0")
    );

    // Without a fallback, a voice_url that names nothing is the domain's fault, not the
    // request's: a 502 that says what to fix.
    domain_with(&server, account, "lost.sip.twilio.com", missing, None).await;
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("lost.sip.twilio.com"),
        )
        .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.error()["code"], "no_target");
    assert!(
        answer.error()["message"]
            .as_str()
            .unwrap()
            .contains("runs /voice/functions/ZH... and /voice/bins/EH... URLs")
    );

    // Without a fallback the reason comes back as a 5xx.
    let trap = api_function_url(&server, account, "trap").await;
    domain_with(&server, account, "nofallback.sip.twilio.com", &trap, None).await;
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("nofallback.sip.twilio.com"),
        )
        .await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.error()["code"], "function_trap");

    // When the fallback fails as well, both reasons are given.
    domain_with(&server, account, "both.sip.twilio.com", &trap, Some(&trap)).await;
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("both.sip.twilio.com"),
        )
        .await;
    assert_eq!(answer.status, 500);
    let error = answer.error();
    assert_eq!(error["code"], "fallback_failed");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("and so did the voice_fallback_url")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_fallback_and_a_busy_voice_url_fall_back_as_the_engine_would() {
    let data = tempfile::tempdir().unwrap();
    let account = TestAccount::create(data.path(), true);
    let app = twiml_edge_server::App::new(Config {
        templates: crate::common::repo_root().join("templates"),
        data: data.path().to_path_buf(),
        // One call at a time for the account, and a loop that outlasts the checks below.
        max_calls_per_account: Some(1),
        limits: twiml_edge_server::Limits {
            cpu_time: Duration::from_secs(3),
            wall_time: crate::common::UNHURRIED_WALL_TIME,
            ..twiml_edge_server::Limits::default()
        },
        ..Config::default()
    })
    .unwrap();
    let server = TestServer::serve(app.clone()).await;
    let api = server.api(&account);
    let trap = upload(&server, &account, "trap", "trap").await;
    let echo = upload(&server, &account, "echo", "echo").await;
    let trap_url = trap["webhook_url"].as_str().unwrap();
    let echo_url = echo["webhook_url"].as_str().unwrap();

    // VoiceFallbackMethod=GET: the fallback gets the webhook's parameters and the error in its
    // query, as a GET (the echo guest says the method, URL and each parameter back).
    api.post(
        "/SIP/Domains.json",
        &[
            ("DomainName", "get.sip.twilio.com"),
            ("VoiceUrl", trap_url),
            ("VoiceFallbackUrl", echo_url),
            ("VoiceFallbackMethod", "GET"),
        ],
    )
    .await
    .json(201);
    let webhook = domain_webhook("get.sip.twilio.com");
    let answer = server.signed_post("/voice", &account.token, &webhook).await;
    let twiml = answer.twiml();
    assert_eq!(answer.headers[FALLBACK_HEADER], "11200");
    let query = encode(&with_overrides(
        &webhook,
        &params(&[("ErrorCode", "11200"), ("ErrorUrl", trap_url)]),
    ));
    assert!(
        twiml.contains(&format!(
            "<Say>GET {}?{}</Say>",
            path(&echo),
            query.replace('&', "&amp;")
        )),
        "{twiml}"
    );
    for (name, value) in [
        ("ErrorCode", "11200"),
        ("ErrorUrl", trap_url),
        ("SipDomain", "get.sip.twilio.com"),
        ("From", "sip:+14155550100@acme.sip.twilio.com"),
    ] {
        assert!(
            twiml.contains(&format!("<Say>{name}={value}</Say>")),
            "{name}: {twiml}"
        );
    }

    // A voice_url refused as busy (the account's one call slot is taken) falls back to a bin,
    // which needs no slot.
    let looping = upload(&server, &account, "loop", "infinite-loop").await;
    let pstn = upload(&server, &account, "pstn", "pstn-dial").await;
    let fallback = create_bin(
        &server,
        &account,
        "sorry",
        "<Response><Say>Sorry: {{ErrorCode}}</Say></Response>",
    )
    .await;
    let domain = domain_with(
        &server,
        &account,
        "busy.sip.twilio.com",
        pstn["webhook_url"].as_str().unwrap(),
        fallback["webhook_url"].as_str(),
    )
    .await;
    let held = {
        let (url, token) = (server.url(&path(&looping)), account.token.clone());
        tokio::spawn(
            async move { crate::common::signed_post_to(&url, &token, &sip_webhook()).await },
        )
    };
    crate::common::wait_until("the loop holds the account's slot", || {
        app.sandbox().calls_in_flight() == 1
    })
    .await;
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("busy.sip.twilio.com"),
        )
        .await;
    assert_eq!(
        answer.twiml(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Sorry: 11200</Say></Response>"
    );
    assert_eq!(answer.headers[FALLBACK_HEADER], "11200");
    assert_eq!(
        app.sandbox().calls_in_flight(),
        1,
        "the loop ended too soon"
    );
    let log = call_log(&server, &account, domain["sid"].as_str().unwrap(), 1).await;
    assert_eq!(log[0]["outcome"], "busy", "{log:?}");
    assert_eq!(log[0]["function_sid"], pstn["sid"]);
    let fallback_line = format!("bin {} ok", fallback["sid"].as_str().unwrap());
    assert_eq!(log[0]["fallback"], fallback_line.as_str());
    assert_eq!(held.await.unwrap().error()["code"], "function_deadline");
    // With the slot free again, the voice_url answers.
    let answer = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("busy.sip.twilio.com"),
        )
        .await;
    assert!(
        answer.twiml().contains("<Number>+15125551212</Number>"),
        "{}",
        answer.body
    );
    assert!(answer.headers.get(FALLBACK_HEADER).is_none());
}

async fn api_function_url(server: &TestServer, account: &TestAccount, name: &str) -> String {
    let listed = server
        .api(account)
        .get(&format!("/Functions.json?FriendlyName={name}"))
        .await
        .json(200);
    listed["functions"][0]["webhook_url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The newest `n` call log entries of a domain, waiting for the writer thread.
async fn call_log(
    server: &TestServer,
    account: &TestAccount,
    domain_sid: &str,
    n: usize,
) -> Vec<Value> {
    for _ in 0..100 {
        let log = server
            .api(account)
            .get(&format!("/CallLog.json?DomainSid={domain_sid}"))
            .await
            .json(200);
        let calls = log["calls"].as_array().unwrap().clone();
        if calls.len() >= n {
            return calls;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the call log of {domain_sid} never got {n} entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_route_by_url_and_method_and_status_callbacks_reach_their_function() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let echo = upload(&server, account, "echo", "echo").await;
    let echo_url = echo["webhook_url"].as_str().unwrap().to_owned();
    let api = server.api(account);
    let domain = api
        .post(
            "/SIP/Domains.json",
            &[
                ("DomainName", "acme.sip.twilio.com"),
                ("VoiceUrl", &format!("{echo_url}?Lang=fr")),
                ("VoiceMethod", "GET"),
                ("VoiceStatusCallbackUrl", &echo_url),
            ],
        )
        .await
        .json(201);
    let sid = domain["sid"].as_str().unwrap();
    let small = params(&[("From", "+14155550100"), ("CallSid", "CA1")]);
    for path in [
        format!("/voice/domains/{sid}"),
        "/voice/domains/acme.sip.twilio.com".to_owned(),
        path(&domain),
    ] {
        let answer = server.signed_post(&path, &account.token, &small).await;
        assert_eq!(
            answer.twiml(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>GET /voice/functions/{}?Lang=fr&amp;From=%2B14155550100&amp;CallSid=CA1</Say><Say>Lang=fr</Say><Say>From=+14155550100</Say><Say>CallSid=CA1</Say></Response>"#,
                echo["sid"].as_str().unwrap()
            ),
            "{path}"
        );
    }
    let status = with_overrides(
        &small,
        &params(&[
            ("CallStatus", "completed"),
            ("SipDomain", "acme.sip.twilio.com"),
        ]),
    );
    let answer = server
        .signed_post("/voice/status", &account.token, &status)
        .await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert!(answer.body.is_empty());
    let log = call_log(&server, account, sid, 4).await;
    assert!(
        log[0]["target"]
            .as_str()
            .unwrap()
            .starts_with("status callback: function"),
        "{log:?}"
    );
    assert_eq!(log[0]["outcome"], "ok");
    assert_eq!(log[0]["logs"][0]["message"], "echo called");
    let unknown = server
        .signed_post(
            "/voice",
            &account.token,
            &domain_webhook("nowhere.sip.twilio.com"),
        )
        .await;
    assert_eq!(unknown.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_webhooks_signed_by_the_owner_run() {
    let (server, accounts, _data) = server_with_accounts(&[true, false]).await;
    let (signed, unsigned) = (&accounts[0], &accounts[1]);
    let function = upload(&server, signed, "pstn-dial", "pstn-dial").await;
    let webhook = path(&function);
    let body = encode(&sip_webhook());
    let url = server.url(&webhook);
    let sign = |url: &str, body: &str| {
        signature::sign(&signed.token, url, signature::Body::Form(body.as_bytes()))
    };
    let post = |path: String, signature: String, body: String| {
        let server = &server;
        async move {
            server
                .request(
                    "POST",
                    &path,
                    &[("content-type", FORM), ("x-twilio-signature", &signature)],
                    body,
                )
                .await
        }
    };
    let ok = post(webhook.clone(), sign(&url, &body), body.clone()).await;
    assert_eq!(ok.twiml(), PSTN_DIAL_TWIML);

    let tampered_body = body.replace("SipHeader_X-Customer=42", "SipHeader_X-Customer=43");
    let refusals: Vec<(&str, String, String, String)> = vec![
        (
            "a parameter",
            webhook.clone(),
            sign(&url, &body),
            tampered_body,
        ),
        (
            "the URL",
            format!("{webhook}?x=1"),
            sign(&url, &body),
            body.clone(),
        ),
        (
            "the port",
            webhook.clone(),
            sign(&url.replace(&server.addr.port().to_string(), "1"), &body),
            body.clone(),
        ),
        (
            "the token",
            webhook.clone(),
            signature::sign(
                &unsigned.token,
                &url,
                signature::Body::Form(body.as_bytes()),
            ),
            body.clone(),
        ),
        (
            "the signature",
            webhook.clone(),
            String::new(),
            body.clone(),
        ),
    ];
    for (what, path, signature, body) in refusals {
        let answer = post(path, signature, body).await;
        assert_eq!(answer.status, 403, "tampered {what}: {}", answer.body);
        assert_eq!(answer.error()["code"], "forbidden");
    }
    let missing = server
        .send("POST", &webhook, Some(FORM), body.clone())
        .await;
    assert_eq!(missing.api_error_code(403), "forbidden");

    // GET signs the URL alone; JSON bodies are covered by bodySHA256.
    let get_path = format!("{webhook}?{body}");
    let get = server
        .request(
            "GET",
            &get_path,
            &[(
                "x-twilio-signature",
                &signature::sign(&signed.token, &server.url(&get_path), signature::Body::None),
            )],
            "",
        )
        .await;
    assert_eq!(get.twiml(), PSTN_DIAL_TWIML);
    let altered = server
        .request(
            "GET",
            &get_path.replace("X-Customer=42", "X-Customer=43"),
            &[(
                "x-twilio-signature",
                &signature::sign(&signed.token, &server.url(&get_path), signature::Body::None),
            )],
            "",
        )
        .await;
    assert_eq!(altered.api_error_code(403), "forbidden");
    let json = serde_json::json!({"To": "sip:+15125551212@acme.sip.twilio.com", "From": "sip:+14155550100@acme.sip.twilio.com"}).to_string();
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(json.as_bytes()));
    let json_path = format!("{webhook}?bodySHA256={hash}");
    let json_signature = signature::sign(
        &signed.token,
        &server.url(&json_path),
        signature::Body::None,
    );
    let send_json = |body: String| {
        let (server, path, signature) = (&server, json_path.clone(), json_signature.clone());
        async move {
            server
                .request(
                    "POST",
                    &path,
                    &[
                        ("content-type", "application/json"),
                        ("x-twilio-signature", &signature),
                    ],
                    body,
                )
                .await
        }
    };
    assert_eq!(send_json(json.clone()).await.twiml(), PSTN_DIAL_TWIML);
    assert_eq!(
        send_json(json.replace("5125", "5126"))
            .await
            .api_error_code(403),
        "forbidden"
    );

    // An account that turned checking off takes unsigned webhooks.
    let open = upload(&server, unsigned, "pstn-dial", "pstn-dial").await;
    let answer = server.post_form(&path(&open), &sip_webhook()).await;
    assert_eq!(answer.twiml(), PSTN_DIAL_TWIML);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_signatures_changed_through_the_api_applies_to_the_next_webhook() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let api = server.api(account);
    let bin = create_bin(&server, account, "hi", "<Response><Say>hi</Say></Response>").await;
    let bin_path = path(&bin);
    let webhook = sip_webhook();
    let unsigned = || server.post_form(&bin_path, &webhook);
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>hi</Say></Response>";
    for round in 0..3 {
        assert_eq!(
            unsigned().await.api_error_code(403),
            "forbidden",
            "round {round}"
        );
        let off = api
            .post(".json", &[("ValidateSignatures", "false")])
            .await
            .json(200);
        assert_eq!(off["validate_signatures"], false);
        assert_eq!(
            unsigned().await.twiml(),
            expected,
            "round {round}: not checked"
        );
        // A wrong signature is no better than none while checking is off, and no worse.
        let wrong = server
            .request(
                "POST",
                &bin_path,
                &[("content-type", FORM), ("x-twilio-signature", "AAAA")],
                encode(&sip_webhook()),
            )
            .await;
        assert_eq!(wrong.twiml(), expected);
        let on = api
            .post(".json", &[("ValidateSignatures", "true")])
            .await
            .json(200);
        assert_eq!(on["validate_signatures"], true);
    }
    assert_eq!(unsigned().await.api_error_code(403), "forbidden");
    let signed = server
        .signed_post(&bin_path, &account.token, &sip_webhook())
        .await;
    assert_eq!(signed.twiml(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_against_the_public_url() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true], |config| Config {
        public_url: Some("https://edge.example.com".into()),
        ..config
    })
    .await;
    let account = &accounts[0];
    let function = upload(&server, account, "pstn-dial", "pstn-dial").await;
    assert!(
        function["webhook_url"]
            .as_str()
            .unwrap()
            .starts_with("https://edge.example.com/voice/functions/ZH")
    );
    let webhook = path(&function);
    let body = encode(&sip_webhook());
    for (url, status) in [
        (format!("https://edge.example.com{webhook}"), 200),
        (format!("https://edge.example.com:443{webhook}"), 200),
        (server.url(&webhook), 403),
    ] {
        let signature =
            signature::sign(&account.token, &url, signature::Body::Form(body.as_bytes()));
        let answer = server
            .request(
                "POST",
                &webhook,
                &[("content-type", FORM), ("x-twilio-signature", &signature)],
                body.clone(),
            )
            .await;
        match status {
            200 => assert_eq!(answer.twiml(), PSTN_DIAL_TWIML, "{url}"),
            _ => assert_eq!(answer.api_error_code(status), "forbidden", "{url}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_account_reaches_anything_of_another() {
    let (server, accounts, _data) = server_with_accounts(&[true, true]).await;
    let (a, b) = (&accounts[0], &accounts[1]);
    let function = upload(&server, a, "pstn-dial", "pstn-dial").await;
    let bin = create_bin(&server, a, "bin", "<Response><Hangup/></Response>").await;
    let domain = domain_with(
        &server,
        a,
        "a.sip.twilio.com",
        function["webhook_url"].as_str().unwrap(),
        None,
    )
    .await;
    let (zh, eh, sd) = (
        function["sid"].as_str().unwrap(),
        bin["sid"].as_str().unwrap(),
        domain["sid"].as_str().unwrap(),
    );
    let absent = |prefix: &str| format!("{prefix}{}", "0".repeat(32));

    // B's credentials on A's account: refused alike whether A's things exist or not.
    let on_a = |rest: &str| format!("/2010-04-01/Accounts/{}{rest}", a.sid);
    let on_nobody = |rest: &str| format!("/2010-04-01/Accounts/{}{rest}", absent("AC"));
    for rest in [
        "/SIP/Domains.json".to_owned(),
        format!("/SIP/Domains/{sd}.json"),
        "/Functions.json".to_owned(),
        format!("/Functions/{zh}.json"),
        format!("/Functions/{zh}/Content"),
        "/TwimlBins.json".to_owned(),
        format!("/TwimlBins/{eh}.json"),
        "/CallLog.json".to_owned(),
        ".json".to_owned(),
    ] {
        for method in ["GET", "POST", "DELETE"] {
            let auth = b.basic();
            let headers = [("authorization", auth.as_str()), ("content-type", FORM)];
            let mine = server.request(method, &on_a(&rest), &headers, "").await;
            let nobody = server
                .request(method, &on_nobody(&rest), &headers, "")
                .await;
            let mine = mine.api_error(403, 20403);
            let nobody = nobody.api_error(403, 20403);
            let strip = |v: &Value| {
                v["message"]
                    .as_str()
                    .unwrap()
                    .replace(&a.sid, "X")
                    .replace(&absent("AC"), "X")
            };
            assert_eq!(strip(&mine), strip(&nobody), "{method} {rest}");
        }
    }

    // B on its own account, naming A's sids: the same 404 as sids that exist nowhere.
    let api = server.api(b);
    for (rest, missing) in [
        (
            format!("/SIP/Domains/{sd}.json"),
            format!("/SIP/Domains/{}.json", absent("SD")),
        ),
        (
            format!("/Functions/{zh}.json"),
            format!("/Functions/{}.json", absent("ZH")),
        ),
        (
            format!("/Functions/{zh}/Content"),
            format!("/Functions/{}/Content", absent("ZH")),
        ),
        (
            format!("/Functions/{zh}/Versions.json"),
            format!("/Functions/{}/Versions.json", absent("ZH")),
        ),
        (
            format!("/Functions/{zh}/Calls.json"),
            format!("/Functions/{}/Calls.json", absent("ZH")),
        ),
        (
            format!("/TwimlBins/{eh}.json"),
            format!("/TwimlBins/{}.json", absent("EH")),
        ),
    ] {
        for method in ["GET", "POST", "DELETE"] {
            let auth = b.basic();
            let headers = [("authorization", auth.as_str()), ("content-type", FORM)];
            let theirs = server.request(method, &api.path(&rest), &headers, "").await;
            let nowhere = server
                .request(method, &api.path(&missing), &headers, "")
                .await;
            assert_eq!(theirs.status, nowhere.status, "{method} {rest}");
            assert_eq!(
                theirs.body,
                nowhere.body.replace(&missing, &rest),
                "{method} {rest}"
            );
            if method == "GET" {
                theirs.api_error(404, 20404);
            }
        }
    }
    let upload_over = api
        .upload(&format!("/Functions/{zh}.json"), guest("trap"))
        .await;
    upload_over.api_error(404, 20404);
    for list in ["/SIP/Domains.json", "/Functions.json", "/TwimlBins.json"] {
        let listed = api.get(list).await.json(200);
        let items = listed
            .as_object()
            .unwrap()
            .values()
            .find_map(Value::as_array)
            .unwrap();
        assert!(items.is_empty(), "{list}: {listed}");
    }

    // A's things still work for A.
    let answer = server
        .signed_post(&path(&function), &a.token, &sip_webhook())
        .await;
    assert_eq!(answer.status, 200);

    // B's signature runs nothing of A's, and B's domain cannot point at A's function.
    for target in [path(&function), path(&bin), format!("/voice/domains/{sd}")] {
        let theirs = server.signed_post(&target, &b.token, &sip_webhook()).await;
        let nowhere = server
            .signed_post(
                &target
                    .replace(zh, &absent("ZH"))
                    .replace(eh, &absent("EH"))
                    .replace(sd, &absent("SD")),
                &b.token,
                &sip_webhook(),
            )
            .await;
        assert_eq!(theirs.status, 403, "{target}");
        assert_eq!(
            theirs.body,
            nowhere
                .body
                .replace(&absent("ZH"), zh)
                .replace(&absent("EH"), eh)
                .replace(&absent("SD"), sd),
            "{target}"
        );
    }
    // B cannot claim A's domain in a regional form, which the engine would route to B.
    let taken = server
        .api(b)
        .post(
            "/SIP/Domains.json",
            &[("DomainName", "a.sip.us1.twilio.com")],
        )
        .await
        .api_error(409, 20409);
    assert!(
        taken["message"]
            .as_str()
            .unwrap()
            .contains("already in use"),
        "{taken}"
    );
    domain_with(
        &server,
        b,
        "b.sip.twilio.com",
        function["webhook_url"].as_str().unwrap(),
        None,
    )
    .await;
    let answer = server
        .signed_post("/voice", &b.token, &domain_webhook("b.sip.twilio.com"))
        .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(
        answer.error()["message"]
            .as_str()
            .unwrap()
            .contains("not a function or TwiML bin of this account")
    );
    // B's call is in B's log as one that reached nothing; A's function ran only A's call.
    let b_calls = crate::common::wait_for_calls(&server, b, "/CallLog.json", 1).await;
    assert_eq!(b_calls.len(), 1, "{b_calls:?}");
    assert_eq!(b_calls[0]["outcome"], "no_target");
    assert_eq!(b_calls[0]["function_sid"], Value::Null);
    assert_eq!(b_calls[0]["target"], function["webhook_url"]);
    let a_calls = server
        .api(a)
        .get(&format!("/Functions/{zh}/Calls.json"))
        .await
        .json(200);
    let a_calls = a_calls["calls"].as_array().unwrap();
    assert_eq!(a_calls.len(), 1, "{a_calls:?}");
    assert_eq!(a_calls[0]["outcome"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_settings_decide_what_the_twiml_check_refuses() {
    let (server, accounts, _data) = server_with_accounts(&[true]).await;
    let account = &accounts[0];
    let api = server.api(account);
    let function = upload(&server, account, "sequential-dial", "sequential-dial").await;
    // Three <Sip> in one <Dial>: refused without enhanced SIP.
    let webhook = format!("{}?User%5B%5D=a&User%5B%5D=b&User%5B%5D=c", path(&function));
    let refused = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert_eq!(refused.status, 500);
    assert_eq!(refused.error()["rule"], "enhanced-sip-required");

    let settings = api.get(".json").await.json(200);
    assert_eq!(settings["enhanced_sip"], false);
    assert_eq!(settings["twiml_warnings_only"], false);
    let warned = api
        .post(".json", &[("TwimlWarningsOnly", "true")])
        .await
        .json(200);
    assert_eq!(warned["twiml_warnings_only"], true);
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert_eq!(
        answer.twiml().matches("<Sip ").count(),
        3,
        "a schema finding is only logged"
    );
    // Syntax is never let through.
    let malformed = upload(&server, account, "malformed", "malformed").await;
    let broken = server
        .signed_post(&path(&malformed), &account.token, &sip_webhook())
        .await;
    assert_eq!(broken.error()["rule"], "unescaped-amp");

    api.post(
        ".json",
        &[("TwimlWarningsOnly", "false"), ("EnhancedSip", "true")],
    )
    .await
    .json(200);
    let answer = server
        .signed_post(&webhook, &account.token, &sip_webhook())
        .await;
    assert_eq!(
        answer.twiml().matches("<Sip ").count(),
        3,
        "enhanced SIP allows it"
    );
    api.post(".json", &[("EnhancedSip", "maybe")])
        .await
        .api_error(400, 20001);
}
