//! What one account may keep.

/// What one account may keep. Each is checked in the transaction that would pass it, so
/// concurrent writes cannot overshoot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Functions per account.
    pub functions: u32,
    /// Versions one function keeps; delete old ones to upload more.
    pub versions_per_function: u32,
    /// Bytes of wasm over every version of every function of the account.
    pub stored_bytes: u64,
    /// TwiML bins per account.
    pub bins: u32,
    /// SIP domains per account.
    pub domains: u32,
    /// Environment variables one function has.
    pub variables_per_function: u32,
    /// Bytes of key-value data per account, keys and values counted.
    pub kv_bytes: u64,
    /// Key-value buckets per account (a bucket exists while it holds keys).
    pub kv_buckets: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            functions: 100,
            versions_per_function: 50,
            stored_bytes: 512 << 20,
            bins: 1000,
            domains: 1000,
            variables_per_function: 100,
            kv_bytes: 16 << 20,
            kv_buckets: 64,
        }
    }
}
