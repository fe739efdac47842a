//! End-to-end: functions that reach beyond their webhook, through the running server. Their
//! variables and secrets, outbound requests to a local HTTP server under their allowed hosts
//! and the server's limits, their account's key-value state, standard WASI components (wasip2,
//! stdout) and components of the first world version.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::{
    Answer, FORM, TestAccount, TestServer, encode, guest, guests_dir, wait_for_calls,
};
use twiml_edge_server::Config;

const SECRET: &str = "sk_live_5ecr3t-Value";
const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// A local HTTP server for functions to call: `/hello` answers `hello`, `/slow` never answers,
/// `/agents?caller=N` answers the caller's agents when the bearer token is [`SECRET`].
struct Upstream {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    authorizations: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (requests.clone(), authorizations.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (count, seen) = (count.clone(), seen.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (count, seen) = (count.clone(), seen.clone());
                        async move { Ok::<_, Infallible>(answer(request, &count, &seen).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            requests,
            authorizations,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The entry that allows this server, named.
    fn allowed(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }
}

async fn answer(
    request: Request<Incoming>,
    count: &AtomicUsize,
    seen: &Mutex<Vec<String>>,
) -> Response<Full<Bytes>> {
    count.fetch_add(1, Ordering::SeqCst);
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(authorization.clone());
    let text = |status: u16, body: &str| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    match request.uri().path() {
        "/hello" => text(200, "hello"),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            text(200, "too late")
        }
        "/agents" if authorization != format!("Bearer {SECRET}") => text(401, "who are you"),
        "/agents" => {
            let query = request.uri().query().unwrap_or_default();
            if query == "caller=%2B14155550100" {
                text(200, "sip:alice@pbx.example.com\nsip:bob@pbx.example.com\n")
            } else {
                text(200, "")
            }
        }
        _ => text(404, "no such page"),
    }
}

/// A server with one account that does not sign its webhooks, `configure` adjusting the rest.
async fn world_server(
    configure: impl FnOnce(&mut Config),
) -> (TestServer, TestAccount, tempfile::TempDir) {
    let (server, mut accounts, data) = TestServer::with_accounts(&[false], |mut config| {
        configure(&mut config);
        config
    })
    .await;
    (server, accounts.remove(0), data)
}

/// Uploads guest `name` with `allowed` hosts and returns its sid.
async fn deploy(
    server: &TestServer,
    account: &TestAccount,
    name: &str,
    allowed: &[String],
) -> String {
    let mut rest = format!("/Functions.json?FriendlyName={name}");
    for host in allowed {
        rest.push_str(&format!("&AllowedHosts={}", encode_value(host)));
    }
    let created = server
        .api(account)
        .upload(&rest, guest(name))
        .await
        .json(201);
    assert_eq!(created["allowed_hosts"], json!(allowed));
    created["sid"].as_str().unwrap().to_owned()
}

fn encode_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Calls function `sid` with `params` and returns the text of each `<Say>` it answered.
async fn call(server: &TestServer, sid: &str, params: &[(&str, &str)]) -> Vec<String> {
    let answer = post(server, sid, params).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    says(answer.twiml())
}

/// Posts `params` to function `sid` as the SIP engine does.
async fn post(server: &TestServer, sid: &str, params: &[(&str, &str)]) -> Answer {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    let path = format!("/voice/functions/{sid}");
    server
        .send("POST", &path, Some(FORM), encode(&params))
        .await
}

fn says(twiml: &str) -> Vec<String> {
    twiml
        .split("<Say>")
        .skip(1)
        .map(|s| s.split("</Say>").next().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_reach_the_next_call_and_secrets_stay_secret() {
    let (server, account, _data) = world_server(|_| {}).await;
    let api = server.api(&account);
    let sid = deploy(&server, &account, "world-reach", &[]).await;
    assert_eq!(
        call(&server, &sid, &[("Var", "GREETING")]).await,
        ["var GREETING unset"]
    );

    let variables = format!("/Functions/{sid}/Variables.json");
    let plain = api
        .post(&variables, &[("Key", "GREETING"), ("Value", "Hello there")])
        .await
        .json(201);
    assert_eq!(plain["key"], "GREETING");
    assert_eq!(plain["value"], "Hello there");
    assert_eq!(plain["secret"], false);
    assert!(plain["sid"].as_str().unwrap().starts_with("ZV"), "{plain}");
    let secret = api
        .post(
            &variables,
            &[("Key", "API_KEY"), ("Value", SECRET), ("Secret", "true")],
        )
        .await
        .json(201);
    assert_eq!(secret["value"], Value::Null, "a secret is never answered");
    assert_eq!(secret["secret"], true);

    // Applied to the next call, without a new upload; the function reads its secret.
    assert_eq!(
        call(&server, &sid, &[("Var", "GREETING")]).await,
        ["var GREETING=Hello there"]
    );
    assert_eq!(
        call(
            &server,
            &sid,
            &[("Var", "API_KEY"), ("Log", &format!("key is {SECRET}"))]
        )
        .await,
        [format!("var API_KEY={SECRET}")]
    );

    // An update applies too; a secret cannot be made plain again.
    let plain_sid = plain["sid"].as_str().unwrap();
    let item = format!("/Functions/{sid}/Variables/{plain_sid}.json");
    let updated = api.post(&item, &[("Value", "Welcome")]).await.json(200);
    assert_eq!(updated["value"], "Welcome");
    assert_eq!(
        call(&server, &sid, &[("Var", "GREETING")]).await,
        ["var GREETING=Welcome"]
    );
    let secret_item = format!(
        "/Functions/{sid}/Variables/{}.json",
        secret["sid"].as_str().unwrap()
    );
    let refused = api.post(&secret_item, &[("Secret", "false")]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    // The store's rules, with the limit named.
    let (long_key, long_value) = ("K".repeat(129), "v".repeat(451));
    for (key, value, limit) in [
        (long_key.as_str(), "v", "128"),
        ("BIG", long_value.as_str(), "450"),
    ] {
        let refused = api
            .post(&variables, &[("Key", key), ("Value", value)])
            .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        let message = refused.api_error(400, 20001)["message"].clone();
        assert!(
            message.as_str().unwrap().contains(limit),
            "{}",
            refused.body
        );
    }
    let taken = api
        .post(&variables, &[("Key", "GREETING"), ("Value", "again")])
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);

    // The secret is in no API answer: not the list, not the item, not the function, not the
    // call log (which shows the guest's answer and its log line with the secret masked).
    let listed = api.get(&variables).await.json(200);
    assert_eq!(listed["variables"].as_array().unwrap().len(), 2);
    assert_eq!(listed["variables"][1]["value"], Value::Null);
    let calls = wait_for_calls(
        &server,
        &account,
        &format!("/Functions/{sid}/Calls.json"),
        4,
    )
    .await;
    for rest in [
        variables.clone(),
        secret_item.clone(),
        format!("/Functions/{sid}.json"),
        format!("/Functions/{sid}/Calls.json"),
        "/CallLog.json".to_owned(),
    ] {
        let answer = api.get(&rest).await;
        assert_eq!(answer.status, 200, "{rest}: {}", answer.body);
        assert!(
            !answer.body.contains(SECRET),
            "{rest} shows the secret: {}",
            answer.body
        );
    }
    let with_secret = calls
        .iter()
        .find(|c| c["twiml"].as_str().unwrap_or_default().contains("API_KEY"))
        .expect("the call that read the secret is logged");
    assert!(
        !with_secret["twiml"].as_str().unwrap().contains(SECRET),
        "{with_secret}"
    );
    assert_eq!(
        with_secret["twiml"],
        format!("{XML}<Response><Say>var API_KEY=[secret API_KEY]</Say></Response>")
    );
    assert_eq!(
        with_secret["logs"][0]["message"], "key is [secret API_KEY]",
        "{with_secret}"
    );

    // Deleting a variable applies to the next call.
    assert_eq!(api.delete(&item).await.status, 204);
    assert_eq!(
        call(&server, &sid, &[("Var", "GREETING")]).await,
        ["var GREETING unset"]
    );
    assert_eq!(api.delete(&item).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_allowed_hosts_only() {
    let upstream = Upstream::start().await;
    let other = Upstream::start().await;
    let (server, account, _data) = world_server(|_| {}).await;
    let sid = deploy(&server, &account, "world-reach", &[upstream.allowed()]).await;

    assert_eq!(
        call(&server, &sid, &[("Fetch", &upstream.url("/hello"))]).await,
        ["fetch 200 hello"]
    );
    assert_eq!(
        call(&server, &sid, &[("Fetch", &upstream.url("/missing"))]).await,
        ["fetch 404 no such page"]
    );

    // Another port of the same address is another host: refused inside the guest, with what to
    // allow, and nothing sent.
    let denied = call(&server, &sid, &[("Fetch", &other.url("/hello"))]).await;
    assert_eq!(denied.len(), 1);
    assert!(denied[0].starts_with("fetch error "), "{denied:?}");
    assert!(
        denied[0].contains("is not an allowed host of this function")
            && denied[0].contains(&format!("--allow-host {}", other.allowed())),
        "{denied:?}"
    );
    assert_eq!(other.requests.load(Ordering::SeqCst), 0);

    // A wildcard does not reach loopback or private addresses: only naming the host does.
    let api = server.api(&account);
    let wildcard = format!("http://*:{}", upstream.addr.port());
    let changed = api
        .post(
            &format!("/Functions/{sid}.json"),
            &[("AllowedHosts", &wildcard)],
        )
        .await
        .json(200);
    assert_eq!(changed["allowed_hosts"], json!([wildcard]));
    let before = upstream.requests.load(Ordering::SeqCst);
    let private = call(&server, &sid, &[("Fetch", &upstream.url("/hello"))]).await;
    assert!(
        private[0].contains("private address")
            && private[0].contains("a wildcard entry is not enough"),
        "{private:?}"
    );
    assert_eq!(upstream.requests.load(Ordering::SeqCst), before);

    // The refusals are in the call log too, as the runtime's notes.
    let calls = wait_for_calls(
        &server,
        &account,
        &format!("/Functions/{sid}/Calls.json"),
        4,
    )
    .await;
    let notes: Vec<&str> = calls
        .iter()
        .flat_map(|c| c["logs"].as_array().unwrap())
        .filter(|l| l["level"] == "warn")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("is not an allowed host")),
        "{notes:?}"
    );

    // Bad entries are refused with the form to use; an empty value allows none.
    let refused = api
        .post(
            &format!("/Functions/{sid}.json"),
            &[("AllowedHosts", "ftp://files.example.com")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("https://api.example.com"),
        "{}",
        refused.body
    );
    let none = api
        .post(&format!("/Functions/{sid}.json"), &[("AllowedHosts", "")])
        .await
        .json(200);
    assert_eq!(none["allowed_hosts"], json!([]));
    let denied = call(&server, &sid, &[("Fetch", &upstream.url("/hello"))]).await;
    assert!(denied[0].contains("is not an allowed host"), "{denied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_is_cut_at_its_timeout_while_other_calls_go_on() {
    let upstream = Upstream::start().await;
    let (server, account, _data) = world_server(|config| {
        config.outbound.timeout = Duration::from_secs(3);
    })
    .await;
    let server = Arc::new(server);
    let sid = deploy(&server, &account, "world-reach", &[upstream.allowed()]).await;

    let slow = {
        let (server, sid, url) = (server.clone(), sid.clone(), upstream.url("/slow"));
        tokio::spawn(async move { call(&server, &sid, &[("Fetch", &url)]).await })
    };
    // Wait until the slow request is at the upstream, then call again: the second call answers
    // while the first still waits.
    crate::common::wait_until("the slow request arrives", || {
        upstream.requests.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(
        call(&server, &sid, &[("Fetch", &upstream.url("/hello"))]).await,
        ["fetch 200 hello"]
    );
    assert!(
        !slow.is_finished(),
        "the slow call ended before its timeout"
    );
    let cut = slow.await.unwrap();
    assert!(
        cut[0].starts_with("fetch error") && cut[0].contains("did not answer within"),
        "{cut:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_cut_at_its_wall_clock_limit() {
    let upstream = Upstream::start().await;
    let (server, account, _data) = world_server(|config| {
        config.limits.wall_time = Duration::from_secs(1);
    })
    .await;
    let sid = deploy(&server, &account, "world-reach", &[upstream.allowed()]).await;
    let answer = post(&server, &sid, &[("Fetch", &upstream.url("/slow"))]).await;
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(
        answer.error()["code"],
        "function_timeout",
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("1000 ms wall-clock limit"),
        "{}",
        answer.body
    );
    // The server is still there for the next call.
    assert_eq!(
        call(&server, &sid, &[("Fetch", &upstream.url("/hello"))]).await,
        ["fetch 200 hello"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_increments_of_one_key_all_count() {
    let (server, account, _data) = world_server(|config| {
        config.max_calls_per_account = Some(100);
    })
    .await;
    let server = Arc::new(server);
    let sid = deploy(&server, &account, "world-reach", &[]).await;
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let (server, sid) = (server.clone(), sid.clone());
            tokio::spawn(async move { call(&server, &sid, &[("Count", "hits")]).await })
        })
        .collect();
    let mut seen = Vec::new();
    for call in calls {
        let said = call.await.unwrap();
        let n: i64 = said[0].strip_prefix("count ").unwrap().parse().unwrap();
        seen.push(n);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<i64>>(),
        "each call saw its own count"
    );

    // The operator reads the bucket through the API: 100, as 8 bytes little-endian.
    let api = server.api(&account);
    let value = api.get("/KeyValue/counts/hits").await;
    assert_eq!(value.status, 200, "{}", value.body);
    assert_eq!(value.bytes.as_ref(), 100i64.to_le_bytes());
    let buckets = api.get("/KeyValue.json").await.json(200);
    assert_eq!(buckets["buckets"][0]["name"], "counts");
    assert_eq!(buckets["buckets"][0]["keys"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_accounts_state_and_variables_are_not_anothers() {
    let (server, accounts, _data) = TestServer::with_accounts(&[false, false], |c| c).await;
    let (alice, mallory) = (&accounts[0], &accounts[1]);
    let theirs = deploy(&server, alice, "world-reach", &[]).await;
    let ours = deploy(&server, mallory, "world-reach", &[]).await;
    server
        .api(alice)
        .post(
            &format!("/Functions/{theirs}/Variables.json"),
            &[("Key", "API_KEY"), ("Value", SECRET), ("Secret", "true")],
        )
        .await
        .json(201);
    for _ in 0..3 {
        call(&server, &theirs, &[("Count", "hits")]).await;
    }
    // The same bucket and key name in another account is another counter, and the other
    // account's variable is not there.
    assert_eq!(
        call(&server, &ours, &[("Count", "hits"), ("Var", "API_KEY")]).await,
        ["var API_KEY unset", "count 1"]
    );
    // Nor can its credentials read the other account's state or variables.
    let api = server.api(mallory);
    let path = format!("/2010-04-01/Accounts/{}/KeyValue/counts/hits", alice.sid);
    let auth = mallory.basic();
    let refused = server
        .request("GET", &path, &[("authorization", &auth)], "")
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let missing = api
        .get(&format!("/Functions/{theirs}/Variables.json"))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let own = api.get("/KeyValue/counts/hits").await;
    assert_eq!(own.bytes.as_ref(), 1i64.to_le_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reads_and_seeds_state() {
    let (server, account, _data) = world_server(|_| {}).await;
    let api = server.api(&account);
    let auth = account.basic();
    let put = |path: &str, body: &'static str| {
        let (server, path, auth) = (&server, api.path(path), auth.clone());
        async move {
            server
                .request("PUT", &path, &[("authorization", &auth)], body)
                .await
        }
    };
    assert_eq!(
        put("/KeyValue/routing/next%20agent", "bob").await.status,
        204
    );
    assert_eq!(
        put("/KeyValue/routing/block", "+15550100").await.status,
        204
    );
    let value = api.get("/KeyValue/routing/next%20agent").await;
    assert_eq!((value.status.as_u16(), value.body.as_str()), (200, "bob"));
    let keys = api.get("/KeyValue/routing.json").await.json(200);
    assert_eq!(keys["keys"], json!(["block", "next agent"]));
    assert_eq!(api.delete("/KeyValue/routing/block").await.status, 204);
    assert_eq!(api.get("/KeyValue/routing/block").await.status, 404);
    let bad = put("/KeyValue/no%20spaces/key", "x").await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A function increments a seeded counter from where the operator left it.
    let sid = deploy(&server, &account, "world-reach", &[]).await;
    let auth = account.basic();
    let seeded = server
        .request(
            "PUT",
            &api.path("/KeyValue/counts/seeded"),
            &[("authorization", &auth)],
            41i64.to_le_bytes().to_vec(),
        )
        .await;
    assert_eq!(seeded.status, 204);
    assert_eq!(
        call(&server, &sid, &[("Count", "seeded")]).await,
        ["count 42"]
    );
    // A value that is not a counter fails the increment with a clear message in the guest.
    assert_eq!(put("/KeyValue/counts/name", "bob").await.status, 204);
    let said = call(&server, &sid, &[("Count", "name")]).await;
    assert!(
        said[0].starts_with("count error state bucket \"counts\": "),
        "{said:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_wasip2_component_answers_and_its_stdout_is_logged() {
    let (server, account, _data) = world_server(|_| {}).await;
    let sid = deploy(&server, &account, "wasip2-plain", &[]).await;
    let api = server.api(&account);
    api.post(
        &format!("/Functions/{sid}/Variables.json"),
        &[("Key", "GREETING"), ("Value", "Hi")],
    )
    .await
    .json(201);
    let answer = post(
        &server,
        &sid,
        &[("From", "+14155550100"), ("To", "+14155550111")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.twiml(),
        format!("{XML}<Response><Say>Hi from wasip2, 2 parameters, clock set</Say></Response>")
    );
    let calls = wait_for_calls(
        &server,
        &account,
        &format!("/Functions/{sid}/Calls.json"),
        1,
    )
    .await;
    assert_eq!(
        calls[0]["logs"],
        json!([
            {"level": "info", "message": "wasip2 guest got 2 parameters by POST", "fields": [["stream", "stdout"]]},
            {"level": "error", "message": "wasip2 guest writes to stderr too", "fields": [["stream", "stderr"]]},
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasip2_component_reaches_no_file_environment_or_socket() {
    let (server, account, _data) = world_server(|_| {}).await;
    let sid = deploy(&server, &account, "wasip2-plain", &[]).await;
    let answer = post(&server, &sid, &[("Probe", "1")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        says(answer.twiml()),
        ["file denied, dir denied, env 0, socket denied"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_of_the_first_world_keeps_answering() {
    let (server, account, _data) = world_server(|_| {}).await;
    let sid = deploy(&server, &account, "legacy-v0-1", &[]).await;
    let answer = post(&server, &sid, &[("To", "(415) 555-0100")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.twiml(),
        format!("{XML}<Response><Dial><Number>+14155550100</Number></Dial></Response>")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_example_routes_round_robin_with_its_secret() {
    let crm = Upstream::start().await;
    let (server, account, _data) = world_server(|_| {}).await;
    let sid = deploy(&server, &account, "crm-router", &[crm.allowed()]).await;
    let api = server.api(&account);
    let variables = format!("/Functions/{sid}/Variables.json");
    for (key, value, secret) in [
        ("CRM_URL", crm.url(""), "false"),
        ("CRM_API_KEY", SECRET.to_owned(), "true"),
        (
            "FALLBACK_SIP",
            "sip:reception@pbx.example.com".to_owned(),
            "false",
        ),
    ] {
        api.post(
            &variables,
            &[("Key", key), ("Value", &value), ("Secret", secret)],
        )
        .await
        .json(201);
    }
    let dial = |caller: &'static str| {
        let (server, sid) = (&server, sid.clone());
        async move {
            let answer = post(server, &sid, &[("From", caller)]).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.twiml().to_owned()
        }
    };
    let agent = |uri: &str| format!("{XML}<Response><Dial><Sip>{uri}</Sip></Dial></Response>");
    assert_eq!(
        dial("+14155550100").await,
        agent("sip:alice@pbx.example.com")
    );
    assert_eq!(dial("+14155550100").await, agent("sip:bob@pbx.example.com"));
    assert_eq!(
        dial("+14155550100").await,
        agent("sip:alice@pbx.example.com")
    );
    assert_eq!(
        dial("+14155550199").await,
        format!(
            "{XML}<Response><Say>Connecting you to reception.</Say>\
             <Dial><Sip>sip:reception@pbx.example.com</Sip></Dial></Response>"
        )
    );
    assert!(
        crm.authorizations
            .lock()
            .unwrap()
            .iter()
            .all(|a| *a == format!("Bearer {SECRET}")),
        "every request carried the secret API key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_functions_read_their_env_file_and_the_servers_allowed_hosts() {
    let upstream = Upstream::start().await;
    let functions = tempfile::tempdir().unwrap();
    std::fs::copy(
        guests_dir().join("world-reach.wasm"),
        functions.path().join("world-reach.wasm"),
    )
    .unwrap();
    std::fs::write(
        functions.path().join("world-reach.env"),
        "# the PBX\nPBX_HOST=pbx.example.com\n",
    )
    .unwrap();
    let server = TestServer::start(Config {
        functions: functions.path().to_path_buf(),
        allowed_hosts: vec![upstream.allowed()],
        ..Config::default()
    })
    .await;
    let path = format!(
        "/functions/world-reach?Var=PBX_HOST&Fetch={}&Count=x",
        encode_value(&upstream.url("/hello"))
    );
    let answer = server.send("POST", &path, Some(FORM), "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let said = says(answer.twiml());
    assert_eq!(said[0], "var PBX_HOST=pbx.example.com");
    assert_eq!(said[1], "fetch 200 hello");
    // Folder functions belong to no account, so they have no key-value state.
    assert!(
        said[2].starts_with("count error ") && said[2].contains("deploy it to an account"),
        "{said:?}"
    );
}
