//! The wasmtime sandbox: voice functions compiled once, each webhook run in a fresh instance.
//!
//! One [`Engine`] serves the process. A function is compiled once into an [`InstancePre`]
//! (imports resolved, types checked), and every call gets a new [`Store`] and instance, so
//! callers never share state. Instances come from the pooling allocator with copy-on-write
//! memory images when the machine can reserve the address space, which keeps a fresh instance
//! in the microseconds.
//!
//! A guest sees the `twiml:edge/voice-function` world (`wit/`): the `host` interface, and WASI
//! 0.2 scoped to its function by the embedder ([`CallContext`]): its variables through
//! `wasi:config`, outbound requests through `wasi:http` as the embedder's [`Outbound`] allows,
//! its account's [`KeyValue`] state through `wasi:keyvalue`, and deny-by-default
//! `wasi:cli/imports` (no files, sockets or environment; stdout and stderr become log lines).
//! Components of `twiml:edge@0.1.0` run unchanged. Each call is bounded in linear memory, CPU
//! time (epoch interruption, ticked by its own thread), wall-clock time, wasm stack, what it may
//! hand the host in one call (hostcall fuel), what it logs and how many key-value operations it
//! makes; what it answers is bounded by the TwiML check after it.
//!
//! A call of a function that does no I/O first runs straight on the request's thread, which is
//! the cheapest way into wasm. One still running after a millisecond or two is stopped and run
//! again from the start on a fiber, in a runtime of its own (the slow lane) that gives its
//! threads back to other long calls every tick: a long or looping guest never holds a thread
//! that answers quick calls. Running it again changes nothing but the cost: such a guest sees
//! only its webhook and its variables, so the second run computes what the first would have. A
//! function that imports an I/O interface runs in the slow lane from its first instruction and
//! awaits its I/O without holding a thread; it is never run twice.
//!
//! Uploads compile in a small pool with a wall-clock limit, and nothing reaches the compiled-code
//! cache before the component has passed the world check and a probe instantiation.
#![deny(missing_docs)]

mod bindings;
mod call;
mod compile;
mod context;
mod engine;
mod host;
mod resources;
mod state;
mod wasi;

use std::time::Duration;

/// The version of the `twiml:edge` package (`wit/`) this runtime speaks; components of 0.1.0
/// load too.
pub const WORLD_VERSION: &str = "0.2.0";

pub use call::{CallOutcome, Failure};
pub use compile::{CodeCache, CompileError, CompiledFunction, componentize};
pub use context::{
    BoxFuture, CallContext, KeyPage, KeyValue, KeyValues, MIN_REDACTED_BYTES, Outbound,
    OutboundFailure, OutboundRequest, OutboundResponse, OutboundSession, StateError, Variables,
};
pub use engine::{Allocator, Limits, MAX_CORE_INSTANCES, Sandbox};
pub use host::{
    GuestLog, MAX_CALL_LOG_BYTES, MAX_ERROR_BYTES, MAX_LOG_BYTES, MAX_LOG_FIELDS, MAX_LOG_LINES,
};
pub use state::MAX_STATE_OPERATIONS;
pub use wasi::MAX_OUTBOUND_REQUEST_BYTES;

/// Linear memory a call may use, in bytes.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
/// CPU time a call may use.
pub const DEFAULT_CPU_TIME: Duration = Duration::from_millis(100);
/// Wasm stack a call may use, in bytes.
pub const DEFAULT_STACK_LIMIT: usize = 512 << 10;
/// Calls that may run at once before new ones are refused as busy.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 1000;
/// How long a call may run on the request's thread before it moves to the slow lane: one to two
/// epoch ticks, against the few microseconds a typical call takes.
pub const DEFAULT_INLINE_TIME: Duration = Duration::from_millis(2);
/// Wall-clock time a call may take, waiting on I/O included: as Twilio Functions allow, and
/// within the 15 s the SIP engine waits for an answer.
pub const DEFAULT_WALL_TIME: Duration = Duration::from_secs(10);
/// Longest an upload may wait for its turn and compile.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a call may ask of the world outside the sandbox; the embedder decides how.
pub trait Services: Send + Sync + std::fmt::Debug {
    /// `input` (a SIP URI, `tel:` URI or dialled string) as E.164, national numbers read in
    /// `region` (ISO 3166-1 alpha-2) or the embedder's default; `None` when it is not a phone
    /// number or `region` is unknown.
    fn e164(&self, input: &str, region: Option<&str>) -> Option<String>;
}
