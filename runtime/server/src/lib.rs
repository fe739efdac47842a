//! The HTTP service of twiml-edge: where a webhook becomes TwiML.
//!
//! A request is read into a webhook (`webhook`), routed (`app`), checked against its owner's
//! signature (`signature`, `voice`), run as a function in the sandbox or a TwiML Bin, held to the
//! TwiML rules and answered; the management API (`api`) writes accounts' content through the
//! registry that owns it (`tenants`), and every account call lands in the call log (`calls`).
//! `serve` puts the service on a socket; [`App::handle`] takes a request without one.
//!
//! ```no_run
//! use twiml_edge_server::{App, Config};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let app = App::new(Config::default())?; // compiles ./templates and ./functions, opens ./data
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! twiml_edge_server::serve(listener, app, twiml_edge_server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod api;
mod app;
mod body;
mod calls;
mod config;
mod error;
mod folders;
mod host;
mod http;
mod reach;
mod serve;
pub mod signature;
mod tenants;
mod voice;
mod webhook;

pub use app::App;
pub use config::Config;
pub use error::{Error, Result};
pub use folders::{Folders, Functions, check_name, files_named, load_bins};
pub use host::PhoneNumbers;
pub use http::FALLBACK_HEADER;
pub use serve::{serve, shutdown_signal};
pub use twiml_edge_outbound::Limits as OutboundLimits;
pub use twiml_edge_sandbox::{Allocator, Limits};
pub use twiml_edge_store::Quotas;

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
