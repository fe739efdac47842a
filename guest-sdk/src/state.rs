//! Key-value state kept per account across calls (`wasi:keyvalue`): buckets of keys, with
//! atomic counters and compare-and-swap. The account's operator reads and seeds buckets through
//! the API (`/KeyValue/{bucket}`).
//!
//! ```no_run
//! use twiml_edge_sdk::{Error, VoiceResponse, Webhook, state::Bucket, twiml::Dial};
//!
//! fn handle(_: Webhook) -> Result<VoiceResponse, Error> {
//!     let agents = ["sip:alice@pbx.example.com", "sip:bob@pbx.example.com"];
//!     // Every call takes the next agent, however many calls run at once.
//!     let turn = Bucket::open("routing")?.increment("next-agent", 1)?;
//!     let agent = agents[turn.rem_euclid(agents.len() as i64) as usize];
//!     Ok(VoiceResponse::new().dial(Dial::new().sip(agent)))
//! }
//! # twiml_edge_sdk::export!(handle);
//! ```

use std::fmt;

use crate::{
    __bindings::wasi::keyvalue::{atomics, store},
    Error,
};

/// An open bucket of the account's state.
pub struct Bucket {
    name: String,
    inner: store::Bucket,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

/// Why a state operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    bucket: String,
    message: String,
}

impl StateError {
    fn new(bucket: &str, err: store::Error) -> Self {
        let message = match err {
            store::Error::NoSuchStore => "there is no such bucket".to_owned(),
            store::Error::AccessDenied => "access is denied".to_owned(),
            store::Error::Other(message) => message,
        };
        Self {
            bucket: bucket.to_owned(),
            message,
        }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state bucket {:?}: {}", self.bucket, self.message)
    }
}

impl std::error::Error for StateError {}

impl From<StateError> for Error {
    fn from(err: StateError) -> Self {
        Error::internal(err.to_string())
    }
}

impl Bucket {
    /// Opens bucket `name` (1 to 64 letters, digits, `-`, `_` or `.`); it is created by its
    /// first write.
    pub fn open(name: &str) -> Result<Self, StateError> {
        let inner = store::open(name).map_err(|e| StateError::new(name, e))?;
        Ok(Self {
            name: name.to_owned(),
            inner,
        })
    }

    fn fail(&self) -> impl Fn(store::Error) -> StateError + '_ {
        |e| StateError::new(&self.name, e)
    }

    /// The value of `key`; `None` when it is not set.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.inner.get(key).map_err(self.fail())
    }

    /// The value of `key` as text (bytes that are not UTF-8 become U+FFFD).
    pub fn get_text(&self, key: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) -> Result<(), StateError> {
        self.inner.set(key, value.as_ref()).map_err(self.fail())
    }

    /// Deletes `key` (nothing happens when it is not set).
    pub fn delete(&self, key: &str) -> Result<(), StateError> {
        self.inner.delete(key).map_err(self.fail())
    }

    /// Whether `key` is set.
    pub fn exists(&self, key: &str) -> Result<bool, StateError> {
        self.inner.exists(key).map_err(self.fail())
    }

    /// Every key of the bucket, sorted.
    pub fn keys(&self) -> Result<Vec<String>, StateError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .inner
                .list_keys(cursor.as_deref())
                .map_err(self.fail())?;
            keys.extend(page.keys);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// Adds `delta` to the counter at `key` (0 when unset) atomically and returns the new value.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, StateError> {
        atomics::increment(&self.inner, key, delta).map_err(self.fail())
    }

    /// Sets `key` to `new` only if it still holds `expected` (`None`: unset); whether it did.
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: impl AsRef<[u8]>,
    ) -> Result<bool, StateError> {
        let cas = atomics::Cas::new(&self.inner, key).map_err(self.fail())?;
        let current = cas.current().map_err(self.fail())?;
        if current.as_deref() != expected {
            return Ok(false);
        }
        match atomics::swap(cas, new.as_ref()) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(e)) => Err(self.fail()(e)),
        }
    }
}
