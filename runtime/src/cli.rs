//! The `twiml-edge` command line.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::{
    DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_TEMPLATES_DIR,
    app::{App, Config},
    e164::Region,
    server,
    twiml::DEFAULT_MAX_TWIML_BYTES,
};

/// twiml-edge: run TwiML voice webhooks for SIP domains as TwiML Bins and WebAssembly functions.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve webhooks over HTTP until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TWIML_EDGE_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Folder of TwiML Bin templates: each NAME.xml answers at /bins/NAME.
    #[arg(long, env = "TWIML_EDGE_TEMPLATES", default_value = DEFAULT_TEMPLATES_DIR)]
    templates: PathBuf,
    /// Folder for the embedded store and compiled-code cache.
    #[arg(long, env = "TWIML_EDGE_DATA", default_value = DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// Region (ISO 3166-1 alpha-2) for reading national numbers in e164.
    #[arg(long, env = "TWIML_EDGE_DEFAULT_REGION", default_value = "US")]
    default_region: Region,
    /// Largest webhook body accepted, in bytes.
    #[arg(long, env = "TWIML_EDGE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Largest TwiML answer returned, in bytes (the SIP engine refuses more than 64 kB).
    #[arg(long, env = "TWIML_EDGE_MAX_TWIML_BYTES", default_value_t = DEFAULT_MAX_TWIML_BYTES)]
    max_twiml_bytes: usize,
}

impl Cli {
    /// Runs the chosen command to completion.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve(args).await,
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        templates: args.templates,
        data: args.data,
        default_region: args.default_region,
        max_body_bytes: args.max_body_bytes,
        max_twiml_bytes: args.max_twiml_bytes,
    };
    let app = App::new(config)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let bins: Vec<_> = app.bins().names().collect();
    tracing::info!(%addr, bins = ?bins, "serving");
    // A person starting the server wants the URL; logs may be filtered or sent elsewhere.
    println!("twiml-edge listening on http://{addr}");
    server::serve(listener, app, server::shutdown_signal()).await?;
    Ok(())
}
