//! Reading a request body: bounded in bytes and in time, for webhooks and the API alike.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::{body::Body, header::CONTENT_LENGTH, http::request::Parts};

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is (or says it is) over the limit, in bytes.
    TooLarge(usize),
    /// It did not arrive within the time given.
    Timeout(Duration),
    /// The connection failed while it arrived.
    Unreadable(String),
}

/// The whole body, refused at once when its `Content-Length` is over `limit`, and cut off when
/// it grows past `limit` or takes longer than `timeout` to arrive.
pub(crate) async fn read<B>(
    parts: &Parts,
    body: B,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(BodyError::Timeout(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.is::<LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Ok(Err(err)) => Err(BodyError::Unreadable(err.to_string())),
    }
}
