//! What every handler shares about HTTP: the URL the engine called, and answers that leave as
//! TwiML (held to the account's rules) or plain text.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Response, StatusCode,
    header::{CONTENT_TYPE, HeaderValue},
    http::request::Parts,
};
use twiml_edge_twiml::{Document, Policy};

use crate::error::{Error, Result};

/// The response header that says the fallback answered, with the `ErrorCode` it was sent.
pub const FALLBACK_HEADER: &str = "x-twiml-edge-fallback";

/// How the engine names this server: the `--public-url` when given (a proxy in front), else
/// plain HTTP at the request's `Host`.
#[derive(Debug, Clone)]
pub(crate) struct PublicUrl(pub(crate) Option<String>);

impl PublicUrl {
    /// The URL the engine called, as it signed it.
    pub(crate) fn of(&self, parts: &Parts) -> String {
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
        match &self.0 {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => {
                let host = parts
                    .headers
                    .get(hyper::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("localhost");
                format!("http://{host}{path}")
            }
        }
    }
}

/// `answer` as a TwiML document held to `policy`; the schema findings it lets through are
/// logged.
pub(crate) fn checked(answer: &str, policy: &Policy) -> Result<Document> {
    let document = twiml_edge_twiml::document(answer, policy).map_err(Error::InvalidTwiml)?;
    for finding in &document.warnings {
        tracing::warn!(
            rule = finding.rule,
            line = finding.line,
            "TwiML schema warning: {}",
            finding.message
        );
    }
    Ok(document)
}

/// A TwiML answer; `fallback` is the `ErrorCode` the fallback ran for, when it did.
pub(crate) fn twiml_response(document: String, fallback: Option<&str>) -> Response<Full<Bytes>> {
    let mut response = text_response("text/xml; charset=utf-8", document);
    if let Some(code) = fallback.and_then(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert(FALLBACK_HEADER, code);
    }
    response
}

pub(crate) fn text_response(content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}
