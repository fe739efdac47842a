//! A running server, for the commands that work through its API: `deploy`, `logs`, `call`.

use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::Value;

/// Where the server is and who to be there.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServerArgs {
    /// The twiml-edge server (HTTP).
    #[arg(long, env = "TWIML_EDGE_URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// The AccountSid to act as (twiml-edge account create prints it).
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub(crate) account: Option<String>,
    /// The account's auth token.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
}

/// One HTTP answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The management API of a server, as one account.
#[derive(Debug)]
pub(crate) struct Remote {
    base: String,
    account: String,
    token: String,
}

impl Remote {
    /// The server of `args`, which must name an account and its token.
    pub(crate) fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let (Some(account), Some(token)) = (&args.account, &args.token) else {
            bail!(
                "this command uses the server's API: give --account and --token (or set \
                 TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN); twiml-edge account create makes them"
            );
        };
        Ok(Self {
            base: base(&args.url)?,
            account: account.clone(),
            token: token.clone(),
        })
    }

    /// The account's SID.
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// GETs `rest` under the account and returns its JSON.
    pub(crate) async fn get(&self, rest: &str) -> anyhow::Result<Value> {
        self.json("GET", rest, None, Bytes::new()).await
    }

    /// POSTs `form` to `rest` under the account.
    pub(crate) async fn post_form(
        &self,
        rest: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let content_type = "application/x-www-form-urlencoded";
        self.json("POST", rest, Some(content_type), body.into())
            .await
    }

    /// POSTs `wasm` to `rest` under the account.
    pub(crate) async fn upload(&self, rest: &str, wasm: Vec<u8>) -> anyhow::Result<Value> {
        self.json("POST", rest, Some("application/wasm"), wasm.into())
            .await
    }

    async fn json(
        &self,
        method: &str,
        rest: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/2010-04-01/Accounts/{}{rest}", self.base, self.account);
        let credentials = STANDARD.encode(format!("{}:{}", self.account, self.token));
        let auth = format!("Basic {credentials}");
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(content_type.map(|ct| ("content-type", ct)));
        let reply = send(method, &url, &headers, body).await?;
        let json: Value = serde_json::from_slice(&reply.body)
            .with_context(|| format!("{url} answered {} without JSON", reply.status))?;
        if !reply.status.is_success() {
            bail!(
                "the server refused {method} {rest}: {} ({} {})",
                json["message"].as_str().unwrap_or("no message"),
                reply.status.as_u16(),
                json["code"]
            );
        }
        Ok(json)
    }
}

/// `url` without a trailing slash, checked to be an http URL.
pub(crate) fn base(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        bail!(
            "--url {url:?}: the command line speaks plain HTTP; reach an https server through a \
             tunnel or from where it listens"
        );
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Sends one request.
pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> anyhow::Result<Reply> {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body))
        .with_context(|| format!("cannot build a request to {url:?}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .with_context(|| format!("no answer from {url}: is twiml-edge serve running there?"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("the answer from {url} broke off"))?
        .to_bytes();
    Ok(Reply {
        status,
        headers,
        body,
    })
}
