//! Why a store operation failed.

use std::io;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique field is taken (domain_name, or a function/bin friendly_name within the account).
    #[error("{0}")]
    Conflict(String),
    /// An input breaks one of the store's rules (a variable's key or value, a key-value bucket,
    /// key or value); the message says which rule and what broke it.
    #[error("{0}")]
    Invalid(String),
    /// A blob on disk does not match its hash, or the schema is newer than this build.
    #[error("{0}")]
    Corrupt(String),
    /// The account is at one of its [`Quotas`]; the message names it and what to do.
    #[error("{0}")]
    Quota(String),
    /// The database failed.
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed (a missing blob is `NotFound`).
    #[error("store i/o error: {0}")]
    Io(#[from] io::Error),
}
