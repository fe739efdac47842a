//! End-to-end: every account's content and every caller's webhook is hostile to everyone else.
//! Each test performs an attack through a running server and asserts that it is refused or
//! contained, that the server stays up, and that another account is answered meanwhile.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    time::{Duration, Instant},
};

use crate::common::{TestAccount, TestServer, guest, refused_guest, sip_webhook, with_overrides};
use serde_json::Value;
use twiml_edge_server::{App, Config, Limits, Quotas};

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// The path of a `webhook_url`.
fn path(json: &Value) -> String {
    let url = json["webhook_url"].as_str().unwrap();
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap()
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

/// The honest account's function, answered correctly: what must keep working during an attack.
struct Bystander {
    path: String,
    token: String,
}

const BYSTANDER_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial \
     callerId=\"+14155550100\"><Number>+15125551212</Number></Dial></Response>";

impl Bystander {
    async fn new(server: &TestServer, account: &TestAccount) -> Self {
        let function = upload(server, account, "honest", "pstn-dial").await;
        Self {
            path: path(&function),
            token: account.token.clone(),
        }
    }

    /// One call, answered with exactly the TwiML it always answers.
    async fn is_served(&self, server: &TestServer) {
        let answer = server
            .signed_post(&self.path, &self.token, &sip_webhook())
            .await;
        assert_eq!(answer.twiml(), BYSTANDER_TWIML);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bin_cannot_name_another_or_write_unescaped_whatever_its_spacing() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true, true], |c| c).await;
    let (victim, attacker) = (&accounts[0], &accounts[1]);
    let secret = create_bin(
        &server,
        victim,
        "secret",
        "<Response><Say>secret</Say></Response>",
    )
    .await;
    let secret_sid = secret["sid"].as_str().unwrap();
    let bystander = Bystander::new(&server, victim).await;
    let attacks = [
        (format!("{{{{ ~>{secret_sid}}}}}"), "partials"),
        (format!("{{{{~> {secret_sid} }}}}"), "partials"),
        (
            format!("{{{{ #>{secret_sid}}}}}x{{{{/{secret_sid}}}}}"),
            "partials",
        ),
        ("<Say>{{ {From} }}</Say>".to_owned(), "unescaped"),
        ("<Say>{{ ~&From}}</Say>".to_owned(), "unescaped"),
        ("{{ *inline \"x\"}}".to_owned(), "decorators"),
        ("{{log From}}".to_owned(), "helper TwiML Bins do not have"),
        (
            "{{(lookup this \"From\")}}".to_owned(),
            "subexpression cannot name",
        ),
    ];
    for (template, why) in &attacks {
        let refused = server
            .api(attacker)
            .post(
                "/TwimlBins.json",
                &[("FriendlyName", "attack"), ("Template", template)],
            )
            .await
            .api_error(400, 20001);
        let message = refused["message"].as_str().unwrap();
        assert!(
            message.contains(why) && message.contains("line 1"),
            "{template:?}: {message}"
        );
    }
    // Two bins that include each other would recurse without end: neither can exist.
    let first = create_bin(&server, attacker, "first", "<Response/>").await;
    let first_sid = first["sid"].as_str().unwrap();
    let second = server
        .api(attacker)
        .post(
            "/TwimlBins.json",
            &[
                ("FriendlyName", "second"),
                ("Template", &format!("{{{{> {first_sid}}}}}")),
            ],
        )
        .await;
    assert_eq!(second.status, 400, "{}", second.body);
    let update = server
        .api(attacker)
        .post(
            &format!("/TwimlBins/{first_sid}.json"),
            &[("Template", &format!("{{{{ ~> {first_sid} }}}}"))],
        )
        .await;
    assert_eq!(update.status, 400, "{}", update.body);
    // The bin the attacker has still answers as it was, and so does everyone else's.
    let answer = server
        .signed_post(&path(&first), &attacker.token, &sip_webhook())
        .await;
    assert!(answer.twiml().ends_with("<Response/>"), "{}", answer.body);
    let answer = server
        .signed_post(&path(&secret), &victim.token, &sip_webhook())
        .await;
    assert!(answer.twiml().contains("<Say>secret</Say>"));
    bystander.is_served(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_that_would_run_long_or_large_stops_and_the_domain_falls_back() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true, true], |c| c).await;
    let (attacker, victim) = (&accounts[0], &accounts[1]);
    let bystander = Bystander::new(&server, victim).await;
    let cube = create_bin(
        &server,
        attacker,
        "cube",
        "{{#D}}{{#D}}{{#D}}{{/D}}{{/D}}{{/D}}",
    )
    .await;
    let wide = create_bin(
        &server,
        attacker,
        "wide",
        &format!(
            "<Response>{{{{#D}}}}{}{{{{/D}}}}</Response>",
            "{{M}}".repeat(2_000)
        ),
    )
    .await;
    let large = create_bin(
        &server,
        attacker,
        "large",
        &format!(
            "<Response>{{{{#D}}}}<Say>{}</Say>{{{{/D}}}}</Response>",
            "x".repeat(4_000)
        ),
    )
    .await;
    let fallback = create_bin(
        &server,
        attacker,
        "fallback",
        "<Response><Say>fallback {{ErrorCode}}</Say></Response>",
    )
    .await;
    let many: Vec<(&str, &str)> = (0..1_000).map(|_| ("D[]", "x")).collect();
    let webhook = with_overrides(&sip_webhook(), &params(&many));
    for (bin, why) in [(&cube, "steps"), (&wide, "steps"), (&large, "renders over")] {
        let answer = server
            .signed_post(&path(bin), &attacker.token, &webhook)
            .await;
        assert_eq!(answer.status, 500, "{}", answer.body);
        let error = answer.error();
        assert_eq!(error["code"], "template_failed");
        assert!(error["message"].as_str().unwrap().contains(why), "{error}");
    }
    // Through a SIP domain, the fallback answers.
    server
        .api(attacker)
        .post(
            "/SIP/Domains.json",
            &[
                ("DomainName", "attack.sip.twilio.com"),
                ("VoiceUrl", cube["webhook_url"].as_str().unwrap()),
                (
                    "VoiceFallbackUrl",
                    fallback["webhook_url"].as_str().unwrap(),
                ),
            ],
        )
        .await
        .json(201);
    let domain_webhook =
        with_overrides(&webhook, &params(&[("SipDomain", "attack.sip.twilio.com")]));
    let answer = server
        .signed_post("/voice", &attacker.token, &domain_webhook)
        .await;
    assert_eq!(answer.headers["x-twiml-edge-fallback"], "11200");
    assert!(
        answer.twiml().contains("<Say>fallback 11200</Say>"),
        "{}",
        answer.body
    );
    // Many such renders at once, and the other account is answered all along.
    let attacks: Vec<_> = (0..8)
        .map(|i| {
            let (url, token, webhook) = (
                server.url(&path(if i % 2 == 0 { &cube } else { &wide })),
                attacker.token.clone(),
                webhook.clone(),
            );
            tokio::spawn(async move { crate::common::signed_post_to(&url, &token, &webhook).await })
        })
        .collect();
    for _ in 0..5 {
        bystander.is_served(&server).await;
    }
    for attack in attacks {
        assert_eq!(attack.await.unwrap().status, 500);
    }
    bystander.is_served(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_cannot_make_e164_parse_or_remember_what_is_not_a_phone_number() {
    let server = TestServer::shipped().await;
    let huge = format!("sip:+1{}@acme.sip.twilio.com", "5".repeat(60_000));
    let webhook = with_overrides(&sip_webhook(), &params(&[("To", &huge)]));
    let before = twiml_edge_e164::memo_bytes();
    for _ in 0..50 {
        let answer = server.post_form("/bins/pstn-dial", &webhook).await;
        // The number is left as it was, escaped; it is no phone number, so the check refuses it
        // or passes it through, but it never costs a parse.
        assert!(
            answer.status == 200 || answer.status == 500,
            "{}",
            answer.body
        );
    }
    let grown = twiml_edge_e164::memo_bytes().saturating_sub(before);
    assert!(
        grown < 4096,
        "the memo grew {grown} bytes for inputs it must not keep"
    );
    assert!(twiml_edge_e164::memo_bytes() <= twiml_edge_e164::MEMO_BYTES);
    let answer = server.post_form("/bins/pstn-dial", &sip_webhook()).await;
    assert!(
        answer.twiml().contains(">+15125551212</Dial>"),
        "{}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_cannot_flood_the_log_or_the_host() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true, true], |c| c).await;
    let (attacker, victim) = (&accounts[0], &accounts[1]);
    let bystander = Bystander::new(&server, victim).await;
    let flood = upload(&server, attacker, "flood", "log-flood").await;
    let answer = server
        .signed_post(&path(&flood), &attacker.token, &sip_webhook())
        .await;
    assert_eq!(answer.status, 500);
    let message = answer.error()["message"].as_str().unwrap().to_owned();
    assert!(
        message.len() < 4200,
        "an error message of {} bytes",
        message.len()
    );
    let hostcall = upload(&server, attacker, "hostcall", "hostcall-flood").await;
    let answer = server
        .signed_post(&path(&hostcall), &attacker.token, &sip_webhook())
        .await;
    assert_eq!(answer.error()["code"], "function_trap", "{}", answer.body);
    bystander.is_served(&server).await;
    // The call log keeps a bounded part of what the guest logged, and says so.
    let sid = flood["sid"].as_str().unwrap();
    let calls = crate::common::wait_for_calls(
        &server,
        attacker,
        &format!("/Functions/{sid}/Calls.json"),
        1,
    )
    .await;
    let logs = calls[0]["logs"].as_array().unwrap();
    assert!(logs.len() <= 101, "{} lines", logs.len());
    let bytes: usize = logs
        .iter()
        .map(|line| {
            let fields = line["fields"].as_array().unwrap();
            assert!(fields.len() <= 16, "{} fields", fields.len());
            line["message"].as_str().unwrap().len()
                + fields
                    .iter()
                    .map(|f| f[0].as_str().unwrap().len() + f[1].as_str().unwrap().len())
                    .sum::<usize>()
        })
        .sum();
    assert!(bytes <= 16 * 1024 + 200, "{bytes} bytes of log lines");
    let last = logs.last().unwrap();
    assert_eq!(last["level"], "warn");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("more lines dropped"),
        "{last}"
    );
    assert!(calls[0]["error"].as_str().unwrap().len() < 4200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_bounded_by_quotas_and_nothing_is_written_before_they_pass() {
    let quotas = Quotas {
        functions: 2,
        versions_per_function: 2,
        stored_bytes: 4 << 20,
        bins: 1,
        domains: 1,
        ..Quotas::default()
    };
    let (server, accounts, data) =
        TestServer::with_accounts(&[true, true], |c| Config { quotas, ..c }).await;
    let (attacker, victim) = (&accounts[0], &accounts[1]);
    let blobs = |dir: &std::path::Path| count_files(&dir.join("blobs"));
    let compiled = |dir: &std::path::Path| count_files(&dir.join("compiled"));
    // Refused uploads leave nothing behind: no blob, no compiled code.
    for wasm in [refused_guest("wrong-world"), b"\0asm\x01\0\0\0".to_vec()] {
        let answer = server
            .api(attacker)
            .upload("/Functions.json?FriendlyName=refused", wasm)
            .await;
        answer.api_error(400, 20001);
    }
    assert_eq!((blobs(data.path()), compiled(data.path())), (0, 0));
    let first = upload(&server, attacker, "one", "pstn-dial").await;
    upload(&server, attacker, "two", "echo").await;
    let third = server
        .api(attacker)
        .upload("/Functions.json?FriendlyName=three", guest("trap"))
        .await
        .api_error(403, 20403);
    assert!(
        third["message"]
            .as_str()
            .unwrap()
            .contains("--max-functions-per-account"),
        "{third}"
    );
    let sid = first["sid"].as_str().unwrap();
    server
        .api(attacker)
        .upload(&format!("/Functions/{sid}.json"), guest("header-router"))
        .await
        .json(200);
    let versions = server
        .api(attacker)
        .upload(&format!("/Functions/{sid}.json"), guest("trap"))
        .await
        .api_error(403, 20403);
    assert!(
        versions["message"].as_str().unwrap().contains("versions"),
        "{versions}"
    );
    // Old versions can be deleted to make room, never the one that runs.
    let listed = server
        .api(attacker)
        .get(&format!("/Functions/{sid}/Versions.json"))
        .await
        .json(200);
    let (current, old) = (
        listed["versions"][0]["sid"].as_str().unwrap().to_owned(),
        listed["versions"][1]["sid"].as_str().unwrap().to_owned(),
    );
    server
        .api(attacker)
        .delete(&format!("/Functions/{sid}/Versions/{current}.json"))
        .await
        .api_error(409, 20409);
    assert_eq!(
        server
            .api(attacker)
            .delete(&format!("/Functions/{sid}/Versions/{old}.json"))
            .await
            .status,
        204
    );
    server
        .api(attacker)
        .upload(&format!("/Functions/{sid}.json"), guest("trap"))
        .await
        .json(200);
    // Bins and domains have their quotas too.
    create_bin(&server, attacker, "only", "<Response/>").await;
    server
        .api(attacker)
        .post(
            "/TwimlBins.json",
            &[("FriendlyName", "more"), ("Template", "<Response/>")],
        )
        .await
        .api_error(403, 20403);
    // None of it touched the other account.
    let bystander = Bystander::new(&server, victim).await;
    bystander.is_served(&server).await;
    // Deleting a function drops its compiled code and the blobs no version names.
    let before = (blobs(data.path()), compiled(data.path()));
    assert_eq!(
        server
            .api(attacker)
            .delete(&format!("/Functions/{sid}.json"))
            .await
            .status,
        204
    );
    let after = (blobs(data.path()), compiled(data.path()));
    assert!(
        after.0 < before.0 && after.1 < before.1,
        "{before:?} -> {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_compiles_too_long_is_refused_and_stores_nothing() {
    let (server, accounts, data) = TestServer::with_accounts(&[true, true], |c| Config {
        limits: Limits {
            compile_timeout: Duration::from_millis(1),
            ..c.limits
        },
        ..c
    })
    .await;
    let answer = server
        .api(&accounts[0])
        .upload("/Functions.json?FriendlyName=slow", guest("header-router"))
        .await;
    let error = answer.api_error(503, 20503);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did not compile within"),
        "{error}"
    );
    let listed = server
        .api(&accounts[0])
        .get("/Functions.json")
        .await
        .json(200);
    assert_eq!(listed["functions"], Value::Array(Vec::new()));
    assert_eq!(count_files(&data.path().join("blobs")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_accounts_looping_calls_cannot_take_another_accounts_slots() {
    let data = tempfile::tempdir().unwrap();
    let attacker = TestAccount::create(data.path(), true);
    let victim = TestAccount::create(data.path(), true);
    let config = Config {
        templates: crate::common::repo_root().join("templates"),
        data: data.path().to_path_buf(),
        limits: Limits {
            max_concurrent_calls: 8,
            // Long enough that the loops still run while the other account is served.
            cpu_time: Duration::from_secs(3),
            wall_time: crate::common::UNHURRIED_WALL_TIME,
            ..Limits::default()
        },
        max_calls_per_account: Some(2),
        ..Config::default()
    };
    let app = App::new(config).unwrap();
    let server = TestServer::serve(app.clone()).await;
    let looping = upload(&server, &attacker, "loop", "infinite-loop").await;
    let bystander = Bystander::new(&server, &victim).await;
    let attacks: Vec<_> = (0..2)
        .map(|_| {
            let (url, token) = (server.url(&path(&looping)), attacker.token.clone());
            tokio::spawn(async move {
                crate::common::signed_post_to(&url, &token, &sip_webhook()).await
            })
        })
        .collect();
    crate::common::wait_until("both loops hold their slots", || {
        app.sandbox().calls_in_flight() == 2
    })
    .await;
    // A third call of the attacker is refused at once, as its share is used up.
    let refused = server
        .signed_post(&path(&looping), &attacker.token, &sip_webhook())
        .await;
    assert_eq!(refused.status, 503);
    let error = refused.error();
    assert_eq!(error["code"], "busy");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("--max-calls-per-account"),
        "{error}"
    );
    // The other account is served while both loops still run.
    for _ in 0..5 {
        bystander.is_served(&server).await;
    }
    assert_eq!(
        app.sandbox().calls_in_flight(),
        2,
        "the loops ended before the check"
    );
    for attack in attacks {
        assert_eq!(attack.await.unwrap().error()["code"], "function_deadline");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_or_idle_cannot_hold_the_server() {
    let server = TestServer::start(Config {
        templates: crate::common::repo_root().join("templates"),
        max_connections: 4,
        header_timeout: Duration::from_secs(1),
        write_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let addr = server.addr;
    // Four idle connections take every place; the server closes them after the header timeout.
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let started = Instant::now();
    let waiting = tokio::spawn({
        let server_url = server.url("/healthz");
        async move {
            let answer = crate::common::send_to(&server_url, "GET", &[], bytes::Bytes::new()).await;
            (answer.status, Instant::now())
        }
    });
    let closed_at = tokio::task::spawn_blocking(move || {
        idle.into_iter()
            .map(|mut stream| {
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut buf = [0u8; 64];
                let read = stream.read(&mut buf);
                assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
                Instant::now()
            })
            .min()
            .unwrap()
    })
    .await
    .unwrap();
    let (status, answered_at) = waiting.await.unwrap();
    assert_eq!(status, 200);
    // No place frees before the header timeout, so the fifth is served only after it.
    assert!(closed_at.duration_since(started) >= Duration::from_millis(900));
    assert!(
        answered_at.duration_since(started) >= Duration::from_millis(900),
        "the fifth connection was served before a place was free"
    );

    // A client that sends requests and never reads the answers is dropped once a write stalls.
    let mut greedy = TcpStream::connect(addr).unwrap();
    let request = b"GET /bins/parallel-dial HTTP/1.1\r\nHost: x\r\n\r\n";
    greedy
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let dropped = tokio::task::spawn_blocking(move || {
        // Until the server stops reading: its answers fill both socket buffers first.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if greedy.write_all(request).is_err() {
                return true;
            }
        }
        false
    });
    // Others are answered meanwhile.
    for _ in 0..3 {
        let answer = server.post_form("/bins/pstn-dial", &sip_webhook()).await;
        assert!(answer.twiml().contains("+15125551212"));
    }
    assert!(
        dropped.await.unwrap(),
        "the server kept a connection that never reads"
    );

    // Request heads are bounded in count and size.
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(
        raw_status(
            addr,
            &format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n")
        ),
        431
    );
    let long = "v".repeat(100_000);
    assert_eq!(
        raw_status(
            addr,
            &format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: {long}\r\n\r\n")
        ),
        431
    );
}

/// The status a raw HTTP/1.1 request gets.
fn raw_status(addr: std::net::SocketAddr, request: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{text:?}"))
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let account = TestAccount::create(&data, true);
    let server = TestServer::start(Config {
        data: data.clone(),
        ..Config::default()
    })
    .await;
    upload(&server, &account, "f", "pstn-dial").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = Vec::new();
    walk(&data, &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for path in files {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), want, "{path:?}");
    }
}

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        }
        out.push(path);
    }
}

/// Files under `dir`, however deep.
fn count_files(dir: &std::path::Path) -> usize {
    let mut all = Vec::new();
    if dir.exists() {
        walk(dir, &mut all);
    }
    all.iter().filter(|p| p.is_file()).count()
}
