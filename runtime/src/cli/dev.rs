//! `twiml-edge dev [DIR]`: serve a folder of bins and functions while you edit it.
//!
//! `DIR/*.xml` are TwiML Bins, `DIR/*.wasm` functions, and every guest crate (`DIR` itself, or
//! `DIR/*/Cargo.toml`) is built into a function named after its package. A change to any file
//! rebuilds the crates and reloads the server in place; while a build or a template is broken,
//! the last good version keeps serving and the error is printed.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::Context as _;

use super::guest::build_components;
use crate::{App, Config, server};

/// How often the folder is looked at. Polling a small folder costs nothing and behaves the same
/// on every file system, which a notification API does not.
const POLL: Duration = Duration::from_millis(500);

/// `twiml-edge dev`.
#[derive(Debug, clap::Args)]
pub(crate) struct DevArgs {
    /// The folder to serve.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = crate::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
    /// Let the folder's bins and functions use enhanced SIP (several nouns next to a <Sip>).
    #[arg(long)]
    enhanced_sip: bool,
}

pub(crate) async fn dev(args: DevArgs) -> anyhow::Result<()> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("cannot serve {:?}", args.dir))?;
    let work = dir.join(".twiml-edge");
    let functions = work.join("functions");
    std::fs::create_dir_all(&functions)
        .with_context(|| format!("failed to create {functions:?}"))?;
    stage(&dir, &functions)?;
    let config = Config {
        templates: dir.clone(),
        functions: functions.clone(),
        data: work.join("data"),
        enhanced_sip: args.enhanced_sip,
        ..Config::default()
    };
    let app = tokio::task::spawn_blocking(move || App::new(config)).await??;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("twiml-edge dev serving {} on http://{addr}", dir.display());
    print_routes(&app, addr);
    let watcher = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || watch(&dir, &functions, &app, addr))
    };
    let served = server::serve(listener, app, server::shutdown_signal()).await;
    watcher.abort();
    Ok(served?)
}

/// Rebuilds and reloads whenever a file under `dir` changes; runs until the process ends.
fn watch(dir: &Path, functions: &Path, app: &App, addr: std::net::SocketAddr) {
    let mut seen = fingerprint(dir);
    loop {
        std::thread::sleep(POLL);
        if fingerprint(dir) == seen {
            continue;
        }
        println!("change in {}: rebuilding", dir.display());
        let reloaded = stage(dir, functions).and_then(|()| Ok(app.reload_folders()?));
        match reloaded {
            Ok(()) => {
                println!("reloaded");
                print_routes(app, addr);
            }
            Err(err) => println!("not reloaded, still serving the last good version: {err:#}"),
        }
        // What the build itself wrote must not count as the next change.
        seen = fingerprint(dir);
    }
}

/// Builds the folder's guest crates and gathers every function into `functions`.
fn stage(dir: &Path, functions: &Path) -> anyhow::Result<()> {
    let mut crates: Vec<PathBuf> = Vec::new();
    if dir.join("Cargo.toml").is_file() {
        crates.push(dir.to_path_buf());
    } else {
        for entry in read_dir(dir)? {
            if entry.join("Cargo.toml").is_file() {
                crates.push(entry);
            }
        }
    }
    let mut staged = Vec::new();
    for krate in crates {
        staged.extend(build_components(&krate, &krate.join("target/twiml-edge"))?);
    }
    for entry in read_dir(dir)? {
        if entry.extension().is_some_and(|e| e == "wasm") {
            staged.push(entry);
        }
    }
    for old in read_dir(functions)? {
        std::fs::remove_file(&old).with_context(|| format!("failed to remove {old:?}"))?;
    }
    for component in staged {
        let name = component
            .file_name()
            .context("a component without a name")?;
        std::fs::copy(&component, functions.join(name))
            .with_context(|| format!("failed to copy {component:?}"))?;
    }
    Ok(())
}

fn print_routes(app: &App, addr: std::net::SocketAddr) {
    let folders = app.folders();
    for name in folders.bins.names() {
        println!("  bin       http://{addr}/bins/{name}");
    }
    for name in folders.functions.names() {
        println!("  function  http://{addr}/functions/{name}");
    }
}

fn read_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("failed to read {dir:?}"))? {
        entries.push(
            entry
                .with_context(|| format!("failed to read {dir:?}"))?
                .path(),
        );
    }
    entries.sort();
    Ok(entries)
}

/// Every source file's modification time and size, skipping build output.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                dirs.push(path);
            } else if let Ok(modified) = meta.modified() {
                files.insert(path, (modified, meta.len()));
            }
        }
    }
    files
}
