//! What one call may reach beyond its webhook, as the embedder grants it: e164, the function's
//! variables, outbound HTTP through the embedder's policy, and its account's key-value state.
//! The sandbox knows none of the policies: it asks these traits and tells the guest the answer.

use std::{
    borrow::Cow, collections::HashMap, fmt, future::Future, pin::Pin, sync::Arc, time::Duration,
};

use bytes::Bytes;

use crate::Services;

/// A future the embedder returns to the sandbox.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Everything a call may reach; cheap to clone (shared parts behind `Arc`).
#[derive(Clone)]
pub struct CallContext {
    /// e164 and the like.
    pub services: Arc<dyn Services>,
    /// The function's variables, read through `wasi:config/store`.
    pub variables: Arc<Variables>,
    /// Where outbound requests go; `None` refuses every one.
    pub outbound: Option<Arc<dyn Outbound>>,
    /// The account's key-value state; `None` refuses to open any bucket.
    pub state: Option<Arc<dyn KeyValue>>,
}

impl CallContext {
    /// A context with `services` and nothing else: no variables, no outbound requests, no state.
    pub fn new(services: Arc<dyn Services>) -> Self {
        Self {
            services,
            variables: Arc::default(),
            outbound: None,
            state: None,
        }
    }
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("variables", &self.variables)
            .field("outbound", &self.outbound.is_some())
            .field("state", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

/// Secret values shorter than this are not hidden in logs: replacing every `1` or `ab` would
/// garble them and hide nothing worth hiding.
pub const MIN_REDACTED_BYTES: usize = 4;

/// A function's variables, and which of their values are secret (hidden from what the call logs).
#[derive(Default, Clone)]
pub struct Variables {
    values: HashMap<String, String>,
    /// Secret values to hide, longest first so one that contains another is hidden whole.
    secrets: Vec<(String, String)>,
}

impl Variables {
    /// Variables from `(key, value, secret)` triples.
    pub fn new<I: IntoIterator<Item = (String, String, bool)>>(variables: I) -> Self {
        let mut values = HashMap::new();
        let mut secrets = Vec::new();
        for (key, value, secret) in variables {
            if secret && value.len() >= MIN_REDACTED_BYTES {
                secrets.push((value.clone(), key.clone()));
            }
            values.insert(key, value);
        }
        secrets.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        Self { values, secrets }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every variable, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `text` with every secret value replaced by `[secret KEY]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for (value, key) in &self.secrets {
            if text.contains(value.as_str()) {
                text = Cow::Owned(text.replace(value.as_str(), &format!("[secret {key}]")));
            }
        }
        text
    }

    /// Whether any value is hidden from logs.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }
}

impl fmt::Debug for Variables {
    /// Keys only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.values.keys().collect();
        keys.sort();
        f.debug_struct("Variables").field("keys", &keys).finish()
    }
}

/// An outbound request a guest made through `wasi:http/outgoing-handler`, its body read whole.
#[derive(Debug)]
pub struct OutboundRequest {
    /// The method.
    pub method: http::Method,
    /// The absolute URI.
    pub uri: http::Uri,
    /// The headers, those wasi:http forbids already removed.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The longest the guest will wait for it (its `request-options`), if it said.
    pub timeout: Option<Duration>,
}

/// The answer to an [`OutboundRequest`], its body read whole.
#[derive(Debug)]
pub struct OutboundResponse {
    /// The status.
    pub status: http::StatusCode,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Why an outbound request failed; the message says what happened and what to do, and goes to
/// the call's log while the guest gets the matching `wasi:http` error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundFailure {
    /// The function does not allow this host (`HTTP-request-denied`).
    #[error("{0}")]
    Denied(String),
    /// The host resolves to an address the function may not reach (`destination-IP-prohibited`).
    #[error("{0}")]
    Prohibited(String),
    /// The call used up its requests or response bytes (`connection-limit-reached`,
    /// `HTTP-response-body-size`).
    #[error("{0}")]
    Limit(String),
    /// The request or its response was too large (`HTTP-request-body-size`).
    #[error("{0}")]
    TooLarge(String),
    /// No answer in time (`connection-timeout`).
    #[error("{0}")]
    Timeout(String),
    /// The name did not resolve (`DNS-error`).
    #[error("{0}")]
    Dns(String),
    /// No connection (`connection-refused`).
    #[error("{0}")]
    Connect(String),
    /// TLS failed (`TLS-protocol-error`).
    #[error("{0}")]
    Tls(String),
    /// Anything else (`internal-error`, with the message).
    #[error("{0}")]
    Other(String),
}

/// Sends a function's outbound requests, under the embedder's policy (allowed hosts, limits).
pub trait Outbound: Send + Sync + fmt::Debug {
    /// A session for one call: its requests are counted against the call's limits together.
    fn session(&self) -> Arc<dyn OutboundSession>;
}

/// One call's outbound requests.
pub trait OutboundSession: Send + Sync {
    /// Sends `request`: checked and counted now, answered by the future.
    fn send(
        &self,
        request: OutboundRequest,
    ) -> BoxFuture<Result<OutboundResponse, OutboundFailure>>;
}

/// Why a key-value operation failed; the guest gets it as `wasi:keyvalue`'s error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The bucket name is not one the store accepts (`no-such-store`).
    #[error("{0}")]
    NoSuchBucket(String),
    /// The call or account may not do this (`access-denied`): a limit or quota; the message
    /// says which.
    #[error("{0}")]
    Denied(String),
    /// The operation failed (`other`, with the message).
    #[error("{0}")]
    Other(String),
}

/// A page of keys and where the next one starts.
pub type KeyPage = (Vec<String>, Option<String>);
/// Keys with their values (`None`: absent), in the order asked.
pub type KeyValues = Vec<(String, Option<Vec<u8>>)>;

/// The key-value state of one account: buckets of keys, kept across calls.
pub trait KeyValue: Send + Sync + fmt::Debug {
    /// Checks that `bucket` can be opened.
    fn open(&self, bucket: &str) -> Result<(), StateError>;
    /// The value of `key`.
    fn get(&self, bucket: String, key: String) -> BoxFuture<Result<Option<Vec<u8>>, StateError>>;
    /// Sets `key` to `value`.
    fn set(&self, bucket: String, key: String, value: Vec<u8>)
    -> BoxFuture<Result<(), StateError>>;
    /// Removes `key`; absent is fine.
    fn delete(&self, bucket: String, key: String) -> BoxFuture<Result<(), StateError>>;
    /// Whether `key` has a value.
    fn exists(&self, bucket: String, key: String) -> BoxFuture<Result<bool, StateError>>;
    /// A page of keys after `cursor`, and the cursor of the next page.
    fn list_keys(
        &self,
        bucket: String,
        cursor: Option<String>,
    ) -> BoxFuture<Result<KeyPage, StateError>>;
    /// Adds `delta` to the counter at `key` (0 when absent) and returns the new value.
    fn increment(
        &self,
        bucket: String,
        key: String,
        delta: i64,
    ) -> BoxFuture<Result<i64, StateError>>;
    /// Sets `key` to `new` if its value is still `expected` (`None`: absent); whether it did.
    fn compare_and_swap(
        &self,
        bucket: String,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    ) -> BoxFuture<Result<bool, StateError>>;
    /// The values of `keys`, in order.
    fn get_many(
        &self,
        bucket: String,
        keys: Vec<String>,
    ) -> BoxFuture<Result<KeyValues, StateError>>;
    /// Sets every pair, all or none.
    fn set_many(
        &self,
        bucket: String,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> BoxFuture<Result<(), StateError>>;
    /// Removes every key.
    fn delete_many(&self, bucket: String, keys: Vec<String>) -> BoxFuture<Result<(), StateError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_longest_first_and_short_ones_kept() {
        let vars = Variables::new([
            ("API_KEY".into(), "sk_live_abcdef".into(), true),
            ("PREFIX".into(), "sk_live".into(), true),
            ("PIN".into(), "123".into(), true),
            ("HOST".into(), "crm.example.com".into(), false),
        ]);
        assert_eq!(
            vars.redact("key sk_live_abcdef then sk_live_x at crm.example.com pin 123"),
            "key [secret API_KEY] then [secret PREFIX]_x at crm.example.com pin 123"
        );
        assert_eq!(vars.get("HOST"), Some("crm.example.com"));
        assert!(vars.has_secrets());
        let debug = format!("{vars:?}");
        assert!(!debug.contains("sk_live"), "{debug}");
        assert!(matches!(vars.redact("nothing"), Cow::Borrowed(_)));
    }
}
