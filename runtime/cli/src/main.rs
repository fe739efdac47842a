//! The `twiml-edge` command line: the server, accounts, and the developer loop (`new`, `build`,
//! `dev`, `deploy`, `call`, `logs`).

mod call;
mod commands;
mod dev;
mod guest;
mod remote;
mod sdk;
mod simulate;
mod toolchain;

use std::io::IsTerminal as _;

use clap::Parser;
use commands::{Cli, LogKind};
use tracing_subscriber::{
    EnvFilter, Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _,
};

/// The log level unless `TWIML_EDGE_LOG` says otherwise: the server's start-up lines, warnings
/// and errors, and guests' own lines only from warn (they are in the call log, and `dev` prints
/// them); every other command says what it does on stdout.
fn default_filter(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Server => "info,guest=warn",
        LogKind::Dev | LogKind::Tool => "warn",
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let kind = cli.log_kind();
    // Lines are written by a thread of their own, so a request never waits on stderr; none is
    // dropped (a full buffer makes the writer wait rather than lose an error).
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let filter = EnvFilter::try_from_env("TWIML_EDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_filter(kind)));
    let log = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter);
    let person = (kind == LogKind::Dev).then(dev::RequestLines::layer);
    tracing_subscriber::registry().with(log).with(person).init();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
