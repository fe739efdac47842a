//! The baseline for `scripts/bench-wrk.sh`: a plain hyper handler doing the seed 004 job
//! natively (read the form, take the user part of `From` and `To`, answer TwiML), with no
//! templates, no sandbox and no libphonenumber. `GET /hello` answers `hello` (the upstream of the
//! outbound benchmark), and `/fetch` makes that request to the address given second through a
//! pooled client and says what came back: what a function making one request does, natively.
//!
//! Run: `cargo run --release -p twiml-edge-server --example native-handler -- 127.0.0.1:8090 [UPSTREAM]`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;

fn user_part(uri: &str) -> &str {
    let rest = uri.strip_prefix("sip:").unwrap_or(uri);
    rest.split(['@', ';']).next().unwrap_or(rest)
}

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<Bytes>,
>;

async fn handle(
    request: Request<hyper::body::Incoming>,
    client: Client,
    upstream: std::sync::Arc<str>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = |body: String| {
        Ok(Response::builder()
            .header("content-type", "text/xml; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .unwrap())
    };
    match request.uri().path() {
        "/hello" => return text("hello".to_owned()),
        "/fetch" => {
            let url: hyper::Uri = format!("http://{upstream}/hello").parse().unwrap();
            let said = match client.get(url).await {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let body = answer.into_body().collect().await.map(|b| b.to_bytes());
                    format!(
                        "fetch {status} {}",
                        String::from_utf8_lossy(&body.unwrap_or_default())
                    )
                }
                Err(err) => format!("fetch error {err}"),
            };
            return text(format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>{said}</Say></Response>"#
            ));
        }
        _ => {}
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (mut from, mut to) = (String::new(), String::new());
    for (name, value) in form_urlencoded::parse(&body) {
        match &*name {
            "From" => from = user_part(&value).to_owned(),
            "To" => to = user_part(&value).to_owned(),
            _ => {}
        }
    }
    text(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="{from}">{to}</Dial></Response>"#
    ))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let upstream: std::sync::Arc<str> = std::env::args()
        .nth(2)
        .unwrap_or_else(|| addr.clone())
        .into();
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "native handler listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true).ok();
        let (client, upstream) = (client.clone(), upstream.clone());
        let service = service_fn(move |request| handle(request, client.clone(), upstream.clone()));
        tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
    }
}
