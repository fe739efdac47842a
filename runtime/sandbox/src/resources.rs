//! The host types behind the guest's `wasi:keyvalue` resources, apart so that the bindings
//! (which name them) and their implementations (which use the bindings) point one way.

/// An open bucket, behind the guest's `bucket` handle.
#[derive(Debug)]
#[expect(
    unreachable_pub,
    reason = "bindgen! re-exports the types behind resources"
)]
pub struct Bucket {
    pub(crate) name: String,
}

/// A compare-and-swap under way: the value it read.
#[derive(Debug)]
#[expect(
    unreachable_pub,
    reason = "bindgen! re-exports the types behind resources"
)]
pub struct Cas {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) current: Option<Vec<u8>>,
}
