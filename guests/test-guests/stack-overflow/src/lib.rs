//! Test guest: recurses without end; the runtime's wasm stack limit must stop it.
//!
//! The recursion keeps its values in wasm locals (no address-taken locals), so it grows the
//! wasm call stack that wasmtime bounds, not Rust's shadow stack in linear memory; rotating the
//! result keeps LLVM from turning the recursion into a loop.

#[inline(never)]
fn depth(n: u64, limit: u64) -> u64 {
    if n >= limit {
        return n;
    }
    depth(n + 1, limit).rotate_left(3) ^ n
}

fn handle(webhook: twiml_edge_sdk::Webhook) -> String {
    // A limit the compiler cannot see: no parameter is named this, so it is u64::MAX.
    let limit = webhook
        .get("Depth")
        .and_then(|d| d.parse().ok())
        .unwrap_or(u64::MAX);
    depth(0, limit).to_string()
}

twiml_edge_sdk::export!(handle);
