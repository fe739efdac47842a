//! `wasi:keyvalue` (store, atomics, batch) over the embedder's [`KeyValue`]: buckets of the
//! call's account, a bounded number of operations per call.

use wasmtime::component::Resource;

use crate::{
    KeyValue, StateError,
    bindings::wasi::keyvalue::{
        atomics::{self, CasError},
        batch,
        store::{self, KeyResponse},
    },
    host::CallState,
    resources::{Bucket, Cas},
};

/// Key-value operations one call may make.
pub const MAX_STATE_OPERATIONS: u32 = 1000;

type Answer<T> = wasmtime::Result<Result<T, store::Error>>;

impl CallState {
    /// The account's state and the name of `bucket`, once this operation is counted.
    fn target(
        &mut self,
        bucket: &Resource<Bucket>,
    ) -> Answer<(std::sync::Arc<dyn KeyValue>, String)> {
        let name = self.table.get(bucket)?.name.clone();
        Ok(self.count_operation().map(|kv| (kv, name)))
    }

    fn count_operation(&mut self) -> Result<std::sync::Arc<dyn KeyValue>, store::Error> {
        let Some(kv) = self.context.state.clone() else {
            return Err(store::Error::Other(
                "key-value state belongs to an account, and this function has none (the \
                 operator's folder functions): deploy it to an account to keep state"
                    .into(),
            ));
        };
        self.state_operations += 1;
        if self.state_operations > MAX_STATE_OPERATIONS {
            return Err(store::Error::Other(format!(
                "a call may make {MAX_STATE_OPERATIONS} key-value operations"
            )));
        }
        Ok(kv)
    }
}

fn to_wasi(err: StateError) -> store::Error {
    match err {
        StateError::NoSuchBucket(_) => store::Error::NoSuchStore,
        StateError::Denied(message) | StateError::Other(message) => store::Error::Other(message),
    }
}

/// Runs `op` on the call's state for `bucket`, the answer as the guest sees it.
macro_rules! on_bucket {
    ($state:expr, $bucket:expr, |$kv:ident, $name:ident| $op:expr) => {{
        let ($kv, $name) = match $state.target(&$bucket)? {
            Ok(target) => target,
            Err(err) => return Ok(Err(err)),
        };
        Ok($op.await.map_err(to_wasi))
    }};
}

impl store::Host for CallState {
    async fn open(&mut self, identifier: String) -> Answer<Resource<Bucket>> {
        let kv = match self.count_operation() {
            Ok(kv) => kv,
            Err(err) => return Ok(Err(err)),
        };
        if let Err(err) = kv.open(&identifier) {
            return Ok(Err(to_wasi(err)));
        }
        Ok(Ok(self.table.push(Bucket { name: identifier })?))
    }
}

impl store::HostBucket for CallState {
    async fn get(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<Option<Vec<u8>>> {
        on_bucket!(self, bucket, |kv, name| kv.get(name, key))
    }

    async fn set(&mut self, bucket: Resource<Bucket>, key: String, value: Vec<u8>) -> Answer<()> {
        on_bucket!(self, bucket, |kv, name| kv.set(name, key, value))
    }

    async fn delete(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<()> {
        on_bucket!(self, bucket, |kv, name| kv.delete(name, key))
    }

    async fn exists(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<bool> {
        on_bucket!(self, bucket, |kv, name| kv.exists(name, key))
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        cursor: Option<String>,
    ) -> Answer<KeyResponse> {
        let (kv, name) = match self.target(&bucket)? {
            Ok(target) => target,
            Err(err) => return Ok(Err(err)),
        };
        Ok(kv
            .list_keys(name, cursor)
            .await
            .map(|(keys, cursor)| KeyResponse { keys, cursor })
            .map_err(to_wasi))
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for CallState {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> Answer<i64> {
        on_bucket!(self, bucket, |kv, name| kv.increment(name, key, delta))
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), CasError>> {
        let Cas {
            bucket,
            key,
            current,
        } = self.table.delete(cas)?;
        let kv = match self.count_operation() {
            Ok(kv) => kv,
            Err(err) => return Ok(Err(CasError::StoreError(err))),
        };
        match kv
            .compare_and_swap(bucket.clone(), key.clone(), current, value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            // Lost the race: a fresh handle with what is there now, for the guest to retry.
            Ok(false) => match kv.get(bucket.clone(), key.clone()).await {
                Ok(current) => {
                    let cas = self.table.push(Cas {
                        bucket,
                        key,
                        current,
                    })?;
                    Ok(Err(CasError::CasFailed(cas)))
                }
                Err(err) => Ok(Err(CasError::StoreError(to_wasi(err)))),
            },
            Err(err) => Ok(Err(CasError::StoreError(to_wasi(err)))),
        }
    }
}

impl atomics::HostCas for CallState {
    async fn new(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<Resource<Cas>> {
        let (kv, name) = match self.target(&bucket)? {
            Ok(target) => target,
            Err(err) => return Ok(Err(err)),
        };
        let current = match kv.get(name.clone(), key.clone()).await {
            Ok(current) => current,
            Err(err) => return Ok(Err(to_wasi(err))),
        };
        Ok(Ok(self.table.push(Cas {
            bucket: name,
            key,
            current,
        })?))
    }

    async fn current(&mut self, cas: Resource<Cas>) -> Answer<Option<Vec<u8>>> {
        Ok(Ok(self.table.get(&cas)?.current.clone()))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for CallState {
    async fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> Answer<Vec<(String, Option<Vec<u8>>)>> {
        on_bucket!(self, bucket, |kv, name| kv.get_many(name, keys))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Answer<()> {
        on_bucket!(self, bucket, |kv, name| kv.set_many(name, key_values))
    }

    async fn delete_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> Answer<()> {
        on_bucket!(self, bucket, |kv, name| kv.delete_many(name, keys))
    }
}
