//! The developer loop: `new`, `build`, `deploy`, `logs`.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use serde_json::Value;

use twiml_edge_sandbox::componentize;

use crate::{
    remote::{Remote, ServerArgs},
    toolchain::{self, Sdk, Toolchain},
};

/// `twiml-edge new NAME`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The function's name: a cargo package name such as pstn-dial.
    name: String,
    /// Folder to create the crate in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The guest SDK as a path dependency (default: this checkout's guest-sdk, when there is one).
    #[arg(long, conflicts_with = "sdk_version")]
    sdk_path: Option<PathBuf>,
    /// The guest SDK as a registry version requirement, such as 0.1.
    #[arg(long)]
    sdk_version: Option<String>,
}

/// `twiml-edge build [DIR]`.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// A guest crate, or a workspace of them.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where to write the components (default: DIR/target/twiml-edge).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `twiml-edge deploy PATH`.
#[derive(Debug, clap::Args)]
pub(crate) struct DeployArgs {
    /// A guest crate (built first), a .wasm component or module, or a .xml TwiML Bin template.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The name to deploy under (default: the crate's package or the file's name).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    server: ServerArgs,
}

/// `twiml-edge logs NAME`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogsArgs {
    /// The function, by name or ZH sid.
    function: String,
    /// How many recent calls to show.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print the calls as JSON, for scripts.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

pub(crate) fn new(args: NewArgs) -> anyhow::Result<()> {
    let sdk = match (args.sdk_path, args.sdk_version) {
        (Some(path), _) => Sdk::Path(path),
        (None, Some(version)) => Sdk::Version(version),
        (None, None) => default_sdk(),
    };
    let dir = toolchain::new_guest(&args.dir, &args.name, &sdk)?;
    println!("created {}", dir.display());
    println!(
        "next: twiml-edge build {0}  (or twiml-edge dev {0})",
        dir.display()
    );
    Ok(())
}

/// This checkout's SDK when the binary runs from one, else the published crate.
fn default_sdk() -> Sdk {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk");
    match checkout.canonicalize() {
        Ok(path) if path.join("Cargo.toml").is_file() => Sdk::Path(path),
        _ => Sdk::Version(env!("CARGO_PKG_VERSION").to_owned()),
    }
}

pub(crate) fn build(args: BuildArgs) -> anyhow::Result<()> {
    let out = args
        .out
        .unwrap_or_else(|| args.dir.join("target/twiml-edge"));
    for component in build_components(&args.dir, &out)? {
        println!("{}", component.display());
    }
    Ok(())
}

/// The toolchain guests build with, detected once per process: `dev` builds on every change,
/// and detection runs rustup (and may try `rustup target add`) each time.
fn detected_toolchain() -> anyhow::Result<&'static Toolchain> {
    static DETECTED: std::sync::OnceLock<Toolchain> = std::sync::OnceLock::new();
    if let Some(toolchain) = DETECTED.get() {
        return Ok(toolchain);
    }
    // A failed detection is not kept: the user may install the target and save again.
    let toolchain = Toolchain::from_env_or_detect()?;
    Ok(DETECTED.get_or_init(|| toolchain))
}

/// Builds the guests at `dir` and writes each as `out/NAME.wasm`, a component; progress goes to
/// stderr, as cargo's does.
pub(crate) fn build_components(dir: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    // Cargo runs in the crate's folder: a relative target would land inside it twice over.
    let dir = &dir
        .canonicalize()
        .with_context(|| format!("cannot build {dir:?}"))?;
    let toolchain = detected_toolchain()?;
    eprintln!("building {} with {}", dir.display(), toolchain.describe());
    let target = dir.join("target");
    let artifacts = toolchain::build(toolchain, dir, &target, &mut |line| {
        eprintln!("{line}");
    })?;
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {out:?}"))?;
    let mut written = Vec::new();
    for artifact in artifacts {
        let module = std::fs::read(&artifact.module)
            .with_context(|| format!("failed to read {:?}", artifact.module))?;
        let component = componentize(&module)
            .with_context(|| format!("{} cannot become a component", artifact.name))?;
        let path = out.join(format!("{}.wasm", artifact.name));
        std::fs::write(&path, component).with_context(|| format!("failed to write {path:?}"))?;
        written.push(path);
    }
    Ok(written)
}

pub(crate) async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let remote = Remote::new(&args.server)?;
    let path = &args.path;
    let is = |ext: &str| path.extension().is_some_and(|e| e == ext);
    if is("xml") {
        let name = args.name.clone().unwrap_or_else(|| stem(path));
        let template =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {path:?}"))?;
        let bin = deploy_bin(&remote, &name, &template).await?;
        println!(
            "deployed TwiML bin {name} ({})",
            bin["sid"].as_str().unwrap_or_default()
        );
        println!(
            "webhook: {}",
            bin["webhook_url"].as_str().unwrap_or_default()
        );
        return Ok(());
    }
    let (name, wasm) = if is("wasm") {
        let wasm = std::fs::read(path).with_context(|| format!("failed to read {path:?}"))?;
        (args.name.clone().unwrap_or_else(|| stem(path)), wasm)
    } else {
        if !path.join("Cargo.toml").is_file() {
            bail!(
                "cannot deploy {path:?}: give a guest crate (a folder with Cargo.toml), a .wasm \
                 component or module, or a .xml TwiML Bin template"
            );
        }
        let dir = path.clone();
        let out = dir.join("target/twiml-edge");
        let built = tokio::task::spawn_blocking(move || build_components(&dir, &out)).await??;
        let [component] = built.as_slice() else {
            bail!(
                "{path:?} builds {} functions: deploy one .wasm from its target/twiml-edge",
                built.len()
            );
        };
        let name = args.name.clone().unwrap_or_else(|| stem(component));
        (name, std::fs::read(component)?)
    };
    let function = deploy_function(&remote, &name, wasm).await?;
    println!(
        "deployed function {name} ({}) version {}",
        function["sid"].as_str().unwrap_or_default(),
        function["version"]["sid"].as_str().unwrap_or_default()
    );
    println!(
        "webhook: {}",
        function["webhook_url"].as_str().unwrap_or_default()
    );
    Ok(())
}

/// Uploads `wasm` as a new version of function `name`, creating it the first time.
async fn deploy_function(remote: &Remote, name: &str, wasm: Vec<u8>) -> anyhow::Result<Value> {
    let found = remote
        .get(&format!("/Functions.json?FriendlyName={}", encode(name)))
        .await?;
    match found["functions"][0]["sid"].as_str() {
        Some(sid) => remote.upload(&format!("/Functions/{sid}.json"), wasm).await,
        None => {
            let rest = format!("/Functions.json?FriendlyName={}", encode(name));
            remote.upload(&rest, wasm).await
        }
    }
}

/// Sets bin `name`'s template, creating the bin the first time.
async fn deploy_bin(remote: &Remote, name: &str, template: &str) -> anyhow::Result<Value> {
    let found = remote
        .get(&format!("/TwimlBins.json?FriendlyName={}", encode(name)))
        .await?;
    match found["twiml_bins"][0]["sid"].as_str() {
        Some(sid) => {
            let rest = format!("/TwimlBins/{sid}.json");
            remote.post_form(&rest, &[("Template", template)]).await
        }
        None => {
            let form = [("FriendlyName", name), ("Template", template)];
            remote.post_form("/TwimlBins.json", &form).await
        }
    }
}

pub(crate) async fn logs(args: LogsArgs) -> anyhow::Result<()> {
    let remote = Remote::new(&args.server)?;
    let sid = if is_function_sid(&args.function) {
        args.function.clone()
    } else {
        let found = remote
            .get(&format!(
                "/Functions.json?FriendlyName={}",
                encode(&args.function)
            ))
            .await?;
        found["functions"][0]["sid"]
            .as_str()
            .with_context(|| {
                format!(
                    "account {} has no function named {:?}",
                    remote.account(),
                    args.function
                )
            })?
            .to_owned()
    };
    let calls = remote
        .get(&format!(
            "/Functions/{sid}/Calls.json?PageSize={}",
            args.limit
        ))
        .await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&calls["calls"])?)?;
        return Ok(());
    }
    let calls = calls["calls"].as_array().cloned().unwrap_or_default();
    if calls.is_empty() {
        writeln!(out, "no calls of {} yet", args.function)?;
    }
    for call in calls.iter().rev() {
        write_call(&mut out, call)?;
    }
    Ok(())
}

/// One call log entry, for a person.
fn write_call(out: &mut impl std::io::Write, call: &Value) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    writeln!(
        out,
        "{}  {}  {}  {} us",
        text(&call["date_created"]),
        text(&call["call_sid"]),
        text(&call["outcome"]),
        call["elapsed_us"]
    )?;
    writeln!(out, "  target: {}", text(&call["target"]))?;
    if let Some(error) = call["error"].as_str() {
        writeln!(out, "  error: {error}")?;
    }
    if let Some(fallback) = call["fallback"].as_str() {
        writeln!(out, "  fallback: {fallback}")?;
    }
    for line in call["logs"].as_array().into_iter().flatten() {
        let fields: Vec<String> = line["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| format!("{}={}", text(&f[0]), f[1]))
            .collect();
        writeln!(
            out,
            "  {:5} {} {}",
            text(&line["level"]),
            text(&line["message"]),
            fields.join(" ")
        )?;
    }
    Ok(())
}

fn is_function_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("ZH") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
