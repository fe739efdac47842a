//! Outbound HTTP requests to the hosts the function allows (`AllowedHosts`, set with
//! `twiml-edge deploy --allow-host` or the API), within the call's limits.
//!
//! ```no_run
//! use std::time::Duration;
//! use twiml_edge_sdk::{Error, VoiceResponse, Webhook, http::{self, Request}, twiml::Say};
//!
//! fn handle(webhook: Webhook) -> Result<VoiceResponse, Error> {
//!     let caller = http::encode(webhook.from().unwrap_or_default());
//!     let response = Request::get(format!("https://crm.example.com/greeting?caller={caller}"))
//!         .header("accept", "text/plain")
//!         .timeout(Duration::from_secs(2))
//!         .send()?;
//!     Ok(VoiceResponse::new().say(Say::new(response.text())))
//! }
//! # twiml_edge_sdk::export!(handle);
//! ```
//!
//! The client is written here on the `wasi:http/outgoing-handler` bindings rather than taken from
//! a crate such as wstd: wstd is async, so it needs an executor and wasm32-wasip2, while a handler
//! is one synchronous call on wasm32-unknown-unknown that can simply block until the answer
//! comes. URLs are split by a small parser of their own too (absolute `http://` and `https://`
//! URLs are all wasi:http takes): the `url` crate would add IDNA tables to every function that
//! sends a request.

use std::{fmt, time::Duration};

use crate::__bindings::wasi::{
    http::{
        outgoing_handler,
        types::{
            ErrorCode, Fields, HeaderError, IncomingBody, IncomingResponse, Method, OutgoingBody,
            OutgoingRequest, RequestOptions, Scheme, http_error_code,
        },
    },
    io::streams::StreamError,
};

/// The most bytes of a response body [`Request::send`] reads; a longer body is an error.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// How much of a body goes to or comes from the runtime at once; 4096 is the most
/// `blocking-write-and-flush` takes.
const WRITE_CHUNK: usize = 4096;
const READ_CHUNK: u64 = 64 << 10;

/// An HTTP request, built step by step and sent with [`send`](Self::send).
#[derive(Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
}

impl Request {
    /// A `method` request (`GET`, `PUT`, `PATCH`, ...) to `url`, an absolute `http://` or
    /// `https://` URL.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    /// A `GET` request to `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request to `url`; give it a [`body`](Self::body) and its `content-type`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// Adds header `name: value` (a name may be added more than once).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the request body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Gives up after `timeout` without an answer: to connect, for the first byte of the answer
    /// and between its bytes. The runtime holds every request to its own limit too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and reads the whole answer, blocking until it is in. Any status is an
    /// answer; the error says why there was none and what to do.
    pub fn send(self) -> Result<Response, HttpError> {
        let url = match Url::parse(&self.url) {
            Ok(url) => url,
            Err(reason) => {
                return Err(HttpError::new(
                    &self.url,
                    None,
                    HttpErrorKind::InvalidUrl(reason),
                ));
            }
        };
        let fail = |code: ErrorCode| HttpError::from_code(&url, code, self.timeout);

        let headers = Fields::new();
        for (name, value) in &self.headers {
            if let Err(err) = headers.append(name, value.as_bytes()) {
                let kind = HttpErrorKind::InvalidHeader {
                    name: name.clone(),
                    forbidden: matches!(err, HeaderError::Forbidden),
                };
                return Err(HttpError::new(&url.display(), None, kind));
            }
        }
        let request = OutgoingRequest::new(headers);
        let scheme = if url.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let set = [
            request.set_method(&method(&self.method)),
            request.set_scheme(Some(&scheme)),
            request.set_authority(Some(url.authority)),
            request.set_path_with_query(Some(&url.path_with_query)),
        ];
        if set.iter().any(Result::is_err) {
            let reason = format!("the runtime refuses method {:?} or this URL", self.method);
            return Err(HttpError::new(
                &url.display(),
                None,
                HttpErrorKind::InvalidUrl(reason),
            ));
        }
        let body = request
            .body()
            .expect("a new request hands out its body once");
        let options = self.timeout.map(|timeout| {
            let options = RequestOptions::new();
            let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
            // A runtime that does not support a timeout refuses to set it; its own limit holds.
            let _ = options.set_connect_timeout(Some(nanos));
            let _ = options.set_first_byte_timeout(Some(nanos));
            let _ = options.set_between_bytes_timeout(Some(nanos));
            options
        });
        // The request goes out first and its body after: the runtime may not take a body before
        // it has the request, and a body larger than its buffer would then block forever.
        let future = outgoing_handler::handle(request, options).map_err(fail)?;
        let written = write_body(body, &self.body);
        let answer = {
            let pollable = future.subscribe();
            pollable.block();
            future.get()
        };
        let response = match answer {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(fail(code)),
            Some(Err(())) | None => {
                unreachable!("the answer is taken once, after the pollable said it is ready")
            }
        };
        // A failed body write without an error from the request is the runtime's to explain.
        written.map_err(fail)?;
        read_response(response, &url, self.timeout)
    }
}

/// Prints the method, URL, header names and body size, not header values: they often hold
/// credentials.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &without_query(&self.url))
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An answer: any status, its headers and its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, such as 200.
    pub status: u16,
    /// Each header as (lowercase name, value); a value that is not UTF-8 is read lossily.
    pub headers: Vec<(String, String)>,
    /// The body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text; bytes that are not UTF-8 become U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `value` percent-encoded for a URL's query or path segment: everything but `A-Z a-z 0-9
/// - . _ ~` escaped, so `+14155550100` stays a plus sign and does not become a space.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Writes `bytes` to the request's body and finishes it.
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), ErrorCode> {
    {
        let stream = body.write().expect("a new body hands out its stream once");
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(stream_error)?;
        }
    }
    OutgoingBody::finish(body, None)
}

/// Reads `response` whole, at most [`MAX_RESPONSE_BYTES`] of body.
fn read_response(
    response: IncomingResponse,
    url: &Url<'_>,
    timeout: Option<Duration>,
) -> Result<Response, HttpError> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body = response
        .consume()
        .expect("a new response hands out its body once");
    let mut bytes = Vec::new();
    {
        let stream = body.stream().expect("a new body hands out its stream once");
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES => {
                    let kind = HttpErrorKind::ResponseTooLarge {
                        limit: Some(MAX_RESPONSE_BYTES as u64),
                    };
                    return Err(HttpError::new(&url.display(), None, kind));
                }
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(err)) => {
                    let code = http_error_code(&err)
                        .unwrap_or_else(|| ErrorCode::InternalError(Some(err.to_debug_string())));
                    return Err(HttpError::from_code(url, code, timeout));
                }
            }
        }
    }
    // Trailers are not read; finishing the body lets the runtime drop the connection's state.
    drop(IncomingBody::finish(body));
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn stream_error(err: StreamError) -> ErrorCode {
    match err {
        StreamError::Closed => ErrorCode::ConnectionTerminated,
        StreamError::LastOperationFailed(err) => http_error_code(&err)
            .unwrap_or_else(|| ErrorCode::InternalError(Some(err.to_debug_string()))),
    }
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_owned()),
    }
}

/// Why a request got no answer; its message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    url: String,
    origin: String,
    host: String,
    code: Option<&'static str>,
    kind: HttpErrorKind,
}

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// The URL cannot be sent; the text says why.
    InvalidUrl(String),
    /// A header cannot be sent: its syntax is invalid, or the runtime sets it itself.
    InvalidHeader {
        /// The header's name.
        name: String,
        /// Whether the runtime forbids it (`host`, `connection`, ...) rather than its syntax.
        forbidden: bool,
    },
    /// The function does not allow the URL's host (`HTTP-request-denied`).
    Denied,
    /// The host is or resolves to a private address, which a function reaches only when it
    /// names the host exactly (`destination-IP-prohibited`).
    PrivateAddress,
    /// No answer in time: within the request's [`timeout`](Request::timeout) when it set one,
    /// else within the runtime's limit.
    Timeout(Option<Duration>),
    /// The call used up the requests or response bytes the runtime allows it
    /// (`connection-limit-reached`).
    LimitReached,
    /// The request body is over the runtime's limit (`HTTP-request-body-size`).
    RequestTooLarge,
    /// The response body is over `limit` bytes: [`MAX_RESPONSE_BYTES`], or the runtime's limit
    /// (`HTTP-response-body-size`).
    ResponseTooLarge {
        /// The limit, when known.
        limit: Option<u64>,
    },
    /// Anything else, as the runtime reported it: DNS, connection, TLS or protocol errors.
    Failed(Option<String>),
}

impl HttpError {
    fn new(url: &str, code: Option<&'static str>, kind: HttpErrorKind) -> Self {
        let (origin, host) = match Url::parse(url) {
            Ok(url) => (url.origin(), url.host.to_owned()),
            Err(_) => (String::new(), String::new()),
        };
        Self {
            url: without_query(url).to_owned(),
            origin,
            host,
            code,
            kind,
        }
    }

    fn from_code(url: &Url<'_>, code: ErrorCode, timeout: Option<Duration>) -> Self {
        let name = code_name(&code);
        let kind = match code {
            ErrorCode::HttpRequestDenied => HttpErrorKind::Denied,
            ErrorCode::DestinationIpProhibited => HttpErrorKind::PrivateAddress,
            ErrorCode::DnsTimeout
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout => HttpErrorKind::Timeout(timeout),
            ErrorCode::ConnectionLimitReached => HttpErrorKind::LimitReached,
            ErrorCode::HttpRequestBodySize(_) => HttpErrorKind::RequestTooLarge,
            ErrorCode::HttpResponseBodySize(limit) => HttpErrorKind::ResponseTooLarge { limit },
            ErrorCode::DnsError(payload) => HttpErrorKind::Failed(payload.rcode),
            ErrorCode::InternalError(message) => HttpErrorKind::Failed(message),
            ErrorCode::TlsAlertReceived(payload) => HttpErrorKind::Failed(payload.alert_message),
            ErrorCode::HttpResponseTransferCoding(coding)
            | ErrorCode::HttpResponseContentCoding(coding) => HttpErrorKind::Failed(coding),
            _ => HttpErrorKind::Failed(None),
        };
        Self::new(&url.display(), Some(name), kind)
    }

    /// The URL, without its query and fragment (which may hold credentials).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `wasi:http` error code the runtime answered, as the WIT names it
    /// (`HTTP-request-denied`, `DNS-error`, ...); `None` when the request was not sent.
    pub fn code(&self) -> Option<&str> {
        self.code
    }

    /// What went wrong.
    pub fn kind(&self) -> &HttpErrorKind {
        &self.kind
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            url, origin, host, ..
        } = self;
        match &self.kind {
            HttpErrorKind::InvalidUrl(reason) => write!(f, "invalid URL {url:?}: {reason}"),
            HttpErrorKind::InvalidHeader { name, forbidden } => {
                let why = if *forbidden {
                    "the runtime sets it itself"
                } else {
                    "its name or value is not valid in HTTP"
                };
                write!(f, "header {name:?} cannot be sent to {url}: {why}")
            }
            HttpErrorKind::Denied => write!(
                f,
                "{url} is not an allowed host of this function: allow it with AllowedHosts \
                 (twiml-edge deploy --allow-host {origin})"
            ),
            HttpErrorKind::PrivateAddress => write!(
                f,
                "{url}: {host} is or resolves to a private address, which a function reaches only \
                 when it names the host itself: add {origin} to AllowedHosts \
                 (twiml-edge deploy --allow-host {origin}); a wildcard entry is not enough"
            ),
            HttpErrorKind::Timeout(Some(timeout)) => write!(
                f,
                "{url} did not answer within {timeout:?}, the request's timeout: allow it longer \
                 (the runtime's limit still holds), or answer the caller without it"
            ),
            HttpErrorKind::Timeout(None) => write!(
                f,
                "{url} did not answer within the runtime's time limit for a request: ask it for \
                 less, or answer the caller without it"
            ),
            HttpErrorKind::LimitReached => write!(
                f,
                "{url} was not fetched: this call used up the outbound requests or response bytes \
                 the runtime allows a call: send fewer requests per call"
            ),
            HttpErrorKind::RequestTooLarge => write!(
                f,
                "the request body to {url} is over the runtime's limit: send a smaller body"
            ),
            HttpErrorKind::ResponseTooLarge { limit } => {
                write!(f, "the response of {url} is over ")?;
                match limit {
                    Some(limit) => write!(f, "{limit} bytes")?,
                    None => f.write_str("the runtime's limit")?,
                }
                f.write_str(": ask the server for less (a page, a filter, fewer fields)")
            }
            HttpErrorKind::Failed(detail) => {
                let code = self.code.unwrap_or("internal-error");
                write!(f, "{url} failed: {code}")?;
                if let Some(detail) = detail {
                    write!(f, " ({detail})")?;
                }
                let hint = match code {
                    "DNS-error" | "DNS-timeout" | "destination-not-found" => {
                        ": check the host name in the URL"
                    }
                    "connection-refused" | "destination-unavailable" => {
                        ": check that the server is up and listens on the URL's port"
                    }
                    "TLS-protocol-error" | "TLS-certificate-error" | "TLS-alert-received" => {
                        ": the server must present a valid certificate for its name"
                    }
                    _ => "",
                };
                f.write_str(hint)
            }
        }
    }
}

impl std::error::Error for HttpError {}

/// The name WIT gives `code`.
fn code_name(code: &ErrorCode) -> &'static str {
    match code {
        ErrorCode::DnsTimeout => "DNS-timeout",
        ErrorCode::DnsError(_) => "DNS-error",
        ErrorCode::DestinationNotFound => "destination-not-found",
        ErrorCode::DestinationUnavailable => "destination-unavailable",
        ErrorCode::DestinationIpProhibited => "destination-IP-prohibited",
        ErrorCode::DestinationIpUnroutable => "destination-IP-unroutable",
        ErrorCode::ConnectionRefused => "connection-refused",
        ErrorCode::ConnectionTerminated => "connection-terminated",
        ErrorCode::ConnectionTimeout => "connection-timeout",
        ErrorCode::ConnectionReadTimeout => "connection-read-timeout",
        ErrorCode::ConnectionWriteTimeout => "connection-write-timeout",
        ErrorCode::ConnectionLimitReached => "connection-limit-reached",
        ErrorCode::TlsProtocolError => "TLS-protocol-error",
        ErrorCode::TlsCertificateError => "TLS-certificate-error",
        ErrorCode::TlsAlertReceived(_) => "TLS-alert-received",
        ErrorCode::HttpRequestDenied => "HTTP-request-denied",
        ErrorCode::HttpRequestLengthRequired => "HTTP-request-length-required",
        ErrorCode::HttpRequestBodySize(_) => "HTTP-request-body-size",
        ErrorCode::HttpRequestMethodInvalid => "HTTP-request-method-invalid",
        ErrorCode::HttpRequestUriInvalid => "HTTP-request-URI-invalid",
        ErrorCode::HttpRequestUriTooLong => "HTTP-request-URI-too-long",
        ErrorCode::HttpRequestHeaderSectionSize(_) => "HTTP-request-header-section-size",
        ErrorCode::HttpRequestHeaderSize(_) => "HTTP-request-header-size",
        ErrorCode::HttpRequestTrailerSectionSize(_) => "HTTP-request-trailer-section-size",
        ErrorCode::HttpRequestTrailerSize(_) => "HTTP-request-trailer-size",
        ErrorCode::HttpResponseIncomplete => "HTTP-response-incomplete",
        ErrorCode::HttpResponseHeaderSectionSize(_) => "HTTP-response-header-section-size",
        ErrorCode::HttpResponseHeaderSize(_) => "HTTP-response-header-size",
        ErrorCode::HttpResponseBodySize(_) => "HTTP-response-body-size",
        ErrorCode::HttpResponseTrailerSectionSize(_) => "HTTP-response-trailer-section-size",
        ErrorCode::HttpResponseTrailerSize(_) => "HTTP-response-trailer-size",
        ErrorCode::HttpResponseTransferCoding(_) => "HTTP-response-transfer-coding",
        ErrorCode::HttpResponseContentCoding(_) => "HTTP-response-content-coding",
        ErrorCode::HttpResponseTimeout => "HTTP-response-timeout",
        ErrorCode::HttpUpgradeFailed => "HTTP-upgrade-failed",
        ErrorCode::HttpProtocolError => "HTTP-protocol-error",
        ErrorCode::LoopDetected => "loop-detected",
        ErrorCode::ConfigurationError => "configuration-error",
        ErrorCode::InternalError(_) => "internal-error",
    }
}

/// `url` up to its query or fragment.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// An absolute `http://` or `https://` URL in the parts wasi:http takes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url<'a> {
    https: bool,
    /// `host` or `host:port`.
    authority: &'a str,
    /// The host alone; an IPv6 address keeps its brackets.
    host: &'a str,
    /// `/` when the URL has no path; without the fragment, which is never sent.
    path_with_query: String,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Result<Self, String> {
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err("only absolute http:// and https:// URLs can be sent".to_owned());
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        if authority.contains('@') {
            return Err(
                "credentials in a URL are not sent: put them in an Authorization header".to_owned(),
            );
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let close = v6
                    .find(']')
                    .ok_or("an IPv6 address in brackets lacks its `]`")?;
                let host = &authority[..close + 2];
                let valid = !v6[..close].is_empty()
                    && v6[..close]
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
                if !valid {
                    return Err(format!("{host} is not an IPv6 address"));
                }
                match &v6[close + 1..] {
                    "" => (host, None),
                    after => match after.strip_prefix(':') {
                        Some(port) => (host, Some(port)),
                        None => return Err(format!("{after:?} follows the IPv6 address")),
                    },
                }
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err("the URL has no host".to_owned());
        }
        if !host.starts_with('[')
            && let Some(c) = host
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        {
            return Err(format!(
                "the host {host:?} has {c:?}: a host is letters, digits, `-`, `.` and `_` \
                 (write an international name in its xn-- form)"
            ));
        }
        if let Some(port) = port {
            let valid = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok_and(|p| p > 0);
            if !valid {
                return Err(format!("the port {port:?} is not a number from 1 to 65535"));
            }
        }
        let sent = without_fragment(rest);
        if let Some(c) = sent
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(format!(
                "its path or query has {c:?}: percent-encode it (http::encode does)"
            ));
        }
        let path_with_query = match sent.chars().next() {
            None => "/".to_owned(),
            Some('?') => format!("/{sent}"),
            Some(_) => sent.to_owned(),
        };
        Ok(Self {
            https,
            authority,
            host,
            path_with_query,
        })
    }

    /// `https://host[:port]`, as an `AllowedHosts` entry names it.
    fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.authority.to_ascii_lowercase())
    }

    /// The URL as sent, without its query.
    fn display(&self) -> String {
        format!("{}{}", self.origin(), without_query(&self.path_with_query))
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn without_fragment(s: &str) -> &str {
    s.split('#').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (bool, &str, &str, String) {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"));
        (url.https, url.authority, url.host, url.path_with_query)
    }

    #[test]
    fn urls_split_into_what_wasi_http_takes() {
        let cases = [
            (
                "https://crm.example.com",
                (true, "crm.example.com", "crm.example.com", "/"),
            ),
            (
                "http://crm.example.com:8080/contacts?phone=%2B1#top",
                (
                    false,
                    "crm.example.com:8080",
                    "crm.example.com",
                    "/contacts?phone=%2B1",
                ),
            ),
            ("HTTPS://a.test?x=1", (true, "a.test", "a.test", "/?x=1")),
            ("http://[::1]:3000/x", (false, "[::1]:3000", "[::1]", "/x")),
            ("http://10.0.0.1/", (false, "10.0.0.1", "10.0.0.1", "/")),
        ];
        for (url, (https, authority, host, path)) in cases {
            assert_eq!(
                parts(url),
                (https, authority, host, path.to_owned()),
                "{url}"
            );
        }
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, why) in [
            ("ftp://a.test/", "only absolute http:// and https://"),
            ("/relative", "only absolute"),
            ("https://", "no host"),
            ("https://:80/", "no host"),
            ("https://user:pw@a.test/", "Authorization header"),
            ("https://a.test:0/", "port \"0\""),
            ("https://a.test:99999/", "port \"99999\""),
            ("https://a.test:/", "port \"\""),
            ("https://exa mple.com/", "' '"),
            ("https://bücher.de/", "xn--"),
            ("https://a.test/a b", "percent-encode"),
            ("https://a.test/café", "percent-encode"),
            ("http://[::1/", "lacks its `]`"),
            ("http://[zz]/", "not an IPv6 address"),
        ] {
            let err = Url::parse(url).expect_err(url);
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn encode_escapes_all_but_unreserved() {
        assert_eq!(
            encode("+1 415/x?y=z&ü~._-"),
            "%2B1%20415%2Fx%3Fy%3Dz%26%C3%BC~._-"
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let url = Url::parse("https://crm.example.com/contacts?key=secret").unwrap();
        let denied = HttpError::from_code(&url, ErrorCode::HttpRequestDenied, None);
        assert_eq!(denied.code(), Some("HTTP-request-denied"));
        assert_eq!(denied.url(), "https://crm.example.com/contacts");
        assert_eq!(
            denied.to_string(),
            "https://crm.example.com/contacts is not an allowed host of this function: allow it \
             with AllowedHosts (twiml-edge deploy --allow-host https://crm.example.com)"
        );
        let private = HttpError::from_code(&url, ErrorCode::DestinationIpProhibited, None);
        assert!(
            private.to_string().contains(
                "crm.example.com is or resolves to a private address, which a function reaches \
                 only when it names the host itself: add https://crm.example.com to AllowedHosts"
            ),
            "{private}"
        );
        let timeout = Duration::from_millis(1500);
        let slow = HttpError::from_code(&url, ErrorCode::ConnectionTimeout, Some(timeout));
        assert_eq!(slow.kind(), &HttpErrorKind::Timeout(Some(timeout)));
        assert!(
            slow.to_string()
                .contains("within 1.5s, the request's timeout"),
            "{slow}"
        );
        let dns = ErrorCode::DnsError(crate::__bindings::wasi::http::types::DnsErrorPayload {
            rcode: Some("NXDOMAIN".to_owned()),
            info_code: None,
        });
        assert_eq!(
            HttpError::from_code(&url, dns, None).to_string(),
            "https://crm.example.com/contacts failed: DNS-error (NXDOMAIN): check the host name \
             in the URL"
        );
        let big = HttpErrorKind::ResponseTooLarge {
            limit: Some(MAX_RESPONSE_BYTES as u64),
        };
        assert_eq!(
            HttpError::new("https://a.test/big", None, big).to_string(),
            "the response of https://a.test/big is over 1048576 bytes: ask the server for less \
             (a page, a filter, fewer fields)"
        );
        let invalid = HttpError::new(
            "ftp://a.test/?k=secret",
            None,
            HttpErrorKind::InvalidUrl("only absolute http:// and https:// URLs can be sent".into()),
        );
        assert_eq!(
            invalid.to_string(),
            "invalid URL \"ftp://a.test/\": only absolute http:// and https:// URLs can be sent"
        );
    }

    #[test]
    fn responses_read_headers_and_text() {
        let response = Response {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("set-cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
            ],
            body: b"caf\xc3\xa9 \xff".to_vec(),
        };
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        assert_eq!(response.header("set-cookie"), Some("a=1"));
        assert_eq!(response.header("x-missing"), None);
        assert_eq!(response.text(), "café \u{fffd}");
    }

    #[test]
    fn debug_hides_header_values_and_the_query() {
        let request = Request::get("https://a.test/x?token=secret")
            .header("authorization", "Bearer secret")
            .body("hi");
        let debug = format!("{request:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("\"authorization\""), "{debug}");
        assert!(matches!(method("PATCH"), Method::Patch));
        assert!(matches!(method("PROPFIND"), Method::Other(m) if m == "PROPFIND"));
    }
}
