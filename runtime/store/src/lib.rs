//! Durable embedded store: accounts, functions with their environment variables, TwiML bins, SIP
//! domains, the call log and each account's key-value buckets in SQLite (`DATA/twiml-edge.db`),
//! wasm blobs content-addressed beside it (`DATA/blobs/sha256/ab/ab..`).
//!
//! Every method that takes an `account_sid` only reads or changes that account's rows, so a sid of
//! another account behaves exactly like a missing one; only the `*_by_sid`/`all_*` lookups used for
//! routing cross accounts.
#![deny(missing_docs)]

mod accounts;
mod bins;
mod calls;
mod domains;
mod error;
mod files;
mod functions;
mod keyvalue;
mod quotas;
mod schema;
mod sqlite;
mod variables;

pub use accounts::{Account, AccountStore, AccountUpdate};
pub use bins::{Bin, BinStore};
pub use calls::{CALL_LOG_BYTES, CALL_LOG_ROWS, CallFilter, CallLogStore, CallRecord, LogLine};
pub use domains::{Domain, DomainFields, DomainStore, domain_base};
pub use error::{Result, StoreError};
pub use files::{FileCache, create_private_dir, write_atomic};
pub use functions::{Function, FunctionStore, FunctionVersion};
pub use keyvalue::{
    BucketInfo, KV_MAX_BUCKET_CHARS, KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES, KeyValueStore,
    check_bucket,
};
pub use quotas::Quotas;
pub use sqlite::{Listing, Page, SqliteStore};
pub use variables::{
    MAX_VARIABLE_KEY_CHARS, MAX_VARIABLE_VALUE_BYTES, Variable, VariableStore, VariableUpdate,
    check_variable,
};

/// The store's traits, to call their methods: `use twiml_edge_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AccountStore, BinStore, CallLogStore, DomainStore, FunctionStore, KeyValueStore, Store,
        VariableStore,
    };
}

/// Everything twiml-edge keeps: one interface for the embedded SQLite store and the replicated
/// ones to come, each entity behind a trait of its own.
pub trait Store:
    AccountStore
    + FunctionStore
    + VariableStore
    + BinStore
    + DomainStore
    + CallLogStore
    + KeyValueStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: AccountStore
        + FunctionStore
        + VariableStore
        + BinStore
        + DomainStore
        + CallLogStore
        + KeyValueStore
        + std::fmt::Debug
{
}

/// What the unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use sha2::{Digest, Sha256};
    use tempfile::TempDir;

    use crate::*;

    pub(crate) fn open() -> (TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        (dir, store)
    }

    pub(crate) fn is_sid(sid: &str, prefix: &str) -> bool {
        sid.len() == 34
            && sid.starts_with(prefix)
            && sid[2..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// Wasm to upload, and the hash it is stored under.
    pub(crate) struct Wasm {
        pub(crate) bytes: &'static [u8],
        pub(crate) sha256: String,
    }

    pub(crate) fn blob(_store: &SqliteStore, bytes: &'static [u8]) -> Wasm {
        Wasm {
            bytes,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }

    pub(crate) fn domain_fields(name: &str) -> DomainFields {
        DomainFields {
            domain_name: name.to_owned(),
            voice_url: Some("https://example.com/voice".to_owned()),
            voice_method: "POST".to_owned(),
            voice_fallback_method: "POST".to_owned(),
            voice_status_callback_method: "POST".to_owned(),
            ..DomainFields::default()
        }
    }

    pub(crate) fn call(
        account_sid: &str,
        n: i64,
        function_sid: Option<&str>,
        domain_sid: Option<&str>,
    ) -> CallRecord {
        CallRecord {
            call_sid: format!("CA{n:032x}"),
            account_sid: account_sid.to_owned(),
            domain_sid: domain_sid.map(str::to_owned),
            target: function_sid.map_or("bin EH0".to_owned(), |f| format!("function {f}")),
            function_sid: function_sid.map(str::to_owned),
            outcome: "ok".to_owned(),
            error: None,
            fallback: None,
            logs: vec![LogLine {
                level: "info".to_owned(),
                message: format!("call {n}"),
                fields: vec![("n".to_owned(), n.to_string())],
            }],
            twiml: Some("<Response/>".to_owned()),
            elapsed_us: 1234,
            date_created: 1_700_000_000 + n,
        }
    }

    pub(crate) const ALL: Page = Page {
        page: 0,
        page_size: 1000,
    };
}
