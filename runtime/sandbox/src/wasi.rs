//! The WASI a call sees, built the first time the guest reaches for it: deny by default (no
//! files, sockets, environment or arguments; clocks and randomness allowed), stdout and stderr
//! captured as the call's log lines, `wasi:config` read from the function's variables, and
//! `wasi:http` requests handed to the embedder's [`Outbound`](crate::Outbound).

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use wasmtime_wasi::{
    WasiCtx,
    cli::{IsTerminal, StdoutStream},
    p2::{OutputStream, Pollable, StreamResult},
};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpCtx, WasiHttpHooks};

use crate::{MAX_CALL_LOG_BYTES, Outbound, OutboundFailure, OutboundRequest, OutboundSession};

/// Largest request body a guest may send; the embedder may refuse smaller ones.
pub const MAX_OUTBOUND_REQUEST_BYTES: usize = 1 << 20;
/// Largest header section a guest may build or receive.
const MAX_HTTP_FIELDS_BYTES: usize = 64 << 10;

/// The WASI side of one call's store.
pub(crate) struct WasiState {
    ctx: WasiCtx,
    http: WasiHttpCtx,
    hooks: HttpHooks,
    stdout: Pipe,
    stderr: Pipe,
}

impl WasiState {
    /// The WASI context, for `WasiView`.
    pub(crate) fn ctx(&mut self) -> &mut WasiCtx {
        &mut self.ctx
    }

    /// The wasi:http context and hooks, for `WasiHttpView`.
    pub(crate) fn http(&mut self) -> (&mut WasiHttpCtx, &mut dyn WasiHttpHooks) {
        (&mut self.http, &mut self.hooks)
    }

    pub(crate) fn new(outbound: Option<Arc<dyn Outbound>>, notes: Notes) -> Box<Self> {
        let (stdout, stderr) = (Pipe::default(), Pipe::default());
        // The builder's defaults deny: stdin closed, no environment, arguments or preopened
        // directories, and since wasmtime 48 no socket address passes its check.
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(MAX_HTTP_FIELDS_BYTES);
        Box::new(Self {
            ctx: builder.build(),
            http,
            hooks: HttpHooks {
                outbound,
                session: None,
                notes,
            },
            stdout,
            stderr,
        })
    }

    /// Lines written to stdout and stderr since the last take, and any partial last line when
    /// `all`: `(stream, line)`.
    pub(crate) fn take_output(&self, all: bool) -> Vec<(&'static str, String)> {
        let mut lines: Vec<_> = self
            .stdout
            .take_lines(all)
            .into_iter()
            .map(|l| ("stdout", l))
            .collect();
        lines.extend(
            self.stderr
                .take_lines(all)
                .into_iter()
                .map(|l| ("stderr", l)),
        );
        lines
    }

    /// Bytes the guest wrote past what a call's log keeps.
    pub(crate) fn dropped_output(&self) -> usize {
        self.stdout.dropped() + self.stderr.dropped()
    }
}

/// What the host wants in a call's log besides the guest's own lines (why a request failed).
pub(crate) type Notes = Arc<Mutex<Vec<String>>>;

/// Hands a guest's requests to the embedder's policy, and notes why one failed.
struct HttpHooks {
    outbound: Option<Arc<dyn Outbound>>,
    session: Option<Arc<dyn OutboundSession>>,
    notes: Notes,
}

type IoFuture = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<
        dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), wasmtime_wasi_http::Error>>
            + Send,
    > {
        let notes = self.notes.clone();
        let uri = request.uri().clone();
        let Some(outbound) = &self.outbound else {
            let failure = OutboundFailure::Denied(format!(
                "{uri} is not an allowed host of this function: it allows none (AllowedHosts)"
            ));
            return Box::new(async move { Err(failed(&notes, &uri, failure)) });
        };
        let session = self
            .session
            .get_or_insert_with(|| outbound.session())
            .clone();
        // The guest's own bound, if it set one; the embedder clamps it to its limit.
        let timeout = options.and_then(|o| {
            [
                o.connect_timeout,
                o.first_byte_timeout,
                o.between_bytes_timeout,
            ]
            .into_iter()
            .flatten()
            .max()
        });
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let body = Limited::new(body, MAX_OUTBOUND_REQUEST_BYTES)
                .collect()
                .await
                .map_err(|err| match err.downcast::<wasmtime_wasi_http::Error>() {
                    Ok(err) => *err,
                    Err(_) => {
                        let failure = OutboundFailure::TooLarge(format!(
                            "the request body to {uri} is over {MAX_OUTBOUND_REQUEST_BYTES} bytes"
                        ));
                        failed(&notes, &uri, failure)
                    }
                })?
                .to_bytes();
            let request = OutboundRequest {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
                timeout,
            };
            match session.send(request).await {
                Ok(response) => {
                    let mut answer = http::Response::new(
                        Full::new(response.body)
                            .map_err(|never| match never {})
                            .boxed_unsync(),
                    );
                    *answer.status_mut() = response.status;
                    *answer.headers_mut() = response.headers;
                    Ok((answer, Box::new(async { Ok(()) }) as IoFuture))
                }
                Err(failure) => Err(failed(&notes, &uri, failure)),
            }
        })
    }
}

/// Notes `failure` for the call's log and gives the guest its `wasi:http` error code.
fn failed(notes: &Notes, uri: &http::Uri, failure: OutboundFailure) -> wasmtime_wasi_http::Error {
    use wasmtime_wasi_http::Error as E;
    let message = failure.to_string();
    notes
        .lock()
        .expect("notes are never poisoned")
        .push(format!("outbound request to {uri} failed: {message}"));
    match failure {
        OutboundFailure::Denied(_) => E::HttpRequestDenied,
        OutboundFailure::Prohibited(_) => E::DestinationIpProhibited,
        OutboundFailure::Limit(_) => E::ConnectionLimitReached,
        OutboundFailure::TooLarge(_) => E::HttpRequestBodySize(None),
        OutboundFailure::Timeout(_) => E::ConnectionTimeout,
        OutboundFailure::Dns(message) => E::DnsError {
            rcode: Some(message),
            info_code: None,
        },
        OutboundFailure::Connect(_) => E::ConnectionRefused,
        OutboundFailure::Tls(_) => E::TlsProtocolError,
        OutboundFailure::Other(message) => E::InternalError(Some(message)),
    }
}

/// stdout or stderr of one call: whole lines, within what a call's log keeps.
#[derive(Clone, Default)]
struct Pipe(Arc<Mutex<PipeBuffer>>);

#[derive(Default)]
struct PipeBuffer {
    lines: Vec<String>,
    partial: Vec<u8>,
    kept: usize,
    dropped: usize,
}

impl Pipe {
    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.0.lock().expect("a pipe is never poisoned");
        let room = MAX_CALL_LOG_BYTES.saturating_sub(buffer.kept);
        let (kept, dropped) = bytes.split_at(bytes.len().min(room));
        buffer.kept += kept.len();
        buffer.dropped += dropped.len();
        for &byte in kept {
            if byte == b'\n' {
                let line = std::mem::take(&mut buffer.partial);
                buffer.lines.push(line_text(line));
            } else {
                buffer.partial.push(byte);
            }
        }
    }

    fn take_lines(&self, all: bool) -> Vec<String> {
        let mut buffer = self.0.lock().expect("a pipe is never poisoned");
        let mut lines = std::mem::take(&mut buffer.lines);
        if all && !buffer.partial.is_empty() {
            let line = std::mem::take(&mut buffer.partial);
            lines.push(line_text(line));
        }
        lines
    }

    fn dropped(&self) -> usize {
        self.0.lock().expect("a pipe is never poisoned").dropped
    }
}

fn line_text(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl IsTerminal for Pipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Pipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Pipe {
    async fn ready(&mut self) {}
}

impl OutputStream for Pipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        // Past what a call keeps, output is counted and dropped, never refused: a guest's
        // `println!` must not fail (Rust's panics on a closed stdout).
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Also what bounds `write-zeroes` allocations.
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_keeps_whole_lines_within_a_calls_log() {
        let pipe = Pipe::default();
        pipe.push(b"one\r\ntw");
        pipe.push(b"o\nthr");
        assert_eq!(pipe.take_lines(false), ["one", "two"]);
        assert_eq!(pipe.take_lines(true), ["thr"]);
        pipe.push(&vec![b'x'; MAX_CALL_LOG_BYTES * 2]);
        // 12 bytes were kept before.
        assert_eq!(pipe.dropped(), MAX_CALL_LOG_BYTES + 12);
        let rest = pipe.take_lines(true);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].len(), MAX_CALL_LOG_BYTES - 12);
        pipe.push(&[0xff, b'\n']);
        assert_eq!(
            pipe.take_lines(false),
            Vec::<String>::new(),
            "nothing more is kept"
        );
    }
}
