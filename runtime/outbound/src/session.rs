//! One call's outbound requests: the allow-list check, the limits, and the exchange itself.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName};
use http::{Method, StatusCode};

use crate::address::is_public;
use crate::allow::{AllowList, Reach, redacted};
use crate::client::{Client, classify};
use crate::error::OutboundError;

/// What one call's outbound requests may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests the call may send.
    pub max_requests: u32,
    /// Response body bytes of all the call's responses together.
    pub max_response_bytes: usize,
    /// Bytes of one request body.
    pub max_request_bytes: usize,
    /// Longest one request may take, from connecting to the last byte of the response body.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_requests: crate::DEFAULT_MAX_REQUESTS,
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
            max_request_bytes: crate::DEFAULT_MAX_REQUEST_BYTES,
            timeout: crate::DEFAULT_TIMEOUT,
        }
    }
}

/// A request a guest wants sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method; `CONNECT` is refused.
    pub method: Method,
    /// An `http` or `https` URL.
    pub url: url::Url,
    /// Headers; see [`Session::send`] for the ones removed or refused.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, url: url::Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

/// A response, its body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status, redirects included: they are not followed.
    pub status: StatusCode,
    /// The headers, less the hop-by-hop ones.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// One call's outbound requests, counted and limited together.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use twiml_edge_outbound::{AllowList, Client, Limits, Request, Session};
///
/// let client = Arc::new(Client::new()?); // once per process
/// let allow = Arc::new(AllowList::parse(["https://api.crm.example"])?); // once per function
/// let session = Session::new(client, allow, Limits::default()); // once per call
/// let url = "https://api.crm.example/contacts?phone=%2B14155550100".parse()?;
/// let response = session.send(Request::new(http::Method::GET, url), None).await?;
/// println!("{} {:?}", response.status, response.body);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Session {
    client: Arc<Client>,
    allow: Arc<AllowList>,
    limits: Limits,
    usage: Arc<Usage>,
}

/// Shared with the futures `send` returns, which may outlive the borrow of the session.
#[derive(Debug, Default)]
struct Usage {
    requests: AtomicU32,
    response_bytes: AtomicUsize,
}

impl Usage {
    /// Counts one more request, unless the call already sent `max`.
    fn count_request(&self, max: u32) -> Result<(), OutboundError> {
        self.requests
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then(|| n + 1)
            })
            .map(drop)
            .map_err(|_| OutboundError::TooManyRequests(max))
    }

    /// Whether `len` more response bytes would still fit.
    fn fits(&self, len: u64, max: usize) -> bool {
        let left = max.saturating_sub(self.response_bytes.load(Ordering::SeqCst));
        len <= left as u64
    }

    /// Charges `len` response bytes; past `max` the budget is spent, since the bytes did arrive.
    fn charge(&self, len: usize, max: usize) -> Result<(), OutboundError> {
        let charged =
            self.response_bytes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                    used.checked_add(len).filter(|&total| total <= max)
                });
        charged.map(drop).map_err(|_| {
            self.response_bytes.fetch_max(max, Ordering::SeqCst);
            OutboundError::TooLarge(max)
        })
    }
}

/// Headers that belong to one connection (RFC 9110 §7.6.1), managed by the client on the way
/// out and removed from responses on the way in, as a proxy does.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

impl Session {
    /// A session for one call of a function with these allowed hosts.
    pub fn new(client: Arc<Client>, allow: Arc<AllowList>, limits: Limits) -> Self {
        Self {
            client,
            allow,
            limits,
            usage: Arc::default(),
        }
    }

    /// The limits this call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Requests counted so far.
    pub fn requests(&self) -> u32 {
        self.usage.requests.load(Ordering::SeqCst)
    }

    /// Response body bytes charged so far.
    pub fn response_bytes(&self) -> usize {
        self.usage.response_bytes.load(Ordering::SeqCst)
    }

    /// Sends `request` and reads its response whole, within `timeout` clamped to the limit.
    ///
    /// Everything that can be refused without the network is refused here, before the future
    /// is returned: a denied URL, an IP literal that is not public when only a wildcard allowed
    /// it, a body over the limit, `CONNECT`, a `Host` header naming another host, and a request
    /// past the count (only requests that pass these checks are counted). Hop-by-hop headers,
    /// those `Connection` names, and `Content-Length` are removed (the length is the body's: an
    /// empty `POST`, `PUT` or `PATCH` says `0`), and so is a `Host` header that agrees with the
    /// URL.
    ///
    /// A response whose `Content-Length` would pass the call's byte limit is refused before its
    /// body is read and costs nothing; a body that passes it while arriving is cut off and
    /// spends the rest of the budget.
    pub fn send(
        &self,
        request: Request,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Response, OutboundError>> + Send + 'static {
        let timeout = timeout.map_or(self.limits.timeout, |t| t.min(self.limits.timeout));
        let prepared = self.prepare(request);
        let usage = Arc::clone(&self.usage);
        let max_response_bytes = self.limits.max_response_bytes;
        async move {
            let (pool, request) = prepared?;
            let exchange = exchange(pool, request, &usage, max_response_bytes);
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or(Err(OutboundError::Timeout(timeout)))
        }
    }

    fn prepare(
        &self,
        request: Request,
    ) -> Result<(reqwest::Client, reqwest::Request), OutboundError> {
        let Request {
            method,
            url,
            mut headers,
            body,
        } = request;
        let reach = match self.allow.check(&url) {
            Ok(reach) => reach,
            Err(denied) => {
                tracing::debug!(url = %redacted(&url), error = %denied, "outbound request refused");
                return Err(denied);
            }
        };
        if body.len() > self.limits.max_request_bytes {
            return Err(OutboundError::RequestTooLarge(
                self.limits.max_request_bytes,
            ));
        }
        if method == Method::CONNECT {
            return Err(OutboundError::InvalidRequest(
                "CONNECT is not allowed: send the request itself to the URL".into(),
            ));
        }
        scrub_headers(&mut headers, &url)?;
        if reach == Reach::Public
            && let Some(ip) = literal_ip(&url)
            && !is_public(ip)
        {
            return Err(OutboundError::ProhibitedAddress {
                host: url.host_str().unwrap_or_default().to_owned(),
                addresses: vec![ip],
            });
        }
        self.usage.count_request(self.limits.max_requests)?;
        tracing::debug!(url = %redacted(&url), %method, ?reach, "outbound request");
        // hyper writes no length for an empty body; some servers answer 411 to a POST without.
        if body.is_empty() && [Method::POST, Method::PUT, Method::PATCH].contains(&method) {
            headers.insert(
                header::CONTENT_LENGTH,
                header::HeaderValue::from_static("0"),
            );
        }
        let mut outgoing = reqwest::Request::new(method, url);
        *outgoing.headers_mut() = headers;
        *outgoing.body_mut() = Some(body.into());
        Ok((self.client.pool(reach).clone(), outgoing))
    }
}

async fn exchange(
    pool: reqwest::Client,
    request: reqwest::Request,
    usage: &Usage,
    max_response_bytes: usize,
) -> Result<Response, OutboundError> {
    let mut response = pool.execute(request).await.map_err(classify)?;
    let status = response.status();
    let mut headers = std::mem::take(response.headers_mut());
    remove_hop_by_hop(&mut headers);
    let capacity = match response.content_length() {
        Some(len) if !usage.fits(len, max_response_bytes) => {
            return Err(OutboundError::TooLarge(max_response_bytes));
        }
        Some(len) => usize::try_from(len).unwrap_or(0),
        None => 0,
    };
    let mut body = BytesMut::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        usage.charge(chunk.len(), max_response_bytes)?;
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body: body.freeze(),
    })
}

/// Removes what the client must write itself, and refuses a `Host` that names another host:
/// some servers route on it, so it would reach a host the allow-list never saw.
fn scrub_headers(headers: &mut HeaderMap, url: &url::Url) -> Result<(), OutboundError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    if let Some(host) = hosts.next() {
        let matches_url = host.to_str().is_ok_and(|host| names_url_host(host, url));
        if !matches_url || hosts.next().is_some() {
            return Err(OutboundError::InvalidRequest(format!(
                "the Host header {host:?} is not the URL's host {:?}: leave Host out, the \
                 URL's host is sent",
                url.host_str().unwrap_or_default()
            )));
        }
    }
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    remove_hop_by_hop(headers);
    Ok(())
}

fn names_url_host(host: &str, url: &url::Url) -> bool {
    let url_host = url.host_str().unwrap_or_default();
    // `url` drops a port that is the scheme's default, so `port()` is `None` exactly then.
    let bare = url.port().is_none() && host.eq_ignore_ascii_case(url_host);
    let with_port = url
        .port_or_known_default()
        .is_some_and(|port| host.eq_ignore_ascii_case(&format!("{url_host}:{port}")));
    bare || with_port
}

/// Removes hop-by-hop headers and those the `Connection` header names.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll};
    use std::time::Instant;

    use http_body_util::combinators::BoxBody;
    use http_body_util::{BodyExt, Full};
    use hyper::body::{Body, Frame, Incoming};
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    type ServerBody = BoxBody<Bytes, Infallible>;

    /// A request as the test server received it.
    #[derive(Debug, Clone)]
    struct Seen {
        method: Method,
        uri: http::Uri,
        headers: HeaderMap,
        body: Bytes,
    }

    /// A hyper server on 127.0.0.1:0 that counts the connections it accepts and keeps every
    /// request it reads.
    struct Server {
        addr: SocketAddr,
        connections: Arc<AtomicUsize>,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    impl Server {
        async fn start<F, Fut>(handler: F) -> Self
        where
            F: Fn(Seen) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = http::Response<ServerBody>> + Send + 'static,
        {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let connections = Arc::new(AtomicUsize::new(0));
            let seen = Arc::new(Mutex::new(Vec::new()));
            let handler = Arc::new(handler);
            let (counter, log) = (Arc::clone(&connections), Arc::clone(&seen));
            tokio::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                    let service =
                        hyper::service::service_fn(move |request: http::Request<Incoming>| {
                            let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let seen = Seen {
                                    method: parts.method,
                                    uri: parts.uri,
                                    headers: parts.headers,
                                    body,
                                };
                                log.lock().unwrap().push(seen.clone());
                                Ok::<_, Infallible>(handler(seen).await)
                            }
                        });
                    tokio::spawn(
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service),
                    );
                }
            });
            Self {
                addr,
                connections,
                seen,
            }
        }

        fn url(&self, host: &str, path: &str) -> url::Url {
            format!("http://{host}:{}{path}", self.addr.port())
                .parse()
                .unwrap()
        }

        fn connections(&self) -> usize {
            self.connections.load(Ordering::SeqCst)
        }

        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    fn full(status: u16, body: impl Into<Bytes>) -> http::Response<ServerBody> {
        let mut response = http::Response::new(Full::new(body.into()).boxed());
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
    }

    /// A body of `count` chunks of unknown total length (sent chunked), then the end, or
    /// nothing ever again when `stall`.
    struct Chunks {
        chunk: Bytes,
        count: usize,
        stall: bool,
    }

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            match self.count {
                0 if self.stall => Poll::Pending,
                0 => Poll::Ready(None),
                _ => {
                    self.count -= 1;
                    Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
                }
            }
        }
    }

    fn chunked(chunk: &'static [u8], count: usize, stall: bool) -> http::Response<ServerBody> {
        let chunk = Bytes::from_static(chunk);
        http::Response::new(
            Chunks {
                chunk,
                count,
                stall,
            }
            .boxed(),
        )
    }

    fn session(allow: &[&str], limits: Limits) -> Session {
        let client = Arc::new(Client::new().unwrap());
        Session::new(client, Arc::new(AllowList::parse(allow).unwrap()), limits)
    }

    fn get(url: url::Url) -> Request {
        Request::new(Method::GET, url)
    }

    async fn hello() -> http::Response<ServerBody> {
        full(200, "hello")
    }

    #[tokio::test]
    async fn a_named_host_is_answered_with_status_headers_and_body_exactly() {
        let server = Server::start(|_| async {
            let mut response = full(201, r#"{"name":"Ada"}"#);
            let headers = response.headers_mut();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("x-crm", "42".parse().unwrap());
            headers.append("set-cookie", "a=1".parse().unwrap());
            headers.append("set-cookie", "b=2".parse().unwrap());
            response
        })
        .await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let mut request = Request::new(Method::POST, server.url("127.0.0.1", "/contacts?phone=1"));
        request.headers.insert("x-call", "CA1".parse().unwrap());
        request.body = Bytes::from_static(b"q=1");

        let response = session.send(request, None).await.unwrap();

        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.body, Bytes::from_static(br#"{"name":"Ada"}"#));
        let mut names: Vec<&str> = response.headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "content-length",
                "content-type",
                "date",
                "set-cookie",
                "x-crm"
            ]
        );
        assert_eq!(response.headers["content-length"], "14");
        assert_eq!(response.headers["content-type"], "application/json");
        assert_eq!(response.headers["x-crm"], "42");
        let cookies: Vec<_> = response.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);

        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, Method::POST);
        assert_eq!(seen[0].uri, "/contacts?phone=1");
        assert_eq!(seen[0].headers["x-call"], "CA1");
        assert_eq!(seen[0].headers["user-agent"], "twiml-edge");
        assert_eq!(
            seen[0].headers["host"],
            format!("127.0.0.1:{}", server.addr.port())
        );
        assert_eq!(seen[0].headers["content-length"], "3");
        assert_eq!(seen[0].body, Bytes::from_static(b"q=1"));
        assert_eq!(server.connections(), 1);
        assert_eq!(session.requests(), 1);
        assert_eq!(session.response_bytes(), 14);
    }

    #[tokio::test]
    async fn an_empty_body_is_sent_with_a_length_only_where_a_body_is_expected() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let request = Request::new(method, server.url("127.0.0.1", "/"));
            session.send(request, None).await.unwrap();
        }

        let lengths: Vec<_> = server
            .seen()
            .into_iter()
            .map(|seen| (seen.method, seen.headers.get("content-length").cloned()))
            .collect();
        assert_eq!(
            lengths,
            [
                (Method::GET, None),
                (Method::POST, Some("0".parse().unwrap())),
                (Method::PUT, Some("0".parse().unwrap())),
                (Method::DELETE, None),
            ]
        );
    }

    #[tokio::test]
    async fn a_named_domain_may_resolve_to_loopback() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://localhost:*"], Limits::default());

        let response = session.send(get(server.url("localhost", "/")), None).await;

        assert_eq!(response.unwrap().body, Bytes::from_static(b"hello"));
        assert_eq!(server.connections(), 1);
    }

    #[tokio::test]
    async fn a_wildcard_request_to_a_private_ip_literal_is_refused_before_connecting() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://*:*"], Limits::default());

        for (host, ip) in [
            ("127.0.0.1", "127.0.0.1"),
            ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ] {
            let result = session.send(get(server.url(host, "/")), None).await;
            let expected_host = url::Url::parse(&format!("http://{host}/")).unwrap();
            assert_eq!(
                result.unwrap_err(),
                OutboundError::ProhibitedAddress {
                    host: expected_host.host_str().unwrap().to_owned(),
                    addresses: vec![ip.parse().unwrap()],
                }
            );
        }
        assert_eq!(server.connections(), 0);
        assert_eq!(session.requests(), 0);
    }

    #[tokio::test]
    async fn a_wildcard_request_to_localhost_is_refused_after_dns_without_connecting() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://*:*"], Limits::default());

        let error = session
            .send(get(server.url("localhost", "/")), None)
            .await
            .unwrap_err();

        let OutboundError::ProhibitedAddress { host, addresses } = &error else {
            panic!("{error}");
        };
        assert_eq!(host, "localhost");
        assert!(
            addresses.contains(&"127.0.0.1".parse().unwrap()),
            "{addresses:?}"
        );
        assert!(addresses.iter().all(|ip| ip.is_loopback()), "{addresses:?}");
        let message = error.to_string();
        assert!(message.starts_with("localhost resolves only to private addresses (127.0.0.1"));
        assert!(
            message.ends_with("): name it in AllowedHosts to reach it"),
            "{message}"
        );
        assert_eq!(server.connections(), 0);
    }

    #[tokio::test]
    async fn a_pooled_named_connection_is_not_reused_for_a_wildcard_match() {
        let server = Server::start(|_| hello()).await;
        let client = Arc::new(Client::new().unwrap());
        let named = AllowList::parse(["http://localhost:*"]).unwrap();
        let wildcard = AllowList::parse(["http://*:*"]).unwrap();
        let url = server.url("localhost", "/");

        let first = Session::new(Arc::clone(&client), Arc::new(named), Limits::default());
        first.send(get(url.clone()), None).await.unwrap();
        let second = Session::new(client, Arc::new(wildcard), Limits::default());
        let refused = second.send(get(url), None).await.unwrap_err();

        assert!(
            matches!(refused, OutboundError::ProhibitedAddress { .. }),
            "{refused}"
        );
        assert_eq!(server.connections(), 1);
        assert_eq!(server.seen().len(), 1);
    }

    #[tokio::test]
    async fn requests_past_the_limit_are_refused_at_the_call_without_sending() {
        let server = Server::start(|_| hello()).await;
        let limits = Limits {
            max_requests: 2,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);
        let url = server.url("127.0.0.1", "/");

        let first = session.send(get(url.clone()), None);
        let second = session.send(get(url.clone()), None);
        assert_eq!(
            session.requests(),
            2,
            "counted when called, before being awaited"
        );
        let third = session.send(get(url), None);

        assert_eq!(third.await.unwrap_err(), OutboundError::TooManyRequests(2));
        assert_eq!(server.seen().len(), 0);
        first.await.unwrap();
        second.await.unwrap();
        assert_eq!(server.seen().len(), 2);
        assert_eq!(session.requests(), 2);
    }

    #[tokio::test]
    async fn a_streamed_body_over_the_byte_limit_is_cut_off() {
        let server = Server::start(|_| async { chunked(&[b'x'; 512], 8, false) }).await;
        let limits = Limits {
            max_response_bytes: 1000,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);

        let error = session
            .send(get(server.url("127.0.0.1", "/")), None)
            .await
            .unwrap_err();

        assert_eq!(error, OutboundError::TooLarge(1000));
        assert_eq!(session.response_bytes(), 1000, "the budget is spent");
    }

    #[tokio::test]
    async fn a_content_length_over_the_byte_limit_is_refused_before_reading() {
        let server = Server::start(|_| async { full(200, vec![b'x'; 4096]) }).await;
        let limits = Limits {
            max_response_bytes: 1000,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);

        let error = session
            .send(get(server.url("127.0.0.1", "/")), None)
            .await
            .unwrap_err();

        assert_eq!(error, OutboundError::TooLarge(1000));
        assert_eq!(session.response_bytes(), 0);
    }

    #[tokio::test]
    async fn response_bytes_add_up_across_the_call() {
        let server = Server::start(|_| async { full(200, vec![b'x'; 600]) }).await;
        let limits = Limits {
            max_response_bytes: 1000,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);
        let url = server.url("127.0.0.1", "/");

        let first = session.send(get(url.clone()), None).await.unwrap();
        let second = session.send(get(url), None).await;

        assert_eq!(first.body.len(), 600);
        assert_eq!(second.unwrap_err(), OutboundError::TooLarge(1000));
        assert_eq!(session.response_bytes(), 600);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_within_the_limit() {
        let server = Server::start(|_| std::future::pending()).await;
        let limit = Duration::from_millis(300);
        let limits = Limits {
            timeout: limit,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);

        let started = Instant::now();
        let error = session
            .send(
                get(server.url("127.0.0.1", "/")),
                Some(Duration::from_secs(60)),
            )
            .await
            .unwrap_err();
        let elapsed = started.elapsed();

        assert_eq!(
            error,
            OutboundError::Timeout(limit),
            "the guest's 60 s is clamped"
        );
        assert!(elapsed >= limit, "{elapsed:?}");
        assert!(elapsed < limit + Duration::from_secs(2), "{elapsed:?}");
        assert_eq!(server.seen().len(), 1);
    }

    #[tokio::test]
    async fn a_shorter_guest_timeout_is_kept() {
        let server = Server::start(|_| std::future::pending()).await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let asked = Duration::from_millis(100);

        let started = Instant::now();
        let error = session
            .send(get(server.url("127.0.0.1", "/")), Some(asked))
            .await
            .unwrap_err();

        assert_eq!(error, OutboundError::Timeout(asked));
        assert!(started.elapsed() < asked + Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_body_that_stalls_times_out_too() {
        let server = Server::start(|_| async { chunked(b"partial", 1, true) }).await;
        let limit = Duration::from_millis(300);
        let limits = Limits {
            timeout: limit,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);

        let started = Instant::now();
        let error = session
            .send(get(server.url("127.0.0.1", "/")), None)
            .await
            .unwrap_err();

        assert_eq!(error, OutboundError::Timeout(limit));
        assert!(started.elapsed() < limit + Duration::from_secs(2));
        assert_eq!(
            session.response_bytes(),
            7,
            "the bytes that arrived were charged"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_returned_as_it_is() {
        let server = Server::start(|seen| async move {
            let mut response = full(302, "");
            if seen.uri == "/start" {
                response
                    .headers_mut()
                    .insert("location", "/elsewhere".parse().unwrap());
            }
            response
        })
        .await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());

        let response = session
            .send(get(server.url("127.0.0.1", "/start")), None)
            .await
            .unwrap();

        assert_eq!(response.status, StatusCode::FOUND);
        assert_eq!(response.headers["location"], "/elsewhere");
        let paths: Vec<_> = server.seen().into_iter().map(|seen| seen.uri).collect();
        assert_eq!(paths, ["/start"]);
    }

    #[tokio::test]
    async fn a_denied_url_says_what_to_allow_and_is_never_sent() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["https://api.crm.test"], Limits::default());
        let port = server.addr.port();

        let error = session
            .send(get(server.url("127.0.0.1", "/x?token=secret")), None)
            .await
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            format!(
                "http://127.0.0.1:{port}/x is not an allowed host of this function: \
                 allow http://127.0.0.1:{port} (AllowedHosts)"
            )
        );
        assert_eq!(server.connections(), 0);
        assert_eq!(session.requests(), 0);
    }

    #[tokio::test]
    async fn a_request_body_over_the_limit_is_refused() {
        let server = Server::start(|_| hello()).await;
        let limits = Limits {
            max_request_bytes: 8,
            ..Limits::default()
        };
        let session = session(&["http://127.0.0.1:*"], limits);
        let url = server.url("127.0.0.1", "/");

        let mut too_large = Request::new(Method::POST, url.clone());
        too_large.body = Bytes::from_static(b"123456789");
        let mut fits = Request::new(Method::POST, url);
        fits.body = Bytes::from_static(b"12345678");

        assert_eq!(
            session.send(too_large, None).await.unwrap_err(),
            OutboundError::RequestTooLarge(8)
        );
        session.send(fits, None).await.unwrap();
        let bodies: Vec<_> = server.seen().into_iter().map(|seen| seen.body).collect();
        assert_eq!(bodies, [Bytes::from_static(b"12345678")]);
    }

    #[tokio::test]
    async fn hop_by_hop_headers_are_removed_both_ways() {
        let server = Server::start(|_| async {
            let mut response = chunked(b"chunk", 2, false);
            let headers = response.headers_mut();
            headers.insert("connection", "x-internal".parse().unwrap());
            headers.insert("x-internal", "1".parse().unwrap());
            headers.insert("keep-alive", "timeout=5".parse().unwrap());
            headers.insert("proxy-authenticate", "Basic".parse().unwrap());
            headers.insert("x-kept", "yes".parse().unwrap());
            response
        })
        .await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let url = server.url("127.0.0.1", "/");
        let mut request = Request::new(Method::POST, url.clone());
        for (name, value) in [
            ("connection", "x-secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=99"),
            ("te", "trailers"),
            ("trailer", "x-trailer"),
            ("transfer-encoding", "gzip"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic eDp5"),
            ("proxy-connection", "keep-alive"),
            ("content-length", "999"),
            ("host", &format!("127.0.0.1:{}", server.addr.port())),
            ("x-kept", "yes"),
        ] {
            request.headers.insert(name, value.parse().unwrap());
        }
        request.body = Bytes::from_static(b"abc");

        let response = session.send(request, None).await.unwrap();

        let seen = &server.seen()[0];
        for gone in [
            "x-secret",
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-authorization",
            "proxy-connection",
        ] {
            assert!(!seen.headers.contains_key(gone), "{gone} was sent");
        }
        assert_eq!(seen.headers["content-length"], "3");
        assert_eq!(seen.headers["x-kept"], "yes");
        assert_eq!(seen.body, Bytes::from_static(b"abc"));
        for gone in [
            "connection",
            "x-internal",
            "keep-alive",
            "proxy-authenticate",
            "transfer-encoding",
        ] {
            assert!(!response.headers.contains_key(gone), "{gone} was returned");
        }
        assert_eq!(response.headers["x-kept"], "yes");
        assert_eq!(response.body, Bytes::from_static(b"chunkchunk"));
    }

    #[tokio::test]
    async fn a_host_header_naming_another_host_is_refused() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let mut request = get(server.url("127.0.0.1", "/"));
        request
            .headers
            .insert("host", "admin.internal".parse().unwrap());

        let error = session.send(request, None).await.unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid request: the Host header \"admin.internal\" is not the URL's host \
             \"127.0.0.1\": leave Host out, the URL's host is sent"
        );
        assert_eq!(server.connections(), 0);
    }

    #[test]
    fn a_host_header_may_repeat_the_urls_host_with_or_without_the_default_port() {
        let url: url::Url = "https://API.test/x".parse().unwrap();
        for host in ["api.test", "API.TEST", "api.test:443"] {
            assert!(names_url_host(host, &url), "{host}");
        }
        for host in ["api.test:80", "other.test", "api.test.evil"] {
            assert!(!names_url_host(host, &url), "{host}");
        }
        let url: url::Url = "http://api.test:8080/".parse().unwrap();
        assert!(names_url_host("api.test:8080", &url));
        assert!(!names_url_host("api.test", &url));
    }

    #[tokio::test]
    async fn connect_is_refused() {
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let request = Request::new(Method::CONNECT, "http://127.0.0.1:9/".parse().unwrap());

        let error = session.send(request, None).await.unwrap_err();

        assert_eq!(
            error,
            OutboundError::InvalidRequest(
                "CONNECT is not allowed: send the request itself to the URL".into()
            )
        );
        assert_eq!(session.requests(), 0);
    }

    #[tokio::test]
    async fn https_to_a_plain_http_server_is_a_tls_error() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["https://127.0.0.1:*"], Limits::default());
        let url = format!("https://127.0.0.1:{}/", server.addr.port());

        let error = session
            .send(get(url.parse().unwrap()), None)
            .await
            .unwrap_err();

        assert!(matches!(error, OutboundError::Tls(_)), "{error:?}");
        assert!(error.to_string().starts_with("TLS failed: "), "{error}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let url = format!("http://127.0.0.1:{port}/");

        let error = session
            .send(get(url.parse().unwrap()), None)
            .await
            .unwrap_err();

        assert!(matches!(error, OutboundError::Connect(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with("could not connect: tcp connect error: "),
            "{message}"
        );
    }

    #[tokio::test]
    async fn an_answer_that_is_not_http_is_a_protocol_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = [0; 1024];
            let _ = stream.read(&mut buffer).await.unwrap();
            stream.write_all(b"SSH-2.0-OpenSSH\r\n\r\n").await.unwrap();
            stream.shutdown().await.unwrap();
        });
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let url = format!("http://127.0.0.1:{port}/");

        let error = session
            .send(get(url.parse().unwrap()), None)
            .await
            .unwrap_err();

        assert_eq!(
            error,
            OutboundError::Protocol("invalid HTTP version parsed".into())
        );
    }

    #[tokio::test]
    async fn the_future_outlives_the_session() {
        let server = Server::start(|_| hello()).await;
        let session = session(&["http://127.0.0.1:*"], Limits::default());
        let future = session.send(get(server.url("127.0.0.1", "/")), None);
        drop(session);

        let response = tokio::spawn(future).await.unwrap().unwrap();

        assert_eq!(response.body, Bytes::from_static(b"hello"));
    }
}
