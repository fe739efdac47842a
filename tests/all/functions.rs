//! End-to-end: SIP webhooks posted over HTTP to WebAssembly functions built from `guests/`.
//!
//! Every example and every hostile test guest answers the cases of `tests/cases/functions`
//! (format: `crate::common::run_cases`). The guests are built by `scripts/build-guests.sh` into
//! `target/guests`, which `scripts/test.sh` runs first.

use std::time::Duration;

use crate::common::{
    FORM, TestServer, encode, guests_dir, refused_guest, repo_root, run_cases, sip_webhook,
};
use twiml_edge_e164::Region;
use twiml_edge_sandbox::Sandbox;
use twiml_edge_sdk::webhook::Webhook;
use twiml_edge_server::{Allocator, App, Config, Limits, PhoneNumbers};

fn guests_config(data: &std::path::Path) -> Config {
    Config {
        templates: repo_root().join("templates"),
        functions: guests_dir(),
        data: data.to_path_buf(),
        enhanced_sip: true,
        ..Config::default()
    }
}

/// Posts `body` to `path` in a task of its own.
fn spawn_post(
    server: &std::sync::Arc<TestServer>,
    path: &'static str,
    body: String,
) -> tokio::task::JoinHandle<crate::common::Answer> {
    let server = server.clone();
    tokio::spawn(async move { server.send("POST", path, Some(FORM), body).await })
}

/// Both ways a call's instances get their memory: reserved slots reused, or mapped per call.
const ALLOCATORS: [Allocator; 2] = [Allocator::Pooling, Allocator::OnDemand];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_guest_answers_its_cases_with_either_allocator() {
    for allocator in ALLOCATORS {
        let data = tempfile::tempdir().unwrap();
        let (app, server) = guests_server(data.path(), |c| c.limits.allocator = allocator).await;
        assert_eq!(app.sandbox().pooling(), allocator == Allocator::Pooling);
        let covered = run_cases(&server, &repo_root().join("tests/cases/functions")).await;
        for guest in [
            "pstn-dial",
            "header-router",
            "sequential-dial",
            "infinite-loop",
            "memory-bomb",
            "stack-overflow",
            "trap",
            "big-answer",
            "malformed",
            "empty-answer",
        ] {
            assert!(
                covered.contains(&format!("/functions/{guest}")),
                "no case covers {guest}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_receives_every_parameter_as_sent() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(guests_config(data.path())).await;
    let body = "From=sip%3A%2B14155550100%40acme.sip.twilio.com&Dest%5B%5D=a&Dest%5B%5D=b\
                &SipHeader_User-to-User=56a3%3Bencoding%3Dhex&Name=Zo%C3%AB+O%27Neil&Empty=&Flag";
    let answer = server
        .send("POST", "/functions/echo?Q=1&Dest%5B%5D=q", Some(FORM), body)
        .await;
    assert_eq!(
        answer.twiml(),
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            "<Say>POST /functions/echo?Q=1&amp;Dest%5B%5D=q</Say>",
            "<Say>Q=1</Say><Say>Dest[]=q</Say>",
            "<Say>From=sip:+14155550100@acme.sip.twilio.com</Say>",
            "<Say>Dest[]=a</Say><Say>Dest[]=b</Say>",
            "<Say>SipHeader_User-to-User=56a3;encoding=hex</Say>",
            "<Say>Name=Zoë O'Neil</Say><Say>Empty=</Say><Say>Flag=</Say>",
            "</Response>"
        )
    );
}

/// A server of the folder's guests with `configure` applied, and its `App` to watch.
async fn guests_server(
    data: &std::path::Path,
    configure: impl FnOnce(&mut Config),
) -> (App, std::sync::Arc<TestServer>) {
    let mut config = guests_config(data);
    configure(&mut config);
    let app = App::new(config).unwrap();
    let server = std::sync::Arc::new(TestServer::serve(app.clone()).await);
    (app, server)
}

const PSTN_DIAL_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial \
     callerId=\"+14155550100\"><Number>+15125551212</Number></Dial></Response>";

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_looping_guest_costs_only_its_own_request_with_either_allocator() {
    for allocator in ALLOCATORS {
        a_looping_guest_costs_only_its_own_request(allocator).await;
    }
}

async fn a_looping_guest_costs_only_its_own_request(allocator: Allocator) {
    let data = tempfile::tempdir().unwrap();
    // Long enough that the loop still runs after every other request is answered.
    let (app, server) = guests_server(data.path(), |c| {
        c.limits.cpu_time = Duration::from_secs(3);
        c.limits.wall_time = crate::common::UNHURRIED_WALL_TIME;
        c.limits.max_concurrent_calls = 2;
        c.limits.allocator = allocator;
    })
    .await;
    let body = encode(&sip_webhook());
    // One worker thread serves both the loop and everything else: the loop must not hold it.
    let looping = spawn_post(&server, "/functions/infinite-loop", body.clone());
    crate::common::wait_until("the loop holds its slot", || {
        app.sandbox().calls_in_flight() == 1
    })
    .await;
    for _ in 0..5 {
        let answer = server
            .send("POST", "/functions/pstn-dial", Some(FORM), body.clone())
            .await;
        assert_eq!(answer.twiml(), PSTN_DIAL_TWIML);
    }
    assert_eq!(
        app.sandbox().calls_in_flight(),
        1,
        "the loop ended before the other requests were answered"
    );
    let looped = looping.await.unwrap();
    assert_eq!(looped.error()["code"], "function_deadline");
    // Every pooled instance went back: both slots serve calls at once, round after round.
    for _ in 0..10 {
        let both: Vec<_> = (0..2)
            .map(|_| spawn_post(&server, "/functions/pstn-dial", body.clone()))
            .collect();
        for call in both {
            assert_eq!(call.await.unwrap().twiml(), PSTN_DIAL_TWIML);
        }
    }
    assert_eq!(app.sandbox().calls_in_flight(), 0);
}

/// One call of the `slow` guest for `rounds` rounds.
async fn call_slow(
    sandbox: &Sandbox,
    function: &twiml_edge_sandbox::CompiledFunction,
    rounds: &str,
) -> twiml_edge_sandbox::CallOutcome {
    let services: std::sync::Arc<dyn twiml_edge_sandbox::Services> =
        std::sync::Arc::new(PhoneNumbers(Region::default()));
    let webhook = Webhook::from_params("POST", "/functions/slow", [("Rounds", rounds)]);
    let context = twiml_edge_sandbox::CallContext::new(services);
    sandbox.call(function, &webhook, &context).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_call_that_runs_long_answers_and_logs_once() {
    let wasm = std::fs::read(guests_dir().join("slow.wasm")).unwrap();
    let sandbox_with = |inline_time: Duration| {
        Sandbox::new(
            Limits {
                cpu_time: Duration::from_secs(10),
                inline_time,
                ..Limits::default()
            },
            None,
        )
        .unwrap()
    };

    // With a generous inline budget, a quick call stays on the request's thread however the
    // machine schedules it.
    let sandbox = sandbox_with(Duration::from_secs(5));
    let function = sandbox.compile("slow", &wasm).unwrap();
    let quick = call_slow(&sandbox, &function, "1000").await;
    assert!(
        quick
            .answer
            .unwrap()
            .contains("<Say>1000 rounds: f517ff66df0cbea9</Say>")
    );
    assert_eq!(
        sandbox.fiber_runs(),
        0,
        "a quick call runs on the request's thread"
    );

    // Tens of milliseconds against the default budget of two: stopped, then run again on a
    // fiber, which answers as the first run would have and keeps only its own log line.
    let sandbox = sandbox_with(twiml_edge_sandbox::DEFAULT_INLINE_TIME);
    let function = sandbox.compile("slow", &wasm).unwrap();
    let long = call_slow(&sandbox, &function, "30000000").await;
    assert!(
        long.answer
            .unwrap()
            .contains("<Say>30000000 rounds: 51a0d9d15abaaf81</Say>")
    );
    assert_eq!(sandbox.fiber_runs(), 1);
    assert_eq!(long.logs.len(), 1, "{:?}", long.logs);
    assert_eq!(long.logs[0].fields, [("rounds".into(), "30000000".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_concurrency_limit_are_refused_as_busy() {
    let data = tempfile::tempdir().unwrap();
    let (app, server) = guests_server(data.path(), |c| {
        c.limits.max_concurrent_calls = 1;
        c.limits.cpu_time = Duration::from_secs(2);
        c.limits.wall_time = crate::common::UNHURRIED_WALL_TIME;
    })
    .await;
    let body = encode(&sip_webhook());
    let looping = spawn_post(&server, "/functions/infinite-loop", body.clone());
    crate::common::wait_until("the loop holds the only slot", || {
        app.sandbox().calls_in_flight() == 1
    })
    .await;
    let busy = server
        .send("POST", "/functions/pstn-dial", Some(FORM), body.clone())
        .await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    let error = busy.error();
    assert_eq!(error["code"], "busy");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("--max-concurrent-calls")
    );
    assert_eq!(looping.await.unwrap().error()["code"], "function_deadline");
    let answer = server
        .send("POST", "/functions/pstn-dial", Some(FORM), body)
        .await;
    assert_eq!(answer.twiml(), PSTN_DIAL_TWIML, "the slot is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_core_module_is_componentized_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let module = repo_root().join("guests/target/wasm32-unknown-unknown/release/pstn_dial.wasm");
    let module = std::fs::read(&module)
        .unwrap_or_else(|e| panic!("{module:?}: {e}: run scripts/build-guests.sh"));
    assert!(wasmparser::Parser::is_core_wasm(&module));
    std::fs::write(dir.path().join("core.wasm"), module).unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(Config {
        templates: repo_root().join("templates"),
        functions: dir.path().to_path_buf(),
        data: data.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let answer = server
        .send(
            "POST",
            "/functions/core",
            Some(FORM),
            encode(&sip_webhook()),
        )
        .await;
    assert!(answer.twiml().contains("<Number>+15125551212</Number>"));
}

#[test]
fn a_file_that_is_not_a_voice_function_stops_the_start_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let wrong_world = refused_guest("wrong-world");
    let cases: [(&str, &[u8], &str); 3] = [
        ("text.wasm", b"hello", "not WebAssembly"),
        ("empty.wasm", b"\0asm\x01\0\0\0", "twiml:edge"),
        // Right names, types of an older draft: refused when loaded, not on every call.
        (
            "old.wasm",
            &wrong_world,
            "does not have the types of twiml:edge@0.1.0",
        ),
    ];
    for (name, bytes, reason) in cases {
        let functions = dir.path().join(name.trim_end_matches(".wasm"));
        std::fs::create_dir_all(&functions).unwrap();
        std::fs::write(functions.join(name), bytes).unwrap();
        let data = tempfile::tempdir().unwrap();
        let err = App::new(Config {
            templates: repo_root().join("templates"),
            functions,
            data: data.path().to_path_buf(),
            ..Config::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains(name), "{err}");
        assert!(err.contains(reason), "{err}");
    }
}

#[test]
fn a_restart_loads_compiled_code_from_the_cache() {
    let data = tempfile::tempdir().unwrap();
    let first = App::new(guests_config(data.path())).unwrap();
    let functions = first.folders().functions.names().count();
    assert_eq!(first.sandbox().compile_counts(), (functions, 0));
    drop(first);
    let second = App::new(guests_config(data.path())).unwrap();
    assert_eq!(second.sandbox().compile_counts(), (0, functions));
}
