//! twiml-edge: a WebAssembly edge-function runtime for TwiML voice webhooks.
//!
//! See the README for the architecture and an embedding example.

mod api;
mod app;
mod bins;
mod calls;
mod cli;
pub mod e164;
mod error;
mod functions;
mod sandbox;
mod server;
pub mod signature;
pub mod simulate;
pub mod store;
mod tenants;
pub mod toolchain;
pub mod twiml;
mod voice;
pub mod webhook;

pub use app::{App, Config, Folders};
pub use bins::Bins;
pub use cli::Cli;
pub use error::{Error, Result};
pub use functions::Functions;
pub use sandbox::{Call, CompileError, Failure, Function, GuestLog, Limits, Sandbox, componentize};
pub use server::{serve, shutdown_signal};
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
/// Linear memory a call may use, in bytes.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
/// CPU time a call may use.
pub const DEFAULT_CPU_TIME: std::time::Duration = std::time::Duration::from_millis(100);
/// Wasm stack a call may use, in bytes.
pub const DEFAULT_STACK_LIMIT: usize = 512 << 10;
/// Calls that may run at once before new ones are refused as busy.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 1000;
/// Open connections the server holds before it waits for one to close.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// How long a connection may take to send a request's headers, or idle between requests.
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a write to a client may wait for the client to read.
pub const DEFAULT_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Longest an upload may wait for its turn and compile.
pub const DEFAULT_COMPILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
