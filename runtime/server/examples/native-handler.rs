//! The baseline for `scripts/bench-wrk.sh`: a plain hyper handler doing the seed 004 job
//! natively (read the form, take the user part of `From` and `To`, answer TwiML), with no
//! templates, no sandbox and no libphonenumber.
//!
//! Run: `cargo run --release -p twiml-edge-server --example native-handler -- 127.0.0.1:8090`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;

fn user_part(uri: &str) -> &str {
    let rest = uri.strip_prefix("sip:").unwrap_or(uri);
    rest.split(['@', ';']).next().unwrap_or(rest)
}

async fn handle(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
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
    let twiml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="{from}">{to}</Dial></Response>"#
    );
    Ok(Response::builder()
        .header("content-type", "text/xml; charset=utf-8")
        .body(Full::new(Bytes::from(twiml)))
        .unwrap())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "native handler listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true).ok();
        tokio::spawn(
            http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(handle)),
        );
    }
}
