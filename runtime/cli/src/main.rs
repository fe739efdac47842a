//! The `twiml-edge` command line: the server, accounts, and the developer loop (`new`, `build`,
//! `dev`, `deploy`, `call`, `logs`).

mod call;
mod commands;
mod dev;
mod guest;
mod remote;
mod simulate;
mod toolchain;

use std::io::IsTerminal as _;

use clap::Parser;
use commands::Cli;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TWIML_EDGE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
