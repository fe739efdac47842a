//! What a function may reach beyond its webhook, and through what: its variables, outbound
//! requests under its allowed hosts and the server's per-call limits, and its account's
//! key-value state in the store. The sandbox asks these through its traits; the policies live
//! here and in `twiml-edge-outbound`.

use std::sync::Arc;

use twiml_edge_outbound::{AllowList, Client, OutboundError, Session};
use twiml_edge_sandbox::{
    BoxFuture, CallContext, KeyPage, KeyValue, KeyValues, Outbound, OutboundFailure,
    OutboundRequest, OutboundResponse, OutboundSession, Services, StateError, Variables,
};
use twiml_edge_store::{Store, StoreError, Variable};

/// Keys one `list-keys` page holds.
const KEYS_PER_PAGE: usize = 100;

/// What one function reaches: built when it or its settings change, shared by its calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct FunctionReach {
    pub(crate) variables: Arc<Variables>,
    pub(crate) outbound: Option<Arc<dyn Outbound>>,
}

impl FunctionReach {
    /// The reach of a function with `variables` and `allowed_hosts` (already checked when
    /// stored; one that no longer parses allows nothing and is logged).
    pub(crate) fn new<'a>(
        variables: impl IntoIterator<Item = &'a Variable>,
        allowed_hosts: &[String],
        outbound: &OutboundPolicy,
    ) -> Self {
        let variables = Variables::new(
            variables
                .into_iter()
                .map(|v| (v.key.clone(), v.value.clone(), v.secret)),
        );
        let outbound: Option<Arc<dyn Outbound>> = if allowed_hosts.is_empty() {
            None
        } else {
            match AllowList::parse(allowed_hosts) {
                Ok(allow) => Some(Arc::new(FunctionOutbound {
                    policy: outbound.clone(),
                    allow: Arc::new(allow),
                })),
                Err(err) => {
                    tracing::warn!(error = %err, "stored allowed hosts do not parse: allowing none");
                    None
                }
            }
        };
        Self {
            variables: Arc::new(variables),
            outbound,
        }
    }

    /// The context of one call of this function by `account` (`None`: an operator's folder
    /// function, which has no account state).
    pub(crate) fn context(
        &self,
        services: &Arc<dyn Services>,
        state: Option<Arc<dyn KeyValue>>,
    ) -> CallContext {
        CallContext {
            services: services.clone(),
            variables: self.variables.clone(),
            outbound: self.outbound.clone(),
            state,
        }
    }
}

/// The client every function's requests share, and the server's per-call limits.
#[derive(Debug, Clone)]
pub(crate) struct OutboundPolicy {
    pub(crate) client: Arc<Client>,
    pub(crate) limits: twiml_edge_outbound::Limits,
}

/// One function's outbound requests: its allowed hosts under the server's policy.
#[derive(Debug)]
struct FunctionOutbound {
    policy: OutboundPolicy,
    allow: Arc<AllowList>,
}

impl Outbound for FunctionOutbound {
    fn session(&self) -> Arc<dyn OutboundSession> {
        Arc::new(CallRequests(Session::new(
            self.policy.client.clone(),
            self.allow.clone(),
            self.policy.limits,
        )))
    }
}

/// One call's requests.
struct CallRequests(Session);

impl OutboundSession for CallRequests {
    fn send(
        &self,
        request: OutboundRequest,
    ) -> BoxFuture<Result<OutboundResponse, OutboundFailure>> {
        let url = match url::Url::parse(&request.uri.to_string()) {
            Ok(url) => url,
            Err(err) => {
                let failure =
                    OutboundFailure::Other(format!("{} is not a URL: {err}", request.uri));
                return Box::pin(async move { Err(failure) });
            }
        };
        let sent = self.0.send(
            twiml_edge_outbound::Request {
                method: request.method,
                url,
                headers: request.headers,
                body: request.body,
            },
            request.timeout,
        );
        Box::pin(async move {
            let response = sent.await.map_err(failure)?;
            Ok(OutboundResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
            })
        })
    }
}

/// The sandbox's kind of failure for `err`, its message kept.
fn failure(err: OutboundError) -> OutboundFailure {
    let message = err.to_string();
    match err {
        OutboundError::Denied { .. } => OutboundFailure::Denied(message),
        OutboundError::ProhibitedAddress { .. } => OutboundFailure::Prohibited(message),
        OutboundError::TooManyRequests(_) | OutboundError::TooLarge(_) => {
            OutboundFailure::Limit(message)
        }
        OutboundError::RequestTooLarge(_) => OutboundFailure::TooLarge(message),
        OutboundError::Timeout(_) => OutboundFailure::Timeout(message),
        OutboundError::Dns(_) => OutboundFailure::Dns(message),
        OutboundError::Connect(_) => OutboundFailure::Connect(message),
        OutboundError::Tls(_) => OutboundFailure::Tls(message),
        _ => OutboundFailure::Other(message),
    }
}

/// One account's key-value state in the store, for its functions' calls. The store is
/// blocking, so each operation runs on the blocking pool.
#[derive(Debug, Clone)]
pub(crate) struct AccountState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) account_sid: Arc<str>,
}

impl AccountState {
    fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn Store, &str) -> twiml_edge_store::Result<T> + Send + 'static,
    ) -> BoxFuture<Result<T, StateError>> {
        let (store, account) = (self.store.clone(), self.account_sid.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || op(store.as_ref(), &account))
                .await
                .map_err(|err| StateError::Other(format!("the store failed: {err}")))?
                .map_err(state_error)
        })
    }
}

fn state_error(err: StoreError) -> StateError {
    match err {
        StoreError::Invalid(message) => StateError::Other(message),
        StoreError::Quota(message) => StateError::Denied(message),
        other => {
            tracing::error!(error = %other, "key-value store failed");
            StateError::Other("the key-value store failed; try again".into())
        }
    }
}

impl KeyValue for AccountState {
    fn open(&self, bucket: &str) -> Result<(), StateError> {
        twiml_edge_store::check_bucket(bucket).map_err(StateError::NoSuchBucket)
    }

    fn get(&self, bucket: String, key: String) -> BoxFuture<Result<Option<Vec<u8>>, StateError>> {
        self.run(move |store, account| store.kv_get(account, &bucket, &key))
    }

    fn set(
        &self,
        bucket: String,
        key: String,
        value: Vec<u8>,
    ) -> BoxFuture<Result<(), StateError>> {
        self.run(move |store, account| store.kv_set(account, &bucket, &key, &value))
    }

    fn delete(&self, bucket: String, key: String) -> BoxFuture<Result<(), StateError>> {
        self.run(move |store, account| store.kv_delete(account, &bucket, &key).map(drop))
    }

    fn exists(&self, bucket: String, key: String) -> BoxFuture<Result<bool, StateError>> {
        self.run(move |store, account| store.kv_exists(account, &bucket, &key))
    }

    fn list_keys(
        &self,
        bucket: String,
        cursor: Option<String>,
    ) -> BoxFuture<Result<KeyPage, StateError>> {
        self.run(move |store, account| {
            let keys = store.kv_keys(account, &bucket, cursor.as_deref(), KEYS_PER_PAGE)?;
            let next = (keys.len() == KEYS_PER_PAGE)
                .then(|| keys.last().cloned())
                .flatten();
            Ok((keys, next))
        })
    }

    fn increment(
        &self,
        bucket: String,
        key: String,
        delta: i64,
    ) -> BoxFuture<Result<i64, StateError>> {
        self.run(move |store, account| store.kv_increment(account, &bucket, &key, delta))
    }

    fn compare_and_swap(
        &self,
        bucket: String,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    ) -> BoxFuture<Result<bool, StateError>> {
        self.run(move |store, account| {
            store.kv_compare_and_swap(account, &bucket, &key, expected.as_deref(), &new)
        })
    }

    fn get_many(
        &self,
        bucket: String,
        keys: Vec<String>,
    ) -> BoxFuture<Result<KeyValues, StateError>> {
        self.run(move |store, account| store.kv_get_many(account, &bucket, &keys))
    }

    fn set_many(
        &self,
        bucket: String,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> BoxFuture<Result<(), StateError>> {
        self.run(move |store, account| store.kv_set_many(account, &bucket, &pairs))
    }

    fn delete_many(&self, bucket: String, keys: Vec<String>) -> BoxFuture<Result<(), StateError>> {
        self.run(move |store, account| store.kv_delete_many(account, &bucket, &keys))
    }
}
