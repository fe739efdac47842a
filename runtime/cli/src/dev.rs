//! `twiml-edge dev [DIR]`: serve a folder of bins and functions while you edit it.
//!
//! `DIR/*.xml` are TwiML Bins, `DIR/*.wasm` functions, and every guest crate (`DIR` itself, or
//! `DIR/*/Cargo.toml`) is built into a function named after its package. A change to any file
//! rebuilds the crates and reloads the server in place; while a build or a template is broken,
//! the last good version keeps serving and the error is printed. A crate's `.env` (or
//! `NAME.env` beside `NAME.wasm`) gives the function its variables, and `--allow-host` the hosts
//! its requests may reach.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::Context as _;

use twiml_edge_bins::Bins;
use twiml_edge_e164::Region;
use twiml_edge_server::{self as server, App, Config};

use crate::guest::build_components;

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
    #[arg(long, env = "TWIML_EDGE_LISTEN", default_value = server::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
    /// Let the folder's bins and functions use enhanced SIP (several nouns next to a <Sip>).
    #[arg(long)]
    enhanced_sip: bool,
    /// A host the functions may send requests to (https://api.example.com,
    /// http://127.0.0.1:8081); repeat it for more.
    #[arg(long = "allow-host", value_name = "URL")]
    allow_hosts: Vec<String>,
}

pub(crate) async fn dev(args: DevArgs) -> anyhow::Result<()> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("cannot serve {:?}", args.dir))?;
    let staging = Staging::create(&dir)?;
    let config = Config {
        templates: staging.templates.clone(),
        functions: staging.functions.clone(),
        data: staging.work.join("data"),
        enhanced_sip: args.enhanced_sip,
        allowed_hosts: args.allow_hosts.clone(),
        ..Config::default()
    };
    let region = config.default_region;
    let broken = {
        let (dir, staging) = (dir.clone(), staging.clone());
        tokio::task::spawn_blocking(move || staging.stage(&dir, region)).await??
    };
    let app = tokio::task::spawn_blocking(move || App::new(config)).await??;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("twiml-edge dev serving {} on http://{addr}", dir.display());
    print_broken(&broken);
    print_routes(&app, addr);
    let watcher = tokio::spawn(watch(dir, staging, region, app.clone(), addr));
    let served = server::serve(listener, app, server::shutdown_signal()).await;
    // Stops at its next await; a build already running finishes first.
    watcher.abort();
    Ok(served?)
}

/// Rebuilds and reloads whenever a file under `dir` changes, until it is aborted.
async fn watch(
    dir: PathBuf,
    staging: Staging,
    region: Region,
    app: App,
    addr: std::net::SocketAddr,
) {
    let look = |dir: &PathBuf| {
        let dir = dir.clone();
        async move {
            tokio::task::spawn_blocking(move || fingerprint(&dir))
                .await
                .unwrap_or_default()
        }
    };
    let mut seen = look(&dir).await;
    loop {
        tokio::time::sleep(POLL).await;
        if look(&dir).await == seen {
            continue;
        }
        println!("change in {}: rebuilding", dir.display());
        let reloaded = {
            let (dir, staging, app) = (dir.clone(), staging.clone(), app.clone());
            tokio::task::spawn_blocking(move || {
                let broken = staging.stage(&dir, region)?;
                app.reload_folders()?;
                anyhow::Ok(broken)
            })
            .await
        };
        match reloaded {
            Ok(Ok(broken)) => {
                println!("reloaded");
                print_broken(&broken);
                print_routes(&app, addr);
            }
            Ok(Err(err)) => println!("not reloaded, still serving the last good version: {err:#}"),
            Err(err) => println!("not reloaded: the rebuild failed: {err}"),
        }
        // What the build itself wrote must not count as the next change.
        seen = look(&dir).await;
    }
}

/// The folders under `DIR/.twiml-edge` the dev server serves from: only what builds and
/// parses is copied there, so one broken file never hides the others.
#[derive(Debug, Clone)]
struct Staging {
    work: PathBuf,
    templates: PathBuf,
    functions: PathBuf,
}

impl Staging {
    fn create(dir: &Path) -> anyhow::Result<Self> {
        let work = dir.join(".twiml-edge");
        let staging = Self {
            templates: work.join("templates"),
            functions: work.join("functions"),
            work,
        };
        for folder in [&staging.templates, &staging.functions] {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("failed to create {folder:?}"))?;
        }
        Ok(staging)
    }

    /// Builds the folder's guest crates, checks its templates, and copies what is good into
    /// the staging folders. Returns what is broken, one message per file or crate; the last
    /// good version of each stays staged, and files gone from `dir` leave only once nothing
    /// is broken.
    fn stage(&self, dir: &Path, region: Region) -> anyhow::Result<Vec<String>> {
        let mut broken = Vec::new();
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();

        let mut check = Bins::new(region);
        for (name, path) in server::files_named(dir, "xml")? {
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read {path:?}"))?;
            match check.add(&name, &source, &path.display().to_string()) {
                Ok(()) => staged.push((path, self.templates.join(format!("{name}.xml")))),
                Err(err) => broken.push(err.to_string()),
            }
        }

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
        let mut components = Vec::new();
        for krate in crates {
            match build_components(&krate, &krate.join("target/twiml-edge")) {
                Ok(built) => components.extend(built.into_iter().map(|c| (c, krate.join(".env")))),
                Err(err) => broken.push(format!("crate {}: {err:#}", krate.display())),
            }
        }
        for entry in read_dir(dir)? {
            if entry.extension().is_some_and(|e| e == "wasm") {
                let env = entry.with_extension("env");
                components.push((entry, env));
            }
        }
        for (component, env) in components {
            let name = component
                .file_stem()
                .and_then(|s| s.to_str())
                .context("a component without a name")?
                .to_owned();
            staged.push((component, self.functions.join(format!("{name}.wasm"))));
            if env.is_file() {
                staged.push((env, self.functions.join(format!("{name}.env"))));
            }
        }

        if broken.is_empty() {
            for folder in [&self.templates, &self.functions] {
                for old in read_dir(folder)? {
                    if !staged.iter().any(|(_, to)| *to == old) {
                        std::fs::remove_file(&old)
                            .with_context(|| format!("failed to remove {old:?}"))?;
                    }
                }
            }
        }
        for (from, to) in staged {
            std::fs::copy(&from, &to).with_context(|| format!("failed to copy {from:?}"))?;
        }
        Ok(broken)
    }
}

fn print_broken(broken: &[String]) {
    for problem in broken {
        println!("  broken    {problem}");
    }
    if !broken.is_empty() {
        println!("  (each broken file's last good version, if any, keeps serving)");
    }
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
            if (name.starts_with('.') && name != ".env") || name == "target" {
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

/// Prints what a person running `dev` wants to see of each request: one line with its outcome,
/// after the lines its guest logged, on stdout with the rest of what `dev` says; the tracing
/// log stays on stderr at `warn`.
#[derive(Debug)]
pub(crate) struct RequestLines;

impl RequestLines {
    /// The layer, listening only to request lines and guests' log lines.
    pub(crate) fn layer<S>() -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        use tracing_subscriber::{Layer as _, filter::Targets};
        let targets = Targets::new()
            .with_target("guest", tracing::Level::TRACE)
            .with_target("twiml_edge_server::app", tracing::Level::DEBUG);
        Self.with_filter(targets)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RequestLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = if event.metadata().target() == "guest" {
            let level = event.metadata().level().as_str().to_ascii_lowercase();
            let mut line = format!(
                "    {level:<5} [{}] {}",
                fields.get("function"),
                fields.message
            );
            if !fields.get("fields").is_empty() {
                line = format!("{line} {}", fields.get("fields"));
            }
            line
        } else if fields.message == "answered" {
            let elapsed_ms = fields.get("elapsed_us").parse::<f64>().unwrap_or(0.0) / 1000.0;
            format!(
                "  {} {} -> {} ({elapsed_ms:.1} ms)",
                fields.get("method"),
                fields.get("path"),
                fields.get("status")
            )
        } else {
            return;
        };
        println!("{line}");
    }
}

/// An event's message and fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    values: Vec<(&'static str, String)>,
}

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.values.push((field.name(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.values.push((field.name(), format!("{value:?}")));
        }
    }
}
