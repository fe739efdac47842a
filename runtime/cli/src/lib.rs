//! twiml-edge: a WebAssembly edge-function runtime for TwiML voice webhooks.
//!
//! See the README for the architecture and an embedding example.

mod api;
mod app;
mod calls;
mod cli;
mod error;
mod folders;
mod server;
pub mod signature;
pub mod simulate;
pub use twiml_edge_store as store;
mod tenants;
pub mod toolchain;
mod voice;
pub mod webhook;

pub use app::{App, Config, PhoneNumbers};
pub use cli::Cli;
pub use error::{Error, Result};
pub use folders::{Folders, Functions, load_bins};
pub use server::{serve, shutdown_signal};
pub use twiml_edge_bins as bins;
pub use twiml_edge_bins::Bins;
pub use twiml_edge_e164 as e164;
pub use twiml_edge_sandbox as sandbox;
pub use twiml_edge_sandbox::{
    CallOutcome, CompileError, CompiledFunction, DEFAULT_COMPILE_TIMEOUT, DEFAULT_CPU_TIME,
    DEFAULT_MAX_CONCURRENT_CALLS, DEFAULT_MEMORY_LIMIT, DEFAULT_STACK_LIMIT, Failure, GuestLog,
    Limits, Sandbox, componentize,
};
pub use twiml_edge_twiml as twiml;
pub use voice::FALLBACK_HEADER;

/// Address `serve` listens on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Folder of TwiML Bin templates.
pub const DEFAULT_TEMPLATES_DIR: &str = "./templates";
/// Folder of the embedded store and compiled-code cache.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Largest webhook body accepted, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest function upload accepted, in bytes.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 16 << 20;
/// Folder of voice functions.
pub const DEFAULT_FUNCTIONS_DIR: &str = "./functions";
/// Open connections the server holds before it waits for one to close.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// How long a connection may take to send a request's headers, or idle between requests.
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a write to a client may wait for the client to read.
pub const DEFAULT_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
