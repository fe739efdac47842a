//! The process-wide HTTP client: two connection pools, one per [`Reach`].
//!
//! The `Public` pool resolves names through a resolver that drops non-public addresses, and
//! connects to exactly the addresses it returned, so there is no gap between checking an address
//! and using it (DNS rebinding). IP literals never reach a resolver; the session checks them
//! before sending. The `Named` pool resolves without a filter. Keeping them apart means a
//! connection opened to a private host for a function that named it is never reused for a request
//! that only a wildcard allowed.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::address::is_public;
use crate::allow::Reach;
use crate::error::{Error, OutboundError};

/// Idle connections are closed after this; a call's next request usually follows within it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept per host and pool: as many as calls to one API may overlap on a busy
/// server. With 8, 32 concurrent calls to one host opened a new connection for most requests
/// (connect and close were a tenth of the server's CPU under wrk).
const POOL_MAX_IDLE_PER_HOST: usize = 128;
const USER_AGENT: &str = "twiml-edge";

/// Pooled HTTP/1.1 and HTTP/2 client over rustls (ring, webpki roots), built once per process.
///
/// It follows no redirects (the guest gets the 3xx as it is), uses no proxy from the environment
/// and keeps no cookies.
#[derive(Debug, Clone)]
pub struct Client {
    public: reqwest::Client,
    named: reqwest::Client,
}

impl Client {
    /// Builds both pools.
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            public: build(Resolver { public_only: true })?,
            named: build(Resolver { public_only: false })?,
        })
    }

    pub(crate) fn pool(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Named => &self.named,
            Reach::Public => &self.public,
        }
    }
}

fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Client(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn build(resolver: Resolver) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        // reqwest sets the ALPN protocols (h2, http/1.1) on this config itself.
        .tls_backend_preconfigured(tls_config()?)
        .dns_resolver(resolver)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .no_proxy()
        // A retried request would be sent twice while counted once.
        .retry(reqwest::retry::never())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| Error::Client(describe(&e)))
}

/// Resolves with the system resolver, keeping only public addresses when `public_only`.
#[derive(Debug, Clone, Copy)]
struct Resolver {
    public_only: bool,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let public_only = self.public_only;
        Box::pin(async move {
            let lookup: std::io::Result<Vec<SocketAddr>> =
                tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .map(Iterator::collect);
            let found = match lookup {
                Ok(found) if !found.is_empty() => found,
                Ok(_) => {
                    let message = "no address".to_owned();
                    return Err(Box::new(ResolveError::Lookup { host, message }) as _);
                }
                Err(e) => {
                    let message = e.to_string();
                    return Err(Box::new(ResolveError::Lookup { host, message }) as _);
                }
            };
            let mut addresses: Vec<SocketAddr> = Vec::new();
            for address in found {
                if !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
            if public_only {
                let (public, private): (Vec<_>, Vec<_>) =
                    addresses.into_iter().partition(|a| is_public(a.ip()));
                if public.is_empty() {
                    let addresses = private.iter().map(SocketAddr::ip).collect();
                    return Err(Box::new(ResolveError::PrivateOnly { host, addresses }) as _);
                }
                addresses = public;
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Our resolver's failures, found again in reqwest's error chain by [`classify`].
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("{host} resolves only to private addresses")]
    PrivateOnly {
        host: String,
        addresses: Vec<IpAddr>,
    },
    #[error("{host} could not be resolved ({message})")]
    Lookup { host: String, message: String },
}

/// Maps a reqwest failure to what the guest is told.
pub(crate) fn classify(error: reqwest::Error) -> OutboundError {
    // The URL may carry credentials or a query; the guest knows which URL it asked for.
    let error = error.without_url();
    for cause in causes(&error) {
        if let Some(resolve) = cause.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::PrivateOnly { host, addresses } => OutboundError::ProhibitedAddress {
                    host: host.clone(),
                    addresses: addresses.clone(),
                },
                ResolveError::Lookup { .. } => OutboundError::Dns(resolve.to_string()),
            };
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return OutboundError::Tls(tls.to_string());
        }
    }
    let message = describe(&error);
    if error.is_connect() {
        OutboundError::Connect(message)
    } else if error.is_builder() {
        OutboundError::InvalidRequest(message)
    } else {
        OutboundError::Protocol(message)
    }
}

/// The error and its causes, looking inside `io::Error`s too: their `source()` skips the error
/// they wrap (rustls's, for one).
fn causes<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut causes = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next
        && causes.len() < 32
    {
        causes.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => cause.source(),
        };
    }
    causes
}

/// One line from the error and its causes, without repeats or reqwest's and hyper's wrappers
/// ("error sending request", "client error (Connect)"), which say nothing to a guest.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(error) {
        let text = cause.to_string();
        let wrapper = text == "error sending request" || text.starts_with("client error (");
        if !wrapper && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_with_ring_and_webpki_roots() {
        Client::new().unwrap();
        assert!(
            !tls_config()
                .unwrap()
                .crypto_provider()
                .cipher_suites
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_public_resolver_refuses_a_name_with_only_private_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let error = Resolver { public_only: true }
            .resolve(name)
            .await
            .err()
            .expect("localhost has no public address");
        let Some(ResolveError::PrivateOnly { host, addresses }) = error.downcast_ref() else {
            panic!("{error}");
        };
        assert_eq!(host, "localhost");
        assert!(!addresses.is_empty());
        assert!(addresses.iter().all(|ip| ip.is_loopback()), "{addresses:?}");
    }

    #[tokio::test]
    async fn the_named_resolver_keeps_private_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let addresses: Vec<SocketAddr> = Resolver { public_only: false }
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert!(
            addresses.iter().any(|a| a.ip().is_loopback()),
            "{addresses:?}"
        );
    }

    #[test]
    fn causes_look_inside_io_errors() {
        let inner = rustls::Error::General("bad record".into());
        let io = std::io::Error::other(inner);
        let found = causes(&io);
        assert_eq!(found.len(), 2);
        assert!(found[1].downcast_ref::<rustls::Error>().is_some());
        assert_eq!(describe(&io), "unexpected error: bad record");
    }
}
