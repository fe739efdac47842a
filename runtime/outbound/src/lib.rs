//! Outbound HTTP for guest functions: Spin-style `AllowedHosts`, private addresses refused unless
//! a function names them, and a pooled rustls client that holds each call to its limits.
#![deny(missing_docs)]

mod address;
mod allow;
mod client;
mod error;
mod session;

use std::time::Duration;

pub use address::is_public;
pub use allow::{AllowList, AllowedHost, MAX_ALLOWED_HOST_BYTES, MAX_ALLOWED_HOSTS, Reach};
pub use client::Client;
pub use error::{Error, OutboundError, Result};
pub use session::{Limits, Request, Response, Session};

/// Requests one call may send.
pub const DEFAULT_MAX_REQUESTS: u32 = 10;
/// Response body bytes one call may receive, all responses together.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Bytes of one request body.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Longest one request may take, response body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
