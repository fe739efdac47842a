//! What a guest is told when an outbound request fails, and what configuring one may fail with.

use std::net::IpAddr;
use std::time::Duration;

/// Why an outbound request was refused or failed; each message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// No allowed host matches the URL; `allow` is the entry that would.
    #[error("{url} is not an allowed host of this function: allow {allow} (AllowedHosts)")]
    Denied {
        /// The URL, without credentials, query or fragment.
        url: String,
        /// The `AllowedHosts` entry that would allow it.
        allow: String,
    },
    /// A host matched only by a wildcard is, or resolves only to, non-public addresses.
    #[error("{}", prohibited(host, addresses))]
    ProhibitedAddress {
        /// The URL's host.
        host: String,
        /// The addresses it is or resolves to, none of them public.
        addresses: Vec<IpAddr>,
    },
    /// The call already sent as many requests as it may.
    #[error(
        "this call already sent its {0} outbound requests: send fewer requests per call, \
         or fetch what you need in one request"
    )]
    TooManyRequests(u32),
    /// The request body is over the limit.
    #[error("the request body is over {0} bytes: send a smaller body")]
    RequestTooLarge(usize),
    /// The call's responses together passed the limit; the body was cut off.
    #[error(
        "the responses of this call passed {0} bytes: ask the server for less \
         (a page, a filter, fewer fields)"
    )]
    TooLarge(usize),
    /// The request, response body included, took longer than this.
    #[error(
        "the request took longer than {0:?}: the server is too slow; ask it for less, \
         or answer the caller without it"
    )]
    Timeout(Duration),
    /// The host name could not be resolved.
    #[error("{0}: check the host name in the URL")]
    Dns(String),
    /// No connection could be made.
    #[error("could not connect: {0}: check that the server is up and listens on the URL's port")]
    Connect(String),
    /// The TLS handshake failed.
    #[error(
        "TLS failed: {0}: the server must speak TLS on this port, with a valid certificate \
         for its name from a public certificate authority"
    )]
    Tls(String),
    /// The server's answer was not valid HTTP, or the connection broke mid-answer.
    #[error("the server did not answer valid HTTP: {0}")]
    Protocol(String),
    /// The URL cannot be sent at all.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The request cannot be sent as it is (method or headers).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

fn prohibited(host: &str, addresses: &[IpAddr]) -> String {
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    let what = if let (Ok(ip), [only]) = (literal, addresses)
        && ip == *only
    {
        format!("{host} is a private address")
    } else {
        let list = addresses
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        format!("{host} resolves only to private addresses ({list})")
    };
    format!("{what}: name it in AllowedHosts to reach it")
}

/// Why an allow-list or a client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An `AllowedHosts` entry is malformed; `reason` says how and shows the accepted form.
    #[error("{entry:?} is not an allowed host: {reason}")]
    AllowedHost {
        /// The entry as written (its first bytes when it is too long).
        entry: String,
        /// What is wrong and the accepted form.
        reason: String,
    },
    /// More entries than [`MAX_ALLOWED_HOSTS`](crate::MAX_ALLOWED_HOSTS).
    #[error(
        "{0} allowed hosts is more than the {max} a function may have: \
         use wildcards such as https://*.example.com",
        max = crate::MAX_ALLOWED_HOSTS
    )]
    TooManyAllowedHosts(usize),
    /// The HTTP client could not be built.
    #[error("could not build the outbound HTTP client: {0}")]
    Client(String),
}

/// Results of building an allow-list or a client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prohibited_address_names_the_host_and_its_addresses() {
        let resolved = OutboundError::ProhibitedAddress {
            host: "api.test".into(),
            addresses: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        };
        assert_eq!(
            resolved.to_string(),
            "api.test resolves only to private addresses (127.0.0.1, ::1): \
             name it in AllowedHosts to reach it"
        );
        let literal = OutboundError::ProhibitedAddress {
            host: "10.0.0.1".into(),
            addresses: vec!["10.0.0.1".parse().unwrap()],
        };
        assert_eq!(
            literal.to_string(),
            "10.0.0.1 is a private address: name it in AllowedHosts to reach it"
        );
        let mapped = OutboundError::ProhibitedAddress {
            host: "[::ffff:7f00:1]".into(),
            addresses: vec!["::ffff:127.0.0.1".parse().unwrap()],
        };
        assert_eq!(
            mapped.to_string(),
            "[::ffff:7f00:1] is a private address: name it in AllowedHosts to reach it"
        );
    }

    #[test]
    fn too_many_allowed_hosts_says_the_limit() {
        assert_eq!(
            Error::TooManyAllowedHosts(101).to_string(),
            "101 allowed hosts is more than the 100 a function may have: \
             use wildcards such as https://*.example.com"
        );
    }
}
