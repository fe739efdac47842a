//! Serving [`App`] over HTTP/1.1 with keep-alive, and stopping gracefully.
//!
//! Connections are bounded so that clients who never read, trickle or idle cannot hold the
//! server's memory or file descriptors: at most `max_connections` are open (the server accepts
//! more only as they close), headers must arrive within `header_timeout` (which also ends a
//! connection idle between requests), a write that the client does not read within
//! `write_timeout` ends the connection, and a request head is at most [`MAX_HEAD_BYTES`] with
//! hyper's 100 headers.

use std::{convert::Infallible, future::Future, io, sync::Arc, time::Duration};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::TcpListener;
use tokio_io_timeout::TimeoutStream;

use crate::app::App;

/// How long open connections get to finish their requests once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request line and headers: a `GET` webhook carries its parameters in the URL, as large
/// as a form body may be, and a few headers besides.
pub(crate) const MAX_HEAD_BYTES: usize = crate::DEFAULT_MAX_BODY_BYTES + 8 * 1024;

/// Serves `app` on `listener` until `shutdown` resolves, then closes the listener and drains
/// open connections: requests under way complete, and new connections are refused.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let config = app.config().clone();
    let graceful = GracefulShutdown::new();
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free place first: at the cap, new clients wait in the listen queue.
        let place = tokio::select! {
            place = open.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Running out of file descriptors must not end the server: back off and retry.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Webhook answers are small and latency-bound: don't let Nagle hold them back.
        stream.set_nodelay(true).ok();
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(config.write_timeout));
        let stream = Box::pin(stream);
        let app = app.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.handle(request).await) }
        });
        let connection = http1::Builder::new()
            .keep_alive(true)
            // A client that trickles its headers (or idles between requests) holds a socket;
            // give it as long as the engine would wait for an answer, no longer.
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .max_header_size(MAX_HEAD_BYTES)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(place);
        });
    }
    // New clients are refused at once rather than queued behind the drain.
    drop(listener);
    tracing::info!("shutting down: draining open connections");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}: closing them");
    }
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.ok();
}
