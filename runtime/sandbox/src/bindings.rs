//! The one `bindgen!` of the runtime: `twiml:edge/voice-function@0.2.0`, its WASI imports mapped
//! to wasmtime's own implementations (io, clocks, http) or to ours (config, keyvalue).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "twiml:edge/voice-function",
    // The webhook goes to the guest straight from the request's buffers, not from copies.
    ownership: Borrowing { duplicate_if_necessary: false },
    imports: {
        // State lives in the store, reached without holding a thread.
        "wasi:keyvalue/store": async | trappable,
        "wasi:keyvalue/atomics": async | trappable,
        "wasi:keyvalue/batch": async | trappable,
    },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:keyvalue/store.bucket": crate::resources::Bucket,
        "wasi:keyvalue/atomics.cas": crate::resources::Cas,
    },
    require_store_data_send: true,
    // Exports are called synchronously first, then with `call_async` on a fiber (see `call`).
});

pub(crate) use exports::twiml::edge::handler as wit;
